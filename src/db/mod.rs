//! Database access. The backend is picked from the URL's scheme (never by trial), SQLite
//! writes go through one writer connection, reads through a pool, and every
//! read-modify-write runs in one transaction (`BEGIN IMMEDIATE` on SQLite).
//!
//! Here: the connection type, [`Db`] (where a closure runs: reader, writer, the writer
//! thread's queue) and the transaction helper. Beside it: `url` (which backend), `error`
//! (what a failure means), `pool` (connections and when to ping them), `sqlite` (SQLite's
//! process settings and per-connection pragmas), `writer` (SQLite's group commit), `exec`
//! (the threads queries run on), `budget` (reports' time limit), `repo` (the queries).

pub mod budget;
mod error;
mod exec;
pub mod migrations;
pub mod models;
mod pool;
pub mod repo;
pub mod schema;
mod sqlite;
mod url;
mod writer;

pub use error::{DbError, connection_lost};
pub use pool::Manager;
use pool::{Failed, Pool, run, run_read};
pub use url::{Backend, DbUrl};

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};

/// One connection type for both backends (diesel's `MultiConnection`).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the backend's own connection (`SqliteConnection` or
/// `PgConnection`); `$body` is compiled once for each.
///
/// Going through [`DbConnection`] itself costs at every execution: diesel's
/// `MultiConnection` writes the statement's whole SQL text out again each time its query is
/// walked (for the cache key, for the bind values, for the cache check), even when the
/// prepared statement is cached. On the backend's own connection a query with a static
/// type is found in the statement cache by that type and only its values are bound: about
/// a tenth of the service's CPU per transition, half of it on SQLite's one writer thread
/// (BENCHMARKS.md). Queries on the hot paths (a transition, a filing, reading a case) go
/// through here; the rest may stay on the enum.
macro_rules! native {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Pg($c) => $body,
        }
    };
}
pub(crate) use native;

/// The backend type of [`DbConnection`], for boxed queries.
pub type DbBackend = <DbConnection as diesel::Connection>::Backend;

/// Handle to the database: a reader pool and a writer pool (one connection on SQLite, fed
/// by the writer thread of [`writer`], which commits queued requests' writes in groups).
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    reader: Pool,
    writer: Pool,
    queue: Option<std::sync::mpsc::Sender<writer::Job>>,
    groups: std::sync::Arc<writer::Counts>,
    /// The threads requests' queries run on ([`exec`]).
    exec: exec::Executor,
}

impl Db {
    /// Connects (blocking) and fails when the database cannot be reached.
    pub fn connect(url: &DbUrl, pool_size: u32) -> Result<Db, DbError> {
        Db::connect_with_timeout(url, pool_size, Duration::from_secs(10))
    }

