//! The 正面清单 positive list (SPEC §5 through §10): `POST /api/whitelist {as_of}` builds this
//! period's list with the library (`whitelist::from_scored`) from the latest scored table and the
//! previous stored list, and stores it as the bureau's workbook and as CSV;
//! `GET /api/whitelist?format=xlsx|csv` publishes the latest (no login: it is published data).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::score::FormatQuery;
use super::{Download, blocking, file_response};
use crate::date::Date;
use crate::schema::Lang;
use crate::serve::AppState;
use crate::serve::auth::Analyst;
use crate::serve::error::{ApiError, ApiResult, ErrorBody};
use crate::serve::store::{self, AuditEntry, now};
use crate::table::ReadOptions;
use crate::whitelist::{
    InputFile, OutputOptions, WhitelistParams, check_as_of, from_scored, read_previous, write_list,
};

/// Body of `POST /api/whitelist`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct WhitelistRequest {
    /// The list's date, YYYY-MM-DD.
    pub as_of: String,
}

/// The list built: counts per status and the stored files.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WhitelistSummary {
    pub as_of: String,
    /// The month whose scored table it was built from.
    pub scored_month: String,
    pub listed: usize,
    pub new: usize,
    pub retained: usize,
    pub renewed: usize,
    pub waitlisted: usize,
    pub removed: usize,
    pub xlsx_file: String,
    pub csv_file: String,
}

/// Build this period's positive list.
#[utoipa::path(
    post,
    path = "/api/whitelist",
    tag = "whitelist",
    request_body = WhitelistRequest,
    responses(
        (status = 200, description = "the list is built and stored", body = WhitelistSummary),
        (status = 400, description = "bad date, or before the previous list", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an analyst or admin", body = ErrorBody),
        (status = 409, description = "nothing scored yet", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Analyst(user): Analyst,
    body: Result<Json<WhitelistRequest>, JsonRejection>,
) -> ApiResult<Json<WhitelistSummary>> {
    let Json(req) = body?;
    let as_of = Date::parse(&req.as_of).ok_or_else(|| {
        ApiError::BadRequest(format!("as_of {:?}: expected YYYY-MM-DD", req.as_of))
    })?;
    let s = state.store.clone();
    blocking(move || {
        let (scored, previous) = s.with(|c| {
            let scored: Option<(i64, String, String)> = c
                .query_row(
                    "SELECT id, month, file FROM scored ORDER BY id DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let previous: Option<String> = c
                .query_row(
                    "SELECT csv_file FROM whitelists ORDER BY id DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            Ok((scored, previous))
        })?;
        let Some((scored_id, month, scored_file)) = scored else {
            return Err(ApiError::Conflict(
                "nothing is scored yet: score a month first".into(),
            ));
        };
        let policy = crate::policy::Policy::default();
        let opts = ReadOptions::default();
        let prev = match &previous {
            Some(f) => read_previous(&s.file_path(f), &opts)?,
            None => Vec::new(),
        };
        check_as_of(&prev, as_of)?;
        let params = WhitelistParams {
            as_of,
            validity_years: policy.eco.validity_years,
            cap_share: policy.eco.cap_share,
        };
        let (list, _) = from_scored(&s.file_path(&scored_file), &prev, &params, &opts)?;
        let mut inputs = vec![InputFile {
            role: "评分结果 scored".into(),
            path: scored_file.clone(),
            sha256: sha_of(&scored_file),
        }];
        if let Some(p) = &previous {
            inputs.push(InputFile {
                role: "上期正面清单 previous list".into(),
                path: p.clone(),
                sha256: sha_of(p),
            });
        }
        inputs.push(InputFile {
            role: "政策文件 policy".into(),
            path: policy.path().display().to_string(),
            sha256: policy.sha256_hex(),
        });
        let out = OutputOptions {
            bom: false,
            lang: Lang::En,
        };
        let xlsx_tmp = s.temp_path("xlsx");
        write_list(&xlsx_tmp, &list, &inputs, &out)?;
        let xlsx_file = s.put_file(&xlsx_tmp, "xlsx")?;
        let csv_tmp = s.temp_path("csv");
        write_list(&csv_tmp, &list, &inputs, &out)?;
        let csv_file = s.put_file(&csv_tmp, "csv")?;
        let t = list.summary().total;
        let summary = WhitelistSummary {
            as_of: as_of.to_string(),
            scored_month: month.clone(),
            listed: t.listed(),
            new: t.new,
            retained: t.retained,
            renewed: t.renewed,
            waitlisted: t.waitlisted,
            removed: t.removed,
            xlsx_file,
            csv_file,
        };
        let text = serde_json::to_string(&summary).unwrap_or_default();
        s.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO whitelists (as_of, scored_id, xlsx_file, csv_file, summary, user, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    summary.as_of,
                    scored_id,
                    summary.xlsx_file,
                    summary.csv_file,
                    text,
                    user.name,
                    now()
                ],
            )?;
            store::audit_in(
                &tx,
                &AuditEntry {
                    user: Some(&user.name),
                    act: "whitelist",
                    month: Some(&month),
                    input_sha256: Some(&sha_of(&scored_file)),
                    output_sha256: Some(&sha_of(&summary.xlsx_file)),
                    outcome: "ok",
                    detail: &format!("as of {}: {} listed", summary.as_of, summary.listed),
                },
            )?;
            tx.commit()?;
            Ok(())
        })?;
        Ok(Json(summary))
    })
    .await
}

/// The SHA-256 part of a stored file's name.
fn sha_of(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_string()
}

/// Download the latest positive list (published: no login).
#[utoipa::path(
    get,
    path = "/api/whitelist",
    tag = "whitelist",
    params(FormatQuery),
    responses(
        (status = 200, description = "the list: xlsx (default, the bureau's workbook) or csv",
         content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "bad format", body = ErrorBody),
        (status = 404, description = "no list yet", body = ErrorBody)
    )
)]
pub async fn download(
    State(state): State<AppState>,
    query: Result<Query<FormatQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let format = Download::parse(
        q.format.as_deref(),
        Download::Xlsx,
        &[Download::Xlsx, Download::Csv],
    )?;
    let row: Option<(String, String, String)> = state.store.with(|c| {
        Ok(c.query_row(
            "SELECT as_of, xlsx_file, csv_file FROM whitelists ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
    })?;
    let Some((as_of, xlsx, csv)) = row else {
        return Err(ApiError::NotFound(
            "no positive list yet (POST /api/whitelist)".into(),
        ));
    };
    let name = if format == Download::Xlsx { xlsx } else { csv };
    file_response(
        &state,
        &name,
        &format!("positive-list-{as_of}.{}", format.ext()),
    )
    .await
}
