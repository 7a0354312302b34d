//! The bureau's console, part 1 (SPEC §10): `spotcheck serve` — an HTTP JSON API over an embedded
//! store, with users, roles and an append-only audit log. A thin layer: every computation is the
//! library's (reading and validating tables, scoring, the draw, verification, the positive list);
//! this module parses requests into domain types, stores files and acts, and answers.
//!
//! Layout: [`store`] (SQLite with versioned migrations, content-addressed files, the folder lock),
//! [`auth`] (users, argon2, tokens, the role extractors), [`error`] (the one error → JSON),
//! [`jobs`] (long work off the request path), [`routes`] (one module per resource) and
//! [`openapi`] (the document at `/api/openapi.json`, generated from the handlers' annotations).

pub mod auth;
pub mod error;
pub mod jobs;
pub mod openapi;
// A page's error is a ready response, built at most once per request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub mod pages;
pub mod routes;
pub mod session;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;

pub use error::{ApiError, ApiResult};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data folder (database, files, lock).
    pub data: PathBuf,
    /// The address to listen on (default 127.0.0.1:8080: this machine only).
    pub listen: SocketAddr,
    /// Largest accepted request body in bytes (uploads); larger ones get 413.
    pub max_upload: usize,
}

/// The default upload limit: 256 MiB.
pub const DEFAULT_MAX_UPLOAD: usize = 256 << 20;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<store::Store>,
    pub jobs: Arc<jobs::Jobs>,
    /// The console's browser sessions (issue 15).
    pub sessions: Arc<session::Sessions>,
}

/// Opens (creating and migrating) the store in `config.data`, taking the folder's lock; fails if
/// another server holds it. Marks jobs that a killed server left running as failed.
pub fn open_state(config: &Config) -> Result<(AppState, store::DirLock), store::StoreError> {
    let lock = store::lock(&config.data)?;
    let s = store::open(&config.data)?;
    s.clean_temp();
    let s = Arc::new(s);
    jobs::fail_interrupted(&s).map_err(|e| store::StoreError::Io {
        path: config.data.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok((
        AppState {
            store: s,
            jobs: Arc::new(jobs::Jobs::default()),
            sessions: Arc::new(session::Sessions::default()),
        },
        lock,
    ))
}

/// The application: every route of SPEC §10, the body limit, JSON for unknown routes.
pub fn app(state: AppState, max_upload: usize) -> Router {
    routes::router()
        .merge(pages::router())
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("this route does not take this method".into())
        })
        .layer(DefaultBodyLimit::max(max_upload))
        .with_state(state)
}

/// Binds `config.listen` and serves until the process is stopped. `on_bound` is told the bound
/// address (useful with port 0) before the first request is accepted.
pub async fn serve(
    config: Config,
    state: AppState,
    on_bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    on_bound(listener.local_addr()?);
    axum::serve(listener, app(state, config.max_upload))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
