//! Database access. The backend is picked from the URL's scheme (never by trial), SQLite
//! writes go through one writer connection, reads through a pool, and every
//! read-modify-write runs in one transaction (`BEGIN IMMEDIATE` on SQLite).

pub mod budget;
mod exec;
pub mod migrations;
pub mod models;
pub mod repo;
pub mod schema;
mod writer;

use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Url(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database task failed")]
    Task,
}

impl DbError {
    /// True when the database itself is out of reach (pool exhausted or connection lost),
    /// which the HTTP layer answers with 503 rather than 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Pool(_) | DbError::Connect(_) => true,
            DbError::Query(e) => connection_lost(e),
            _ => false,
        }
    }
}

impl DbError {
    /// True when a report's query ran past its time budget ([`budget`]).
    pub fn is_over_budget(&self) -> bool {
        matches!(self, DbError::Query(e) if budget::over_budget(e))
    }
}

/// A query that failed because the connection or the server went away (PostgreSQL
/// restarting, a network cut) or the storage is full, not because of the query: worth a
/// retry later (503).
pub fn connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _) => true,
        Error::DatabaseError(_, info) => {
            let m = info.message().to_ascii_lowercase();
            [
                "terminating connection",
                "server closed the connection",
                "no connection to the server",
                "could not receive data",
                "could not send data",
                "connection to server",
                "the database system is shutting down",
                "the database system is starting up",
                "the database system is in recovery mode",
                "ssl syscall error",
                // SQLite: the disk (or the file system) is full or failing.
                "database or disk is full",
                "disk i/o error",
                "attempt to write a readonly database",
            ]
            .iter()
            .any(|p| m.contains(p))
        }
        _ => false,
    }
}

