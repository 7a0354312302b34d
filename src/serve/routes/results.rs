//! Inspection results (SPEC §9 through §10): `POST /api/months/{month}/results` takes a results
//! table (any format of §1), checks it against the month's committed draws — each re-derived and
//! verified first, as `spotcheck results` does — and answers `{read, accepted, rejected, rejects}`;
//! the estimates of §9.3 are computed by the library at the same time and stored, and
//! `GET /api/months/{month}/estimates?format=csv|xlsx` answers the latest.
//!
//! How results accumulate (decided here; SPEC §9 is silent): a month has one *consolidated*
//! results table — for each drawn unit and department, the row of the latest act that gave one.
//! Every act (an uploaded file, or one enterprise's result entered through the inspectors' form,
//! which is stored as a one-row results table) is read by the same `read_results` against the
//! draws; its accepted rows are merged into the consolidated table, replacing an earlier row of
//! the same unit and department (a correction), keeping every other. So an upload never silently
//! drops what inspectors entered, and a wrong result is corrected by entering or uploading the
//! right one. The consolidated table is stored (content-addressed, in SPEC §9.1 form, readable by
//! `spotcheck results`), and the estimates are always computed from it — the one path for
//! estimates, whatever the act. Acts are recorded one at a time (a lock), so two inspectors
//! entering at the same moment cannot lose each other's rows.

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
use crate::results::io::{ResultRow, read_results};
use crate::results::run::{drawn_units, frame_counts};
use crate::sample::Month;
use crate::sample::run::rederive;
use crate::schema::{Department, Lang};
use crate::serve::AppState;
use crate::serve::auth::Analyst;
use crate::serve::error::{ApiError, ApiResult, ErrorBody};
use crate::serve::store::{self, AuditEntry, Store, now};
use crate::table::{ReadOptions, Rejects, WriteOptions, create};

/// What a results act read, and the month's results and estimates after it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResultsAnswer {
    /// The stored results table of this act, `<sha256>.<ext>`.
    pub file: String,
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Accepted rows that replaced an earlier result of the same unit and department.
    pub replaced: u64,
    /// The rejected rows (the first 1000; all are in `rejects_file`).
    pub rejects: Vec<RejectItem>,
    pub rejects_file: Option<String>,
    /// The month's consolidated results table after this act (SPEC §9.1 columns, CSV): for each
    /// unit and department the latest result given.
    pub results_file: String,
    /// Its rows: units and departments with a result.
    pub results_rows: u64,
    /// The estimates (CSV) from the consolidated table: `GET /api/months/{month}/estimates`.
    pub estimates_file: String,
}

/// The month's committed draws, re-derived and verified, with their units by code.
pub struct MonthDraws {
    month: Month,
    draws: Vec<crate::sample::run::Rederived>,
    /// Per department, the draw that drew it.
    slot: HashMap<Department, usize>,
    /// Per draw, its units' positions by code.
    by_uscc: Vec<HashMap<[u8; 18], usize>>,
}

impl MonthDraws {
    /// Re-derives and verifies each stored manifest of the month.
    pub fn load(s: &Store, month: Month, manifests: &[String]) -> ApiResult<MonthDraws> {
        let opts = ReadOptions::default();
        let mut draws = Vec::new();
        for m in manifests {
            let d = rederive(
                &s.file_path(m),
                Some(crate::policy::Policy::default()),
                &opts,
            )?;
            if !d.report.is_match() {
                return Err(ApiError::Internal(format!(
                    "the stored draw {m} does not verify ({} difference(s))",
                    d.report.differences.len()
                )));
            }
            draws.push(d);
        }
        let mut slot = HashMap::new();
        for (i, d) in draws.iter().enumerate() {
            for &dep in d.params.department.departments() {
                slot.insert(dep, i);
            }
        }
        let by_uscc = draws
            .iter()
            .map(|d| {
                d.draw
                    .selected
                    .iter()
                    .enumerate()
                    .filter_map(|(i, u)| Some((code_key(&u.uscc)?, i)))
                    .collect()
            })
            .collect();
        Ok(MonthDraws {
            month,
            draws,
            slot,
            by_uscc,
        })
    }

    /// Whether department `dep` drew `uscc` in this month.
    pub fn drawn(&self, m: Month, dep: Department, uscc: &str) -> bool {
        code_key(uscc).is_some_and(|key| self.drawn_key(m, dep, &key))
    }

    /// [`MonthDraws::drawn`] by the code's 18 bytes, as the results reader asks.
    fn drawn_key(&self, m: Month, dep: Department, key: &[u8; 18]) -> bool {
        m == self.month
            && self.slot.get(&dep).is_some_and(|&at| {
                self.by_uscc[at]
                    .get(key)
                    .is_some_and(|&i| self.draws[at].draw.selected[i].by(dep).is_some())
            })
    }

