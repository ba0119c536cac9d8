//! `/healthz` (the process answers) and `/readyz` (the database answers, migrations
//! applied), with the mail backlog and its age.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::db::{DbError, migrations, repo};

type Pending = Result<usize, DbError>;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[derive(Default, Serialize, ToSchema)]
pub struct OutboxBacklog {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<i64>,
    /// Null when nothing waits; left out when the backlog could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub oldest_age_seconds: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `ready` with the mail backlog, or `not_ready` (503) with what is wrong.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: String,
    pub database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrations_pending: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxBacklog>,
}
impl Readiness {
    fn new(
        status: &str,
        database: &str,
        migrations_pending: Option<i64>,
        outbox: Option<OutboxBacklog>,
    ) -> Readiness {
        Readiness {
            status: status.into(),
            database: database.into(),
            migrations_pending,
            outbox,
        }
    }
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    // The writer: diesel's harness may create its bookkeeping table, which a read-only
    // SQLite connection refuses.
    let pending: Pending = state.engine.db.write(migrations::pending_count).await;
    match pending {
        Ok(0) => {
            let backlog = state
                .engine
                .db
                .read(|c| Ok::<_, DbError>(repo::outbox::backlog(c)?))
                .await;
            let now = state.engine.clock.now().naive_utc();
            let outbox = match backlog {
                Ok((waiting, oldest, dead)) => OutboxBacklog {
                    waiting: Some(waiting),
                    oldest_age_seconds: Some(oldest.map(|t| (now - t).num_seconds().max(0))),
                    dead: Some(dead),
                    error: None,
                },
                Err(e) => OutboxBacklog {
                    error: Some(e.to_string()),
                    ..OutboxBacklog::default()
                },
            };
            HttpResponse::Ok().json(Readiness::new("ready", "ok", Some(0), Some(outbox)))
        }
        Ok(n) => HttpResponse::ServiceUnavailable().json(Readiness::new(
            "not_ready",
            "ok",
            Some(n as i64),
            None,
        )),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(Readiness::new(
                "not_ready",
                "unreachable",
                None,
                None,
            ))
        }
    }
}

/// `GET /metrics`: Prometheus text format; mail gauges are read from the database now.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    if let (Some(m), Ok((waiting, oldest, dead))) = (
        crate::metrics::get(),
        state
            .engine
            .db
            .read(|c| Ok::<_, DbError>(repo::outbox::backlog(c)?))
            .await,
    ) {
        let now = state.engine.clock.now().naive_utc();
        m.mail_waiting.set(waiting);
        m.mail_oldest_age
            .set(oldest.map(|t| (now - t).num_seconds().max(0)).unwrap_or(0));
        m.mail_dead.set(dead);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::render())
}
