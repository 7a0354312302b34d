//! The months list and a month's page (`/months/YYYY-MM`): the four uploads with their counts and
//! rejects, scoring with its progress, seed announcements, draws with their samples and team
//! assignments, and the downloads. Every act calls the JSON API's handler; what is shown is read
//! from the store as it was recorded.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use rusqlite::params;
use serde::Deserialize;

use super::{
    Errors, PageResult, analyst, api_error, check_csrf, csrf_field, department_label, message,
    page, read_table, redirect, table,
};
use crate::serve::AppState;
use crate::serve::auth::Analyst;
use crate::serve::error::ApiError;
use crate::serve::jobs;
use crate::serve::routes::{draws, inputs, parse_month, score};
use crate::serve::session::Ctx;

/// Rows of a stored table shown on a page (the rest is in the download).
const SHOWN: usize = 500;

fn kind_label(ctx: &Ctx, kind: &str) -> String {
    match kind {
        "enterprises" => ctx.t("企业名录", "Enterprises").into(),
        "emissions" => ctx.t("排放数据", "Emissions").into(),
        "history" => ctx.t("检查记录", "Inspection history").into(),
        "inspectors" => ctx.t("检查人员", "Inspectors").into(),
        k => k.into(),
    }
}

fn month_of(ctx: &Ctx, s: &str) -> Result<String, Response> {
    parse_month(s)
        .map(|m| m.to_string())
        .map_err(|e| api_error(ctx, e))
}

fn db<T>(ctx: &Ctx, r: Result<T, ApiError>) -> Result<T, Response> {
    r.map_err(|e| api_error(ctx, e))
}

/// `/months`: every month that has anything stored, newest first, and a field to open another.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    analyst(&ctx)?;
    let months: Vec<(String, i64, i64, i64)> = db(
        &ctx,
        state.store.with(|c| {
            let mut st = c.prepare(
                "SELECT m.month,
                   (SELECT COUNT(*) FROM inputs i WHERE i.month = m.month),
                   (SELECT COUNT(*) FROM scored s WHERE s.month = m.month),
                   (SELECT COUNT(*) FROM draws d WHERE d.month = m.month)
                 FROM (SELECT month FROM inputs UNION SELECT month FROM scored
                       UNION SELECT month FROM seeds UNION SELECT month FROM draws) m
                 ORDER BY m.month DESC",
            )?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        }),
    )?;
    let body = html! {
        h1 { (ctx.t("月份", "Months")) }
        form.inline method="get" action="/months/go" {
            div.field {
                label for="month" { (ctx.t("打开或开始一个月份（年-月）", "Open or start a month (year-month)")) }
                input #month type="month" name="month" required placeholder="2026-12";
            }
            button type="submit" { (ctx.t("打开", "Open")) }
        }
        @if months.is_empty() {
            p { (ctx.t("还没有任何月份的数据。", "No month has any data yet.")) }
        } @else {
            div.table-wrap { table {
                caption { (ctx.t("已有数据的月份", "Months with data")) }
                thead { tr {
                    th scope="col" { (ctx.t("月份", "Month")) }
                    th scope="col" { (ctx.t("上传次数", "Uploads")) }
                    th scope="col" { (ctx.t("评分次数", "Scorings")) }
                    th scope="col" { (ctx.t("抽取次数", "Draws")) }
                } }
                tbody { @for (m, i, s, d) in &months { tr {
                    td { a href=(format!("/months/{m}")) { (m) } }
                    td { (i) } td { (s) } td { (d) }
                } } }
            } }
        }
    };
    Ok(page(&ctx, StatusCode::OK, ctx.t("月份", "Months"), body))
}

#[derive(Debug, Deserialize)]
pub struct GoQuery {
    month: Option<String>,
}

/// `/months/go?month=YYYY-MM`: the form of the months list, without script.
pub async fn go(ctx: Ctx, Query(q): Query<GoQuery>) -> PageResult {
    analyst(&ctx)?;
    let m = q.month.unwrap_or_default();
    match parse_month(m.trim()) {
        Ok(m) => Ok(redirect(&ctx, &format!("/months/{m}"))),
        Err(_) => Err(message(
            &ctx,
            StatusCode::BAD_REQUEST,
            ctx.t("月份格式不对", "Not a month"),
            ctx.t(
                "请按 年-月 输入月份，例如 2026-12。",
                "Enter the month as year-month, for example 2026-12.",
            ),
        )),
    }
}

/// The latest upload of a table: kind, file, read, accepted, rejected, rejects file, user, time.
type InputRow = (
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    String,
    String,
);

/// What the month page shows, as the store recorded it.
struct MonthState {
    inputs: Vec<InputRow>,
    scored: Option<(i64, String, String)>,
    job: Option<(i64, String)>,
    seeds: Vec<(String, String, String, String)>,
    draws: Vec<(String, i64, String, String)>,
    has_results: bool,
}