    /// Reads a results table against the draws (the library's `read_results`).
    fn read(
        &self,
        path: &std::path::Path,
        rejects: &mut Rejects,
    ) -> ApiResult<(Vec<ResultRow>, crate::input::Counts)> {
        let drawn = |m: Month, dep: Department, key: &[u8; 18]| self.drawn_key(m, dep, key);
        read_results(path, &ReadOptions::default(), rejects, &drawn)
            .map_err(|e| bad_file("results", path, e))
    }

    /// The estimates of SPEC §9.3 from accepted (drawn) result rows.
    fn estimate(&self, rows: &[ResultRow]) -> ApiResult<Vec<EstimateRow>> {
        let mut per: HashMap<Department, HashMap<usize, usize>> = HashMap::new();
        for (r, row) in rows.iter().enumerate() {
            // Accepted rows are drawn: the reader asked `drawn`.
            let at = self.slot[&row.department];
            let i = self.by_uscc[at][&code_key(&row.uscc).expect("an accepted code")];
            per.entry(row.department).or_default().insert(i, r);
        }
        let mut estimates = Vec::new();
        let empty = HashMap::new();
        for d in &self.draws {
            for &dep in d.params.department.departments() {
                let units = drawn_units(d, dep, per.get(&dep).unwrap_or(&empty), rows);
                let fc = frame_counts(d, &d.params, dep)?;
                estimates.extend(estimate_department(self.month, dep, &units, &fc));
            }
        }
        estimates.sort_by_key(|r| (r.month, r.department as u8));
        Ok(estimates)
    }
}

/// The month's stored draws' manifests, in the order they were drawn.
pub fn manifests(s: &Store, month: &str) -> ApiResult<Vec<String>> {
    s.with(|c| {
        let mut st = c.prepare("SELECT manifest_file FROM draws WHERE month = ?1 ORDER BY id")?;
        let v = st
            .query_map([month], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(v)
    })
}

/// The month's consolidated results table (the latest act's; a store from before consolidation
/// has only uploads, each of which was the month's results).
pub fn consolidated(s: &Store, month: &str) -> ApiResult<Option<String>> {
    s.with(|c| {
        Ok(c.query_row(
            "SELECT COALESCE(merged_file, file) FROM results WHERE month = ?1
             ORDER BY id DESC LIMIT 1",
            [month],
            |r| r.get(0),
        )
        .optional()?)
    })
}

/// The rows of the month's consolidated results table (every one drawn and valid: each was
/// accepted when it came in).
pub fn consolidated_rows(s: &Store, draws: &MonthDraws) -> ApiResult<Vec<ResultRow>> {
    match consolidated(s, &draws.month.to_string())? {
        Some(f) => Ok(draws.read(&s.file_path(&f), &mut Rejects::new(false))?.0),
        None => Ok(Vec::new()),
    }
}

/// One results act at a time (see the module doc): the store's folder lock makes this process
/// the only writer, so a process-wide lock is enough.
static RECORDING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What kind of act brought a results table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act<'a> {
    /// A results file uploaded (API or page).
    Upload,
    /// One enterprise's result entered through the form.
    Entry {
        uscc: &'a str,
        department: Department,
    },
}

