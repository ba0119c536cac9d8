//! `/healthz` (the process answers) and `/readyz` (the database answers, migrations
//! applied), with the mail backlog and its age.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use crate::db::{DbError, migrations, repo};

type Pending = Result<usize, DbError>;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
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
                Ok((waiting, oldest, dead)) => json!({
                    "waiting": waiting,
                    "oldest_age_seconds": oldest.map(|t| (now - t).num_seconds().max(0)),
                    "dead": dead,
                }),
                Err(e) => json!({"error": e.to_string()}),
            };
            HttpResponse::Ok().json(json!({
                "status": "ready", "database": "ok", "migrations_pending": 0, "outbox": outbox,
            }))
        }
        Ok(n) => HttpResponse::ServiceUnavailable()
            .json(json!({"status": "not_ready", "database": "ok", "migrations_pending": n})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "not_ready", "database": "unreachable"}))
        }
    }
}
