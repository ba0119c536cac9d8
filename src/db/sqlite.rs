//! SQLite's process-wide settings and the hook that tunes each reader connection as SQLite
//! opens it (FFI: diesel has no way to reach these).

use diesel::connection::SimpleConnection;
use diesel::{Connection, ConnectionError, SqliteConnection};

use super::budget;

/// Opens the file at `target` with the settings of a reader (`read_only`) or of the writer.
pub(super) fn open(target: &str, read_only: bool) -> Result<SqliteConnection, ConnectionError> {
    OPENING_READER.with(|r| r.set(read_only));
    let opened = SqliteConnection::establish(target);
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
    if read_only {
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
    Ok(conn)
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
pub(super) fn sqlite_plan_stability() {
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
