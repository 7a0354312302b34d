//! Seeds, draws and their publication (SPEC §4 through §10).
//!
//! - `POST /api/months/{month}/seeds {department, seed}`: announces the seed (recorded with time
//!   and user; refused with 409 once a draw of that month and department used one).
//! - `POST /api/months/{month}/draws {department, strata?, capacity?}`: the library's draw over the
//!   month's latest scored table, history and inspectors with the announced seed, exactly as
//!   `spotcheck sample` draws. 409 when already drawn or no seed; of simultaneous requests exactly
//!   one draws: the draw commits by inserting into a table whose UNIQUE (month, department)
//!   constraint the database enforces, so the others fail with 409, whatever process they are in.
//! - `GET …/draws/{department}` (the sample, analysts), `…/manifest` and `…/public` (published,
//!   no login), `GET /api/files/{name}` (a stored file by its SHA-256 name, analysts) and
//!   `GET /public/verify?month=&department=` (re-derives the stored draw, no login).
//!
//! How a downloaded manifest verifies with the CLI: every file the manifest names (scored table,
//! history, inspectors, the sample) is recorded by its stored name, `<sha256>.<ext>`, relative to
//! the manifest; `spotcheck verify` resolves recorded paths relative to the manifest's folder. So:
//! download the manifest and the files it names (`GET /api/files/{name}`) into one folder and run
//! `spotcheck verify manifest.json`. The server verifies the same way, in its files folder.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::inputs::latest;
use super::score::{FormatQuery, latest_scored};
use super::{Download, blocking, file_response, parse_month};
use crate::sample::{Capacity, DrawDepartment, Strata};
use crate::serve::AppState;
use crate::serve::auth::Analyst;
use crate::serve::error::{ApiError, ApiResult, ErrorBody};
use crate::serve::store::{self, AuditEntry, Store, now};

/// Body of `POST …/seeds`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SeedRequest {
    /// market, ecology or joint.
    pub department: String,
    /// The announced seed (a lottery number, a public beacon), used as given.
    pub seed: String,
}

/// An announced seed.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeedRecord {
    pub month: String,
    pub department: String,
    pub seed: String,
    pub announced_at: String,
    pub announced_by: String,
}

/// The department of a request or path: market, ecology or joint.
fn parse_department(s: &str) -> ApiResult<DrawDepartment> {
    match s {
        "market" => Ok(DrawDepartment::Market),
        "ecology" => Ok(DrawDepartment::Ecology),
        "joint" => Ok(DrawDepartment::Joint),
        other => Err(ApiError::BadRequest(format!(
            "department {other:?}: expected market, ecology or joint"
        ))),
    }
}

/// The concrete departments a draw of `d` covers.
fn covered(d: DrawDepartment) -> &'static [&'static str] {
    match d {
        DrawDepartment::Market => &["market"],
        DrawDepartment::Ecology => &["ecology"],
        DrawDepartment::Joint => &["market", "ecology"],
    }
}

