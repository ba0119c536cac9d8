//! SQLite's one writer as a thread with a queue, committing in groups.
//!
//! SQLite takes one writer at a time. With a pool of one connection, every request that
//! writes parked a thread on the pool's lock, woke it when the writer came free, and paid a
//! `COMMIT` of its own, after which every reader threw away its cached pages. Here requests
//! queue their writes instead; the writer thread takes whatever has queued up while it was
//! busy and runs it in one `BEGIN IMMEDIATE … COMMIT`, each request's writes under a
//! savepoint of their own:
//!
//! - each request's writes are still atomic: a request whose writes fail is rolled back to
//!   its savepoint, the others in the group are not touched;
//! - nothing is answered before the group's `COMMIT` returned: a failed `COMMIT` (a full
//!   disk) fails every request of the group, and none of them was acknowledged;
//! - a lone request waits for nobody: a group is what queued while the previous one ran.
//!
//! After its first group and then hourly, the writer brings the query planner's statistics
//! up to date where a table's size changed much since they were taken (`PRAGMA optimize`,
//! with a bounded `analysis_limit`, as SQLite advises long-running applications): planned
//! with the statistics of an `ANALYZE` that saw a nearly empty outbox, SQLite read the
//! whole outbox for each batch of mail it claimed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;

use super::{DbConnection, DbError, Manager};

/// How a request is answered once its group's fate (committed or not) is known.
pub(super) type Finish = Box<dyn FnOnce(Result<(), diesel::result::Error>) + Send>;
/// A request's writes: run on the writer's connection (or told why there is none), they say
/// whether they succeeded and how to answer.
pub(super) type Job =
    Box<dyn for<'a> FnOnce(Result<&'a mut DbConnection, DbError>) -> (bool, Finish) + Send>;

/// At most this many requests share a `COMMIT`.
const MAX_GROUP: usize = 64;

/// How often the writer refreshes the planner's statistics of tables that changed much.
const REANALYSE: Duration = Duration::from_secs(3600);

/// How many groups the writer committed and how many requests they held.
#[derive(Debug, Default)]
pub struct Counts {
    groups: AtomicU64,
    requests: AtomicU64,
}

impl Counts {
    /// (groups, requests) so far.
    pub fn get(&self) -> (u64, u64) {
        (
            self.groups.load(Ordering::Relaxed),
            self.requests.load(Ordering::Relaxed),
        )
    }
}

/// Starts the writer thread; it ends when the last sender is dropped.
pub(super) fn start(pool: r2d2::Pool<Manager>, counts: Arc<Counts>) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || {
            let mut analysed: Option<Instant> = None;
            while let Ok(first) = rx.recv() {
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                counts.groups.fetch_add(1, Ordering::Relaxed);
                counts
                    .requests
                    .fetch_add(group.len() as u64, Ordering::Relaxed);
                write_group(&pool, group);
                if analysed.is_none_or(|at| at.elapsed() >= REANALYSE) {
                    optimize(&pool);
                    analysed = Some(Instant::now());
                }
            }
        })
        .expect("start the SQLite writer thread");
    tx
}

/// `PRAGMA optimize` on the writer's connection: `ANALYZE` of each table whose size changed
/// by a factor of ten or more since its statistics were taken (all tables, not only those
/// this connection queried: 0x10000), each reading at most ~1 000 rows per index.
fn optimize(pool: &r2d2::Pool<Manager>) {
    let done = pool.get().map_err(DbError::from).and_then(|mut conn| {
        conn.batch_execute("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
            .map_err(DbError::from)
    });
    if let Err(e) = done {
        tracing::warn!(error = %e, "PRAGMA optimize failed; the planner keeps its statistics");
    }
}

fn write_group(pool: &r2d2::Pool<Manager>, group: Vec<Job>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            let message = e.to_string();
            for job in group {
                let (_, finish) = job(Err(DbError::Connect(message.clone())));
                finish(Ok(()));
            }
            return;
        }
    };
    let conn: &mut DbConnection = &mut conn;
    let mut finishes: Vec<Finish> = Vec::with_capacity(group.len());
    let alone = group.len() == 1;
    let mut outcome = (|| {
        conn.batch_execute("BEGIN IMMEDIATE")?;
        let mut any = false;
        for job in group {
            if !alone {
                conn.batch_execute("SAVEPOINT request")?;
            }
            let (ok, finish) = match catch_unwind(AssertUnwindSafe(|| job(Ok(&mut *conn)))) {
                Ok(done) => done,
                // A request that panicked is answered by its dropped channel (a 500); the
                // others go on without its writes.
                Err(_) => (false, Box::new(|_| {}) as Finish),
            };
            finishes.push(finish);
            if alone {
                any = ok;
            } else if ok {
                conn.batch_execute("RELEASE request")?;
                any = true;
            } else {
                conn.batch_execute("ROLLBACK TO request; RELEASE request")?;
            }
        }
        conn.batch_execute(if any { "COMMIT" } else { "ROLLBACK" })
    })();
    if outcome.is_err() {
        let _ = conn.batch_execute("ROLLBACK");
    }
    for finish in finishes {
        finish(match &mut outcome {
            Ok(()) => Ok(()),
            Err(e) => Err(copy_error(e)),
        });
    }
}

/// The group's failure, for each of its requests (diesel's error is not `Clone`): the kind
/// where it matters to the caller, and the message (which tells a full disk, say).
fn copy_error(e: &diesel::result::Error) -> diesel::result::Error {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(kind, info) => {
            let kind = match kind {
                DatabaseErrorKind::UniqueViolation => DatabaseErrorKind::UniqueViolation,
                DatabaseErrorKind::SerializationFailure => DatabaseErrorKind::SerializationFailure,
                DatabaseErrorKind::ClosedConnection => DatabaseErrorKind::ClosedConnection,
                _ => DatabaseErrorKind::Unknown,
            };
            Error::DatabaseError(kind, Box::new(info.message().to_string()))
        }
        other => Error::QueryBuilderError(other.to_string().into()),
    }
}
