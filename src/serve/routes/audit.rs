//! `GET /api/audit` (admins only): the append-only audit log (SPEC §10), newest first. There is
//! deliberately no route that changes or deletes an entry, and the store's triggers refuse it.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use crate::serve::AppState;
use crate::serve::auth::Admin;
use crate::serve::error::{ApiResult, ErrorBody};

/// Paging of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries to return (default 100, at most 10 000).
    pub limit: Option<u32>,
    /// Only entries with an id below this one (the next page).
    pub before: Option<i64>,
}

/// One act.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    /// RFC 3339 UTC.
    pub at: String,
    pub user: Option<String>,
    pub act: String,
    pub month: Option<String>,
    pub input_sha256: Option<String>,
    pub output_sha256: Option<String>,
    /// ok, failed or refused.
    pub outcome: String,
    pub detail: String,
}

/// Read the audit log.
#[utoipa::path(
    get,
    path = "/api/audit",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "entries, newest first", body = Vec<AuditRecord>),
        (status = 400, description = "bad paging", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an admin", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(100).min(10_000) as i64;
    let before = q.before.unwrap_or(i64::MAX);
    let rows = state.store.with(|c| {
        let mut st = c.prepare_cached(
            "SELECT id, at, user, act, month, input_sha256, output_sha256, outcome, detail
             FROM audit WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = st
            .query_map([before, limit], |r| {
                Ok(AuditRecord {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    user: r.get(2)?,
                    act: r.get(3)?,
                    month: r.get(4)?,
                    input_sha256: r.get(5)?,
                    output_sha256: r.get(6)?,
                    outcome: r.get(7)?,
                    detail: r.get(8)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })?;
    Ok(Json(rows))
}