/// The draw that already covers any of `d`'s departments in `month`, if any.
fn existing_draw(
    c: &rusqlite::Connection,
    month: &str,
    d: DrawDepartment,
) -> ApiResult<Option<String>> {
    for dep in covered(d) {
        let found: Option<String> = c
            .query_row(
                "SELECT d.department FROM draw_claims k JOIN draws d ON d.id = k.draw_id
                 WHERE k.month = ?1 AND k.department = ?2",
                params![month, dep],
                |r| r.get(0),
            )
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Announce the seed of a month's draw.
#[utoipa::path(
    post,
    path = "/api/months/{month}/seeds",
    tag = "draws",
    params(("month" = String, Path, description = "YYYY-MM")),
    request_body = SeedRequest,
    responses(
        (status = 200, description = "announced", body = SeedRecord),
        (status = 400, description = "bad month, department or seed", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an analyst or admin", body = ErrorBody),
        (status = 409, description = "a draw already used this month's seed", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn announce_seed(
    State(state): State<AppState>,
    Analyst(user): Analyst,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<SeedRequest>, JsonRejection>,
) -> ApiResult<Json<SeedRecord>> {
    let Path(month) = path?;
    let Json(req) = body?;
    let month = parse_month(&month)?.to_string();
    let department = parse_department(&req.department)?;
    if req.seed.trim().is_empty() || req.seed.chars().count() > 1000 {
        return Err(ApiError::BadRequest(
            "seed: give the announced seed (1 to 1000 characters)".into(),
        ));
    }
    let s = state.store.clone();
    blocking(move || {
        s.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if let Some(d) = existing_draw(&tx, &month, department)? {
                drop(tx);
                let msg =
                    format!("month {month}: the {d} draw is done; its seed can no longer change");
                store::audit_in(
                    c,
                    &AuditEntry {
                        user: Some(&user.name),
                        act: "seed",
                        month: Some(&month),
                        outcome: "refused",
                        detail: &msg,
                        ..Default::default()
                    },
                )?;
                return Err(ApiError::Conflict(msg));
            }
            let at = now();
            tx.execute(
                "INSERT INTO seeds (month, department, seed, user, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![month, req.department, req.seed, user.name, at],
            )?;
            store::audit_in(
                &tx,
                &AuditEntry {
                    user: Some(&user.name),
                    act: "seed",
                    month: Some(&month),
                    outcome: "ok",
                    detail: &format!("{}: {:?}", req.department, req.seed),
                    ..Default::default()
                },
            )?;
            tx.commit()?;
            Ok(Json(SeedRecord {
                month,
                department: req.department,
                seed: req.seed,
                announced_at: at,
                announced_by: user.name,
            }))
        })
    })
    .await
}

/// Body of `POST …/draws`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DrawRequest {
    /// market, ecology or joint.
    pub department: String,
    /// district (default), tier or none.
    pub strata: Option<String>,
    /// Visits available: a number, or "market=N,ecology=M". Default: none (π = ratio/12).
    #[schema(value_type = Option<String>)]
    pub capacity: Option<serde_json::Value>,
}

/// One drawn visit.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Visit {
    pub seq: u64,
    pub uscc: String,
    pub name: String,
    pub district: String,
    /// market, ecology or market+ecology.
    pub departments: String,
}

/// A committed draw.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DrawAnswer {
    pub month: String,
    pub department: String,
    pub seed: String,
    pub visits: usize,
    /// Tasks no inspector team could be found for (listed in the manifest).
    pub unstaffed: usize,
    /// Stored names: the manifest, the sample (CSV, XLSX), the public list (CSV).
    pub manifest_file: String,
    pub sample_file: String,
    pub sample_xlsx_file: String,
    pub public_file: String,
    pub sample: Vec<Visit>,
}

/// The capacity of the request, as `--capacity` takes it.
fn parse_capacity(v: Option<&serde_json::Value>) -> ApiResult<Capacity> {
    let text = match v {
        None | Some(serde_json::Value::Null) => return Ok(Capacity::NONE),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "capacity {other}: expected a number or \"market=N,ecology=M\""
            )));
        }
    };
    Ok(Capacity::parse(&text)?)
}

