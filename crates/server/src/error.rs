//! One error type for every handler. The client sees a stable code and a short English
//! message; the cause goes to the log. Neither ever holds dossier text, codes or tokens.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cjg_core::api::{ApiError, ApiErrorBody};
use cjg_core::ErrorCode;

#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// For the log only.
    pub cause: Option<String>,
    /// A read transaction found it has to write: run it again as a writer (never sent).
    pub needs_writer: bool,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), cause: None, needs_writer: false }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: "internal error".into(),
            cause: Some(cause.to_string()),
            needs_writer: false,
        }
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "not found")
    }

    pub fn device_revoked() -> Self {
        Self::new(ErrorCode::DeviceRevoked, "this device has been revoked")
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "sign in first: a valid bearer token is required")
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = ?self.code, cause = self.cause.as_deref().unwrap_or(""), "request failed");
        } else if let Some(cause) = &self.cause {
            tracing::debug!(code = ?self.code, cause, "request refused");
        }
        let body = ApiError { error: ApiErrorBody { code: self.code, message: self.message } };
        (status, Json(body)).into_response()
    }
}

/// The one place where a refusal of the storage becomes an answer of the API.
impl From<crate::db::StoreError> for AppError {
    fn from(e: crate::db::StoreError) -> Self {
        use crate::db::StoreError as E;
        match e {
            E::NotFound => Self::not_found(),
            E::Invalid(m) => Self::new(ErrorCode::Validation, m),
            E::Conflict(m) => Self::new(ErrorCode::Conflict, m),
            E::AlreadyAnswered(m) => Self::new(ErrorCode::AlreadyAnswered, m),
            E::Outdated(m) => Self::new(ErrorCode::QuestionnaireOutdated, m),
            E::Approval(e) => e.into(),
            E::Sql(e) => e.into(),
            E::Internal(cause) => Self::internal(cause),
        }
    }
}

impl From<crate::db::sql::Error> for AppError {
    fn from(e: crate::db::sql::Error) -> Self {
        if e.is_storage_failure() {
            return Self {
                cause: Some(e.to_string()),
                ..Self::new(
                    ErrorCode::StorageUnavailable,
                    "the server cannot store this now: try again later",
                )
            };
        }
        let needs_writer = matches!(e, crate::db::sql::Error::NeedsWrite);
        Self { needs_writer, ..Self::internal(e) }
    }
}

impl From<cjg_core::staff::ApprovalRefused> for AppError {
    fn from(e: cjg_core::staff::ApprovalRefused) -> Self {
        Self::new(ErrorCode::Forbidden, e.to_string())
    }
}

impl From<cjg_core::validate::ValidationError> for AppError {
    fn from(e: cjg_core::validate::ValidationError) -> Self {
        Self::new(ErrorCode::Validation, e.to_string())
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::new(ErrorCode::PayloadTooLarge, "request body is too large");
        }
        // serde's message names the field and position, never the value.
        let message = match &r {
            JsonRejection::MissingJsonContentType(_) => "expected Content-Type: application/json".to_owned(),
            other => other.body_text(),
        };
        Self::new(ErrorCode::MalformedJson, message)
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        Self::new(ErrorCode::BadRequest, r.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(_: PathRejection) -> Self {
        Self::not_found()
    }
}

/// `Json` that answers our error shape, and refuses unknown fields through the types' serde.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);