/// Records a results table already stored as `name` for `month`: reads it against the draws,
/// merges its accepted rows into the month's consolidated table, estimates from that, stores the
/// consolidated table, the estimates (CSV and XLSX) and the rejects, and appends the act with its
/// counts to the results table and the audit log, in one transaction. Blocking.
pub fn record(
    s: &Store,
    user: &str,
    m: Month,
    name: &str,
    act: Act<'_>,
) -> ApiResult<ResultsAnswer> {
    let _one = RECORDING.lock().unwrap_or_else(|p| p.into_inner());
    let month = m.to_string();
    let manifests = manifests(s, &month)?;
    if manifests.is_empty() {
        return Err(ApiError::Conflict(format!(
            "month {month} has no draw: results are read against a committed draw"
        )));
    }
    let draws = MonthDraws::load(s, m, &manifests)?;
    let mut rejects = Rejects::new(false);
    let (new_rows, counts) = draws.read(&s.file_path(name), &mut rejects)?;
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
    if let Act::Entry { uscc, department } = act
        && counts.accepted == 0
    {
        // A refused entry changes nothing: audited, the month's results and estimates stay.
        let why = listed
            .iter()
            .map(|r| format!("{} {}: {}", r.reason, r.column, r.detail))
            .collect::<Vec<_>>()
            .join("; ");
        s.audit(&AuditEntry {
            user: Some(user),
            act: "result entry",
            month: Some(&month),
            input_sha256: name.split('.').next(),
            outcome: "refused",
            detail: &format!("{uscc} {}: {why}", department.en()),
            ..Default::default()
        })?;
        return Ok(ResultsAnswer {
            file: name.to_string(),
            read: counts.read,
            accepted: 0,
            rejected: counts.rejected,
            replaced: 0,
            rejects: listed,
            rejects_file: None,
            results_file: String::new(),
            results_rows: 0,
            estimates_file: String::new(),
        });
    }
    // The consolidated table: the earlier rows, each replaced by this act's row of the same unit
    // and department; ordered by department, then code.
    let mut merged: std::collections::BTreeMap<(u8, String), ResultRow> =
        consolidated_rows(s, &draws)?
            .into_iter()
            .map(|r| ((r.department as u8, r.uscc.clone()), r))
            .collect();
    let mut replaced = 0u64;
    for r in new_rows {
        if merged
            .insert((r.department as u8, r.uscc.clone()), r)
            .is_some()
        {
            replaced += 1;
        }
    }
    let merged: Vec<ResultRow> = merged.into_values().collect();
    let estimates = draws.estimate(&merged)?;
    let write = |batch: &arrow::record_batch::RecordBatch, ext: &str, sheet: &str| {
        let tmp = s.temp_path(ext);
        let wopts = WriteOptions {
            sheet: sheet.into(),
            ..WriteOptions::default()
        };
        let mut w = create(&tmp, batch.schema(), &wopts)?;
        w.write(batch)?;
        w.finish()?;
        s.put_file(&tmp, ext)
    };
    let merged_file = write(
        &crate::results::io::results_batch(&merged)?,
        "csv",
        "results",
    )?;
    let batch = estimates_batch(&estimates, Lang::En)?;
    let files = [
        write(&batch, "csv", "estimates")?,
        write(&batch, "xlsx", "estimates")?,
    ];
    let rejects_file = store_rejects(s, items)?;
    let (kind, act_name, what) = match act {
        Act::Upload => ("upload", "results", String::new()),
        Act::Entry { uscc, department } => (
            "entry",
            "result entry",
            format!("{uscc} {}: ", department.en()),
        ),
    };
    let outcome = if counts.accepted > 0 || counts.read == 0 {
        "ok"
    } else {
        "refused"
    };
    s.with(|c| {
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO results (month, file, rows_read, rows_accepted, rows_rejected,
             rejects_file, estimates_file, estimates_xlsx_file, user, at, merged_file,
             merged_rows, kind)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                month,
                name,
                counts.read as i64,
                counts.accepted as i64,
                counts.rejected as i64,
                rejects_file,
                files[0],
                files[1],
                user,
                now(),
                merged_file,
                merged.len() as i64,
                kind
            ],
        )?;
        store::audit_in(
            &tx,
            &AuditEntry {
                user: Some(user),
                act: act_name,
                month: Some(&month),
                input_sha256: name.split('.').next(),
                output_sha256: merged_file.split('.').next(),
                outcome,
                detail: &format!(
                    "{what}read {} = accepted {} + rejected {}; {replaced} replaced; {} results in the month",
                    counts.read,
                    counts.accepted,
                    counts.rejected,
                    merged.len()
                ),
            },
        )?;
        tx.commit()?;
        Ok(())
    })?;
    Ok(ResultsAnswer {
        file: name.to_string(),
        read: counts.read,
        accepted: counts.accepted,
        rejected: counts.rejected,
        replaced,
        rejects: listed,
        rejects_file,
        results_file: merged_file,
        results_rows: merged.len() as u64,
        estimates_file: files[0].clone(),
    })
}

/// Upload inspection results of the month: merged into the month's results (a unit and
/// department's latest result wins), estimated from them.
#[utoipa::path(
    post,
    path = "/api/months/{month}/results",
    tag = "results",
    params(("month" = String, Path, description = "YYYY-MM"), UploadQuery),
    request_body(content = Vec<u8>, description = "the results table (SPEC §9.1); its accepted rows replace earlier results of the same unit and department, other earlier results stay", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "read, checked against the draws, merged, estimated", body = ResultsAnswer),
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
        if manifests(&s, &month)?.is_empty() {
            return Err(ApiError::Conflict(format!(
                "month {month} has no draw: results are read against a committed draw"
            )));
        }
        let name = s.put_bytes(&body, ext)?;
        record(&s, &user.name, m, &name, Act::Upload).map(Json)
    })
    .await
}

/// The estimates of the month's results (SPEC §9.3), as the latest results act left them.
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

/// A drawn unit's code as the results reader keys it (its 18 ASCII bytes).
fn code_key(uscc: &str) -> Option<[u8; 18]> {
    uscc.as_bytes().try_into().ok()
}