/// Draw the month's sample.
#[utoipa::path(
    post,
    path = "/api/months/{month}/draws",
    tag = "draws",
    params(("month" = String, Path, description = "YYYY-MM")),
    request_body = DrawRequest,
    responses(
        (status = 200, description = "drawn and committed", body = DrawAnswer),
        (status = 400, description = "bad month, department, strata or capacity", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an analyst or admin", body = ErrorBody),
        (status = 409, description = "already drawn, no seed announced, or not scored", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn draw(
    State(state): State<AppState>,
    Analyst(user): Analyst,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<DrawRequest>, JsonRejection>,
) -> ApiResult<Json<DrawAnswer>> {
    let Path(month) = path?;
    let Json(req) = body?;
    let m = parse_month(&month)?;
    let month = m.to_string();
    let department = parse_department(&req.department)?;
    let strata_text = req.strata.clone().unwrap_or_else(|| "district".into());
    let strata = Strata::parse(&strata_text).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "strata {strata_text:?}: expected district, tier or none"
        ))
    })?;
    let capacity = parse_capacity(req.capacity.as_ref())?;
    let s = state.store.clone();
    blocking(move || {
        let r = draw_blocking(&s, &user.name, m, department, strata, capacity);
        if let Err(e) = &r {
            let outcome = match e {
                ApiError::Conflict(_) => "refused",
                _ => "failed",
            };
            s.audit(&AuditEntry {
                user: Some(&user.name),
                act: "draw",
                month: Some(&month),
                outcome,
                detail: &format!("{}: {e}", req.department),
                ..Default::default()
            })?;
        }
        r.map(Json)
    })
    .await
}

/// What a draw reads from the store: the seed, the scored table, history and inspectors.
struct DrawInputs {
    seed_id: i64,
    seed: String,
    scored: String,
    history: Option<String>,
    inspectors: Option<String>,
}

