//! Inspectors' pages (SPEC §10: "`inspector` sees its own tasks and enters their results"):
//! `/tasks` lists the enterprises the signed-in inspector's team was sent to, draw by draw, each
//! with the result entered so far; `/months/{month}/entries/{department}/{uscc}` is the form
//! that enters one enterprise's result. An entry is stored as a one-row results table (SPEC §9.1)
//! and recorded by the same `routes::results::record` as an uploaded results file — read by the
//! library against the draws, merged into the month's results, estimated — so there is one path
//! for results and estimates, whatever brought them.
//!
//! Who is who (decided here; the SPEC is silent): an inspector signs in under their
//! `inspector_id` of the inspectors table (`spotcheck users add MKT-CITY-0001 --role inspector`).
//! A task is theirs when the draw's team for the enterprise lists that id, and they enter the
//! result of their own department (a joint visit's market inspector the market result, its
//! ecology inspector the ecology one). Analysts and admins may enter any drawn enterprise's
//! result through the same form (a team that phoned its result in). The teams and departments
//! are read from the draw's stored sample and the inspectors table its manifest names; no page
//! computes anything else.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    Errors, PageResult, api_error, check_csrf, csrf_field, db_err, department_label, message, page,
    redirect, signed_in,
};
use crate::report::read::{SampleRow, read_sample};
use crate::results::category;
use crate::results::io::{ResultRow, read_results};
use crate::sample::{Manifest, Month};
use crate::schema::{Department, Lang};
use crate::serve::AppState;
use crate::serve::auth::{Role, User};
use crate::serve::error::ApiError;
use crate::serve::routes::parse_month;
use crate::serve::routes::results::{Act, consolidated, record};
use crate::serve::session::Ctx;
use crate::serve::store::Store;
use crate::table::{ReadOptions, Rejects, WriteOptions, create};

/// One drawn enterprise and department as an inspector's task.
#[derive(Debug, Clone)]
pub struct Task {
    pub month: String,
    pub department: Department,
    pub seq: Option<u64>,
    pub uscc: String,
    pub name: String,
    pub district: u32,
    /// The team: each inspector's name and id, `name (id)`.
    pub team: Vec<String>,
    /// The result entered so far: category index and date.
    pub result: Option<(usize, String)>,
}

/// The stored draws, newest month first: (month, manifest file, sample file).
fn draws(s: &Store, month: Option<&str>) -> Result<Vec<(String, String, String)>, ApiError> {
    s.with(|c| {
        let mut st = c.prepare(
            "SELECT month, manifest_file, sample_file FROM draws
             WHERE ?1 IS NULL OR month = ?1 ORDER BY month DESC, id",
        )?;
        let v = st
            .query_map([month], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    })
}

/// Inspector id → (department, name), from the inspectors table the draw's manifest names.
fn draw_inspectors(
    s: &Store,
    manifest: &str,
) -> Result<HashMap<String, (Department, String)>, ApiError> {
    let path = s.file_path(manifest);
    let text = std::fs::read_to_string(&path).map_err(|e| ApiError::internal(&path, e))?;
    let m = Manifest::from_json(&text, &path)?;
    let Some(rec) = m.inputs.iter().find(|i| i.role == "inspectors") else {
        return Ok(HashMap::new());
    };
    let (rows, _) = crate::input::tables::read_inspectors(
        &s.file_path(&rec.path),
        &ReadOptions::default(),
        &mut Rejects::new(false),
    )?;
    Ok(rows
        .into_iter()
        .map(|r| (r.inspector_id, (r.department, r.name)))
        .collect())
}

/// The month's results so far, by (department, code): category and date.
fn entered(s: &Store, month: &str) -> Result<HashMap<(Department, String), ResultRow>, ApiError> {
    let Some(f) = consolidated(s, month)? else {
        return Ok(HashMap::new());
    };
    // Every row of the consolidated table was accepted against the draws when it came in.
    let (rows, _) = read_results(
        &s.file_path(&f),
        &ReadOptions::default(),
        &mut Rejects::new(false),
        &|_, _, _| true,
    )?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.department, r.uscc.clone()), r))
        .collect())
}

