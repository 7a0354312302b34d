//! The OpenAPI 3.1 document of the API (`GET /api/openapi.json`), generated from the handlers'
//! `#[utoipa::path]` annotations and the request/answer types, so it cannot drift from the code
//! without the route test noticing (tests/cli/serve.rs calls every route it lists).

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::routes::{audit, draws, inputs, results, score, users, whitelist};

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "spotcheck console API",
        description = "The bureau's month as JSON acts (SPEC §10): inputs, scoring, seeds, draws, the positive list, the audit log. Authenticate with Authorization: Bearer TOKEN (spotcheck users add, or POST /api/login). Errors are {error, message}."
    ),
    paths(
        users::login,
        inputs::upload,
        score::start,
        score::job,
        score::scored,
        draws::announce_seed,
        draws::draw,
        draws::sample,
        draws::manifest,
        draws::public_list,
        draws::file,
        draws::verify,
        results::upload,
        results::estimates,
        whitelist::create,
        whitelist::download,
        audit::list,
        document,
    ),
    components(schemas(crate::serve::error::ErrorBody)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

/// Adds the bearer-token security scheme the paths refer to.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    responses((status = 200, description = "the OpenAPI document", content_type = "application/json"))
)]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
