//! The connection pools: opening a connection with each backend's settings, when to ping
//! one, and running a caller's closure on one (a reader's inside one read transaction).

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{Backend, DbConnection, DbError, DbUrl, sqlite};

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
pub(super) fn run<T, E>(
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
pub(super) enum Failed<E> {
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
pub(super) fn run_read<T, E: From<DbError>>(
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

#[derive(Debug)]
pub struct Manager {
    pub(super) url: DbUrl,
    pub(super) read_only: bool,
}

impl Manager {
    pub(super) fn open(&self) -> Result<DbConnection, ConnectionError> {
        match self.url.backend {
            Backend::Postgres => Ok(DbConnection::Pg(PgConnection::establish(&self.url.target)?)),
            Backend::Sqlite => Ok(DbConnection::Sqlite(sqlite::open(
                &self.url.target,
                self.read_only,
            )?)),
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

pub(super) type Pool = r2d2::Pool<Manager>;
