//! Idempotency keys: a request sent again with the key it first came with gets the first
//! answer again, sealed at rest (it may show its caller confidential data, such as a
//! reporter's identity to intake).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::writes::{TxError, Writes};
use crate::db::models::IdempotencyRow;
use crate::db::{DbConnection, repo};
use crate::domain::Actor;
use crate::error::AppError;
use crate::seal::Sealer;

/// An idempotency key with the fingerprint of the request it came with.
#[derive(Clone, Debug)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

impl Idempotency {
    pub fn new(key: String, method: &str, path: &str, body: &Value) -> Idempotency {
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update(b" ");
        h.update(path.as_bytes());
        h.update(b"\n");
        h.update(body.to_string().as_bytes());
        Idempotency {
            key,
            fingerprint: hex::encode(h.finalize()),
        }
    }
}

/// The answer first given for a key, as it was sent: status, body and `Location`.
#[derive(Clone, Debug)]
pub struct Stored {
    pub status: u16,
    pub body: Value,
    pub location: Option<String>,
}

impl Stored {
    /// The case's version in the stored body (the `ETag` it was answered with).
    pub fn version(&self) -> Option<i64> {
        self.body.get("version").and_then(Value::as_i64)
    }
}

fn context(actor: &Actor, key: &str) -> String {
    format!("idempotency:{}:{key}", actor.id)
}

/// The answer stored for the caller's key, if the key was used before; an error if it was
/// used with a different request.
pub(super) fn replay(
    sealer: &Sealer,
    conn: &mut DbConnection,
    actor: &Actor,
    idem: &Option<Idempotency>,
) -> Result<Option<Stored>, TxError> {
    let Some(idem) = idem else { return Ok(None) };
    let Some(row) = repo::idempotency::find(conn, &actor.id, &idem.key)? else {
        return Ok(None);
    };
    if row.fingerprint != idem.fingerprint {
        return Err(AppError::validation(
            "Idempotency-Key",
            "this key was already used with a different request; use a new key",
        )
        .into());
    }
    let clear = sealer
        .open(&context(actor, &idem.key), &row.body)
        .map_err(|e| AppError::internal(format!("stored answer: {e}")))?;
    let body: Value =
        serde_json::from_slice(&clear).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(Some(Stored {
        status: row.status as u16,
        body,
        location: row.location,
    }))
}

/// Stores the answer under its idempotency key (a second writer of the same key loses on
/// the primary key, runs again, and replays this answer).
pub(super) fn remember(
    sealer: &Sealer,
    writes: &mut Writes,
    actor: &Actor,
    idem: &Idempotency,
    answer: &Stored,
    now: DateTime<Utc>,
) -> Result<(), TxError> {
    let body = sealer
        .seal(
            &context(actor, &idem.key),
            answer.body.to_string().as_bytes(),
        )
        .map_err(AppError::internal)?;
    writes.idempotency = Some(IdempotencyRow {
        caller_id: actor.id.clone(),
        key: idem.key.clone(),
        fingerprint: idem.fingerprint.clone(),
        status: answer.status as i32,
        location: answer.location.clone(),
        body,
        created_at: now.naive_utc(),
    });
    Ok(())
}