fn departments_of(r: &SampleRow) -> Vec<Department> {
    let mut v = Vec::new();
    if r.departments.market() {
        v.push(Department::Market);
    }
    if r.departments.ecology() {
        v.push(Department::Ecology);
    }
    v
}

/// The tasks of the stored draws (of `month`, or all), each drawn enterprise once per department
/// that visits it; for an inspector only their team's, in their department. Blocking.
pub fn tasks(s: &Store, user: &User, month: Option<&str>) -> Result<Vec<Task>, ApiError> {
    let mut out = Vec::new();
    let mut results: HashMap<String, HashMap<(Department, String), ResultRow>> = HashMap::new();
    for (m, manifest, sample) in draws(s, month)? {
        let ids = draw_inspectors(s, &manifest)?;
        let mine: Option<Department> = if user.role == Role::Inspector {
            match ids.get(&user.name) {
                Some((d, _)) => Some(*d),
                // Not in this draw's inspectors table: no task here.
                None => continue,
            }
        } else {
            None
        };
        let named = |id: &str| match ids.get(id) {
            Some((_, name)) => format!("{name} ({id})"),
            None => id.to_string(),
        };
        let rows = read_sample(&s.file_path(&sample), &ReadOptions::default())?;
        if !results.contains_key(&m) {
            results.insert(m.clone(), entered(s, &m)?);
        }
        let done = &results[&m];
        for r in rows {
            let team: Vec<String> = r
                .inspectors
                .as_deref()
                .unwrap_or("")
                .split(';')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            if user.role == Role::Inspector && !team.contains(&user.name) {
                continue;
            }
            let team_names: Vec<String> = team.iter().map(|t| named(t)).collect();
            for dep in departments_of(&r) {
                if mine.is_some_and(|d| d != dep) {
                    continue;
                }
                out.push(Task {
                    month: m.clone(),
                    department: dep,
                    seq: r.seq,
                    uscc: r.uscc.clone(),
                    name: r.name.clone().unwrap_or_default(),
                    district: r.district,
                    team: team_names.clone(),
                    result: done
                        .get(&(dep, r.uscc.clone()))
                        .map(|x| (x.category, x.inspected_on.to_string())),
                });
            }
        }
    }
    Ok(out)
}

fn category_label(ctx: &Ctx, i: usize) -> &'static str {
    let c = &category::all()[i];
    match ctx.lang {
        Lang::Zh => c.zh,
        Lang::En => c.en,
    }
}

fn district_label(code: u32) -> String {
    match crate::district::name(code) {
        Some(n) => format!("{n} ({code})"),
        None => code.to_string(),
    }
}

