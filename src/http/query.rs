//! Query-string pieces shared by the list, ledger, statistics and outbox handlers.

use std::collections::BTreeMap;

use actix_web::HttpRequest;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::domain::{Actor, OrgPath};
use crate::error::{AppError, ErrorKind};

/// The query string as name → value (400-free: a bad string is a 422 on `query`).
pub fn params(req: &HttpRequest) -> Result<BTreeMap<String, String>, AppError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|_| AppError::validation("query", "the query string is not valid"))
}

/// A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 time.
pub fn time_bound(field: &str, v: &str) -> Result<NaiveDateTime, AppError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc).naive_utc());
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| {
            AppError::validation(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time")
        })
}

pub fn org(field: &str, v: &str) -> Result<OrgPath, AppError> {
    OrgPath::parse(v).map_err(|e| AppError::validation(field, e))
}

/// 403 unless the caller holds a staff role.
pub fn require_staff(actor: &Actor, what: &str) -> Result<(), AppError> {
    if actor.roles.iter().any(|r| r.is_staff()) {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorKind::Forbidden,
            format!("{what} is for staff of a jurisdiction"),
        ))
    }
}

/// The org subtree a staff member asks about: their own unless they name one inside it.
pub fn staff_scope(actor: &Actor, asked: Option<OrgPath>) -> Result<OrgPath, AppError> {
    let org = asked.unwrap_or_else(|| actor.org.clone());
    if actor.org.covers(org.as_str()) {
        Ok(org)
    } else {
        Err(AppError::new(
            ErrorKind::Forbidden,
            format!("{org} is outside your jurisdiction ({})", actor.org),
        ))
    }
}
