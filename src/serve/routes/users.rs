//! `POST /api/login {name, password}`: signs in and issues a new API token (shown once). Every
//! failed attempt is written to the audit log; after 5 failures of a name in 15 minutes (through
//! the API or the pages' sign-in alike) the name is locked and gets 429 until the window passes.
//! Users themselves are added with `spotcheck users add` on the server's machine.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Serialize};

use super::blocking;
use crate::serve::AppState;
use crate::serve::auth;
use crate::serve::error::{ApiResult, ErrorBody};

/// Credentials.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
}

/// A new API token for `Authorization: Bearer TOKEN`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoginAnswer {
    pub name: String,
    pub role: String,
    pub token: String,
}

/// Sign in with name and password.
#[utoipa::path(
    post,
    path = "/api/login",
    tag = "users",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "signed in", body = LoginAnswer),
        (status = 400, description = "not a JSON {name, password}", body = ErrorBody),
        (status = 401, description = "wrong name or password", body = ErrorBody),
        (status = 429, description = "locked: 5 failed sign-ins of this name in 15 minutes (API and pages together)", body = ErrorBody)
    )
)]
pub async fn login(
    State(state): State<AppState>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> ApiResult<Json<LoginAnswer>> {
    let Json(req) = body?;
    let s = state.store.clone();
    // argon2 is deliberately slow: off the async workers.
    let (user, token) = blocking(move || auth::login(&s, &req.name, &req.password)).await?;
    Ok(Json(LoginAnswer {
        name: user.name,
        role: user.role,
        token,
    }))
}
