//! The threads that run requests' database work, off the async workers.
//!
//! diesel blocks, so a request's queries run on another thread while its actix worker
//! serves others. They ran on tokio's blocking pool: one queue behind one lock, which the
//! two actix workers (handing work in) and a dozen or more pool threads (taking it out,
//! parking, being woken) fought over. A profile of transitions on PostgreSQL had ~10 % of
//! the service's CPU in that pool: its lock spinning with `sched_yield`, its condition
//! variable, a thread woken per task (BENCHMARKS.md).
//!
//! Here a fixed set of threads, as many as the pool has connections, take jobs from one
//! lock-free channel: a thread that finishes a job takes the next without sleeping when
//! there is one, and no more threads run queries than there are connections to run them
//! on. A job that waited longer than the pool's connection timeout is not run: the caller
//! gets the same "unavailable" (503) a request waiting for a connection got.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use super::DbError;

type Job = Box<dyn FnOnce(Result<(), DbError>) + Send>;

/// Runs closures on its threads; the threads end when the last clone is dropped.
#[derive(Clone)]
pub(super) struct Executor {
    tx: crossbeam_channel::Sender<(Instant, Job)>,
}

impl Executor {
    pub(super) fn start(threads: usize, timeout: Duration) -> Executor {
        let (tx, rx) = crossbeam_channel::unbounded::<(Instant, Job)>();
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("db-{i}"))
                .spawn(move || {
                    while let Ok((queued, job)) = rx.recv() {
                        let waited = queued.elapsed();
                        let ready = if waited > timeout {
                            Err(DbError::Connect(format!(
                                "no database thread free within {} ms",
                                timeout.as_millis()
                            )))
                        } else {
                            Ok(())
                        };
                        // A job that panics drops its answer's sender (the caller gets
                        // `DbError::Task`); the thread goes on with the next one.
                        let _ = catch_unwind(AssertUnwindSafe(move || job(ready)));
                    }
                })
                .expect("start a database thread");
        }
        Executor { tx }
    }

    /// Runs `f` on one of the threads and waits (without holding a thread) for its result.
    pub(super) async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |ready: Result<(), DbError>| {
            let out = match ready {
                Ok(()) => f(),
                Err(e) => Err(e.into()),
            };
            let _ = answer.send(out);
        });
        self.tx
            .send((Instant::now(), job))
            .map_err(|_| DbError::Task)?;
        answered.await.map_err(|_| DbError::Task)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn runs_jobs_on_its_own_threads_and_survives_a_panic() {
        let exec = Executor::start(2, Duration::from_secs(5));
        runtime().block_on(async {
            let name = exec
                .run(|| Ok::<_, DbError>(std::thread::current().name().map(str::to_string)))
                .await
                .unwrap();
            assert!(name.unwrap().starts_with("db-"));
            let panicked: Result<(), DbError> = exec.run(|| panic!("a job panics")).await;
            assert!(matches!(panicked, Err(DbError::Task)), "{panicked:?}");
            // Both threads still serve.
            for _ in 0..4 {
                assert_eq!(exec.run(|| Ok::<_, DbError>(7)).await.unwrap(), 7);
            }
        });
    }

    #[test]
    fn a_job_queued_past_the_timeout_is_refused_as_unavailable() {
        let exec = Executor::start(1, Duration::from_millis(50));
        runtime().block_on(async {
            // The one thread is busy for 300 ms; the job queued behind it waits too long.
            let busy = exec.run(|| {
                std::thread::sleep(Duration::from_millis(300));
                Ok::<_, DbError>(())
            });
            let late = exec.run(|| Ok::<_, DbError>("ran"));
            let (busy, late) = tokio::join!(busy, late);
            busy.unwrap();
            let e = late.unwrap_err();
            assert!(e.is_unavailable(), "{e:?}");
            // Once free, the thread runs jobs again.
            assert_eq!(exec.run(|| Ok::<_, DbError>(1)).await.unwrap(), 1);
        });
    }
}
