//! Operations on the outbox: admins list rows by state and send dead ones again.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::auth::Caller;
use crate::db::models::OutboxRow;
use crate::db::{DbError, repo};
use crate::domain::{Actor, OrgPath, Role};
use crate::error::{AppError, ErrorKind};

pub const STATES: [&str; 4] = ["pending", "sending", "sent", "dead"];

fn admin(caller: Caller) -> Result<Actor, AppError> {
    if caller.0.has(Role::Admin) {
        Ok(caller.0)
    } else {
        Err(AppError::new(
            ErrorKind::Forbidden,
            "only an admin operates the outbox",
        ))
    }
}

/// A mail in the transactional outbox.
#[derive(Serialize, ToSchema)]
pub struct OutboxItem {
    pub id: String,
    pub case_id: String,
    pub seq: i64,
    pub relation: String,
    pub recipient_email: String,
    pub template: String,
    pub subject: String,
    pub message_id: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::time::wire")]
    pub next_attempt_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::wire")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::wire_opt")]
    pub sent_at: Option<DateTime<Utc>>,
}

impl OutboxItem {
    fn of(r: &OutboxRow) -> OutboxItem {
        OutboxItem {
            id: r.id.clone(),
            case_id: r.case_id.clone(),
            seq: r.seq,
            relation: r.relation.clone(),
            recipient_email: r.recipient_email.clone(),
            template: r.template.clone(),
            subject: r.subject.clone(),
            message_id: r.message_id.clone(),
            state: r.state.clone(),
            attempts: r.attempts,
            last_error: r.last_error.clone(),
            next_attempt_at: r.next_attempt_at.and_utc(),
            created_at: r.created_at.and_utc(),
            sent_at: r.sent_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OutboxList {
    pub items: Vec<OutboxItem>,
}

/// `GET /api/v1/outbox?state=dead`: rows of cases in the admin's jurisdiction.
pub async fn list_outbox(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let admin = admin(caller)?;
    let params = super::query::params(&req)?;
    let mut wanted = "dead".to_string();
    let mut limit = 100i64;
    for (k, v) in params {
        match k.as_str() {
            "state" if STATES.contains(&v.as_str()) => wanted = v,
            "state" => {
                return Err(AppError::validation(
                    "state",
                    format!("must be one of {}", STATES.join(", ")),
                ));
            }
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| AppError::validation("limit", "must be between 1 and 500"))?
            }
            other => {
                return Err(AppError::validation(
                    other,
                    "unknown parameter; use state, limit",
                ));
            }
        }
    }
    let org = admin.org.as_str().to_string();
    let rows = state
        .engine
        .db
        .read(move |c| Ok::<_, DbError>(repo::outbox::list_by_state(c, &wanted, &org, limit)?))
        .await?;
    Ok(HttpResponse::Ok().json(OutboxList {
        items: rows.iter().map(OutboxItem::of).collect(),
    }))
}

/// `POST /api/v1/outbox/{id}/retry`: a dead row is queued again (attempts start over).
pub async fn retry_outbox(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let admin = admin(caller)?;
    let id = path.into_inner();
    let now = state.engine.clock.now().naive_utc();
    let row = state
        .engine
        .db
        .write(move |c| -> Result<OutboxRow, AppError> {
            let row = repo::outbox::find_by_id(c, &id)?.ok_or_else(AppError::not_found)?;
            let case = repo::cases::find_by_id(c, &row.case_id)?.ok_or_else(AppError::not_found)?;
            let covers =
                OrgPath::parse(&case.subject_org).is_ok() && admin.org.covers(&case.subject_org);
            if !covers {
                return Err(AppError::not_found());
            }
            if !repo::outbox::retry_dead(c, &id, now)? {
                return Err(AppError::new(
                    ErrorKind::InvalidTransition,
                    format!(
                        "only a dead row can be retried; this one is `{}`",
                        row.state
                    ),
                ));
            }
            repo::outbox::find_by_id(c, &id)?.ok_or_else(AppError::not_found)
        })
        .await?;
    Ok(HttpResponse::Ok().json(OutboxItem::of(&row)))
}
