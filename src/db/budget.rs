//! A time budget for the queries of reports (statistics, the ledger): a request that would
//! hold a database connection and a core for longer is stopped and answered 503, so that a
//! few staff members asking for a large subtree at once cannot take the service from
//! everyone else. PostgreSQL stops a statement past its `statement_timeout` (set for the
//! one transaction of the read); SQLite calls a progress handler every few thousand steps
//! of its virtual machine, which interrupts the statement once the reading thread's
//! deadline has passed (each reader connection gets the handler when it is opened; a read
//! runs on one thread from start to end).

use std::cell::Cell;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{DbConnection, DbError, Failed};

thread_local! {
    /// When the read running on this thread must stop (SQLite), if it has a budget.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// How many virtual machine steps SQLite takes between two looks at the deadline: a few
/// microseconds of work, so that a read overruns its budget by no more than that.
const STEPS: i32 = 4096;

/// Gives a SQLite reader connection the handler that enforces [`DEADLINE`].
///
/// # Safety
/// `db` is an open connection, used from then on by one thread at a time.
pub(super) unsafe fn install(db: *mut libsqlite3_sys::sqlite3) {
    unsafe extern "C" fn past_deadline(_: *mut std::ffi::c_void) -> std::ffi::c_int {
        DEADLINE
            .with(|d| d.get())
            .is_some_and(|at| Instant::now() >= at) as std::ffi::c_int
    }
    // SAFETY: as the caller promises; the handler takes no argument.
    unsafe {
        libsqlite3_sys::sqlite3_progress_handler(
            db,
            STEPS,
            Some(past_deadline),
            std::ptr::null_mut(),
        )
    };
}

/// Runs `f` on `conn` (a reader, already inside its read transaction on SQLite) with at most
/// `budget` per statement: a statement that runs longer fails, and [`over_budget`] says so.
pub(super) fn within<T, E: From<DbError>>(
    conn: &mut DbConnection,
    budget: Duration,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    match conn {
        DbConnection::Sqlite(_) => {
            struct Reset;
            impl Drop for Reset {
                fn drop(&mut self) {
                    DEADLINE.with(|d| d.set(None));
                }
            }
            let _reset = Reset;
            DEADLINE.with(|d| d.set(Some(Instant::now() + budget)));
            f(conn)
        }
        DbConnection::Pg(_) => {
            let ms = budget.as_millis().max(1);
            let out = conn.transaction(|c| {
                c.batch_execute(&format!("SET LOCAL statement_timeout = {ms}"))?;
                f(c).map_err(Failed::Caller)
            });
            match out {
                Ok(v) => Ok(v),
                Err(Failed::Caller(e)) => Err(e),
                Err(Failed::Db(e)) => Err(E::from(DbError::from(e))),
            }
        }
    }
}

/// Whether a query failed because it ran past its budget (SQLite: interrupted by the
/// progress handler; PostgreSQL: cancelled by `statement_timeout`).
pub fn over_budget(e: &diesel::result::Error) -> bool {
    match e {
        diesel::result::Error::DatabaseError(_, info) => {
            let m = info.message();
            m == "interrupted" || m.contains("canceling statement due to statement timeout")
        }
        _ => false,
    }
}
