//! Inspection results (SPEC §9 through §10): `POST /api/months/{month}/results` takes a results
//! table (any format of §1), checks it against the month's committed draws — each re-derived and
//! verified first, as `spotcheck results` does — and answers `{read, accepted, rejected, rejects}`;
//! the estimates of §9.3 are computed by the library at the same time and stored, and
//! `GET /api/months/{month}/estimates?format=csv|xlsx` answers the latest.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::inputs::{RejectItem, UploadQuery, bad_file, format_ext, relabel, store_rejects};
use super::score::FormatQuery;
use super::{Download, blocking, file_response, parse_month};
use crate::results::estimates::{EstimateRow, estimate_department, estimates_batch};
use crate::results::io::read_results;
use crate::results::run::{drawn_units, frame_counts};
use crate::sample::Month;
use crate::sample::run::rederive;
use crate::schema::{Department, Lang};
use crate::serve::AppState;
use crate::serve::auth::Analyst;
use crate::serve::error::{ApiError, ApiResult, ErrorBody};
use crate::serve::store::{self, AuditEntry, Store, now};
use crate::table::{ReadOptions, Rejects, WriteOptions, create};

/// What a results upload read, and the estimates stored with it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResultsAnswer {
    /// The stored results table, `<sha256>.<ext>`.
    pub file: String,
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// The rejected rows (the first 1000; all are in `rejects_file`).
    pub rejects: Vec<RejectItem>,
    pub rejects_file: Option<String>,
    /// The estimates (CSV): `GET /api/months/{month}/estimates`.
    pub estimates_file: String,
}

/// Reads the results against the month's draws and estimates: (rows' counts, rejects, estimates).
fn read_and_estimate(
    s: &Store,
    month: Month,
    manifests: &[String],
    results: &std::path::Path,
    opts: &ReadOptions,
    rejects: &mut Rejects,
) -> ApiResult<(crate::input::Counts, Vec<EstimateRow>)> {
    let mut draws = Vec::new();
    for m in manifests {
        let d = rederive(
            &s.file_path(m),
            Some(crate::policy::Policy::default()),
            opts,
        )?;
        if !d.report.is_match() {
            return Err(ApiError::Internal(format!(
                "the stored draw {m} does not verify ({} difference(s))",
                d.report.differences.len()
            )));
        }
        draws.push(d);
    }
    // Per department, the draw that drew it; per draw, its units by code.
    let mut slot: HashMap<Department, usize> = HashMap::new();
    for (i, d) in draws.iter().enumerate() {
        for &dep in d.params.department.departments() {
            slot.insert(dep, i);
        }
    }
    let by_uscc: Vec<HashMap<[u8; 18], usize>> = draws
        .iter()
        .map(|d| {
            d.draw
                .selected
                .iter()
                .enumerate()
                .filter_map(|(i, u)| Some((<[u8; 18]>::try_from(u.uscc.as_bytes()).ok()?, i)))
                .collect()
        })
        .collect();
    let drawn = |m: Month, dep: Department, key: &[u8; 18]| {
        m == month
            && slot.get(&dep).is_some_and(|&at| {
                by_uscc[at]
                    .get(key)
                    .is_some_and(|&i| draws[at].draw.selected[i].by(dep).is_some())
            })
    };
    let (rows, counts) = read_results(results, opts, rejects, &drawn)
        .map_err(|e| bad_file("results", results, e))?;
    let mut per: HashMap<Department, HashMap<usize, usize>> = HashMap::new();
    for (r, row) in rows.iter().enumerate() {
        // Accepted rows are drawn: the reader asked `drawn`.
        let at = slot[&row.department];
        let key = <[u8; 18]>::try_from(row.uscc.as_bytes()).expect("an accepted code");
        let i = by_uscc[at][&key];
        per.entry(row.department).or_default().insert(i, r);
    }
    let mut estimates = Vec::new();
    let empty = HashMap::new();
    for d in &draws {
        for &dep in d.params.department.departments() {
            let units = drawn_units(d, dep, per.get(&dep).unwrap_or(&empty), &rows);
            let fc = frame_counts(d, &d.params, dep)?;
            estimates.extend(estimate_department(month, dep, &units, &fc));
        }
    }
    estimates.sort_by_key(|r| (r.month, r.department as u8));
    Ok((counts, estimates))
}

