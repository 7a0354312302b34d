//! Published pages, no sign-in (SPEC §10): the drawn samples' public lists (一公开), the positive
//! list, and `/public/verify`, which re-derives a published draw in the server (the API's
//! `verify`, the library's `rederive` — what `spotcheck verify` runs) and shows that every hash
//! and unit matches. `/public/verify` answers JSON to a client that does not ask for HTML, so the
//! API route of the same path keeps working.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use maud::html;
use serde::Deserialize;

use super::{PageResult, api_error, db_err, department_label, page, read_table, table};
use crate::serve::AppState;
use crate::serve::error::ApiError;
use crate::serve::routes::draws;
use crate::serve::routes::parse_month;
use crate::serve::session::Ctx;

/// `/public`: every draw with its published files, and the positive list.
pub async fn index(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let rows: Vec<(String, String, i64, String)> = db_err(
        &ctx,
        state.store.with(|c| {
            let mut st = c.prepare(
                "SELECT month, department, visits, at FROM draws ORDER BY month DESC, id DESC",
            )?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        }),
    )?;
    let body = html! {
        h1 { (ctx.t("公开信息", "Published")) }
        p.lead { (ctx.t(
            "每月“双随机”抽查的抽取结果在此公开。任何人都可以核验：服务器按公布的随机种子和存档的输入重新抽取一遍，并比对每个文件的哈希值和每一个抽中对象。",
            "Each month's random spot-check draw is published here. Anyone can check it: the server draws again from the announced seed and the stored inputs, and compares every file hash and every unit drawn."
        )) }
        h2 { (ctx.t("抽查名单", "Samples")) }
        @if rows.is_empty() {
            p { (ctx.t("尚未公开任何抽取结果。", "No draw has been published yet.")) }
        } @else {
            div.table-wrap { table #draws {
                caption { (ctx.t("已公开的抽取", "Published draws")) }
                thead { tr {
                    th scope="col" { (ctx.t("月份", "Month")) }
                    th scope="col" { (ctx.t("部门", "Department")) }
                    th scope="col" { (ctx.t("检查户次", "Visits")) }
                    th scope="col" { (ctx.t("抽取时间 (UTC)", "Drawn at (UTC)")) }
                    th scope="col" { (ctx.t("查看", "See")) }
                } }
                tbody { @for (m, d, v, at) in &rows { tr {
                    td { (m) } td { (department_label(&ctx, d)) } td.num { (v) } td { (at) }
                    td {
                        a href=(format!("/public/draws/{m}/{d}")) { (ctx.t("名单", "list")) }
                        " · "
                        a href=(format!("/public/verify?month={m}&department={d}")) { (ctx.t("核验", "verify")) }
                        " · "
                        a href=(format!("/api/months/{m}/draws/{d}/manifest")) { (ctx.t("清单", "manifest")) }
                    }
                } } }
            } }
        }
        h2 { (ctx.t("正面清单", "Positive list")) }
        p { a href="/public/whitelist" { (ctx.t("查看当前正面清单", "See the current positive list")) } }
    };
    Ok(page(
        &ctx,
        StatusCode::OK,
        ctx.t("公开信息", "Published"),
        body,
    ))
}