/// `/tasks`: the signed-in user's tasks (an analyst or admin sees every drawn enterprise).
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = signed_in(&ctx)?;
    let (s, u) = (state.store.clone(), user.clone());
    let all = db_err(
        &ctx,
        tokio::task::spawn_blocking(move || tasks(&s, &u, None))
            .await
            .map_err(ApiError::from)
            .and_then(|r| r),
    )?;
    let done = all.iter().filter(|t| t.result.is_some()).count();
    let title = ctx.t("检查任务", "Inspection tasks");
    let body = html! {
        h1 { (title) }
        @if user.role == Role::Inspector {
            p.lead { (ctx.t("以下是抽查中分配给您所在检查组的企业。检查完成后，请逐户录入检查结果。",
                "These are the enterprises your team was sent to by the draws. After each inspection, enter its result.")) }
        } @else {
            p.lead { (ctx.t("所有已抽取的企业。检查员只看到分配给本人所在检查组的企业。",
                "Every drawn enterprise. An inspector sees only the enterprises of their own team.")) }
        }
        @if all.is_empty() {
            @if user.role == Role::Inspector {
                p #no-tasks { (ctx.t(
                    "目前没有分配给您的任务。检查员以检查人员名录中的编号（inspector_id）作为用户名登录；如果编号不符，请联系管理员。",
                    "No task is assigned to you. An inspector signs in with their inspector_id of the inspectors table as user name; if yours differs, ask an admin."
                )) }
            } @else {
                p #no-tasks { (ctx.t("还没有任何抽取。", "Nothing is drawn yet.")) }
            }
        } @else {
            p #task-count { (ctx.t("已录入结果：", "Results entered: ")) span #tasks-done { (done) } " / " span #tasks-total { (all.len()) } }
            div.table-wrap { table #tasks {
                caption { (title) }
                thead { tr {
                    th scope="col" { (ctx.t("抽查月份", "Month")) }
                    th scope="col" { (ctx.t("部门", "Department")) }
                    th scope="col" { (ctx.t("序号", "No.")) }
                    th scope="col" { (ctx.t("统一社会信用代码", "Credit code")) }
                    th scope="col" { (ctx.t("企业名称", "Enterprise")) }
                    th scope="col" { (ctx.t("所属区", "District")) }
                    th scope="col" { (ctx.t("检查组", "Team")) }
                    th scope="col" { (ctx.t("检查结果", "Result")) }
                    th.no-print scope="col" { span.visually-hidden { (ctx.t("操作", "Action")) } }
                } }
                tbody { @for t in &all { tr id=(format!("task-{}-{}", t.department.en(), t.uscc)) {
                    td { (t.month) }
                    td { (department_label(&ctx, t.department.en())) }
                    td.num { (t.seq.map(|s| s.to_string()).unwrap_or_default()) }
                    td { code { (t.uscc) } }
                    td { (t.name) }
                    td { (district_label(t.district)) }
                    td { (t.team.join("、")) }
                    td.result { @match &t.result {
                        Some((c, on)) => { (category_label(&ctx, *c)) " · " (on) }
                        None => { span.pending { (ctx.t("待录入", "pending")) } }
                    } }
                    td.no-print { a href=(format!("/months/{}/entries/{}/{}", t.month, t.department.en(), t.uscc)) {
                        @if t.result.is_some() { (ctx.t("修改", "Correct")) } @else { (ctx.t("录入结果", "Enter result")) }
                        span.visually-hidden { " " (t.uscc) }
                    } }
                } } }
            } }
        }
    };
    Ok(page(&ctx, StatusCode::OK, title, body))
}

/// The task behind an entry's path, if the user may enter it: `Err` is the page to answer
/// (403 for another team's enterprise, 404 for one not drawn).
fn task_for(
    state: &AppState,
    ctx: &Ctx,
    user: &User,
    month: &str,
    department: &str,
    uscc: &str,
) -> Result<(Month, Department, Task), Response> {
    let m = parse_month(month).map_err(|e| api_error(ctx, e))?;
    let Some(dep) = Department::parse(department).filter(|d| d.en() == department) else {
        return Err(api_error(
            ctx,
            ApiError::NotFound(format!("department {department:?}: market or ecology")),
        ));
    };
    let month = m.to_string();
    let every = User {
        name: user.name.clone(),
        role: Role::Analyst,
    };
    let all = db_err(ctx, tasks(&state.store, &every, Some(&month)))?;
    let Some(t) = all
        .into_iter()
        .find(|t| t.department == dep && t.uscc == uscc)
    else {
        return Err(api_error(
            ctx,
            ApiError::NotFound(format!("{uscc} is not in the {} draw of {month}", dep.en())),
        ));
    };
    if user.role == Role::Inspector {
        let mine = db_err(ctx, tasks(&state.store, user, Some(&month)))?;
        if !mine.iter().any(|x| x.department == dep && x.uscc == t.uscc) {
            return Err(message(
                ctx,
                StatusCode::FORBIDDEN,
                ctx.t("无权操作", "Not allowed"),
                ctx.t(
                    "这家企业不是分配给您所在检查组（本部门）的任务，不能录入其检查结果。",
                    "This enterprise is not a task of your team in your department: you cannot enter its result.",
                ),
            ));
        }
    }
    Ok((m, dep, t))
}

