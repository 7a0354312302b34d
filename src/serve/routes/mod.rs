//! The JSON API of SPEC §10, one module per resource: [`inputs`] (uploads), [`score`] (score
//! jobs, job progress, the scored table), [`draws`] (seeds, draws, their downloads and public
//! verification; the library calls are in [`drawing`]), [`results`] (inspection results and
//! estimates), [`whitelist`] (the 正面清单), [`audit`] (the log, admins only) and [`users`]
//! (sign-in). Shared here: parsing the path's month, choosing a download format, answering a
//! stored file.

pub mod audit;
pub mod drawing;
pub mod draws;
pub mod inputs;
pub mod results;
pub mod score;
pub mod users;
pub mod whitelist;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::AppState;
use super::error::ApiError;
use crate::sample::Month;

/// Every route (the OpenAPI document lists the same, from the handlers' annotations).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(super::openapi::document))
        .route("/api/login", post(users::login))
        .route("/api/months/{month}/inputs/{kind}", post(inputs::upload))
        .route("/api/months/{month}/score", post(score::start))
        .route("/api/jobs/{job}", get(score::job))
        .route("/api/months/{month}/scored", get(score::scored))
        .route("/api/months/{month}/seeds", post(draws::announce_seed))
        .route("/api/months/{month}/draws", post(draws::draw))
        .route("/api/months/{month}/draws/{department}", get(draws::sample))
        .route(
            "/api/months/{month}/draws/{department}/manifest",
            get(draws::manifest),
        )
        .route(
            "/api/months/{month}/draws/{department}/public",
            get(draws::public_list),
        )
        .route("/api/months/{month}/results", post(results::upload))
        .route("/api/months/{month}/estimates", get(results::estimates))
        .route("/api/files/{name}", get(draws::file))
        .route(
            "/api/whitelist",
            post(whitelist::create).get(whitelist::download),
        )
        .route("/api/audit", get(audit::list))
}

/// The month of the path, `YYYY-MM`.
pub fn parse_month(s: &str) -> Result<Month, ApiError> {
    Month::parse(s)
        .filter(|m| m.to_string() == s)
        .ok_or_else(|| ApiError::BadRequest(format!("month {s:?}: expected YYYY-MM, e.g. 2026-12")))
}

/// A download format of `?format=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Download {
    Csv,
    Xlsx,
    Parquet,
    Json,
}

impl Download {
    /// Parses `?format=`, allowing only `allowed`; `None` gives `default`.
    pub fn parse(
        s: Option<&str>,
        default: Download,
        allowed: &[Download],
    ) -> Result<Download, ApiError> {
        let f = match s {
            None => default,
            Some("csv") => Download::Csv,
            Some("xlsx") => Download::Xlsx,
            Some("parquet") => Download::Parquet,
            Some("json") => Download::Json,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "format {other:?}: expected one of {}",
                    names(allowed)
                )));
            }
        };
        if allowed.contains(&f) {
            Ok(f)
        } else {
            Err(ApiError::BadRequest(format!(
                "format {:?} is not offered here: expected one of {}",
                f.ext(),
                names(allowed)
            )))
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Download::Csv => "csv",
            Download::Xlsx => "xlsx",
            Download::Parquet => "parquet",
            Download::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        content_type(self.ext())
    }
}

fn names(allowed: &[Download]) -> String {
    allowed
        .iter()
        .map(|d| d.ext())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The content type of a stored file's extension.
pub fn content_type(ext: &str) -> &'static str {
    match ext {
        "csv" => "text/csv; charset=utf-8",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "parquet" => "application/vnd.apache.parquet",
        "json" => "application/json",
        "jsonl" => "application/x-ndjson",
        "arrow" => "application/vnd.apache.arrow.file",
        "toml" => "application/toml",
        _ => "application/octet-stream",
    }
}

/// Answers a stored file (`<sha256>.<ext>`) with its content type and a download name.
pub async fn file_response(
    state: &AppState,
    name: &str,
    download_as: &str,
) -> Result<Response, ApiError> {
    let path = state.store.file_path(name);
    let bytes =
        blocking(move || std::fs::read(&path).map_err(|e| ApiError::internal(&path, e))).await?;
    let ext = name.rsplit('.').next().unwrap_or("");
    let mut r = Body::from(bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(ext)),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{download_as}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // The stored file's name is its SHA-256: say so, so a client can check what it got.
    if let Some(sha) = name.split('.').next()
        && let Ok(v) = HeaderValue::from_str(sha)
    {
        h.insert("x-content-sha256", v);
    }
    Ok(r)
}

/// Runs blocking work (file I/O, the library's computations, SQLite) off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await?
}
