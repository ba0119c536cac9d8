//! The one application error: a kind (status and stable `code` of docs/API.md), a detail for
//! the client, field errors for 422, and a cause that is logged, never sent.

use crate::db::DbError;
use crate::domain::{FieldError, Refusal};

#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Malformed,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    InvalidTransition,
    VersionConflict,
    TooLarge,
    UnsupportedMediaType,
    Validation,
    TooManyRequests,
    HeadersTooLarge,
    Unavailable,
    Internal,
}

impl ErrorKind {
    /// Every kind, for the OpenAPI document.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::Malformed,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::MethodNotAllowed,
        ErrorKind::InvalidTransition,
        ErrorKind::VersionConflict,
        ErrorKind::TooLarge,
        ErrorKind::UnsupportedMediaType,
        ErrorKind::Validation,
        ErrorKind::TooManyRequests,
        ErrorKind::HeadersTooLarge,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
    ];

    pub fn status(self) -> u16 {
        match self {
            ErrorKind::Malformed => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::InvalidTransition => 409,
            ErrorKind::VersionConflict => 412,
            ErrorKind::TooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::Validation => 422,
            ErrorKind::TooManyRequests => 429,
            ErrorKind::HeadersTooLarge => 431,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "malformed",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::InvalidTransition => "invalid_transition",
            ErrorKind::VersionConflict => "version_conflict",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::UnsupportedMediaType => "unsupported_media_type",
            ErrorKind::Validation => "validation_failed",
            ErrorKind::TooManyRequests => "too_many_requests",
            ErrorKind::HeadersTooLarge => "headers_too_large",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "Malformed request",
            ErrorKind::Unauthorized => "Authentication required",
            ErrorKind::Forbidden => "Not permitted",
            ErrorKind::NotFound => "Not found",
            ErrorKind::MethodNotAllowed => "Method not allowed",
            ErrorKind::InvalidTransition => "Event not allowed now",
            ErrorKind::VersionConflict => "Version conflict",
            ErrorKind::TooLarge => "Request too large",
            ErrorKind::UnsupportedMediaType => "Unsupported media type",
            ErrorKind::Validation => "Validation failed",
            ErrorKind::TooManyRequests => "Too many requests",
            ErrorKind::HeadersTooLarge => "Request headers too large",
            ErrorKind::Unavailable => "Service unavailable",
            ErrorKind::Internal => "Internal error",
        }
    }
}

#[derive(Clone, Debug)]
pub struct AppError {
    pub kind: ErrorKind,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Logged where the error is answered; never sent to the client.
    pub cause: Option<String>,
    /// For 429: seconds until the caller may try again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.detail)
    }
}

impl std::error::Error for AppError {}

impl AppError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        AppError {
            kind,
            detail: detail.into(),
            errors: Vec::new(),
            cause: None,
            retry_after: None,
        }
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let fe = FieldError::new(field, message);
        AppError {
            kind: ErrorKind::Validation,
            detail: format!("`{}`: {}", fe.field, fe.message),
            errors: vec![fe],
            cause: None,
            retry_after: None,
        }
    }

    pub fn not_found() -> Self {
        AppError::new(
            ErrorKind::NotFound,
            "no such resource, or it is not visible to you",
        )
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        AppError {
            kind: ErrorKind::Internal,
            detail: "the service failed to handle the request; it has been logged".into(),
            errors: Vec::new(),
            cause: Some(cause.into()),
            retry_after: None,
        }
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Forbidden(m) => AppError::new(ErrorKind::Forbidden, m),
            Refusal::NotAllowed { .. } => {
                AppError::new(ErrorKind::InvalidTransition, r.to_string())
            }
            Refusal::Conflict(m) => AppError::new(ErrorKind::InvalidTransition, m),
            Refusal::Invalid(errors) => {
                let detail = errors
                    .iter()
                    .map(|e| format!("`{}`: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                AppError {
                    kind: ErrorKind::Validation,
                    detail,
                    errors,
                    cause: None,
                    retry_after: None,
                }
            }
            Refusal::Unavailable(cause) => AppError {
                kind: ErrorKind::Unavailable,
                detail: "the database is unavailable; retry shortly".into(),
                errors: Vec::new(),
                cause: Some(cause),
                retry_after: None,
            },
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        if e.is_over_budget() {
            return AppError {
                kind: ErrorKind::Unavailable,
                detail: "the report took longer than the service allows a query \
                         (database.report_budget_ms); ask for a smaller org subtree or a \
                         shorter period, or retry later"
                    .into(),
                errors: Vec::new(),
                cause: Some(e.to_string()),
                retry_after: Some(30),
            };
        }
        if e.is_unavailable() {
            AppError {
                kind: ErrorKind::Unavailable,
                detail: "the database is unavailable; retry shortly".into(),
                errors: Vec::new(),
                cause: Some(e.to_string()),
                retry_after: None,
            }
        } else {
            AppError::internal(e.to_string())
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::from(DbError::from(e))
    }
}