/// What the form holds (also what was sent, to show it again beside its errors).
#[derive(Debug, Default, Deserialize)]
pub struct EntryForm {
    csrf: Option<String>,
    result: Option<String>,
    inspected_on: Option<String>,
    violations: Option<String>,
    penalty_cny: Option<String>,
    note: Option<String>,
}

fn field_class(errors: &Errors, id: &str) -> &'static str {
    if errors.get(id).is_some() {
        "has-error"
    } else {
        ""
    }
}

fn entry_page(ctx: &Ctx, t: &Task, f: &EntryForm, errors: &Errors, status: StatusCode) -> Response {
    let action = format!(
        "/months/{}/entries/{}/{}",
        t.month,
        t.department.en(),
        t.uscc
    );
    let current = f
        .result
        .clone()
        .or_else(|| {
            t.result
                .as_ref()
                .map(|(c, _)| category::all()[*c].code.to_string())
        })
        .unwrap_or_default();
    let date = f
        .inspected_on
        .clone()
        .or_else(|| t.result.as_ref().map(|(_, d)| d.clone()))
        .unwrap_or_default();
    let kinds = [
        (category::Kind::Compliant, ctx.t("未发现问题", "No problem")),
        (
            category::Kind::Violation,
            ctx.t("发现问题", "Problem found"),
        ),
        (
            category::Kind::OutOfScope,
            ctx.t("不在检查范围", "Out of scope"),
        ),
    ];
    let title = ctx.t("录入检查结果", "Enter the inspection result");
    let body: Markup = html! {
        (errors.summary(ctx))
        p.crumbs { a href="/tasks" { (ctx.t("检查任务", "Inspection tasks")) } " › " (t.uscc) }
        h1 { (title) }
        dl.counts {
            dt { (ctx.t("企业", "Enterprise")) } dd #entry-name { (t.name) }
            dt { (ctx.t("统一社会信用代码", "Credit code")) } dd { code #entry-uscc { (t.uscc) } }
            dt { (ctx.t("所属区", "District")) } dd { (district_label(t.district)) }
            dt { (ctx.t("抽查月份 / 部门", "Month / department")) } dd { (t.month) " · " (department_label(ctx, t.department.en())) }
            dt { (ctx.t("检查组", "Team")) } dd { (t.team.join("、")) }
            @if let Some((c, on)) = &t.result {
                dt { (ctx.t("已录入结果", "Result entered")) } dd #entry-current { (category_label(ctx, *c)) " · " (on) }
            }
        }
        @if t.result.is_some() {
            p.note { (ctx.t("再次提交将以新结果替换已录入的结果（审计日志保留每一次录入）。",
                "Submitting again replaces the entered result with the new one (the audit log keeps every entry).")) }
        }
        form.narrow method="post" action=(action) novalidate {
            (csrf_field(ctx))
            div.field.(field_class(errors, "result")) {
                label for="result" { (ctx.t("检查结果", "Result")) }
                (errors.beside("result"))
                select #result name="result" required {
                    option value="" { (ctx.t("— 请选择 —", "— choose —")) }
                    @for (kind, label) in kinds {
                        optgroup label=(label) {
                            @for c in category::all().iter().filter(|c| c.kind == kind) {
                                option value=(c.code) selected[c.code == current] {
                                    (match ctx.lang { Lang::Zh => c.zh, Lang::En => c.en })
                                }
                            }
                        }
                    }
                }
            }
            div.field.(field_class(errors, "inspected_on")) {
                label for="inspected_on" { (ctx.t("检查日期", "Date of the inspection")) }
                (errors.beside("inspected_on"))
                input #inspected_on type="date" name="inspected_on" value=(date) required min=(format!("{}-01", t.month));
            }
            div.field.(field_class(errors, "violations")) {
                label for="violations" { (ctx.t("问题数（可不填）", "Problems found (optional)")) }
                (errors.beside("violations"))
                input #violations type="text" inputmode="numeric" name="violations" value=(f.violations.clone().unwrap_or_default());
            }
            div.field.(field_class(errors, "penalty_cny")) {
                label for="penalty_cny" { (ctx.t("罚没金额，元（可不填）", "Penalty in yuan (optional)")) }
                (errors.beside("penalty_cny"))
                input #penalty_cny type="text" inputmode="decimal" name="penalty_cny" value=(f.penalty_cny.clone().unwrap_or_default());
            }
            div.field.(field_class(errors, "note")) {
                label for="note" { (ctx.t("备注（可不填）", "Note (optional)")) }
                (errors.beside("note"))
                textarea #note name="note" rows="3" maxlength="2000" { (f.note.clone().unwrap_or_default()) }
            }
            button type="submit" { (ctx.t("保存结果", "Save the result")) }
        }
        p { a href="/tasks" { (ctx.t("返回检查任务", "Back to the tasks")) } }
    };
    page(ctx, status, title, body)
}