/// A parsed `database.url`.
#[derive(Clone, Debug)]
pub struct DbUrl {
    backend: Backend,
    target: String,
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let url = url.trim();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path == ":memory:" || path.contains('?') {
                return Err(DbError::Url(
                    "a SQLite URL names a file: sqlite://PATH (relative or absolute)".into(),
                ));
            }
            return Ok(DbUrl {
                backend: Backend::Sqlite,
                target: path.to_string(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
            if rest.is_empty() || rest.starts_with('/') && rest.len() == 1 {
                return Err(DbError::Url(
                    "a PostgreSQL URL needs a host: postgres://USER@HOST/DB".into(),
                ));
            }
            return Ok(DbUrl {
                backend: Backend::Postgres,
                target: url.to_string(),
            });
        }
        Err(DbError::Url(format!(
            "unsupported scheme in `{}`: use sqlite://PATH or postgres://USER@HOST/DB",
            redact(url)
        )))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL with any password hidden, for logs and messages.
    pub fn redacted(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.target),
            Backend::Postgres => redact(&self.target),
        }
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A PostgreSQL connection back from a request less than this long ago is handed out again
/// without a ping: under load, a `SELECT 1` before every use was one statement in twelve of
/// a transition. One idle longer is pinged first, and one whose use failed is pinged then.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// A pooled connection and what the pool knows of it.
pub struct Conn {
    conn: DbConnection,
    /// When it last went back to the pool.
    returned: Instant,
    /// Its last use failed and a ping failed too: the pool drops it.
    broken: bool,
}

impl Deref for Conn {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl Conn {
    /// After a failed use: is the server still there? (A SQLite file cannot go away.)
    fn check_after_error(&mut self) {
        if matches!(self.conn, DbConnection::Pg(_)) && self.conn.batch_execute("SELECT 1").is_err()
        {
            self.broken = true;
        }
    }
}

/// Runs `f` on `conn`; a failure has the connection checked, so a lost one leaves the pool.
fn run<T, E>(
    conn: &mut r2d2::PooledConnection<Manager>,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let out = f(&mut conn.conn);
    if out.is_err() {
        conn.check_after_error();
    }
    out
}

/// Inside a transaction of ours: the caller's failure, or the transaction's own.
enum Failed<E> {
    Caller(E),
    Db(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for Failed<E> {
    fn from(e: diesel::result::Error) -> Self {
        Failed::Db(e)
    }
}

/// Runs `f` on a reader: on SQLite inside one read transaction (`BEGIN` … `COMMIT`), so all
/// its queries see one snapshot and the reader takes up the newest commit once. Each query
/// was a read transaction of its own: a transition's look-ups (the case, then each
/// recipient in the directory) could see different commits, and every one that followed a
/// commit made the reader drop its page cache and memory map again (BENCHMARKS.md).
fn run_read<T, E: From<DbError>>(
    conn: &mut r2d2::PooledConnection<Manager>,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    if !matches!(conn.conn, DbConnection::Sqlite(_)) {
        return run(conn, f);
    }
    // Until the transaction is over the connection counts as broken: if `f` panics, the
    // pool drops it rather than hand out a connection still inside a transaction.
    conn.broken = true;
    // diesel's own transaction (a deferred `BEGIN`), so that a transaction inside `f`
    // becomes a savepoint.
    let out = conn.conn.transaction(|c| f(c).map_err(Failed::Caller));
    // A transaction that could not begin or end may have left diesel's bookkeeping
    // out of step with the connection: such a connection leaves the pool too.
    conn.broken = matches!(out, Err(Failed::Db(_)));
    match out {
        Ok(value) => Ok(value),
        Err(Failed::Caller(e)) => Err(e),
        Err(Failed::Db(e)) => Err(E::from(DbError::from(e))),
    }
}

thread_local! {
    /// Set while this thread opens a reader connection (see [`sqlite_plan_stability`]).
    static OPENING_READER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// SQLite re-prepares a statement whenever a newly bound value might change its plan; with
/// the statistics of `ANALYZE` (STAT4) that is every primary-key look-up of a reader, ~10 %
/// of a transition's CPU. The query planner stability guarantee keeps each statement's
/// plan: on the readers only. The writer keeps planning with the values, which its workers'
/// queries need (claiming due timers out of a million with a plan made without the values
/// held the writer for ~70 ms at a time). Readers also get the progress handler of
/// [`budget`]. Registered once per process; SQLite calls it on
/// the thread that opens each connection, which says whether it opens a reader.
fn sqlite_plan_stability() {
    use libsqlite3_sys as ffi;
    use std::ffi::{c_char, c_int};
    unsafe extern "C" fn on_open(
        db: *mut ffi::sqlite3,
        _err: *mut *mut c_char,
        _api: *const ffi::sqlite3_api_routines,
    ) -> c_int {
        if !OPENING_READER.with(|r| r.get()) {
            return ffi::SQLITE_OK;
        }
        // SAFETY: `db` is the connection SQLite is opening; the option takes an int and an
        // optional out-pointer (null: not wanted).
        unsafe {
            ffi::sqlite3_db_config(
                db,
                ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                1 as c_int,
                std::ptr::null_mut::<c_int>(),
            );
            // And the time budget of reports' reads.
            budget::install(db);
        }
        ffi::SQLITE_OK
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: `on_open` has the entry-point signature SQLite calls it with.
    ONCE.call_once(|| unsafe {
        sqlite_process_config();
        ffi::sqlite3_auto_extension(Some(on_open));
    });
}

/// SQLite's process-wide settings, before SQLite initialises (registering the open hook
/// does): afterwards `sqlite3_config` refuses (`SQLITE_MISUSE`) and they stay at their
/// defaults, which are correct, only slower.
///
/// - No memory statistics: with them every allocation and free of every connection takes
///   one process-wide mutex, which the writer thread and the readers then contend for.
/// - Multi-thread mode rather than serialized: a diesel connection is used by one thread at
///   a time (it is `Send`, not `Sync`; the pools hand it out whole), so the lock SQLite
///   takes around every call on a connection guards nothing.
///
/// # Safety
/// Calls SQLite's variadic `sqlite3_config` with the argument types its options take.
unsafe fn sqlite_process_config() {
    use libsqlite3_sys as ffi;
    use std::ffi::c_int;
    // SAFETY: MEMSTATUS takes one int; MULTITHREAD takes none.
    let memstatus = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) };
    let threading = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD) };
    if memstatus != ffi::SQLITE_OK || threading != ffi::SQLITE_OK {
        tracing::debug!(
            memstatus,
            threading,
            "SQLite was initialised before its settings: defaults kept"
        );
    }
}

#[derive(Debug)]
pub struct Manager {
    url: DbUrl,
    read_only: bool,
}

impl Manager {
    fn open(&self) -> Result<DbConnection, ConnectionError> {
        match self.url.backend {
            Backend::Postgres => Ok(DbConnection::Pg(PgConnection::establish(&self.url.target)?)),
            Backend::Sqlite => {
                OPENING_READER.with(|r| r.set(self.read_only));
                let opened = SqliteConnection::establish(&self.url.target);
                OPENING_READER.with(|r| r.set(false));
                let mut conn = opened?;
                // busy_timeout first, so that switching the journal mode waits for another
                // connection's lock instead of failing; then one statement each, so that an
                // error names its pragma.
                let mut pragmas = vec![
                    "PRAGMA busy_timeout = 5000;",
                    "PRAGMA journal_mode = WAL;",
                    "PRAGMA synchronous = NORMAL;",
                    "PRAGMA foreign_keys = ON;",
                    // Read through a shared mapping of the file rather than each
                    // connection's own small page cache: 16 readers scanning a list page
                    // otherwise copy the same pages in and out of 16 caches (BENCHMARKS.md).
                    // As large as SQLite allows (its SQLITE_MAX_MMAP_SIZE): the pages past
                    // the map are read into each connection's heap, and over a million
                    // cases (2.2 GB) a 1 GiB map held the readers' heaps at ~100 MiB.
                    "PRAGMA mmap_size = 2147418112;",
                ];
                if self.read_only {
                    // A reader's sort larger than its cache (statistics' ranks over a
                    // province) spills to a temporary file, in the page cache: in memory it
                    // grew the heap by the whole sort, ~900 MiB for sixteen at once.
                    pragmas.push("PRAGMA temp_store = FILE;");
                    pragmas.push("PRAGMA query_only = ON;");
                } else {
                    // The writer's savepoints (one per request of a group) keep the pages
                    // they change in a sub-journal: in memory, not a temporary file written
                    // per page.
                    pragmas.push("PRAGMA temp_store = MEMORY;");
                }
                for p in pragmas {
                    conn.batch_execute(p)
                        .map_err(ConnectionError::CouldntSetupConfiguration)?;
                }
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = ConnectionError;

    fn connect(&self) -> Result<Conn, ConnectionError> {
        Ok(Conn {
            conn: self.open()?,
            returned: Instant::now(),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnectionError> {
        if matches!(conn.conn, DbConnection::Sqlite(_)) || conn.returned.elapsed() < PING_AFTER_IDLE
        {
            return Ok(());
        }
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.returned = Instant::now();
        conn.broken
    }
}

type Pool = r2d2::Pool<Manager>;

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
                sqlite_plan_stability();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_picks_the_backend() {
        assert_eq!(
            DbUrl::parse("sqlite://data/x.db").unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DbUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DbUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(DbUrl::parse("mysql://u@h/db").is_err());
        assert!(DbUrl::parse("data/x.db").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
        assert!(DbUrl::parse("sqlite://:memory:").is_err());
    }

    #[test]
    fn redacts_passwords() {
        let url = DbUrl::parse("postgres://app:s3cret@db.local/rc").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db.local/rc");
        let err = DbUrl::parse("mysql://app:s3cret@db/rc")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }
}
