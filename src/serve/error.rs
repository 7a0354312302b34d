//! The console's one error type and the one place it becomes an HTTP answer: JSON
//! `{error, message}` with the status HTTP means (SPEC §10). Bad input is always a 4xx: the
//! library's errors about a file or a value (a missing column, an unreadable format, a bad
//! argument) are 400; only a failure of the server itself (its disk, its database) is a 500, and
//! its message names no secret.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What went wrong, with the status it answers.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request or its file cannot be used.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no credentials, or wrong ones.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but the role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: nothing there.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists, but not with this method (nothing updates the audit log).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: the act conflicts with the month's state (already drawn, no seed, not scored …).
    #[error("{0}")]
    Conflict(String),
    /// 413: the upload is over the configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// 429: too many failed sign-ins of this name: locked for a while (SPEC §10, lock-out).
    #[error("{0}")]
    TooManyRequests(String),
    /// 500: the server failed (disk, database); the cause is logged, not sent.
    #[error("{0}")]
    Internal(String),
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code: bad_request, unauthorized, forbidden, not_found, conflict, too_large,
    /// too_many_requests, internal.
    pub error: &'static str,
    /// What went wrong, in words, naming the offending value.
    pub message: String,
}

impl ApiError {
    /// A server-side I/O failure on `path`.
    pub fn internal(path: &std::path::Path, e: std::io::Error) -> ApiError {
        ApiError::Internal(format!("{}: {e}", path.display()))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge(_) => "too_large",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(m) = &self {
            eprintln!("error: {m}");
        }
        let status = self.status();
        let body = ErrorBody {
            error: self.code(),
            message: match &self {
                ApiError::Internal(_) => "the server failed; the cause is in its log".into(),
                e => e.to_string(),
            },
        };
        let mut r = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        r
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        use crate::Error as E;
        // The full chain, as the CLI prints it.
        let mut message = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            message.push_str(": ");
            message.push_str(&s.to_string());
            src = s.source();
        }
        match e {
            // The server's own files and encoders failing is the server's fault.
            E::Io { .. } | E::Xlsx { .. } => ApiError::Internal(message),
            // Everything else is about the data or the parameters sent.
            _ => ApiError::BadRequest(message),
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::Internal(format!("database: {e}"))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(format!("a worker stopped: {e}"))
    }
}

/// Rejections of axum's extractors (bad JSON, bad query, bad path) as our JSON errors.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        ApiError::BadRequest(format!("the JSON body cannot be used: {}", e.body_text()))
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::BadRequest(format!("the query cannot be used: {}", e.body_text()))
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        ApiError::BadRequest(format!("the path cannot be used: {}", e.body_text()))
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(e: axum::extract::rejection::BytesRejection) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!(
                "the upload is over the server's limit: {}",
                e.body_text()
            ))
        } else {
            ApiError::BadRequest(format!("the body cannot be read: {}", e.body_text()))
        }
    }
}

/// The result type of every handler.
pub type ApiResult<T> = Result<T, ApiError>;
