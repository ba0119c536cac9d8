//! Extractors: the authenticated caller, and the optional `If-Match` / `Idempotency-Key`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::AppState;
use crate::auth::Caller;
use crate::error::{AppError, ErrorKind};

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            state.auth.authenticate(header.as_deref()).await
        })
    }
}

/// `If-Match: "<version>"` (or a bare number); `*` matches any version.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, AppError> {
    let Some(raw) = req.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = raw.to_str().unwrap_or("").trim();
    if raw == "*" {
        return Ok(None);
    }
    let v = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    v.parse::<i64>().map(Some).map_err(|_| {
        AppError::new(
            ErrorKind::Malformed,
            format!("If-Match must be an ETag such as \"3\", not `{raw}`"),
        )
    })
}

/// `Idempotency-Key`: 1–200 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(raw) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = raw.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(AppError::validation(
            "Idempotency-Key",
            "must be 1–200 visible ASCII characters",
        ));
    }
    Ok(Some(key.to_string()))
}
