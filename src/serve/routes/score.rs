//! Scoring a month (SPEC §3 through §10): `POST /api/months/{month}/score` starts a job that runs
//! the library's scoring pipeline (`scoring::score_files`, the same as `spotcheck score`) over
//! the month's latest enterprise and emissions uploads; `GET /api/jobs/{job}` answers its state
//! and progress; `GET /api/months/{month}/scored?format=csv|xlsx|parquet` downloads the result.
//! The scored table is stored as Parquet (typed, what draws and lists read); CSV and XLSX are
//! written from it on request.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::inputs::{latest, store_rejects};
use super::{Download, blocking, file_response, parse_month};
use crate::schema::Lang;
use crate::serve::AppState;
use crate::serve::auth::{Analyst, User};
use crate::serve::error::{ApiError, ApiResult, ErrorBody};
use crate::serve::jobs::{self, JobStatus};
use crate::serve::store::{self, AuditEntry, Store, now};
use crate::table::{ReadOptions, Rejects, WriteOptions};

/// A started job.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobRef {
    pub job: i64,
}

/// Start scoring the month's uploads.
#[utoipa::path(
    post,
    path = "/api/months/{month}/score",
    tag = "score",
    params(("month" = String, Path, description = "YYYY-MM")),
    responses(
        (status = 202, description = "the job is queued", body = JobRef),
        (status = 400, description = "bad month", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an analyst or admin", body = ErrorBody),
        (status = 409, description = "no enterprise table uploaded for the month", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn start(
    State(state): State<AppState>,
    Analyst(user): Analyst,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<(axum::http::StatusCode, Json<JobRef>)> {
    let Path(month) = path?;
    let month = parse_month(&month)?.to_string();
    let s = state.store.clone();
    let (ent, emi) = {
        let m = month.clone();
        blocking(move || {
            s.with(|c| Ok((latest(c, &m, "enterprises")?, latest(c, &m, "emissions")?)))
        })
        .await?
    };
    let Some((enterprises, total)) = ent else {
        return Err(ApiError::Conflict(format!(
            "month {month}: upload the enterprise table first (POST /api/months/{month}/inputs/enterprises)"
        )));
    };
    let emissions = emi.map(|(f, _)| f);
    let id = jobs::create(&state.store, "score", &month, &user.name)?;
    jobs::spawn(state.store.clone(), state.jobs.clone(), id, move |s, j| {
        score_job(
            s,
            &|p| j.set(id, p),
            id,
            &month,
            &user.name,
            &enterprises,
            emissions.as_deref(),
            total,
        )
    });
    Ok((axum::http::StatusCode::ACCEPTED, Json(JobRef { job: id })))
}

/// The shipped credit model if the table has its features (as `spotcheck score` decides).
fn default_model(schema: &arrow::datatypes::SchemaRef) -> Option<crate::credit::CreditModel> {
    let model = crate::credit::CreditModel::from_json(
        crate::credit::DEFAULT_MODEL_JSON,
        "models/credit-default.json (built in)",
    )
    .ok()?;
    let empty = arrow::array::RecordBatch::new_empty(schema.clone());
    model.feature_columns(&empty).ok()?;
    Some(model)
}

/// The work of a score job: the library's pipeline, then one transaction that records the
/// scored table, marks the job done and appends to the audit log.
#[allow(clippy::too_many_arguments)]
fn score_job(
    s: &Store,
    progress: &dyn Fn(f64),
    id: i64,
    month: &str,
    user: &str,
    enterprises: &str,
    emissions: Option<&str>,
    total: u64,
) -> ApiResult<()> {
    let ent_path = s.file_path(enterprises);
    let emi_path = emissions.map(|e| s.file_path(e));
    let read = ReadOptions::default();
    let policy = crate::policy::Policy::default();
    let schema = crate::input::EnterpriseReader::open(&ent_path, &read)?.schema();
    let model = default_model(&schema);
    let tmp = s.temp_path("parquet");
    let wopts = WriteOptions {
        sheet: "scored".into(),
        ..WriteOptions::default()
    };
    let files = crate::scoring::ScoreFiles {
        enterprises: &ent_path,
        emissions: emi_path.as_deref(),
        read: &read,
        scoring: crate::scoring::Scoring {
            model: model
                .as_ref()
                .map(|m| m as &dyn crate::predict::CreditPredictor),
            policy: &policy,
            output: &tmp,
            lang: Lang::En,
            write: &wopts,
        },
    };
    let mut rejects = Rejects::new(false);
    let mut done = 0u64;
    let (outcome, _) = crate::scoring::score_files(&files, &mut rejects, &mut |n| {
        done += n;
        progress(done as f64 / total.max(1) as f64);
    })?;
    let name = s.put_file(&tmp, "parquet")?;
    // Rejects of the enterprise and the emissions tables, named by their kind.
    let ent_file = ent_path.display().to_string();
    let mut items = Vec::new();
    for r in rejects.items() {
        let kind = if r.file == ent_file {
            "enterprises"
        } else {
            "emissions"
        };
        items.push(crate::table::Reject {
            file: kind.into(),
            ..r.clone()
        });
    }
    let rejects_file = store_rejects(s, items)?;
    s.with(|c| {
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO scored (month, job, file, rows, enterprises_file, emissions_file,
             rejects_file, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                month,
                id,
                name,
                outcome.rows as i64,
                enterprises,
                emissions,
                rejects_file,
                now()
            ],
        )?;
        jobs::mark_done(&tx, id)?;
        store::audit_in(
            &tx,
            &AuditEntry {
                user: Some(user),
                act: "score",
                month: Some(month),
                input_sha256: enterprises.split('.').next(),
                output_sha256: name.split('.').next(),
                outcome: "ok",
                detail: &format!(
                    "scored {} enterprises; positive list {}",
                    outcome.rows, outcome.listed
                ),
            },
        )?;
        tx.commit()?;
        Ok(())
    })
}

/// A job's state and progress.
#[utoipa::path(
    get,
    path = "/api/jobs/{job}",
    tag = "score",
    params(("job" = i64, Path, description = "the job's id")),
    responses(
        (status = 200, description = "the job", body = JobStatus),
        (status = 400, description = "not a job id", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 404, description = "no such job", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn job(
    State(state): State<AppState>,
    _user: User,
    path: Result<Path<i64>, PathRejection>,
) -> ApiResult<Json<JobStatus>> {
    let Path(id) = path?;
    jobs::status(&state.store, &state.jobs, id)?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no job {id}")))
}

/// `?format=` of a download.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// The file format.
    pub format: Option<String>,
}

/// The month's latest scored table: (file name, rows).
pub fn latest_scored(c: &rusqlite::Connection, month: &str) -> ApiResult<Option<(i64, String)>> {
    Ok(c.query_row(
        "SELECT id, file FROM scored WHERE month = ?1 ORDER BY id DESC LIMIT 1",
        [month],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}

/// Writes a stored typed table (Parquet) in another format; returns the stored file's name.
pub fn convert(s: &Store, name: &str, to: Download, sheet: &str) -> ApiResult<String> {
    if to == Download::Parquet && name.ends_with(".parquet") {
        return Ok(name.to_string());
    }
    let src = s.file_path(name);
    let reader = crate::table::open(&src, &ReadOptions::default())?;
    let tmp = s.temp_path(to.ext());
    let opts = WriteOptions {
        sheet: sheet.into(),
        ..WriteOptions::default()
    };
    let mut w = crate::table::create(&tmp, reader.schema(), &opts)?;
    for b in reader {
        w.write(&b?)?;
    }
    w.finish()?;
    s.put_file(&tmp, to.ext())
}

/// Download the month's scored table.
#[utoipa::path(
    get,
    path = "/api/months/{month}/scored",
    tag = "score",
    params(("month" = String, Path, description = "YYYY-MM"), FormatQuery),
    responses(
        (status = 200, description = "the scored table (csv by default, xlsx or parquet)", content_type = "text/csv"),
        (status = 400, description = "bad month or format", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an analyst or admin", body = ErrorBody),
        (status = 404, description = "the month is not scored", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn scored(
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
        &[Download::Csv, Download::Xlsx, Download::Parquet],
    )?;
    let s = state.store.clone();
    let m = month.clone();
    let name = blocking(move || {
        let Some((_, file)) = s.with(|c| latest_scored(c, &m))? else {
            return Err(ApiError::NotFound(format!(
                "month {m} is not scored yet (POST /api/months/{m}/score)"
            )));
        };
        convert(&s, &file, format, "scored")
    })
    .await?;
    file_response(&state, &name, &format!("scored-{month}.{}", format.ext())).await
}
