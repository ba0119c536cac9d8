//! The loop shared by the background workers (mail delivery, timers): run a pass, and
//! when it found nothing to do wait `interval` or until shutdown; stop between passes,
//! never in the middle of one.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Runs `pass` (which says whether it did any work) until `shutdown` turns true.
pub async fn until_shutdown<E, F, Fut>(
    what: &'static str,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut pass: F,
) where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, E>>,
{
    tracing::info!(interval_ms = interval.as_millis() as u64, "{what} started");
    while !*shutdown.borrow() {
        let busy = match pass().await {
            Ok(busy) => busy,
            Err(e) => {
                tracing::warn!(error = %e, "{what} pass failed");
                false
            }
        };
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!("{what} stopped");
}
