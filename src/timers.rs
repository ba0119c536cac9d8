//! The scheduler: every `timers.interval_ms` it claims due timers, oldest due first, and
//! fires them. An event timer goes through `Engine::apply` as the system actor, the same
//! path as a REST call, never a direct UPDATE; one whose event the case no longer allows
//! is dropped and the reason recorded. Reminders and notices write mail to the outbox.
//! Timers that fell due while the service was down fire at the first pass after start.

use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use crate::db::models::TimerRow;
use crate::db::{DbError, repo};
use crate::domain::Actor;
use crate::domain::workflow::TimerKind;
use crate::engine::{Engine, Outcome};
use crate::error::{AppError, ErrorKind};

pub struct Scheduler {
    pub engine: Engine,
    pub interval: Duration,
    pub lease: chrono::Duration,
    pub batch: i64,
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub fired: usize,
    pub dropped: usize,
    pub failed: usize,
}

impl Scheduler {
    /// Claims and fires one batch of due timers, in due order.
    pub async fn pass(&self) -> Result<Pass, AppError> {
        let now = self.engine.clock.now().naive_utc();
        let (lease_until, batch) = (now + self.lease, self.batch);
        let due = self
            .engine
            .db
            .write(move |c| Ok::<_, DbError>(repo::timers::claim_due(c, now, lease_until, batch)?))
            .await?;
        let mut pass = Pass::default();
        for timer in due {
            match self.fire(&timer).await {
                Ok(outcome) => {
                    self.finish(&timer, "fired", &outcome).await?;
                    crate::metrics::timer(&timer.kind, "fired");
                    pass.fired += 1;
                }
                Err(e) if is_refusal(&e) => {
                    let why = format!("{}: {}", e.kind.code(), e.detail);
                    tracing::info!(timer.id = %timer.id, case.id = %timer.case_id, event = %timer.name, reason = %why, "timer dropped");
                    self.finish(&timer, "dropped", &why).await?;
                    crate::metrics::timer(&timer.kind, "dropped");
                    pass.dropped += 1;
                }
                Err(e) => {
                    // Left `firing`: when the lease runs out, a later pass tries again.
                    tracing::warn!(timer.id = %timer.id, error = %e, cause = e.cause.as_deref().unwrap_or(""), "timer failed");
                    crate::metrics::timer(&timer.kind, "failed");
                    pass.failed += 1;
                }
            }
        }
        // Uploads whose process died mid-way leave chunks behind: swept after an hour.
        self.engine
            .sweep_uploads(chrono::Duration::hours(1))
            .await?;
        Ok(pass)
    }

    async fn finish(
        &self,
        timer: &TimerRow,
        state: &'static str,
        outcome: &str,
    ) -> Result<(), AppError> {
        let (id, outcome) = (timer.id.clone(), outcome.to_string());
        let at = self.engine.clock.now().naive_utc();
        self.engine
            .db
            .write(move |c| Ok::<_, DbError>(repo::timers::finish(c, &id, state, &outcome, at)?))
            .await?;
        Ok(())
    }

    async fn fire(&self, timer: &TimerRow) -> Result<String, AppError> {
        let case_id = timer.case_id.clone();
        let row = self
            .engine
            .db
            .read(move |c| Ok::<_, DbError>(repo::cases::find_by_id(c, &case_id)?))
            .await?
            .ok_or_else(AppError::not_found)?;
        match timer.kind.as_str() {
            "event" => {
                let body = json!({"event": timer.name});
                let outcome = self
                    .engine
                    .apply(
                        &row.workflow,
                        row.id.clone(),
                        Actor::system(),
                        body,
                        None,
                        None,
                    )
                    .await?;
                tracing::info!(case.id = %row.id, event = %timer.name, "timer fired");
                let Outcome::Done(seen) = outcome else {
                    return Err(AppError::internal("a timer's step has no idempotency key"));
                };
                Ok(format!(
                    "applied `{}`: case now `{}` at version {}",
                    timer.name, seen.case.state, seen.case.version
                ))
            }
            kind @ ("reminder" | "notice") => {
                let kind = if kind == "notice" {
                    TimerKind::Notice
                } else {
                    TimerKind::Reminder
                };
                let engine = self.engine.clone();
                let (name, due) = (timer.name.clone(), timer.due_at.and_utc());
                let event_due = match kind {
                    // A reminder is about the deadline it precedes.
                    TimerKind::Reminder => due + chrono::Duration::days(engine.reminder_days),
                    _ => due,
                };
                let sent = self
                    .engine
                    .db
                    .write(move |c| -> Result<usize, AppError> {
                        let case = row.into_case().map_err(AppError::internal)?;
                        let wf = engine
                            .registry
                            .get(&case.workflow)
                            .ok_or_else(AppError::not_found)?;
                        let now = engine.clock.now();
                        let rows = engine
                            .notifier
                            .deadline_rows(c, wf, &case, kind, &name, event_due, now)
                            .map_err(|e| AppError::internal(e.to_string()))?;
                        repo::outbox::insert_all(c, &rows)?;
                        Ok(rows.len())
                    })
                    .await?;
                Ok(format!("{} mail(s) queued", sent))
            }
            other => Err(AppError::internal(format!("unknown timer kind `{other}`"))),
        }
    }

    /// Runs until `shutdown` turns true; the first pass runs at once, so timers that fell
    /// due while the service was down fire at start.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let this = &self;
        crate::poll::until_shutdown(
            "timer scheduler",
            self.interval,
            shutdown,
            move || async move { this.pass().await.map(|p| p.fired + p.dropped > 0) },
        )
        .await;
    }
}

/// The case said no (the event is no longer allowed, or the case is gone): not a fault.
fn is_refusal(e: &AppError) -> bool {
    matches!(
        e.kind,
        ErrorKind::InvalidTransition
            | ErrorKind::Forbidden
            | ErrorKind::Validation
            | ErrorKind::NotFound
    )
}