/// Upload the month's inspection results.
#[utoipa::path(
    post,
    path = "/api/months/{month}/results",
    tag = "results",
    params(("month" = String, Path, description = "YYYY-MM"), UploadQuery),
    request_body(content = Vec<u8>, description = "the results table (SPEC §9.1)", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "read, checked against the draws, estimated", body = ResultsAnswer),
        (status = 400, description = "bad month, format or file", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an analyst or admin", body = ErrorBody),
        (status = 409, description = "the month has no draw", body = ErrorBody),
        (status = 413, description = "over the upload limit", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    Analyst(user): Analyst,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ResultsAnswer>> {
    let Path(month) = path?;
    let Query(q) = query?;
    let m = parse_month(&month)?;
    let month = m.to_string();
    let ext = format_ext(q.format.as_deref(), &headers)?;
    let body = body?;
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "the results upload is empty: send the file as the request body".into(),
        ));
    }
    let s = state.store.clone();
    blocking(move || {
        let manifests: Vec<String> = s.with(|c| {
            let mut st =
                c.prepare("SELECT manifest_file FROM draws WHERE month = ?1 ORDER BY id")?;
            let v = st
                .query_map([&month], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(v)
        })?;
        if manifests.is_empty() {
            return Err(ApiError::Conflict(format!(
                "month {month} has no draw: results are read against a committed draw"
            )));
        }
        let name = s.put_bytes(&body, ext)?;
        let opts = ReadOptions::default();
        let mut rejects = Rejects::new(false);
        let (counts, estimates) =
            read_and_estimate(&s, m, &manifests, &s.file_path(&name), &opts, &mut rejects)?;
        let batch = estimates_batch(&estimates, Lang::En)?;
        let mut files = Vec::new();
        for ext in ["csv", "xlsx"] {
            let tmp = s.temp_path(ext);
            let wopts = WriteOptions {
                sheet: "estimates".into(),
                ..WriteOptions::default()
            };
            let mut w = create(&tmp, batch.schema(), &wopts)?;
            w.write(&batch)?;
            w.finish()?;
            files.push(s.put_file(&tmp, ext)?);
        }
        let items = relabel(&rejects, "results");
        let listed: Vec<RejectItem> = items
            .iter()
            .take(1000)
            .map(|r| RejectItem {
                row: r.row,
                column: r.column.clone(),
                value: r.value.clone(),
                reason: r.reason.to_string(),
                detail: r.detail.clone(),
            })
            .collect();
        let rejects_file = store_rejects(&s, items)?;
        s.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO results (month, file, rows_read, rows_accepted, rows_rejected,
                 rejects_file, estimates_file, estimates_xlsx_file, user, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    month,
                    name,
                    counts.read as i64,
                    counts.accepted as i64,
                    counts.rejected as i64,
                    rejects_file,
                    files[0],
                    files[1],
                    user.name,
                    now()
                ],
            )?;
            store::audit_in(
                &tx,
                &AuditEntry {
                    user: Some(&user.name),
                    act: "results",
                    month: Some(&month),
                    input_sha256: name.split('.').next(),
                    output_sha256: files[0].split('.').next(),
                    outcome: "ok",
                    detail: &format!(
                        "read {} = accepted {} + rejected {}",
                        counts.read, counts.accepted, counts.rejected
                    ),
                },
            )?;
            tx.commit()?;
            Ok(())
        })?;
        Ok(Json(ResultsAnswer {
            file: name,
            read: counts.read,
            accepted: counts.accepted,
            rejected: counts.rejected,
            rejects: listed,
            rejects_file,
            estimates_file: files[0].clone(),
        }))
    })
    .await
}

/// The estimates of the month's latest results upload (SPEC §9.3).
#[utoipa::path(
    get,
    path = "/api/months/{month}/estimates",
    tag = "results",
    params(("month" = String, Path, description = "YYYY-MM"), FormatQuery),
    responses(
        (status = 200, description = "the estimates table: csv (default) or xlsx", content_type = "text/csv"),
        (status = 400, description = "bad month or format", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an analyst or admin", body = ErrorBody),
        (status = 404, description = "no results uploaded for the month", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn estimates(
    State(state): State<AppState>,
    _user: Analyst,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<FormatQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Path(month) = path?;
    let Query(q) = query?;
    let month = parse_month(&month)?.to_string();
    let format = Download::parse(
        q.format.as_deref(),
        Download::Csv,
        &[Download::Csv, Download::Xlsx],
    )?;
    let row: Option<(String, String)> = state.store.with(|c| {
        Ok(c.query_row(
            "SELECT estimates_file, estimates_xlsx_file FROM results WHERE month = ?1
             ORDER BY id DESC LIMIT 1",
            [&month],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
    })?;
    let Some((csv, xlsx)) = row else {
        return Err(ApiError::NotFound(format!(
            "month {month}: no results uploaded (POST /api/months/{month}/results)"
        )));
    };
    let name = if format == Download::Csv { csv } else { xlsx };
    file_response(
        &state,
        &name,
        &format!("estimates-{month}.{}", format.ext()),
    )
    .await
}