/// `/public/draws/{month}/{department}`: a draw's public list (no ratios, scores or teams).
pub async fn draw(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((month, department)): Path<(String, String)>,
) -> PageResult {
    let month = parse_month(&month)
        .map(|m| m.to_string())
        .map_err(|e| api_error(&ctx, e))?;
    let (m, d) = (month.clone(), department.clone());
    let file: Option<String> = db_err(
        &ctx,
        state.store.with(move |c| {
            Ok(rusqlite::OptionalExtension::optional(c.query_row(
                "SELECT public_file FROM draws WHERE month = ?1 AND department = ?2",
                rusqlite::params![m, d],
                |r| r.get(0),
            ))?)
        }),
    )?;
    let Some(file) = file else {
        return Err(api_error(
            &ctx,
            ApiError::NotFound(format!("{month}: no {department} draw")),
        ));
    };
    let path = state.store.file_path(&file);
    let t = db_err(
        &ctx,
        tokio::task::spawn_blocking(move || read_table(&path, 5000))
            .await
            .map_err(ApiError::from)
            .and_then(|r| r),
    )?;
    let title = format!("{month} · {}", department_label(&ctx, &department));
    let body = html! {
        p.crumbs { a href="/public" { (ctx.t("公开信息", "Published")) } " › " (title) }
        h1 { (title) " " (ctx.t("抽查名单", "sample")) }
        p.downloads.no-print {
            a href=(format!("/api/months/{month}/draws/{department}/public")) { (ctx.t("下载 (CSV)", "Download (CSV)")) }
            " · "
            a href=(format!("/public/verify?month={month}&department={department}")) { (ctx.t("核验这次抽取", "Verify this draw")) }
        }
        (table(&ctx, ctx.t("公开名单", "Public list"), &t))
    };
    Ok(page(&ctx, StatusCode::OK, &title, body))
}

/// `/public/whitelist`: the latest positive list.
pub async fn whitelist(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    super::admin::list_page(&state, &ctx, false).await
}

#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    month: Option<String>,
    department: Option<String>,
}