/// `GET /months/{month}/entries/{department}/{uscc}`: the entry form.
pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((month, department, uscc)): Path<(String, String, String)>,
) -> PageResult {
    let user = signed_in(&ctx)?;
    let (st, c, u) = (state.clone(), ctx.clone(), user.clone());
    let found =
        tokio::task::spawn_blocking(move || task_for(&st, &c, &u, &month, &department, &uscc))
            .await
            .map_err(|e| api_error(&ctx, e.into()))?;
    let (_, _, t) = found?;
    Ok(entry_page(
        &ctx,
        &t,
        &EntryForm::default(),
        &Errors::default(),
        StatusCode::OK,
    ))
}

/// The entry as a one-row results table of SPEC §9.1 (every cell as typed: the library reads and
/// checks it exactly as it reads an uploaded file).
fn entry_table(s: &Store, month: &str, t: &Task, f: &EntryForm) -> Result<String, ApiError> {
    use arrow::array::{ArrayRef, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let cells: [(&str, Option<String>); 8] = [
        ("uscc", Some(t.uscc.clone())),
        ("month", Some(month.to_string())),
        ("department", Some(t.department.en().to_string())),
        ("inspected_on", clean(&f.inspected_on)),
        ("result", clean(&f.result)),
        ("violations", clean(&f.violations)),
        ("penalty_cny", clean(&f.penalty_cny)),
        ("note", clean(&f.note)),
    ];
    let schema = Arc::new(Schema::new(
        cells
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = cells
        .iter()
        .map(|(_, v)| Arc::new(StringArray::from(vec![v.clone()])) as ArrayRef)
        .collect();
    let batch = arrow::record_batch::RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| ApiError::Internal(format!("an entry's table: {e}")))?;
    let tmp = s.temp_path("csv");
    let mut w = create(&tmp, schema, &WriteOptions::default())?;
    w.write(&batch)?;
    w.finish()?;
    s.put_file(&tmp, "csv")
}

/// A rejected cell of the entry as a message beside its field, in the page's language.
fn entry_error(
    ctx: &Ctx,
    month: &str,
    column: &str,
    reason: &str,
    detail: &str,
) -> (String, String) {
    use crate::input::enterprise::reason as r;
    use crate::results::io::reasons as rr;
    let field = match column {
        "inspected_on" | "violations" | "penalty_cny" | "note" => column,
        _ => "result",
    };
    let text = match (field, reason) {
        ("result", r::VALUE_MISSING) | ("result", rr::RESULT_UNKNOWN) => ctx
            .t("请选择检查结果", "Choose the result of the inspection")
            .to_string(),
        ("inspected_on", r::VALUE_MISSING) => ctx
            .t("请输入检查日期", "Enter the date of the inspection")
            .to_string(),
        ("inspected_on", r::DATE_INVALID) if detail.contains("before") => format!(
            "{}{month}",
            ctx.t(
                "检查日期不能早于抽查月份 ",
                "The inspection cannot be dated before the draw month "
            )
        ),
        ("inspected_on", _) => ctx
            .t(
                "请按 年-月-日 输入日期，例如 2026-12-15",
                "Enter the date as year-month-day, for example 2026-12-15",
            )
            .to_string(),
        ("violations", _) => ctx
            .t(
                "问题数应为不小于 0 的整数",
                "Enter the number of problems as a whole number, 0 or more",
            )
            .to_string(),
        ("penalty_cny", _) => ctx
            .t(
                "罚没金额应为不小于 0 的数（单位：元）",
                "Enter the penalty as an amount in yuan, 0 or more",
            )
            .to_string(),
        (_, rr::RESULT_NOT_DRAWN) => ctx
            .t(
                "该企业不在本月该部门的抽查名单中",
                "This enterprise is not in the month's draw of this department",
            )
            .to_string(),
        _ => format!("{reason}: {detail}"),
    };
    (field.to_string(), text)
}

/// `POST /months/{month}/entries/{department}/{uscc}`: records one enterprise's result through
/// `routes::results::record`, then back to the tasks (or the form with its errors).
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((month, department, uscc)): Path<(String, String, String)>,
    form: Result<Form<EntryForm>, FormRejection>,
) -> PageResult {
    let user = signed_in(&ctx)?;
    let f = form.map(|Form(f)| f).unwrap_or_default();
    check_csrf(&ctx, f.csrf.as_deref())?;
    let (st, c, u) = (state.clone(), ctx.clone(), user.clone());
    let found =
        tokio::task::spawn_blocking(move || task_for(&st, &c, &u, &month, &department, &uscc))
            .await
            .map_err(|e| api_error(&ctx, e.into()))?;
    let (m, dep, t) = found?;
    let month = m.to_string();
    let fields = EntryForm {
        csrf: None,
        result: f.result.clone(),
        inspected_on: f.inspected_on.clone(),
        violations: f.violations.clone(),
        penalty_cny: f.penalty_cny.clone(),
        note: f.note.clone(),
    };
    let (s, mo, tk, name) = (
        state.store.clone(),
        month.clone(),
        t.clone(),
        user.name.clone(),
    );
    let answer = tokio::task::spawn_blocking(move || {
        let file = entry_table(&s, &mo, &tk, &fields)?;
        let act = Act::Entry {
            uscc: &tk.uscc,
            department: dep,
        };
        record(&s, &name, m, &file, act)
    })
    .await
    .map_err(ApiError::from)
    .and_then(|r| r);
    match answer {
        Ok(a) if a.accepted == 1 => Ok(redirect(
            &ctx,
            &format!("/tasks#task-{}-{}", dep.en(), t.uscc),
        )),
        Ok(a) => {
            let mut errors = Errors::default();
            for r in &a.rejects {
                let (field, text) = entry_error(&ctx, &month, &r.column, &r.reason, &r.detail);
                if errors.get(&field).is_none() {
                    errors.add(&field, text);
                }
            }
            Err(entry_page(&ctx, &t, &f, &errors, StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(api_error(&ctx, e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct GoQuery {
    department: Option<String>,
    uscc: Option<String>,
}

/// `/months/{month}/entries?department=&uscc=`: the draw page's "enter a result" form (GET, no
/// script) sends to that enterprise's entry form.
pub async fn go(ctx: Ctx, Path(month): Path<String>, Query(q): Query<GoQuery>) -> PageResult {
    signed_in(&ctx)?;
    let uscc = q.uscc.unwrap_or_default().trim().to_ascii_uppercase();
    let dep = q.department.unwrap_or_default();
    if uscc.is_empty() || !matches!(dep.as_str(), "market" | "ecology") {
        return Err(message(
            &ctx,
            StatusCode::BAD_REQUEST,
            ctx.t("请求有误", "Something is wrong with the request"),
            ctx.t(
                "请输入要录入结果的企业的统一社会信用代码，并选择部门（市场监管或生态环境）。",
                "Enter the credit code of the enterprise whose result to enter, and its department (market or ecology).",
            ),
        ));
    }
    Ok(redirect(
        &ctx,
        &format!(
            "/months/{}/entries/{}/{}",
            super::urlencode(&month),
            super::urlencode(&dep),
            super::urlencode(&uscc)
        ),
    ))
}
