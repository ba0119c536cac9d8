//! `application/problem+json` (RFC 9457) for every error.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, ErrorKind};

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match (&self.kind, &self.cause) {
            (ErrorKind::Internal, cause) => {
                tracing::error!(cause = cause.as_deref().unwrap_or(""), "request failed");
            }
            (ErrorKind::Unavailable, cause) => {
                tracing::warn!(
                    cause = cause.as_deref().unwrap_or(""),
                    "database unavailable"
                );
            }
            _ => {}
        }
        let body = Problem {
            kind: format!("urn:rongcuo:problem:{}", self.kind.code()),
            title: self.kind.title().to_string(),
            status: self.kind.status(),
            detail: self.detail.clone(),
            code: self.kind.code().to_string(),
            errors: (!self.errors.is_empty()).then(|| {
                self.errors
                    .iter()
                    .map(|e| FieldProblem {
                        field: e.field.clone(),
                        message: e.message.clone(),
                    })
                    .collect()
            }),
        };
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        match self.kind {
            ErrorKind::Unauthorized => {
                resp.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"rongcuo\""),
                ));
            }
            ErrorKind::Unavailable | ErrorKind::TooManyRequests => {
                let default = if self.kind == ErrorKind::Unavailable {
                    2
                } else {
                    1
                };
                let secs = self.retry_after.unwrap_or(default).max(1);
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    resp.insert_header((header::RETRY_AFTER, v));
                }
            }
            _ => {}
        }
        resp.body(serde_json::to_string(&body).unwrap_or_default())
    }
}

/// The answer for paths no route serves.
pub async fn not_found() -> HttpResponse {
    AppError::new(ErrorKind::NotFound, "no such resource").error_response()
}

/// An error body (RFC 9457) with the stable `code` of docs/API.md.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// `urn:rongcuo:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One of the codes of docs/API.md's error table.
    pub code: String,
    /// For `validation_failed`: each offending field with what is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
}

#[derive(Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's path, such as `rectification.due_at`.
    pub field: String,
    pub message: String,
}