    /// As [`Db::connect`]; `timeout` bounds how long a caller waits for a connection.
    pub fn connect_with_timeout(
        url: &DbUrl,
        pool_size: u32,
        timeout: Duration,
    ) -> Result<Db, DbError> {
        // libpq loads OpenSSL, whose exit-time cleanup frees its tables while pool threads
        // may still be connecting: a SIGSEGV as the process ends (seen with `audit verify`).
        // Initialise OpenSSL first without that cleanup (OPENSSL_INIT_NO_ATEXIT).
        openssl_sys::init();
        let pool_size = pool_size.max(1);
        // No background connections (min_idle 0): r2d2 otherwise refills idle connections
        // on its own threads, and a process ending during such a connect crashes inside
        // libpq's TLS/Kerberos libraries. Connections are made when a request needs one.
        let build = |read_only: bool, size: u32| {
            r2d2::Pool::builder()
                .max_size(size)
                .min_idle(Some(0))
                .connection_timeout(timeout)
                .error_handler(Box::new(r2d2::NopErrorHandler))
                .build(Manager {
                    url: url.clone(),
                    read_only,
                })
                .map_err(|e| DbError::Connect(format!("{} ({})", url.redacted(), e)))
        };
        let probe = || {
            Manager {
                url: url.clone(),
                read_only: false,
            }
            .open()
            .map(drop)
            .map_err(|e| DbError::Connect(format!("{} ({})", url.redacted(), e.to_string().trim())))
        };
        match url.backend {
            Backend::Sqlite => {
                sqlite::sqlite_plan_stability();
                if let Some(dir) = Path::new(&url.target).parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        DbError::Connect(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                // Creates the file and switches it to WAL before any reader opens it.
                probe()?;
                let writer = build(false, 1)?;
                let reader = build(true, pool_size)?;
                let groups = std::sync::Arc::new(writer::Counts::default());
                Ok(Db {
                    backend: Backend::Sqlite,
                    reader,
                    queue: Some(writer::start(writer.clone(), groups.clone())),
                    writer,
                    groups,
                    exec: exec::Executor::start(pool_size as usize, timeout),
                })
            }
            Backend::Postgres => {
                probe()?;
                let pool = build(false, pool_size)?;
                Ok(Db {
                    backend: Backend::Postgres,
                    reader: pool.clone(),
                    writer: pool,
                    queue: None,
                    groups: Default::default(),
                    exec: exec::Executor::start(pool_size as usize, timeout),
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQLite: how many groups of queued writes were committed, and how many requests'
    /// writes they held (both 0 on PostgreSQL, which commits each on its own).
    pub fn write_groups(&self) -> (u64, u64) {
        self.groups.get()
    }

    /// Runs `f` on a reader connection, off the async workers.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.reader.clone();
        // The caller's span (with its request id) goes along to the database thread.
        let span = tracing::Span::current();
        self.exec
            .run(move || {
                let _entered = span.enter();
                let mut conn = pool.get().map_err(DbError::from)?;
                run_read(&mut conn, f)
            })
            .await
    }

    /// [`Db::read`] with at most `budget` per statement ([`budget`]): a report's read, which
    /// fails rather than hold a connection and a core for longer.
    pub async fn read_within<T, E, F>(&self, budget: Duration, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.read(move |c| budget::within(c, budget, f)).await
    }

    /// Runs `f` inside one write transaction on the writer, off the async workers.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        if let Some(queue) = &self.queue {
            return queued(queue, f).await;
        }
        let db = self.clone();
        let span = tracing::Span::current();
        self.exec
            .run(move || {
                let _entered = span.enter();
                db.write_blocking(f)
            })
            .await
    }

    /// Runs `decide` on a reader connection, then `write` with what it decided inside one
    /// write transaction: the writer (SQLite's only one) is held for the writes alone.
    /// On PostgreSQL, when `one_statement` says `write` will send a single statement (atomic
    /// by itself), it runs without `BEGIN` and `COMMIT`: two round trips fewer.
    pub async fn read_then_write<T, U, E, F, W>(
        &self,
        decide: F,
        one_statement: fn(&T) -> bool,
        write: W,
    ) -> Result<U, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        W: FnOnce(&mut DbConnection, T) -> Result<U, E> + Send + 'static,
        T: Send + 'static,
        U: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        if let Some(queue) = &self.queue {
            // SQLite: decide on a reader, then queue the writes for the writer thread.
            let decided = self.read(decide).await?;
            return queued(queue, move |c| write(c, decided)).await;
        }
        let pool = self.writer.clone();
        let span = tracing::Span::current();
        self.exec
            .run(move || {
                let _entered = span.enter();
                // One pool: keep the connection for both steps (one checkout, not two).
                let mut conn = pool.get().map_err(DbError::from)?;
                let decided = run(&mut conn, decide)?;
                if one_statement(&decided) {
                    return run(&mut conn, |c| write(c, decided));
                }
                run(&mut conn, |c| transaction(c, |c| write(c, decided)))
            })
            .await
    }

    /// Blocking form of [`Db::write`], for the command line and workers' threads.
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<DbError> + From<diesel::result::Error>,
    {
        let mut conn = self.writer.get().map_err(DbError::from)?;
        run(&mut conn, |c| transaction(c, f))
    }

    /// Blocking read, for the command line.
    pub fn read_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<DbError>,
    {
        let mut conn = self.reader.get().map_err(DbError::from)?;
        run(&mut conn, f)
    }

    /// A connection from the writer pool without a transaction (migrations).
    pub fn writer_connection(&self) -> Result<r2d2::PooledConnection<Manager>, DbError> {
        Ok(self.writer.get()?)
    }
}

/// Hands `f` to the writer thread and waits (without holding a thread) for the answer, which
/// comes after the `COMMIT` of its group.
async fn queued<T, E, F>(queue: &std::sync::mpsc::Sender<writer::Job>, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + From<diesel::result::Error> + Send + 'static,
{
    let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, E>>();
    let span = tracing::Span::current();
    let job: writer::Job = Box::new(move |conn: Result<&mut DbConnection, DbError>| {
        let _entered = span.enter();
        let out = match conn {
            Ok(conn) => f(conn),
            Err(e) => Err(E::from(e)),
        };
        let ok = out.is_ok();
        let finish: writer::Finish = Box::new(move |committed| {
            let _ = answer.send(match (out, committed) {
                (Ok(value), Ok(())) => Ok(value),
                (Ok(_), Err(e)) => Err(E::from(e)),
                (Err(e), _) => Err(e),
            });
        });
        (ok, finish)
    });
    queue.send(job).map_err(|_| DbError::Task)?;
    answered.await.map_err(|_| DbError::Task)?
}

/// The one transaction helper: `BEGIN IMMEDIATE` on SQLite (so a read-modify-write never
/// fails half-way with "database is locked"), an ordinary transaction on PostgreSQL.
pub fn transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Pg(_) => conn.transaction(f),
        DbConnection::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")?;
            match catch_unwind(AssertUnwindSafe(|| f(conn))) {
                Ok(Ok(value)) => match conn.batch_execute("COMMIT") {
                    Ok(()) => Ok(value),
                    Err(e) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        Err(e.into())
                    }
                },
                Ok(Err(e)) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(e)
                }
                Err(panic) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    resume_unwind(panic)
                }
            }
        }
    }
}