fn month_state(state: &AppState, month: &str) -> Result<MonthState, ApiError> {
    state.store.with(|c| {
        let mut inputs = Vec::new();
        for kind in inputs::KINDS {
            let row = rusqlite::OptionalExtension::optional(c.query_row(
                "SELECT file, rows_read, rows_accepted, rows_rejected, rejects_file, user, at
                 FROM inputs WHERE month = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
                params![month, kind],
                |r| {
                    Ok((
                        kind.to_string(),
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            ))?;
            if let Some(r) = row {
                inputs.push(r);
            }
        }
        let scored = rusqlite::OptionalExtension::optional(c.query_row(
            "SELECT rows, file, at FROM scored WHERE month = ?1 ORDER BY id DESC LIMIT 1",
            [month],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        ))?;
        let job = rusqlite::OptionalExtension::optional(c.query_row(
            "SELECT id, state FROM jobs WHERE month = ?1 ORDER BY id DESC LIMIT 1",
            [month],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ))?;
        let mut st =
            c.prepare("SELECT department, seed, user, at FROM seeds WHERE month = ?1 ORDER BY id")?;
        let seeds = st
            .query_map([month], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut st = c.prepare(
            "SELECT department, visits, user, at FROM draws WHERE month = ?1 ORDER BY id",
        )?;
        let draws = st
            .query_map([month], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let has_results: bool = c.query_row(
            "SELECT EXISTS (SELECT 1 FROM results WHERE month = ?1)",
            [month],
            |r| r.get(0),
        )?;
        Ok(MonthState {
            has_results,
            inputs,
            scored,
            job,
            seeds,
            draws,
        })
    })
}

fn department_select(ctx: &Ctx, id: &str, errors: &Errors) -> Markup {
    html! {
        div.field.(if errors.get(id).is_some() { "has-error" } else { "" }) {
            label for=(id) { (ctx.t("部门", "Department")) }
            (errors.beside(id))
            select #(id) name="department" {
                @for d in ["market", "ecology", "joint"] {
                    option value=(d) { (department_label(ctx, d)) }
                }
            }
        }
    }
}

pub(super) async fn month_page(
    state: &AppState,
    ctx: &Ctx,
    month: &str,
    errors: &Errors,
    status: StatusCode,
) -> PageResult {
    let ms = db(ctx, month_state(state, month))?;
    let summary = match &ms.scored {
        Some((_, file, _)) => Some(super::summary::section(state, ctx, month, file).await?),
        None => None,
    };
    let body = html! {
        (errors.summary(ctx))
        p.crumbs { a href="/months" { (ctx.t("月份", "Months")) } " › " (month) }
        h1 { (month) " " (ctx.t("月度抽查", "monthly spot check")) }

        section #uploads {
            h2 { "1. " (ctx.t("上传数据", "Upload the tables")) }
            p { (ctx.t(
                "可上传 CSV、Excel (xlsx)、Parquet、Arrow 或 JSONL 文件。每类以最近一次上传为准。",
                "CSV, Excel (xlsx), Parquet, Arrow or JSONL. The latest upload of each table is the one used."
            )) }
            @if !ms.inputs.is_empty() {
                div.table-wrap { table {
                    caption { (ctx.t("已上传", "Uploaded")) }
                    thead { tr {
                        th scope="col" { (ctx.t("数据表", "Table")) }
                        th scope="col" { (ctx.t("读取行数", "Rows read")) }
                        th scope="col" { (ctx.t("接受", "Accepted")) }
                        th scope="col" { (ctx.t("拒绝", "Rejected")) }
                        th scope="col" { (ctx.t("上传人", "By")) }
                        th scope="col" { (ctx.t("时间 (UTC)", "At (UTC)")) }
                    } }
                    tbody { @for (kind, _f, read, acc, rej, _rf, user, at) in &ms.inputs { tr {
                        td { a href=(format!("/months/{month}/inputs/{kind}")) { (kind_label(ctx, kind)) } }
                        td.num { (read) } td.num { (acc) }
                        td.num { @if *rej > 0 { a href=(format!("/months/{month}/inputs/{kind}")) { (rej) } } @else { (rej) } }
                        td { (user) } td { (at) }
                    } } }
                } }
            }
            div.uploads {
                @for kind in inputs::KINDS {
                    @let id = format!("file-{kind}");
                    form.upload method="post" action=(format!("/months/{month}/inputs/{kind}")) enctype="multipart/form-data" {
                        (csrf_field(ctx))
                        div.field.(if errors.get(&id).is_some() { "has-error" } else { "" }) {
                            label for=(id) { (kind_label(ctx, kind)) }
                            (errors.beside(&id))
                            input id=(id) type="file" name="file" required accept=".csv,.xlsx,.parquet,.arrow,.jsonl,.ndjson";
                        }
                        button type="submit" { (ctx.t("上传", "Upload")) }
                    }
                }
            }
        }

        section #scoring {
            h2 { "2. " (ctx.t("评分", "Score")) }
            @if let Some((rows, _file, at)) = &ms.scored {
                p { (ctx.t("最近一次评分：", "Last scored: ")) (rows) (ctx.t(" 家企业，", " enterprises, at ")) (at) " UTC" }
                p.downloads {
                    a href=(format!("/months/{month}/scored?format=xlsx")) { (ctx.t("下载评分结果 (Excel)", "Download the scored table (Excel)")) }
                    " · "
                    a href=(format!("/months/{month}/scored?format=csv")) { "CSV" }
                }
            } @else {
                p { (ctx.t("尚未评分。", "Not scored yet.")) }
            }
            @if let Some((id, st)) = &ms.job {
                @if st == "queued" || st == "running" {
                    p { a href=(format!("/months/{month}/jobs/{id}")) { (ctx.t("评分进行中，查看进度", "Scoring is running: see its progress")) } }
                } @else if st == "failed" {
                    p.error-message { (ctx.t("最近一次评分失败：", "The last scoring failed: ")) a href=(format!("/months/{month}/jobs/{id}")) { (ctx.t("查看原因", "see why")) } }
                }
            }
            form method="post" action=(format!("/months/{month}/score")) {
                (csrf_field(ctx))
                (errors.beside("score"))
                button #score type="submit" { (ctx.t("开始评分", "Start scoring")) }
            }
        }

        @if let Some(s) = &summary { (s) }

        section #lookup {
            h2 { (ctx.t("查询企业", "Look up an enterprise")) }
            form.inline method="get" action=(format!("/months/{month}/enterprises")) {
                div.field.(if errors.get("uscc").is_some() { "has-error" } else { "" }) {
                    label for="uscc" { (ctx.t("统一社会信用代码", "Unified social credit code")) }
                    (errors.beside("uscc"))
                    input #uscc type="text" name="uscc" maxlength="18" autocomplete="off" spellcheck="false";
                }
                button type="submit" { (ctx.t("查询评分说明", "Explain its score")) }
            }
        }

        section #seeds {
            h2 { "3. " (ctx.t("公布随机种子", "Announce the seed")) }
            @if !ms.seeds.is_empty() {
                div.table-wrap { table {
                    caption { (ctx.t("已公布的种子", "Announced seeds")) }
                    thead { tr {
                        th scope="col" { (ctx.t("部门", "Department")) }
                        th scope="col" { (ctx.t("种子", "Seed")) }
                        th scope="col" { (ctx.t("公布人", "By")) }
                        th scope="col" { (ctx.t("时间 (UTC)", "At (UTC)")) }
                    } }
                    tbody { @for (d, s, u, at) in &ms.seeds { tr {
                        td { (department_label(ctx, d)) } td { code { (s) } } td { (u) } td { (at) }
                    } } }
                } }
            }
            form method="post" action=(format!("/months/{month}/seeds")) {
                (csrf_field(ctx))
                (department_select(ctx, "seed-department", errors))
                div.field.(if errors.get("seed").is_some() { "has-error" } else { "" }) {
                    label for="seed" { (ctx.t("随机种子（如当期福利彩票开奖号码）", "Seed (e.g. the lottery draw's numbers)")) }
                    (errors.beside("seed"))
                    input #seed type="text" name="seed" maxlength="1000" required;
                }
                button type="submit" { (ctx.t("公布", "Announce")) }
            }
        }

        section #draws {
            h2 { "4. " (ctx.t("抽取检查对象", "Draw the sample")) }
            @if !ms.draws.is_empty() {
                div.table-wrap { table {
                    caption { (ctx.t("已完成的抽取", "Draws done")) }
                    thead { tr {
                        th scope="col" { (ctx.t("部门", "Department")) }
                        th scope="col" { (ctx.t("检查户次", "Visits")) }
                        th scope="col" { (ctx.t("抽取人", "By")) }
                        th scope="col" { (ctx.t("时间 (UTC)", "At (UTC)")) }
                    } }
                    tbody { @for (d, v, u, at) in &ms.draws { tr {
                        td { a href=(format!("/months/{month}/draws/{d}")) { (department_label(ctx, d)) } }
                        td.num { (v) } td { (u) } td { (at) }
                    } } }
                } }
            }
            form method="post" action=(format!("/months/{month}/draws")) {
                (csrf_field(ctx))
                (department_select(ctx, "draw-department", errors))
                div.field {
                    label for="strata" { (ctx.t("分层方式", "Strata")) }
                    select #strata name="strata" {
                        option value="district" { (ctx.t("按区县", "by district")) }
                        option value="tier" { (ctx.t("按企业类别", "by tier")) }
                        option value="none" { (ctx.t("不分层", "none")) }
                    }
                }
                div.field.(if errors.get("capacity").is_some() { "has-error" } else { "" }) {
                    label for="capacity" { (ctx.t("可检查户次（可不填）", "Visits available (optional)")) }
                    (errors.beside("capacity"))
                    input #capacity type="text" name="capacity" inputmode="numeric" placeholder="market=40,ecology=20";
                }
                button type="submit" { (ctx.t("抽取", "Draw")) }
            }
        }

        section #results {
            h2 { "5. " (ctx.t("检查结果与估计", "Results and estimates")) }
            p { (ctx.t(
                "检查员在“检查任务”页逐户录入结果；也可上传结果表。同一企业同一部门以最近一次上传或录入为准，其他结果保留。",
                "Inspectors enter results one enterprise at a time on the Tasks page; a results table may also be uploaded. For each enterprise and department the latest upload or entry counts; every other result stays."
            )) }
            @if ms.has_results {
                p { a #see-estimates href=(format!("/months/{month}/estimates")) { (ctx.t("查看本月的估计结果", "See the month's estimates")) } }
            }
            form.upload method="post" action=(format!("/months/{month}/results")) enctype="multipart/form-data" {
                (csrf_field(ctx))
                div.field.(if errors.get("file-results").is_some() { "has-error" } else { "" }) {
                    label for="file-results" { (ctx.t("检查结果表", "Results table")) }
                    (errors.beside("file-results"))
                    input #file-results type="file" name="file" required accept=".csv,.xlsx,.parquet,.arrow,.jsonl,.ndjson";
                }
                button type="submit" { (ctx.t("上传检查结果", "Upload the results")) }
            }
        }

        section #lists {
            h2 { "6. " (ctx.t("正面清单与公开", "Positive list and publication")) }
            p {
                a href="/whitelist" { (ctx.t("正面清单", "The positive list")) }
                " · "
                a href="/public" { (ctx.t("公开信息（无需登录）", "Published pages (no sign-in)")) }
            }
        }
    };
    Ok(page(ctx, status, month, body))
}