fn draw_inputs(s: &Store, month: &str, d: DrawDepartment) -> ApiResult<DrawInputs> {
    s.with(|c| {
        if let Some(done) = existing_draw(c, month, d)? {
            return Err(ApiError::Conflict(format!(
                "month {month}: already drawn ({done}); a month and department is drawn once"
            )));
        }
        let dep = d.to_string();
        let seed: Option<(i64, String)> = c
            .query_row(
                "SELECT id, seed FROM seeds WHERE month = ?1 AND department = ?2
                 ORDER BY id DESC LIMIT 1",
                params![month, dep],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((seed_id, seed)) = seed else {
            return Err(ApiError::Conflict(format!(
                "month {month}: no seed announced for {dep} (POST /api/months/{month}/seeds)"
            )));
        };
        let Some((_, scored)) = latest_scored(c, month)? else {
            return Err(ApiError::Conflict(format!(
                "month {month}: not scored yet (POST /api/months/{month}/score)"
            )));
        };
        Ok(DrawInputs {
            seed_id,
            seed,
            scored,
            history: latest(c, month, "history")?.map(|x| x.0),
            inspectors: latest(c, month, "inspectors")?.map(|x| x.0),
        })
    })
}

/// Draws, stores the files, and commits — or answers 409 if another draw committed first.
fn draw_blocking(
    s: &Store,
    user: &str,
    month: crate::sample::Month,
    department: DrawDepartment,
    strata: Strata,
    capacity: Capacity,
) -> ApiResult<DrawAnswer> {
    let m = month.to_string();
    let inputs = draw_inputs(s, &m, department)?;
    let drawn = crate::serve::routes::drawing::draw_files(
        s,
        &inputs.seed,
        month,
        department,
        strata,
        capacity,
        &inputs.scored,
        inputs.history.as_deref(),
        inputs.inspectors.as_deref(),
    )?;
    let dep = department.to_string();
    s.with(|c| {
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let seed_now: Option<i64> = tx
            .query_row(
                "SELECT id FROM seeds WHERE month = ?1 AND department = ?2 ORDER BY id DESC LIMIT 1",
                params![m, dep],
                |r| r.get(0),
            )
            .optional()?;
        if seed_now != Some(inputs.seed_id) {
            return Err(ApiError::Conflict(format!(
                "month {m}: the {dep} seed was announced again during the draw; draw again"
            )));
        }
        let inserted = tx.execute(
            "INSERT INTO draws (month, department, seed_id, manifest_file, sample_file,
             sample_xlsx_file, public_file, visits, user, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                m,
                dep,
                inputs.seed_id,
                drawn.manifest_file,
                drawn.sample_file,
                drawn.sample_xlsx_file,
                drawn.public_file,
                drawn.visits.len() as i64,
                user,
                now()
            ],
        );
        let id = match inserted {
            Ok(_) => tx.last_insert_rowid(),
            Err(e) if is_unique_violation(&e) => {
                return Err(ApiError::Conflict(format!(
                    "month {m}: already drawn ({dep}); a month and department is drawn once"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        for d in covered(department) {
            match tx.execute(
                "INSERT INTO draw_claims (month, department, draw_id) VALUES (?1, ?2, ?3)",
                params![m, d, id],
            ) {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(ApiError::Conflict(format!(
                        "month {m}: {d} is already drawn; a month and department is drawn once"
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
        store::audit_in(
            &tx,
            &AuditEntry {
                user: Some(user),
                act: "draw",
                month: Some(&m),
                input_sha256: inputs.scored.split('.').next(),
                output_sha256: drawn.manifest_file.split('.').next(),
                outcome: "ok",
                detail: &format!(
                    "{dep}: {} visits, seed {:?}",
                    drawn.visits.len(),
                    inputs.seed
                ),
            },
        )?;
        tx.commit()?;
        Ok(())
    })?;
    Ok(DrawAnswer {
        month: m,
        department: dep,
        seed: inputs.seed,
        visits: drawn.visits.len(),
        unstaffed: drawn.unstaffed,
        manifest_file: drawn.manifest_file,
        sample_file: drawn.sample_file,
        sample_xlsx_file: drawn.sample_xlsx_file,
        public_file: drawn.public_file,
        sample: drawn.visits,
    })
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// A stored draw's files: (manifest, sample csv, sample xlsx, public csv).
fn stored_draw(
    s: &Store,
    month: &str,
    department: &str,
) -> ApiResult<(String, String, String, String)> {
    let row = s.with(|c| {
        Ok(c.query_row(
            "SELECT manifest_file, sample_file, sample_xlsx_file, public_file FROM draws
             WHERE month = ?1 AND department = ?2",
            params![month, department],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?)
    })?;
    row.ok_or_else(|| ApiError::NotFound(format!("month {month}: no {department} draw")))
}

fn month_department(
    path: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<(String, String)> {
    let Path((month, department)) = path?;
    let month = parse_month(&month)?.to_string();
    parse_department(&department)?;
    Ok((month, department))
}

/// Download the full sample (with ratios, scores and inspector teams).
#[utoipa::path(
    get,
    path = "/api/months/{month}/draws/{department}",
    tag = "draws",
    params(
        ("month" = String, Path, description = "YYYY-MM"),
        ("department" = String, Path, description = "market, ecology or joint"),
        FormatQuery
    ),
    responses(
        (status = 200, description = "the sample: csv (default) or xlsx", content_type = "text/csv"),
        (status = 400, description = "bad month, department or format", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an analyst or admin", body = ErrorBody),
        (status = 404, description = "not drawn", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn sample(
    State(state): State<AppState>,
    _user: Analyst,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<FormatQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let (month, department) = month_department(path)?;
    let Query(q) = query?;
    let format = Download::parse(
        q.format.as_deref(),
        Download::Csv,
        &[Download::Csv, Download::Xlsx],
    )?;
    let (_, csv, xlsx, _) = stored_draw(&state.store, &month, &department)?;
    let name = if format == Download::Csv { csv } else { xlsx };
    file_response(
        &state,
        &name,
        &format!("sample-{month}-{department}.{}", format.ext()),
    )
    .await
}

/// Download a draw's manifest (published: no login).
#[utoipa::path(
    get,
    path = "/api/months/{month}/draws/{department}/manifest",
    tag = "draws",
    params(
        ("month" = String, Path, description = "YYYY-MM"),
        ("department" = String, Path, description = "market, ecology or joint")
    ),
    responses(
        (status = 200, description = "the manifest (JSON, as `spotcheck sample` writes it)", content_type = "application/json"),
        (status = 400, description = "bad month or department", body = ErrorBody),
        (status = 404, description = "not drawn", body = ErrorBody)
    )
)]
pub async fn manifest(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<Response> {
    let (month, department) = month_department(path)?;
    let (manifest, ..) = stored_draw(&state.store, &month, &department)?;
    file_response(
        &state,
        &manifest,
        &format!("sample-{month}-{department}.manifest.json"),
    )
    .await
}

/// Download a draw's public list, 一公开 (published: no login).
#[utoipa::path(
    get,
    path = "/api/months/{month}/draws/{department}/public",
    tag = "draws",
    params(
        ("month" = String, Path, description = "YYYY-MM"),
        ("department" = String, Path, description = "market, ecology or joint"),
        FormatQuery
    ),
    responses(
        (status = 200, description = "the public list (CSV): no ratios, scores or inspectors", content_type = "text/csv"),
        (status = 400, description = "bad month, department or format", body = ErrorBody),
        (status = 404, description = "not drawn", body = ErrorBody)
    )
)]
pub async fn public_list(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<FormatQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let (month, department) = month_department(path)?;
    let Query(q) = query?;
    Download::parse(q.format.as_deref(), Download::Csv, &[Download::Csv])?;
    let (_, _, _, public) = stored_draw(&state.store, &month, &department)?;
    file_response(&state, &public, &format!("public-{month}-{department}.csv")).await
}

/// Download a stored file by its name, `<sha256>.<ext>` (the names a manifest records).
#[utoipa::path(
    get,
    path = "/api/files/{name}",
    tag = "draws",
    params(("name" = String, Path, description = "<sha256>.<ext>")),
    responses(
        (status = 200, description = "the file; its SHA-256 is its name", content_type = "application/octet-stream"),
        (status = 400, description = "not a stored file's name", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an analyst or admin", body = ErrorBody),
        (status = 404, description = "no such file", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn file(
    State(state): State<AppState>,
    _user: Analyst,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let Path(name) = path?;
    let ok = name.split_once('.').is_some_and(|(sha, ext)| {
        sha.len() == 64
            && sha
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && !ext.is_empty()
            && ext.bytes().all(|b| b.is_ascii_lowercase())
    });
    if !ok {
        return Err(ApiError::BadRequest(format!(
            "file {name:?}: expected <sha256>.<ext>"
        )));
    }
    if !state.store.file_path(&name).is_file() {
        return Err(ApiError::NotFound(format!("no stored file {name}")));
    }
    file_response(&state, &name, &name).await
}

/// Which draw to verify.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// YYYY-MM.
    pub month: String,
    /// market, ecology or joint.
    pub department: String,
}

/// The outcome of re-deriving a stored draw.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerifyAnswer {
    pub month: String,
    pub department: String,
    pub seed: String,
    /// Whether every hash and every unit matches.
    pub verified: bool,
    pub visits: usize,
    /// What differs, one line each (empty when verified).
    pub differences: Vec<String>,
}

/// Re-derive a published draw from its stored inputs (published: no login).
#[utoipa::path(
    get,
    path = "/public/verify",
    tag = "draws",
    params(VerifyQuery),
    responses(
        (status = 200, description = "the re-derivation (verified or not)", body = VerifyAnswer),
        (status = 400, description = "bad month or department", body = ErrorBody),
        (status = 404, description = "not drawn", body = ErrorBody)
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    query: Result<Query<VerifyQuery>, QueryRejection>,
) -> ApiResult<Json<VerifyAnswer>> {
    let Query(q) = query?;
    let month = parse_month(&q.month)?.to_string();
    parse_department(&q.department)?;
    let s = state.store.clone();
    blocking(move || {
        let (manifest, ..) = stored_draw(&s, &month, &q.department)?;
        let v = crate::serve::routes::drawing::verify_stored(&s, &manifest)?;
        Ok(Json(VerifyAnswer {
            month,
            department: q.department,
            seed: v.seed,
            verified: v.differences.is_empty(),
            visits: v.visits,
            differences: v.differences,
        }))
    })
    .await
}
