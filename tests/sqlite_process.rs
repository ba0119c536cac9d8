//! SQLite's process-wide settings (`db::sqlite_process_config`), in a test binary of its
//! own: they can only be made before anything in the process has opened SQLite.

use diesel::connection::SimpleConnection;
use libsqlite3_sys as ffi;
use rongcuo::db::{Db, DbUrl, migrations};

/// The writer and the readers do not share a mutex on every allocation: SQLite keeps no
/// memory statistics, so the memory it reports in use stays 0 after real work (with them
/// it counts every byte its connections hold).
#[test]
fn sqlite_keeps_no_memory_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let url = DbUrl::parse(&format!("sqlite://{}/test.db", dir.path().display())).unwrap();
    let db = Db::connect(&url, 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    conn.batch_execute("CREATE TABLE t (x TEXT); INSERT INTO t VALUES (hex(randomblob(5000)));")
        .unwrap();
    let (mut current, mut highwater) = (-1i64, -1i64);
    // SAFETY: two valid out-pointers for the status counter's values.
    let rc = unsafe {
        ffi::sqlite3_status64(
            ffi::SQLITE_STATUS_MEMORY_USED,
            &mut current,
            &mut highwater,
            0,
        )
    };
    assert_eq!(rc, ffi::SQLITE_OK);
    assert_eq!(
        (current, highwater),
        (0, 0),
        "SQLite counted its memory: the settings came too late or were not made"
    );
}