/// `/months/{month}`.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(month): Path<String>,
) -> PageResult {
    analyst(&ctx)?;
    let month = month_of(&ctx, &month)?;
    month_page(&state, &ctx, &month, &Errors::default(), StatusCode::OK).await
}

/// The format of an uploaded file, from its name.
pub(super) fn ext_of(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.')?.1.to_string();
    match ext.as_str() {
        "csv" | "txt" => Some("csv"),
        "xlsx" => Some("xlsx"),
        "parquet" => Some("parquet"),
        "arrow" | "ipc" | "feather" => Some("arrow"),
        "jsonl" | "ndjson" => Some("jsonl"),
        _ => None,
    }
}

/// `POST /months/{month}/inputs/{kind}` (multipart: csrf, file): the API's upload, then the
/// upload's page with its rejects.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((month, kind)): Path<(String, String)>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    let user = analyst(&ctx)?;
    let month = month_of(&ctx, &month)?;
    let field_id = format!("file-{kind}");
    let mut csrf = None;
    let mut file: Option<(String, Bytes)> = None;
    let too_large = |ctx: &Ctx| {
        api_error(
            ctx,
            ApiError::TooLarge(
                ctx.t(
                    "上传的文件超过服务器的大小上限。",
                    "The upload is over the server's limit.",
                )
                .into(),
            ),
        )
    };
    let Ok(mut mp) = multipart else {
        return Err(message(
            &ctx,
            StatusCode::BAD_REQUEST,
            ctx.t("请求有误", "Bad request"),
            ctx.t("无法读取上传表单。", "The upload form cannot be read."),
        ));
    };
    loop {
        match mp.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or("").to_string();
                let file_name = f.file_name().unwrap_or("").to_string();
                match f.bytes().await {
                    Ok(b) if name == "csrf" => {
                        csrf = Some(String::from_utf8_lossy(&b).into_owned())
                    }
                    Ok(b) if name == "file" => file = Some((file_name, b)),
                    Ok(_) => {}
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        return Err(too_large(&ctx));
                    }
                    Err(_) => return Err(too_large(&ctx)),
                }
            }
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large(&ctx)),
            Err(_) => {
                return Err(message(
                    &ctx,
                    StatusCode::BAD_REQUEST,
                    ctx.t("请求有误", "Bad request"),
                    ctx.t("无法读取上传表单。", "The upload form cannot be read."),
                ));
            }
        }
    }
    check_csrf(&ctx, csrf.as_deref())?;
    let mut errors = Errors::default();
    let (file_name, bytes) = file.unwrap_or_default();
    let ext = ext_of(&file_name);
    if bytes.is_empty() {
        errors.add(
            &field_id,
            ctx.t(
                "请选择要上传的文件（文件不能为空）",
                "Choose a file to upload (it must not be empty)",
            ),
        );
    } else if ext.is_none() {
        errors.add(
            &field_id,
            ctx.t(
                "文件类型无法识别：请上传 .csv、.xlsx、.parquet、.arrow 或 .jsonl 文件",
                "The file type is not known: upload a .csv, .xlsx, .parquet, .arrow or .jsonl file",
            ),
        );
    }
    if !inputs::KINDS.contains(&kind.as_str()) {
        return Err(api_error(
            &ctx,
            ApiError::NotFound(format!("input {kind:?}")),
        ));
    }
    if !errors.is_empty() {
        return month_page(&state, &ctx, &month, &errors, StatusCode::BAD_REQUEST).await;
    }
    let r = inputs::upload(
        State(state.clone()),
        Analyst(user),
        Ok(Path((month.clone(), kind.clone()))),
        Ok(Query(inputs::UploadQuery {
            format: ext.map(String::from),
            encoding: None,
        })),
        HeaderMap::new(),
        Ok(bytes),
    )
    .await;
    match r {
        Ok(_) => Ok(redirect(&ctx, &format!("/months/{month}/inputs/{kind}"))),
        Err(ApiError::BadRequest(m)) => {
            errors.add(&field_id, m);
            month_page(&state, &ctx, &month, &errors, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(api_error(&ctx, e)),
    }
}

/// `/months/{month}/inputs/{kind}`: the latest upload of a table: counts and rejects.
pub async fn upload_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((month, kind)): Path<(String, String)>,
) -> PageResult {
    analyst(&ctx)?;
    let month = month_of(&ctx, &month)?;
    let ms = db(&ctx, month_state(&state, &month))?;
    let Some((_, file, read, acc, rej, rejects_file, user, at)) =
        ms.inputs.into_iter().find(|r| r.0 == kind)
    else {
        return Err(api_error(
            &ctx,
            ApiError::NotFound(format!("{month}: no {kind} upload")),
        ));
    };
    let rejects = match &rejects_file {
        Some(f) => {
            let path = state.store.file_path(f);
            Some(db(
                &ctx,
                tokio::task::spawn_blocking(move || read_table(&path, SHOWN))
                    .await
                    .map_err(ApiError::from)
                    .and_then(|r| r),
            )?)
        }
        None => None,
    };
    let title = format!("{month} · {}", kind_label(&ctx, &kind));
    let body = html! {
        p.crumbs { a href="/months" { (ctx.t("月份", "Months")) } " › " a href=(format!("/months/{month}")) { (month) } " › " (kind_label(&ctx, &kind)) }
        h1 { (title) }
        dl.counts {
            dt { (ctx.t("读取行数", "Rows read")) } dd #read { (read) }
            dt { (ctx.t("接受", "Accepted")) } dd #accepted { (acc) }
            dt { (ctx.t("拒绝", "Rejected")) } dd #rejected { (rej) }
            dt { (ctx.t("文件 SHA-256", "File SHA-256")) } dd { code.hash { (file.split('.').next().unwrap_or("")) } }
            dt { (ctx.t("上传人 / 时间", "By / at")) } dd { (user) " · " (at) " UTC" }
        }
        @if let (Some(t), Some(f)) = (&rejects, &rejects_file) {
            h2 { (ctx.t("被拒绝的行", "Rejected rows")) }
            p { a href=(format!("/files/{f}")) download=(format!("rejects-{month}-{kind}.csv")) { (ctx.t("下载被拒绝的行 (CSV)", "Download the rejected rows (CSV)")) } }
            (table(&ctx, ctx.t("被拒绝的行：行号、列、值、原因", "Rejected rows: row, column, value, reason"), t))
        } @else {
            p { (ctx.t("没有被拒绝的行。", "No row was rejected.")) }
        }
        p { a href=(format!("/months/{month}")) { (ctx.t("返回本月", "Back to the month")) } }
    };
    Ok(page(&ctx, StatusCode::OK, &title, body))
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

/// `POST /months/{month}/score`: starts the API's score job and shows its progress.
pub async fn score(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(month): Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> PageResult {
    let user = analyst(&ctx)?;
    let sent = form.ok().and_then(|Form(f)| f.csrf);
    check_csrf(&ctx, sent.as_deref())?;
    let month = month_of(&ctx, &month)?;
    match score::start(State(state.clone()), Analyst(user), Ok(Path(month.clone()))).await {
        Ok((_, Json(j))) => Ok(redirect(&ctx, &format!("/months/{month}/jobs/{}", j.job))),
        Err(ApiError::Conflict(_)) => {
            let mut errors = Errors::default();
            errors.add(
                "score",
                ctx.t(
                    "请先上传企业名录，再评分",
                    "Upload the enterprise table before scoring",
                ),
            );
            month_page(&state, &ctx, &month, &errors, StatusCode::CONFLICT).await
        }
        Err(e) => Err(api_error(&ctx, e)),
    }
}

/// `/months/{month}/jobs/{job}`: a job's progress bar; the page reloads itself every second
/// (a meta refresh: no script) until the job ends, then returns to the month.
pub async fn job(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((month, id)): Path<(String, i64)>,
) -> PageResult {
    analyst(&ctx)?;
    let month = month_of(&ctx, &month)?;
    let Some(st) = db(&ctx, jobs::status(&state.store, &state.jobs, id))? else {
        return Err(api_error(&ctx, ApiError::NotFound(format!("no job {id}"))));
    };
    let pct = (st.progress * 100.0).round() as i64;
    let running = st.state == "queued" || st.state == "running";
    let state_label = match st.state.as_str() {
        "queued" => ctx.t("排队中", "queued"),
        "running" => ctx.t("进行中", "running"),
        "done" => ctx.t("已完成", "done"),
        _ => ctx.t("失败", "failed"),
    };
    let body = html! {
        @if running { meta http-equiv="refresh" content="1"; }
        p.crumbs { a href="/months" { (ctx.t("月份", "Months")) } " › " a href=(format!("/months/{month}")) { (month) } }
        h1 { (ctx.t("评分进度", "Scoring progress")) }
        div.field {
            label for="progress" { (ctx.t("进度", "Progress")) " (" (state_label) ")" }
            progress #progress max="100" value=(pct) { (pct) "%" }
            span #job-state data-state=(st.state) { " " (pct) "%" }
        }
        @if let Some(e) = &st.error {
            p.error-message { (e) }
        }
        @if st.state == "done" {
            p.lead { (ctx.t("评分已完成。", "Scoring is done.")) }
        }
        p { a href=(format!("/months/{month}")) { (ctx.t("返回本月", "Back to the month")) } }
    };
    Ok(page(
        &ctx,
        StatusCode::OK,
        ctx.t("评分进度", "Scoring progress"),
        body,
    ))
}

/// `/months/{month}/scored?format=`: the API's download of the scored table.
pub async fn scored(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(month): Path<String>,
    Query(q): Query<score::FormatQuery>,
) -> PageResult {
    let user = analyst(&ctx)?;
    score::scored(State(state), Analyst(user), Ok(Path(month)), Ok(Query(q)))
        .await
        .map_err(|e| api_error(&ctx, e))
}

#[derive(Debug, Deserialize)]
pub struct SeedForm {
    csrf: Option<String>,
    department: Option<String>,
    seed: Option<String>,
}

/// `POST /months/{month}/seeds`: the API's seed announcement.
pub async fn seed(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(month): Path<String>,
    form: Result<Form<SeedForm>, FormRejection>,
) -> PageResult {
    let user = analyst(&ctx)?;
    let f = form.ok().map(|Form(f)| f);
    check_csrf(&ctx, f.as_ref().and_then(|f| f.csrf.as_deref()))?;
    let month = month_of(&ctx, &month)?;
    let f = f.unwrap_or(SeedForm {
        csrf: None,
        department: None,
        seed: None,
    });
    let mut errors = Errors::default();
    let seed = f.seed.unwrap_or_default();
    if seed.trim().is_empty() {
        errors.add(
            "seed",
            ctx.t("请输入公布的随机种子", "Enter the announced seed"),
        );
        return month_page(&state, &ctx, &month, &errors, StatusCode::BAD_REQUEST).await;
    }
    let req = draws::SeedRequest {
        department: f.department.unwrap_or_default(),
        seed,
    };
    match draws::announce_seed(
        State(state.clone()),
        Analyst(user),
        Ok(Path(month.clone())),
        Ok(Json(req)),
    )
    .await
    {
        Ok(_) => Ok(redirect(&ctx, &format!("/months/{month}#seeds"))),
        Err(ApiError::Conflict(_)) => {
            errors.add(
                "seed-department",
                ctx.t(
                    "该部门本月已抽取，种子不能再更改",
                    "This department's draw is done: its seed can no longer change",
                ),
            );
            month_page(&state, &ctx, &month, &errors, StatusCode::CONFLICT).await
        }
        Err(ApiError::BadRequest(m)) => {
            errors.add("seed", m);
            month_page(&state, &ctx, &month, &errors, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(api_error(&ctx, e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct DrawForm {
    csrf: Option<String>,
    department: Option<String>,
    strata: Option<String>,
    capacity: Option<String>,
}

/// `POST /months/{month}/draws`: the API's draw, then the draw's page.
pub async fn draw(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(month): Path<String>,
    form: Result<Form<DrawForm>, FormRejection>,
) -> PageResult {
    let user = analyst(&ctx)?;
    let f = form.ok().map(|Form(f)| f);
    check_csrf(&ctx, f.as_ref().and_then(|f| f.csrf.as_deref()))?;
    let month = month_of(&ctx, &month)?;
    let Some(f) = f else {
        return Err(api_error(&ctx, ApiError::BadRequest("form".into())));
    };
    let department = f.department.unwrap_or_default();
    let capacity = f
        .capacity
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .map(serde_json::Value::String);
    let req = draws::DrawRequest {
        department: department.clone(),
        strata: f.strata,
        capacity,
    };
    let mut errors = Errors::default();
    match draws::draw(
        State(state.clone()),
        Analyst(user),
        Ok(Path(month.clone())),
        Ok(Json(req)),
    )
    .await
    {
        Ok(_) => Ok(redirect(
            &ctx,
            &format!("/months/{month}/draws/{department}"),
        )),
        Err(ApiError::Conflict(m)) => {
            let text = if m.contains("no seed") {
                ctx.t(
                    "请先公布该部门的随机种子",
                    "Announce this department's seed first",
                )
                .to_string()
            } else if m.contains("not scored") {
                ctx.t("请先完成评分", "Score the month first").to_string()
            } else if m.contains("already drawn") || m.contains("is already drawn") {
                ctx.t(
                    "该部门本月已抽取，每月只能抽取一次",
                    "Already drawn: a month and department is drawn once",
                )
                .to_string()
            } else {
                m
            };
            errors.add("draw-department", text);
            month_page(&state, &ctx, &month, &errors, StatusCode::CONFLICT).await
        }
        Err(ApiError::BadRequest(m)) => {
            errors.add("capacity", m);
            month_page(&state, &ctx, &month, &errors, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(api_error(&ctx, e)),
    }
}

/// `/months/{month}/draws/{department}`: the draw's sample with its team assignments, and the
/// downloads.
pub async fn draw_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((month, department)): Path<(String, String)>,
) -> PageResult {
    analyst(&ctx)?;
    let month = month_of(&ctx, &month)?;
    let row: Option<(String, String, i64, String, String, String)> = db(
        &ctx,
        state.store.with(|c| {
            Ok(rusqlite::OptionalExtension::optional(c.query_row(
                "SELECT d.sample_file, s.seed, d.visits, d.user, d.at, d.manifest_file
                 FROM draws d JOIN seeds s ON s.id = d.seed_id
                 WHERE d.month = ?1 AND d.department = ?2",
                params![month, department],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            ))?)
        }),
    )?;
    let Some((sample, seed, visits, user, at, manifest)) = row else {
        return Err(api_error(
            &ctx,
            ApiError::NotFound(format!("{month}: no {department} draw")),
        ));
    };
    let path = state.store.file_path(&sample);
    let t = db(
        &ctx,
        tokio::task::spawn_blocking(move || read_table(&path, SHOWN))
            .await
            .map_err(ApiError::from)
            .and_then(|r| r),
    )?;
    let dep = department_label(&ctx, &department);
    let title = format!("{month} · {dep}");
    let body = html! {
        p.crumbs { a href="/months" { (ctx.t("月份", "Months")) } " › " a href=(format!("/months/{month}")) { (month) } " › " (dep) }
        h1 { (title) " " (ctx.t("抽查名单", "sample")) }
        dl.counts {
            dt { (ctx.t("随机种子", "Seed")) } dd { code { (seed) } }
            dt { (ctx.t("检查户次", "Visits")) } dd #visits { (visits) }
            dt { (ctx.t("抽取人 / 时间", "By / at")) } dd { (user) " · " (at) " UTC" }
            dt { (ctx.t("清单 SHA-256", "Manifest SHA-256")) } dd { code.hash { (manifest.split('.').next().unwrap_or("")) } }
        }
        p.downloads.no-print {
            a #download-xlsx href=(format!("/months/{month}/draws/{department}/sample?format=xlsx")) { (ctx.t("下载抽查名单 (Excel，含检查组分配)", "Download the sample (Excel, with team assignments)")) }
            " · "
            a href=(format!("/months/{month}/draws/{department}/sample?format=csv")) { "CSV" }
            " · "
            a href=(format!("/api/months/{month}/draws/{department}/public")) { (ctx.t("公开名单 (CSV)", "Public list (CSV)")) }
            " · "
            a href=(format!("/api/months/{month}/draws/{department}/manifest")) { (ctx.t("抽取清单 (JSON)", "Manifest (JSON)")) }
            " · "
            a href=(format!("/public/verify?month={month}&department={department}")) { (ctx.t("公开核验", "Verify publicly")) }
        }
        form.inline.no-print #entry method="get" action=(format!("/months/{month}/entries")) {
            @if department == "joint" {
                div.field {
                    label for="entry-department" { (ctx.t("结果所属部门", "Department of the result")) }
                    select #entry-department name="department" {
                        option value="market" { (department_label(&ctx, "market")) }
                        option value="ecology" { (department_label(&ctx, "ecology")) }
                    }
                }
            } @else {
                input type="hidden" name="department" value=(department);
            }
            div.field {
                label for="entry-uscc" { (ctx.t("为一家企业录入检查结果：统一社会信用代码", "Enter one enterprise's result: its credit code")) }
                input #entry-uscc type="text" name="uscc" maxlength="18" autocomplete="off" spellcheck="false";
            }
            button type="submit" { (ctx.t("打开录入表", "Open the form")) }
        }
        (table(&ctx, ctx.t("抽查名单与检查组分配", "The sample and its team assignments"), &t))
    };
    Ok(page(&ctx, StatusCode::OK, &title, body))
}

/// `/months/{month}/draws/{department}/sample?format=xlsx|csv`: the API's sample download.
pub async fn sample_download(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((month, department)): Path<(String, String)>,
    Query(q): Query<score::FormatQuery>,
) -> PageResult {
    let user = analyst(&ctx)?;
    draws::sample(
        State(state),
        Analyst(user),
        Ok(Path((month, department))),
        Ok(Query(q)),
    )
    .await
    .map_err(|e| api_error(&ctx, e))
}

/// `/files/{name}`: a stored file (rejects tables) through the API's file download.
pub async fn file(State(state): State<AppState>, ctx: Ctx, Path(name): Path<String>) -> PageResult {
    let user = analyst(&ctx)?;
    draws::file(State(state), Analyst(user), Ok(Path(name)))
        .await
        .map_err(|e| api_error(&ctx, e))
}

#[derive(Debug, Deserialize)]
pub struct LookupQuery {
    uscc: Option<String>,
}

/// `/months/{month}/enterprises?uscc=`: one enterprise of the month's scored upload, explained
/// by the library (`scoring::lookup`, what `spotcheck explain` prints) with the same policy and
/// credit model the month's scoring used. A GET form: it changes nothing.
pub async fn lookup(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(month): Path<String>,
    Query(q): Query<LookupQuery>,
) -> PageResult {
    analyst(&ctx)?;
    let month = month_of(&ctx, &month)?;
    let uscc = q.uscc.unwrap_or_default().trim().to_string();
    let m = month.clone();
    let files: Option<(String, Option<String>)> = db(
        &ctx,
        state.store.with(move |c| {
            Ok(rusqlite::OptionalExtension::optional(c.query_row(
                "SELECT enterprises_file, emissions_file FROM scored WHERE month = ?1
                 ORDER BY id DESC LIMIT 1",
                [m],
                |r| Ok((r.get(0)?, r.get(1)?)),
            ))?)
        }),
    )?;
    let mut errors = Errors::default();
    if uscc.is_empty() {
        errors.add(
            "uscc",
            ctx.t(
                "请输入统一社会信用代码",
                "Enter the unified social credit code",
            ),
        );
    } else if files.is_none() {
        errors.add(
            "uscc",
            ctx.t(
                "本月尚未评分：请先评分再查询",
                "The month is not scored yet: score it first",
            ),
        );
    }
    if !errors.is_empty() {
        return month_page(&state, &ctx, &month, &errors, StatusCode::BAD_REQUEST).await;
    }
    let Some((ent, emi)) = files else {
        return month_page(&state, &ctx, &month, &errors, StatusCode::BAD_REQUEST).await;
    };
    let (ent, emi) = (
        state.store.file_path(&ent),
        emi.map(|e| state.store.file_path(&e)),
    );
    let (code, lang) = (uscc.clone(), ctx.lang);
    let found = db(
        &ctx,
        tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
            let opts = crate::table::ReadOptions::default();
            let policy = crate::policy::Policy::default();
            // The shipped credit model when the table has its features, as the score job decides.
            let schema = crate::input::EnterpriseReader::open(&ent, &opts)?.schema();
            let model = crate::credit::CreditModel::from_json(
                crate::credit::DEFAULT_MODEL_JSON,
                "models/credit-default.json (built in)",
            )
            .ok()
            .filter(|m| {
                m.feature_columns(&arrow::array::RecordBatch::new_empty(schema.clone()))
                    .is_ok()
            });
            Ok(crate::scoring::lookup::explain_in_files(
                &ent,
                emi.as_deref(),
                &code,
                &policy,
                model
                    .as_ref()
                    .map(|m| m as &dyn crate::predict::CreditPredictor),
                &opts,
                lang,
            )?)
        })
        .await
        .map_err(ApiError::from)
        .and_then(|r| r),
    )?;
    use crate::scoring::lookup::Lookup;
    let text = match found {
        Lookup::Found { text, .. } => text,
        Lookup::Malformed => {
            errors.add("uscc", ctx.t(
                "这不是统一社会信用代码（18 位，由数字和除 I、O、S、V、Z 以外的大写字母组成）",
                "This is not a unified social credit code (18 characters from 0-9 and A-Y without I, O, S, V, Z)",
            ));
            return month_page(&state, &ctx, &month, &errors, StatusCode::BAD_REQUEST).await;
        }
        Lookup::NotFound { uscc } => {
            errors.add(
                "uscc",
                format!(
                    "{}{uscc}",
                    ctx.t(
                        "本月评分的企业名录中没有该代码：",
                        "No enterprise of the month's scoring has the code "
                    )
                ),
            );
            return month_page(&state, &ctx, &month, &errors, StatusCode::NOT_FOUND).await;
        }
        Lookup::Rejected {
            uscc,
            row,
            reason,
            detail,
        } => {
            errors.add(
                "uscc",
                format!(
                    "{uscc}: {} {row} {}: {reason} ({detail})",
                    ctx.t("该企业所在行", "its row"),
                    ctx.t("被拒绝", "was rejected")
                ),
            );
            return month_page(&state, &ctx, &month, &errors, StatusCode::NOT_FOUND).await;
        }
    };
    let title = format!("{month} · {uscc}");
    let body = html! {
        p.crumbs { a href="/months" { (ctx.t("月份", "Months")) } " › " a href=(format!("/months/{month}")) { (month) } " › " (uscc) }
        h1 { (ctx.t("企业评分说明", "Why this enterprise scored as it did")) }
        div #explain.explain {
            @for line in text.lines() {
                @if line.trim().is_empty() { br; } @else { p { (line) } }
            }
        }
        p { a href=(format!("/months/{month}#lookup")) { (ctx.t("查询其他企业", "Look up another enterprise")) } }
    };
    Ok(page(&ctx, StatusCode::OK, &title, body))
}
