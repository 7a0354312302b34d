//! `POST /api/months/{month}/inputs/{kind}`: a month's input table (SPEC §1: enterprises,
//! emissions, history, inspectors) in any format, stored under its SHA-256 and read through the
//! library's validating readers, answering `{read, accepted, rejected, rejects}` (§2.2). The
//! latest upload of a kind is the one the month's score and draw use; earlier ones stay stored.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{blocking, parse_month};
use crate::input::tables::{read_emissions, read_history, read_inspectors};
use crate::input::{Counts, EnterpriseReader};
use crate::schema::Lang;
use crate::serve::AppState;
use crate::serve::auth::Analyst;
use crate::serve::error::{ApiError, ApiResult};
use crate::serve::store::{self, AuditEntry, now};
use crate::table::{Encoding, ReadOptions, Reject, Rejects, WriteOptions};

/// The four input tables of a month.
pub const KINDS: [&str; 4] = ["enterprises", "emissions", "history", "inspectors"];

/// Query of an upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// csv, parquet, arrow, jsonl or xlsx, when the Content-Type does not say.
    pub format: Option<String>,
    /// CSV text encoding: utf-8 (default) or gb18030.
    pub encoding: Option<String>,
}

/// One rejected row (SPEC §2.2).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectItem {
    /// 1-based data-row number in the uploaded file.
    pub row: u64,
    pub column: String,
    pub value: String,
    /// Reason code, e.g. USCC_MALFORMED.
    pub reason: String,
    pub detail: String,
}

/// What an upload read: `read = accepted + rejected`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadCounts {
    pub kind: String,
    /// The stored file's name, `<sha256>.<ext>`.
    pub file: String,
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// The rejected rows (the first 1000; all of them are in `rejects_file`).
    pub rejects: Vec<RejectItem>,
    /// The stored rejects table (CSV), when any row was rejected: `GET /api/files/{name}`.
    pub rejects_file: Option<String>,
}

/// Rejected rows listed in an answer (all are in the rejects file).
const MAX_LISTED: usize = 1000;

/// The file format: `?format=`, else the Content-Type.
pub fn format_ext(q: Option<&str>, headers: &HeaderMap) -> ApiResult<&'static str> {
    let name = match q {
        Some(f) => f.to_ascii_lowercase(),
        None => {
            let ct = headers
                .get(axum::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let ct = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            match ct.as_str() {
                "text/csv" => "csv".into(),
                "application/vnd.apache.parquet" | "application/x-parquet" => "parquet".into(),
                "application/vnd.apache.arrow.file" | "application/vnd.apache.arrow.stream" => {
                    "arrow".into()
                }
                "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" => {
                    "jsonl".into()
                }
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                    "xlsx".into()
                }
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "cannot tell the file's format from Content-Type {ct:?}: add ?format=csv|parquet|arrow|jsonl|xlsx"
                    )));
                }
            }
        }
    };
    match name.as_str() {
        "csv" => Ok("csv"),
        "parquet" => Ok("parquet"),
        "arrow" | "ipc" | "feather" => Ok("arrow"),
        "jsonl" | "ndjson" => Ok("jsonl"),
        "xlsx" => Ok("xlsx"),
        other => Err(ApiError::BadRequest(format!(
            "format {other:?}: expected csv, parquet, arrow, jsonl or xlsx"
        ))),
    }
}

/// Every library error about an uploaded file is about its content: 400. The message names the
/// table by its kind, never by the path it is stored under (as `relabel` does for rejects).
pub fn bad_file(kind: &str, stored: &std::path::Path, e: crate::Error) -> ApiError {
    match ApiError::from(e) {
        ApiError::Internal(m) | ApiError::BadRequest(m) => {
            let m = m.replace(&stored.display().to_string(), "the upload");
            ApiError::BadRequest(format!("the {kind} table cannot be read: {m}"))
        }
        other => other,
    }
}

/// Reads a stored input through the library's validating reader of its kind.
fn validate(
    kind: &str,
    path: &std::path::Path,
    opts: &ReadOptions,
    rejects: &mut Rejects,
) -> crate::Result<Counts> {
    match kind {
        "enterprises" => {
            let mut r = EnterpriseReader::open(path, opts)?;
            while !r.next_batches(4, rejects)?.is_empty() {}
            Ok(r.counts())
        }
        "emissions" => {
            let pollutants = crate::score::pollutants::Pollutants::builtin();
            read_emissions(
                path,
                opts,
                rejects,
                &|m, s| pollutants.lookup(m, s).map(|id| id.0),
                |_| {},
            )
        }
        "history" => Ok(read_history(path, opts, rejects)?.1),
        _ => Ok(read_inspectors(path, opts, rejects)?.1),
    }
}

