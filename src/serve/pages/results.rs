//! Inspection results and the month's estimates (SPEC §9): the results table is uploaded through
//! the API's handler (checked against the draw, merged into the month's results, estimated by the
//! library), and the estimates page shows the stored estimates in the page's language (rates as
//! percentages) with the monthly report's charts (`report::charts`, inline SVG), and its Excel.

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use maud::html;

use super::{
    PageResult, Shown, analyst, api_error, check_csrf, db_err, message, page, redirect, table,
};
use crate::schema::Lang;
use crate::serve::AppState;
use crate::serve::auth::Analyst;
use crate::serve::error::ApiError;
use crate::serve::routes::{inputs, parse_month, results, score};
use crate::serve::session::Ctx;

/// `POST /months/{month}/results` (multipart: csrf, file): the API's results upload.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(month): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    let user = analyst(&ctx)?;
    let month = parse_month(&month)
        .map(|m| m.to_string())
        .map_err(|e| api_error(&ctx, e))?;
    let bad = |ctx: &Ctx| {
        message(
            ctx,
            StatusCode::BAD_REQUEST,
            ctx.t("请求有误", "Bad request"),
            ctx.t(
                "无法读取上传表单（或文件超过大小上限）。",
                "The upload form cannot be read (or the file is over the limit).",
            ),
        )
    };
    let Ok(mut mp) = multipart else {
        return Err(bad(&ctx));
    };
    let (mut csrf, mut file): (Option<String>, Option<(String, Bytes)>) = (None, None);
    loop {
        match mp.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or("").to_string();
                let file_name = f.file_name().unwrap_or("").to_string();
                let b = f.bytes().await.map_err(|_| bad(&ctx))?;
                match name.as_str() {
                    "csrf" => csrf = Some(String::from_utf8_lossy(&b).into_owned()),
                    "file" => file = Some((file_name, b)),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => return Err(bad(&ctx)),
        }
    }
    check_csrf(&ctx, csrf.as_deref())?;
    let (file_name, bytes) = file.unwrap_or_default();
    let ext = super::month::ext_of(&file_name);
    let mut errors = super::Errors::default();
    if bytes.is_empty() || ext.is_none() {
        errors.add(
            "file-results",
            ctx.t(
                "请选择检查结果文件（.csv、.xlsx、.parquet、.arrow 或 .jsonl）",
                "Choose the results file (.csv, .xlsx, .parquet, .arrow or .jsonl)",
            ),
        );
        return super::month::month_page(&state, &ctx, &month, &errors, StatusCode::BAD_REQUEST)
            .await;
    }
    let r = results::upload(
        State(state.clone()),
        Analyst(user),
        Ok(Path(month.clone())),
        Ok(Query(inputs::UploadQuery {
            format: ext.map(String::from),
            encoding: None,
        })),
        HeaderMap::new(),
        Ok(bytes),
    )
    .await;
    match r {
        Ok(_) => Ok(redirect(&ctx, &format!("/months/{month}/estimates"))),
        Err(ApiError::BadRequest(m) | ApiError::Conflict(m)) => {
            errors.add("file-results", m);
            super::month::month_page(&state, &ctx, &month, &errors, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(api_error(&ctx, e)),
    }
}

/// `/months/{month}/estimates`: the latest results upload's counts and the estimates table.
pub async fn estimates(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(month): Path<String>,
) -> PageResult {
    analyst(&ctx)?;
    let month = parse_month(&month)
        .map(|m| m.to_string())
        .map_err(|e| api_error(&ctx, e))?;
    let m = month.clone();
    type Row = (
        i64,
        i64,
        i64,
        Option<String>,
        String,
        String,
        String,
        String,
        Option<i64>,
        String,
    );
    let row: Option<Row> = db_err(
        &ctx,
        state.store.with(move |c| {
            Ok(rusqlite::OptionalExtension::optional(c.query_row(
                "SELECT rows_read, rows_accepted, rows_rejected, rejects_file, estimates_file, user,
                   at, COALESCE(merged_file, file), merged_rows, kind
                 FROM results WHERE month = ?1 ORDER BY id DESC LIMIT 1",
                [m],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                    ))
                },
            ))?)
        }),
    )?;
    let Some((read, acc, rej, rejects, est, user, at, merged, merged_rows, kind)) = row else {
        return Err(api_error(
            &ctx,
            ApiError::NotFound(format!("{month}: no results uploaded")),
        ));
    };
    let path = state.store.file_path(&est);
    let ctx_lang = ctx.lang;
    let (t, charts) = db_err(
        &ctx,
        tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
            let rows =
                crate::results::io::read_estimates(&path, &crate::table::ReadOptions::default())?;
            let charts: Vec<String> = [
                crate::report::charts::rate_chart(&rows, ctx_lang),
                crate::report::charts::lift_chart(&rows, ctx_lang),
            ]
            .into_iter()
            .flatten()
            .collect();
            Ok((shown_estimates(&rows, ctx_lang), charts))
        })
        .await
        .map_err(ApiError::from)
        .and_then(|r| r),
    )?;
    let title = format!(
        "{month} · {}",
        ctx.t("检查结果与估计", "results and estimates")
    );
    let act = if kind == "entry" {
        ctx.t("逐户录入", "an entry of one enterprise")
    } else {
        ctx.t("上传文件", "an uploaded file")
    };
    let body = html! {
        p.crumbs { a href="/months" { (ctx.t("月份", "Months")) } " › " a href=(format!("/months/{month}")) { (month) } }
        h1 { (title) }
        dl.counts {
            dt { (ctx.t("本月已有结果（户·部门）", "Results of the month (enterprise × department)")) } dd #results-rows { (merged_rows.map(|n| n.to_string()).unwrap_or_else(|| acc.to_string())) }
            dt { (ctx.t("最近一次：", "Latest: ")) (act) } dd { (user) " · " (at) " UTC" }
            dt { (ctx.t("读取行数", "Rows read")) } dd #results-read { (read) }
            dt { (ctx.t("接受", "Accepted")) } dd #results-accepted { (acc) }
            dt { (ctx.t("拒绝", "Rejected")) } dd #results-rejected { (rej) }
        }
        p.note { (ctx.t(
            "结果逐次合并：同一企业同一部门以最近一次上传或录入的结果为准，其他结果保留。估计依据合并后的结果表，与 spotcheck results 对该表的计算相同。",
            "Results accumulate: for each enterprise and department the latest upload or entry counts, every other result stays. The estimates are computed from the consolidated table, exactly as spotcheck results computes them from it."
        )) }
        p.downloads.no-print {
            a #estimates-xlsx href=(format!("/months/{month}/estimates/download?format=xlsx")) { (ctx.t("下载估计结果 (Excel)", "Download the estimates (Excel)")) }
            " · "
            a href=(format!("/months/{month}/estimates/download?format=csv")) { "CSV" }
            " · "
            a #results-table href=(format!("/files/{merged}")) download=(format!("results-{month}.csv")) { (ctx.t("合并后的检查结果表 (CSV)", "The consolidated results table (CSV)")) }
            @if let Some(f) = &rejects {
                " · "
                a href=(format!("/files/{f}")) { (ctx.t("被拒绝的行 (CSV)", "Rejected rows (CSV)")) }
            }
        }
        @if !charts.is_empty() {
            div.charts #estimate-charts {
                // The report's own SVG (report::charts): escaped there, no script, no outside file.
                @for c in &charts { div { (maud::PreEscaped(c)) } }
            }
        }
        div #estimates-table {
            (table(&ctx, ctx.t("问题发现率估计（SPEC §9）", "Estimated problem rates (SPEC §9)"), &t))
        }
    };
    Ok(page(&ctx, StatusCode::OK, &title, body))
}

