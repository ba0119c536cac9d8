//! The delivery worker: claims due outbox rows, sends them, marks them sent; on failure
//! retries with exponential back-off and jitter, then marks the row dead with its error.
//! Runs inside `rongcuo serve` and alone as `rongcuo worker`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lettre::message::Mailbox;
use tokio::sync::watch;

use super::mailer::{Mailer, SendError};
use crate::clock::Clock;
use crate::db::{Db, DbError, repo};
use crate::settings::Mail;

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub poll: Duration,
    pub batch: i64,
    pub lease: chrono::Duration,
    pub retry_base: chrono::Duration,
    pub retry_max: chrono::Duration,
    pub max_attempts: i32,
    /// Mails of a batch in flight at once (each SMTP exchange waits on the network).
    pub concurrency: usize,
    /// Longest one send may take before it counts as a transient failure.
    pub send_timeout: Duration,
}

impl WorkerConfig {
    pub fn from_settings(mail: &Mail) -> WorkerConfig {
        WorkerConfig {
            poll: Duration::from_millis(mail.poll_interval_ms),
            batch: mail.batch_size,
            lease: chrono::Duration::milliseconds(mail.lease_ms as i64),
            retry_base: chrono::Duration::milliseconds(mail.retry_base_ms as i64),
            retry_max: chrono::Duration::milliseconds(mail.retry_max_ms as i64),
            max_attempts: mail.max_attempts,
            concurrency: mail.concurrency.max(1),
            send_timeout: Duration::from_millis(mail.send_timeout_ms),
        }
    }

    /// base · 2^(attempt-1), capped, with ±20 % jitter so retries of many rows spread out.
    pub fn backoff(&self, attempts: i32) -> chrono::Duration {
        let exp = attempts.saturating_sub(1).clamp(0, 30) as u32;
        let ms = self
            .retry_base
            .num_milliseconds()
            .saturating_mul(1i64 << exp.min(30));
        let capped = ms.min(self.retry_max.num_milliseconds()).max(1);
        let jitter = 0.8 + fastrand::f64() * 0.4;
        chrono::Duration::milliseconds((capped as f64 * jitter) as i64)
    }
}

pub struct Worker {
    pub db: Db,
    pub mailer: Arc<Mailer>,
    pub from: Mailbox,
    pub clock: Clock,
    pub config: WorkerConfig,
}

enum Outcome {
    Sent,
    Retried,
    Dead,
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
}

impl Pass {
    pub fn total(&self) -> usize {
        self.sent + self.retried + self.dead
    }
}

/// Test hook: `RONGCUO_FAILPOINT=exit_after_send` ends the process right after a send,
/// before it is marked (the crash the outbox must survive).
fn exit_after_send() -> bool {
    std::env::var("RONGCUO_FAILPOINT").is_ok_and(|v| v == "exit_after_send")
}

impl Worker {
    /// Claims and delivers one batch.
    pub async fn pass(&self) -> Result<Pass, DbError> {
        let now = self.clock.now().naive_utc();
        let lease_until = now + self.config.lease;
        let batch = self.config.batch;
        let rows = self
            .db
            .write(move |c| Ok::<_, DbError>(repo::outbox::claim_due(c, now, lease_until, batch)?))
            .await?;
        let outcomes: Vec<Result<Outcome, DbError>> = futures_util::stream::iter(rows)
            .map(|row| self.deliver(row))
            .buffer_unordered(self.config.concurrency)
            .collect()
            .await;
        let mut pass = Pass::default();
        for outcome in outcomes {
            match outcome? {
                Outcome::Sent => pass.sent += 1,
                Outcome::Retried => pass.retried += 1,
                Outcome::Dead => pass.dead += 1,
            }
        }
        Ok(pass)
    }

    /// Sends one claimed row and records the result.
    async fn deliver(&self, row: crate::db::models::OutboxRow) -> Result<Outcome, DbError> {
        {
            // lettre bounds only the connect; a relay that stops answering mid-exchange
            // must not hold the batch (and shutdown) forever.
            let result = match tokio::time::timeout(
                self.config.send_timeout,
                self.mailer.send(&self.from, &row),
            )
            .await
            {
                Ok(result) => result,
                Err(_) => Err(SendError {
                    permanent: false,
                    message: format!(
                        "no answer from the SMTP server within {} ms",
                        self.config.send_timeout.as_millis()
                    ),
                }),
            };
            let (id, attempts) = (row.id.clone(), row.attempts);
            match result {
                Ok(()) => {
                    if exit_after_send() {
                        tracing::warn!(outbox.id = %id, "failpoint: exiting after send, before mark");
                        std::process::exit(86);
                    }
                    let at = self.clock.now().naive_utc();
                    self.db
                        .write(move |c| {
                            Ok::<_, DbError>(repo::outbox::mark_sent(c, &id, attempts, at)?)
                        })
                        .await?;
                    tracing::info!(outbox.id = %row.id, case.id = %row.case_id, relation = %row.relation, "mail sent");
                    crate::metrics::mail("sent");
                    Ok(Outcome::Sent)
                }
                Err(SendError { permanent, message }) => {
                    let give_up = permanent || row.attempts >= self.config.max_attempts;
                    let retry_at = (!give_up)
                        .then(|| self.clock.now().naive_utc() + self.config.backoff(row.attempts));
                    let msg = message.clone();
                    self.db
                        .write(move |c| {
                            Ok::<_, DbError>(repo::outbox::mark_failed(
                                c, &id, attempts, &msg, retry_at,
                            )?)
                        })
                        .await?;
                    if give_up {
                        tracing::error!(outbox.id = %row.id, attempts = row.attempts, permanent, error = %message, "mail dead");
                        crate::metrics::mail("dead");
                        Ok(Outcome::Dead)
                    } else {
                        tracing::warn!(outbox.id = %row.id, attempts = row.attempts, error = %message, "mail failed, will retry");
                        crate::metrics::mail("failed");
                        Ok(Outcome::Retried)
                    }
                }
            }
        }
    }

    /// Runs until `shutdown` turns true; finishes the batch in hand first.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let this = &self;
        tracing::info!(transport = %self.mailer.describe(), "mail transport");
        crate::poll::until_shutdown(
            "mail worker",
            self.config.poll,
            shutdown,
            move || async move { this.pass().await.map(|p| p.total() > 0) },
        )
        .await;
    }
}
