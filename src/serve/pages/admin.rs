//! The positive list's page (正面清单: build this period's list, see its new and removed
//! enterprises, download its Excel) and the audit log (admins only). The list is built by the
//! API's handler (the library's `whitelist::from_scored`); its counts are the ones the library
//! recorded, and the tables are the stored list read back and shown by the status it carries.

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use maud::html;
use serde::Deserialize;

use super::{
    Errors, PageResult, analyst, api_error, check_csrf, csrf_field, db_err, page, read_table,
    redirect, signed_in,
};
use crate::serve::AppState;
use crate::serve::auth::{Admin, Analyst, Role};
use crate::serve::error::ApiError;
use crate::serve::routes::{audit, whitelist};
use crate::serve::session::Ctx;

/// The latest list as stored: its summary and CSV file.
fn latest(state: &AppState) -> Result<Option<(whitelist::WhitelistSummary, String)>, ApiError> {
    state.store.with(|c| {
        let row: Option<(String, String)> = rusqlite::OptionalExtension::optional(c.query_row(
            "SELECT summary, csv_file FROM whitelists ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ))?;
        Ok(row.and_then(|(s, f)| {
            serde_json::from_str::<whitelist::WhitelistSummary>(&s)
                .ok()
                .map(|s| (s, f))
        }))
    })
}

fn status_label(ctx: &Ctx, s: &str) -> String {
    match s {
        "new" => ctx.t("新增", "new").into(),
        "retained" => ctx.t("保留", "retained").into(),
        "renewed" => ctx.t("续期", "renewed").into(),
        "waitlisted" => ctx.t("候补", "waitlisted").into(),
        "removed" => ctx.t("移出", "removed").into(),
        o => o.into(),
    }
}

/// The list's page; `staff` adds the build form (the published page has none).
pub async fn list_page(state: &AppState, ctx: &Ctx, staff: bool) -> PageResult {
    list_page_with(state, ctx, staff, &Errors::default(), StatusCode::OK).await
}

async fn list_page_with(
    state: &AppState,
    ctx: &Ctx,
    staff: bool,
    errors: &Errors,
    status: StatusCode,
) -> PageResult {
    let found = db_err(ctx, latest(state))?;
    let table = match &found {
        Some((_, f)) => {
            let path = state.store.file_path(f);
            Some(db_err(
                ctx,
                tokio::task::spawn_blocking(move || read_table(&path, 100_000))
                    .await
                    .map_err(ApiError::from)
                    .and_then(|r| r),
            )?)
        }
        None => None,
    };
    let status_col = table
        .as_ref()
        .and_then(|(h, _, _)| h.iter().position(|c| c == "status"));
    let body = html! {
        (errors.summary(ctx))
        h1 { (ctx.t("正面清单", "Positive list")) }
        @if staff {
            form.inline method="post" action="/whitelist" {
                (csrf_field(ctx))
                div.field.(if errors.get("as_of").is_some() { "has-error" } else { "" }) {
                    label for="as_of" { (ctx.t("清单日期", "List date")) }
                    (errors.beside("as_of"))
                    input #as_of type="date" name="as_of" required;
                }
                button type="submit" { (ctx.t("按最近一次评分生成本期清单", "Build this period's list from the latest scoring")) }
            }
        }
        @match (&found, &table) {
            (Some((s, _)), Some((header, rows, _))) => {
                p.lead { (ctx.t("清单日期 ", "As of ")) (s.as_of) (ctx.t("，依据 ", ", from the scoring of ")) (s.scored_month) (ctx.t(" 的评分。", ".")) }
                dl.counts #list-counts {
                    dt { (ctx.t("在册", "Listed")) } dd #listed { (s.listed) }
                    dt { (status_label(ctx, "new")) } dd #new { (s.new) }
                    dt { (status_label(ctx, "retained")) } dd { (s.retained) }
                    dt { (status_label(ctx, "renewed")) } dd { (s.renewed) }
                    dt { (status_label(ctx, "waitlisted")) } dd { (s.waitlisted) }
                    dt { (status_label(ctx, "removed")) } dd #removed { (s.removed) }
                }
                p.downloads.no-print {
                    a #list-xlsx href="/api/whitelist?format=xlsx" { (ctx.t("下载正面清单 (Excel)", "Download the positive list (Excel)")) }
                    " · "
                    a href="/api/whitelist?format=csv" { "CSV" }
                }
                @for which in ["new", "removed", "retained", "renewed", "waitlisted"] {
                    @let these: Vec<&Vec<String>> = rows.iter().filter(|r| status_col.is_some_and(|i| r.get(i).is_some_and(|v| v == which))).collect();
                    @if !these.is_empty() {
                        h2 { (status_label(ctx, which)) " (" (these.len()) ")" }
                        div.table-wrap { table {
                            caption { (ctx.t("正面清单：", "Positive list: ")) (status_label(ctx, which)) }
                            thead { tr { @for h in header { th scope="col" { (h) } } } }
                            tbody { @for r in these { tr { @for c in r { td { (c) } } } } }
                        } }
                    }
                }
            }
            _ => { p { (ctx.t("尚未生成正面清单。", "No positive list has been built yet.")) } }
        }
    };
    Ok(page(ctx, status, ctx.t("正面清单", "Positive list"), body))
}

/// `/whitelist`: the list with the build form (analysts and admins).
pub async fn whitelist(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    analyst(&ctx)?;
    list_page(&state, &ctx, true).await
}

#[derive(Debug, Deserialize)]
pub struct ListForm {
    csrf: Option<String>,
    as_of: Option<String>,
}

/// `POST /whitelist`: the API's list build.
pub async fn build_whitelist(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Result<Form<ListForm>, FormRejection>,
) -> PageResult {
    let user = analyst(&ctx)?;
    let f = form.ok().map(|Form(f)| f);
    check_csrf(&ctx, f.as_ref().and_then(|f| f.csrf.as_deref()))?;
    let as_of = f.and_then(|f| f.as_of).unwrap_or_default();
    let mut errors = Errors::default();
    if as_of.trim().is_empty() {
        errors.add("as_of", ctx.t("请输入清单日期", "Enter the list's date"));
        return list_page_with(&state, &ctx, true, &errors, StatusCode::BAD_REQUEST).await;
    }
    let req = whitelist::WhitelistRequest { as_of };
    match whitelist::create(State(state.clone()), Analyst(user), Ok(Json(req))).await {
        Ok(_) => Ok(redirect(&ctx, "/whitelist")),
        Err(e @ (ApiError::BadRequest(_) | ApiError::Conflict(_))) => {
            let text = match &e {
                ApiError::Conflict(_) => ctx
                    .t(
                        "尚无评分结果：请先为某个月份评分",
                        "Nothing is scored yet: score a month first",
                    )
                    .to_string(),
                other => other.to_string(),
            };
            errors.add("as_of", text);
            list_page_with(&state, &ctx, true, &errors, e.status()).await
        }
        Err(e) => Err(api_error(&ctx, e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct AuditPage {
    before: Option<i64>,
}

/// `/audit`: the audit log, newest first, 200 a page (admins only).
pub async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditPage>,
) -> PageResult {
    let user = signed_in(&ctx)?;
    if user.role != Role::Admin {
        return Err(super::message(
            &ctx,
            StatusCode::FORBIDDEN,
            ctx.t("无权操作", "Not allowed"),
            ctx.t("审计日志仅限管理员查看。", "The audit log is for admins."),
        ));
    }
    let query = audit::AuditQuery {
        limit: Some(200),
        before: q.before,
    };
    let Json(rows) = audit::list(State(state), Admin(user), Ok(Query(query)))
        .await
        .map_err(|e| api_error(&ctx, e))?;
    let next = rows.last().map(|r| r.id);
    let body = html! {
        h1 { (ctx.t("审计日志", "Audit log")) }
        p { (ctx.t("所有操作（包括失败的登录）按时间倒序列出；日志只能追加，不能修改或删除。", "Every act, failed sign-ins included, newest first; the log is append-only.")) }
        div.table-wrap { table #audit {
            caption { (ctx.t("审计日志", "Audit log")) }
            thead { tr {
                th scope="col" { "#" }
                th scope="col" { (ctx.t("时间 (UTC)", "At (UTC)")) }
                th scope="col" { (ctx.t("用户", "User")) }
                th scope="col" { (ctx.t("操作", "Act")) }
                th scope="col" { (ctx.t("月份", "Month")) }
                th scope="col" { (ctx.t("结果", "Outcome")) }
                th scope="col" { (ctx.t("说明", "Detail")) }
                th scope="col" { (ctx.t("输入 / 输出 SHA-256", "Input / output SHA-256")) }
            } }
            tbody { @for r in &rows { tr.(format!("outcome-{}", r.outcome)) {
                td.num { (r.id) } td { (r.at) } td { (r.user.as_deref().unwrap_or("")) } td { (r.act) }
                td { (r.month.as_deref().unwrap_or("")) } td { (r.outcome) } td { (r.detail) }
                td { code.hash { (r.input_sha256.as_deref().map(|s| &s[..s.len().min(12)]).unwrap_or("")) } " " code.hash { (r.output_sha256.as_deref().map(|s| &s[..s.len().min(12)]).unwrap_or("")) } }
            } } }
        } }
        @if let Some(n) = next.filter(|_| rows.len() == 200) {
            p.no-print { a href=(format!("/audit?before={n}")) { (ctx.t("更早的记录", "Older entries")) } }
        }
    };
    Ok(page(
        &ctx,
        StatusCode::OK,
        ctx.t("审计日志", "Audit log"),
        body,
    ))
}
