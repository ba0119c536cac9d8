use diesel::connection::SimpleConnection;
use rongcuo::db::{Db, DbError, DbUrl, migrations};

use crate::helpers::*;

fn up_down_up(url: &str) {
    let db = Db::connect(&DbUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    assert_eq!(migrations::run_pending(&mut conn).unwrap().len(), 4);
    assert_eq!(migrations::pending_count(&mut conn).unwrap(), 0);
    conn.batch_execute(
        "SELECT count(*) FROM cases; SELECT count(*) FROM outbox; SELECT count(*) FROM timers",
    )
    .unwrap();
    assert_eq!(migrations::revert_all(&mut conn).unwrap().len(), 4);
    assert!(
        conn.batch_execute("SELECT count(*) FROM cases").is_err(),
        "down dropped the tables"
    );
    assert_eq!(migrations::pending_count(&mut conn).unwrap(), 4);
    assert_eq!(migrations::run_pending(&mut conn).unwrap().len(), 4);
    drop(conn);
    let r: Result<(), DbError> =
        db.write_blocking(|c| Ok(c.batch_execute("SELECT count(*) FROM transitions")?));
    r.unwrap();
}

#[test]
fn migrations_run_up_down_and_up_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    up_down_up(&format!("sqlite://{}/m.db", dir.path().display()));
}

#[test]
fn migrations_run_up_down_and_up_on_postgres() {
    let Some(pg) = create_pg_database() else {
        eprintln!("RONGCUO_TEST_POSTGRES_URL is not set: PostgreSQL variant skipped");
        return;
    };
    up_down_up(&pg.url);
}

#[test]
fn an_unreachable_or_malformed_url_is_an_error_never_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = std::env::current_dir().unwrap();
    let err = Db::connect(
        &DbUrl::parse("postgres://postgres@127.0.0.1:1/nothing").unwrap(),
        1,
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert!(DbUrl::parse("nothing.db").is_err());
    assert!(DbUrl::parse("postgres:/nothing").is_err());
    assert!(!cwd.join("nothing.db").exists() && !cwd.join("nothing").exists());
    drop(dir);
}