/// The stored estimates (SPEC §9.3) as the page shows them: headers and values in the page's
/// language, districts with their names, rates as percentages with their interval, counts of
/// violators rounded. The numbers are the library's (`results::io::read_estimates`); only their
/// display is decided here. The download keeps every digit.
fn shown_estimates(rows: &[crate::results::estimates::EstimateRow], lang: Lang) -> Shown {
    let t = |zh: &str, en: &str| match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    };
    let header = vec![
        t("抽查月份", "Month"),
        t("检查部门", "Department"),
        t("范围", "Domain"),
        t("可抽企业数", "Frame units"),
        t("抽中", "Drawn"),
        t("已检查", "Inspected"),
        t("待检查", "Pending"),
        t("不在检查范围", "Out of scope"),
        t("发现问题", "Violations"),
        t("问题发现率", "Hit rate"),
        t("违法违规率估计", "Estimated rate"),
        t("95% 置信区间", "95 % interval"),
        t("违法违规企业数估计", "Estimated violators"),
        t("靶向提升倍数", "Lift"),
        t("未覆盖企业", "Not covered"),
    ];
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    let opt = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map(f).unwrap_or_default();
    let shown: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let domain = match r.domain {
                crate::results::estimates::Domain::District(c) => match crate::district::name(c) {
                    Some(n) => format!("{n} ({c})"),
                    None => c.to_string(),
                },
                d => match d {
                    crate::results::estimates::Domain::All => t("全部", "all"),
                    _ => format!("{}: {}", d.kind(lang), d.value(lang)),
                },
            };
            vec![
                r.month.to_string(),
                r.department.label(lang).to_string(),
                domain,
                r.frame_units.to_string(),
                r.drawn.to_string(),
                r.inspected.to_string(),
                r.pending.to_string(),
                r.out_of_scope.to_string(),
                r.violations.to_string(),
                opt(r.hit_rate, &pct),
                opt(r.rate, &pct),
                r.ci.map(|(lo, hi)| format!("{:.1}–{:.1} %", 100.0 * lo, 100.0 * hi))
                    .unwrap_or_default(),
                opt(r.est_violators, &|v| format!("{v:.0}")),
                opt(r.lift, &|v| format!("{v:.2}")),
                r.not_covered.map(|n| n.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    let total = shown.len();
    (header, shown, total)
}

/// `/months/{month}/estimates/download?format=`: the API's estimates download.
pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(month): Path<String>,
    Query(q): Query<score::FormatQuery>,
) -> PageResult {
    let user = analyst(&ctx)?;
    results::estimates(State(state), Analyst(user), Ok(Path(month)), Ok(Query(q)))
        .await
        .map_err(|e| api_error(&ctx, e))
}