/// Whether the client asked for a page (a browser) rather than JSON.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// `/public/verify?month=&department=`: the re-derivation as a page (or the API's JSON).
pub async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    query: Result<Query<VerifyQuery>, QueryRejection>,
) -> PageResult {
    if !wants_html(&headers) {
        let q = query.map_err(|e| ApiError::from(e).into_response())?;
        let q = draws::VerifyQuery {
            month: q.0.month.unwrap_or_default(),
            department: q.0.department.unwrap_or_default(),
        };
        return draws::verify(State(state), Ok(Query(q)))
            .await
            .map(IntoResponse::into_response)
            .map_err(IntoResponse::into_response);
    }
    let q = query.map(|q| q.0).unwrap_or(VerifyQuery {
        month: None,
        department: None,
    });
    let published: Vec<(String, String)> = db_err(
        &ctx,
        state.store.with(|c| {
            let mut st =
                c.prepare("SELECT month, department FROM draws ORDER BY month DESC, id DESC")?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        }),
    )?;
    let chosen = match (&q.month, &q.department) {
        (Some(m), Some(d)) if !m.is_empty() && !d.is_empty() => Some((m.clone(), d.clone())),
        _ => None,
    };
    let result = match &chosen {
        Some((m, d)) => {
            let vq = draws::VerifyQuery {
                month: m.clone(),
                department: d.clone(),
            };
            match draws::verify(State(state.clone()), Ok(Query(vq))).await {
                Ok(axum::Json(v)) => Some(Ok(v)),
                Err(e @ (ApiError::NotFound(_) | ApiError::BadRequest(_))) => Some(Err(e)),
                Err(e) => return Err(api_error(&ctx, e)),
            }
        }
        None => None,
    };
    // The manifest's recorded inputs and their hashes, as stored (shown, not recomputed here:
    // the re-derivation above compared each of them).
    let recorded: Vec<(String, String, String)> = match (&chosen, &result) {
        (Some((m, d)), Some(Ok(_))) => {
            let (m, d) = (m.clone(), d.clone());
            let name: Option<String> = db_err(
                &ctx,
                state.store.with(move |c| {
                    Ok(rusqlite::OptionalExtension::optional(c.query_row(
                        "SELECT manifest_file FROM draws WHERE month = ?1 AND department = ?2",
                        rusqlite::params![m, d],
                        |r| r.get(0),
                    ))?)
                }),
            )?;
            name.and_then(|n| std::fs::read(state.store.file_path(&n)).ok())
                .and_then(|b| serde_json::from_slice::<crate::sample::Manifest>(&b).ok())
                .map(|man| {
                    let mut v: Vec<(String, String, String)> = man
                        .inputs
                        .iter()
                        .map(|i| (i.role.to_string(), i.path.clone(), i.sha256.clone()))
                        .collect();
                    v.push((
                        "policy".into(),
                        man.policy.path.clone(),
                        man.policy.sha256.clone(),
                    ));
                    v.push((
                        "output".into(),
                        man.output.path.clone(),
                        man.output.sha256.clone(),
                    ));
                    v
                })
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let body = html! {
        h1 { (ctx.t("核验抽取结果", "Verify a draw")) }
        p.lead { (ctx.t(
            "选择一次已公开的抽取。服务器将用存档的输入文件和公布的随机种子重新抽取，并逐项比对。",
            "Choose a published draw. The server draws it again from the stored inputs and the announced seed, and compares everything."
        )) }
        form.inline method="get" action="/public/verify" {
            div.field {
                label for="draw" { (ctx.t("抽取", "Draw")) }
                select #draw name="month" {
                    @for (m, _) in published.iter().map(|(m, d)| (m, d)).collect::<std::collections::BTreeSet<_>>().iter().rev() {
                        option value=(m) selected[chosen.as_ref().is_some_and(|c| &c.0 == *m)] { (m) }
                    }
                }
            }
            div.field {
                label for="department" { (ctx.t("部门", "Department")) }
                select #department name="department" {
                    @for d in ["market", "ecology", "joint"] {
                        option value=(d) selected[chosen.as_ref().is_some_and(|c| c.1 == d)] { (department_label(&ctx, d)) }
                    }
                }
            }
            button type="submit" { (ctx.t("核验", "Verify")) }
        }
        @match &result {
            Some(Ok(v)) => {
                @if v.verified {
                    div.verdict.ok #verdict data-verified="true" role="status" {
                        h2 { "✓ " (ctx.t("核验通过", "Verified")) }
                        p { (ctx.t("重新抽取的结果与公布的完全一致：每个输入文件的哈希值和每一个抽中对象都相符。", "The draw derived again equals the published one: every input file's hash and every unit drawn match.")) }
                    }
                } @else {
                    div.verdict.bad #verdict data-verified="false" role="alert" {
                        h2 { "✗ " (ctx.t("核验未通过", "Not verified")) }
                        ul { @for d in &v.differences { li { (d) } } }
                    }
                }
                dl.counts {
                    dt { (ctx.t("月份", "Month")) } dd { (v.month) }
                    dt { (ctx.t("部门", "Department")) } dd { (department_label(&ctx, &v.department)) }
                    dt { (ctx.t("随机种子", "Seed")) } dd { code { (v.seed) } }
                    dt { (ctx.t("重新抽中的检查户次", "Visits derived again")) } dd #verified-visits { (v.visits) }
                }
                @if !recorded.is_empty() {
                    div.table-wrap { table {
                        caption { (ctx.t("清单记录的文件及其 SHA-256（均已比对）", "Files the manifest records, with their SHA-256 (each compared)")) }
                        thead { tr {
                            th scope="col" { (ctx.t("用途", "Role")) }
                            th scope="col" { (ctx.t("文件", "File")) }
                            th scope="col" { "SHA-256" }
                        } }
                        tbody { @for (role, path, sha) in &recorded { tr {
                            td { (role) } td { code.hash { (path) } } td { code.hash { (sha) } }
                        } } }
                    } }
                }
                p { (ctx.t("也可以下载清单，用命令行自行核验：", "You can also download the manifest and check it yourself: ")) code { "spotcheck verify manifest.json" } }
            }
            Some(Err(e)) => {
                div.verdict.bad role="alert" { p { (e.to_string()) } }
            }
            None => {}
        }
    };
    let status = match &result {
        Some(Err(e)) => e.status(),
        _ => StatusCode::OK,
    };
    Ok(page(
        &ctx,
        status,
        ctx.t("核验抽取结果", "Verify a draw"),
        body,
    ))
}