/// The rejects with the stored path replaced by the table's kind (no server path in answers).
pub fn relabel(rejects: &Rejects, kind: &str) -> Vec<Reject> {
    rejects
        .items()
        .iter()
        .map(|r| Reject {
            file: kind.to_string(),
            ..r.clone()
        })
        .collect()
}

/// Stores a rejects table (CSV with BOM, as the CLI writes it); returns its file name.
pub fn store_rejects(s: &store::Store, items: Vec<Reject>) -> ApiResult<Option<String>> {
    if items.is_empty() {
        return Ok(None);
    }
    let mut r = Rejects::new(false);
    for i in items {
        r.push(i)?;
    }
    let tmp = s.temp_path("csv");
    let opts = WriteOptions {
        bom: true,
        sheet: "rejects".into(),
        ..WriteOptions::default()
    };
    r.write(&tmp, Lang::En, &opts)?;
    Ok(Some(s.put_file(&tmp, "csv")?))
}

/// Upload an input table of the month.
#[utoipa::path(
    post,
    path = "/api/months/{month}/inputs/{kind}",
    tag = "inputs",
    params(
        ("month" = String, Path, description = "YYYY-MM"),
        ("kind" = String, Path, description = "enterprises, emissions, history or inspectors"),
        UploadQuery
    ),
    request_body(content = Vec<u8>, description = "the file", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "read and stored", body = UploadCounts),
        (status = 400, description = "bad month, kind, format or file", body = crate::serve::error::ErrorBody),
        (status = 401, description = "no or bad token", body = crate::serve::error::ErrorBody),
        (status = 403, description = "not an analyst or admin", body = crate::serve::error::ErrorBody),
        (status = 413, description = "over the upload limit", body = crate::serve::error::ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    Analyst(user): Analyst,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<UploadCounts>> {
    let Path((month, kind)) = path?;
    let Query(q) = query?;
    let month = parse_month(&month)?.to_string();
    if !KINDS.contains(&kind.as_str()) {
        return Err(ApiError::NotFound(format!(
            "input {kind:?}: expected enterprises, emissions, history or inspectors"
        )));
    }
    let ext = format_ext(q.format.as_deref(), &headers)?;
    let encoding = match q.encoding.as_deref() {
        None => Encoding::Utf8,
        Some(e) => Encoding::parse(e).ok_or_else(|| {
            ApiError::BadRequest(format!("encoding {e:?}: expected utf-8 or gb18030"))
        })?,
    };
    let body = body?;
    if body.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "the {kind} upload is empty: send the file as the request body"
        )));
    }
    let s = state.store.clone();
    blocking(move || {
        let name = s.put_bytes(&body, ext)?;
        let opts = ReadOptions {
            encoding,
            ..ReadOptions::default()
        };
        let mut rejects = Rejects::new(false);
        let path = s.file_path(&name);
        let counts = match validate(&kind, &path, &opts, &mut rejects) {
            Ok(c) => c,
            Err(e) => {
                let err = bad_file(&kind, &path, e);
                s.audit(&AuditEntry {
                    user: Some(&user.name),
                    act: &format!("upload {kind}"),
                    month: Some(&month),
                    input_sha256: name.split('.').next(),
                    outcome: "failed",
                    detail: &err.to_string(),
                    ..Default::default()
                })?;
                return Err(err);
            }
        };
        let items = relabel(&rejects, &kind);
        let listed: Vec<RejectItem> = items
            .iter()
            .take(MAX_LISTED)
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
                "INSERT INTO inputs (month, kind, file, rows_read, rows_accepted, rows_rejected,
                 rejects_file, user, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    month,
                    kind,
                    name,
                    counts.read as i64,
                    counts.accepted as i64,
                    counts.rejected as i64,
                    rejects_file,
                    user.name,
                    now()
                ],
            )?;
            store::audit_in(
                &tx,
                &AuditEntry {
                    user: Some(&user.name),
                    act: &format!("upload {kind}"),
                    month: Some(&month),
                    input_sha256: name.split('.').next(),
                    outcome: "ok",
                    detail: &format!(
                        "read {} = accepted {} + rejected {}",
                        counts.read, counts.accepted, counts.rejected
                    ),
                    ..Default::default()
                },
            )?;
            tx.commit()?;
            Ok(())
        })?;
        Ok(Json(UploadCounts {
            kind,
            file: name,
            read: counts.read,
            accepted: counts.accepted,
            rejected: counts.rejected,
            rejects: listed,
            rejects_file,
        }))
    })
    .await
}

/// The latest upload of `kind` for `month`: (file name, accepted rows).
pub fn latest(
    c: &rusqlite::Connection,
    month: &str,
    kind: &str,
) -> ApiResult<Option<(String, u64)>> {
    use rusqlite::OptionalExtension;
    Ok(c.query_row(
        "SELECT file, rows_accepted FROM inputs WHERE month = ?1 AND kind = ?2
         ORDER BY id DESC LIMIT 1",
        params![month, kind],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)),
    )
    .optional()?)
}
