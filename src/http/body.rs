//! Reading request bodies within the configured limit, and JSON that must be an object.

use actix_web::web;
use futures_util::StreamExt;
use serde_json::Value;

use crate::error::{AppError, ErrorKind};

/// Reads the body, answering 413 past `limit` bytes, and parses a JSON object (400 otherwise).
pub async fn json_object(mut payload: web::Payload, limit: usize) -> Result<Value, AppError> {
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            actix_web::error::PayloadError::Overflow => too_large(limit),
            _ => AppError::new(ErrorKind::Malformed, "the request body could not be read"),
        })?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    if buf.is_empty() {
        return Err(AppError::new(
            ErrorKind::Malformed,
            "a JSON object body is required",
        ));
    }
    let value: Value = serde_json::from_slice(&buf).map_err(|e| {
        AppError::new(
            ErrorKind::Malformed,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(AppError::new(
            ErrorKind::Malformed,
            "the body must be a JSON object",
        ));
    }
    Ok(value)
}

fn too_large(limit: usize) -> AppError {
    AppError::new(
        ErrorKind::TooLarge,
        format!("the body exceeds the limit of {limit} bytes"),
    )
}
