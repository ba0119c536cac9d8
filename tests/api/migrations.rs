use diesel::connection::SimpleConnection;
use rongcuo::db::{Db, DbError, DbUrl, migrations};

use crate::helpers::*;

/// The migrations of each backend (`migrations/sqlite`, `migrations/postgres`).
const MIGRATIONS: usize = 7;

fn up_down_up(url: &str) {
    let db = Db::connect(&DbUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    assert_eq!(
        migrations::run_pending(&mut conn).unwrap().len(),
        MIGRATIONS
    );
    assert_eq!(migrations::pending_count(&mut conn).unwrap(), 0);
    conn.batch_execute(
        "SELECT count(*) FROM cases; SELECT count(*) FROM outbox; SELECT count(*) FROM timers",
    )
    .unwrap();
    assert_eq!(migrations::revert_all(&mut conn).unwrap().len(), MIGRATIONS);
    assert!(
        conn.batch_execute("SELECT count(*) FROM cases").is_err(),
        "down dropped the tables"
    );
    assert_eq!(migrations::pending_count(&mut conn).unwrap(), MIGRATIONS);
    assert_eq!(
        migrations::run_pending(&mut conn).unwrap().len(),
        MIGRATIONS
    );
    drop(conn);
    let r: Result<(), DbError> =
        db.write_blocking(|c| Ok(c.batch_execute("SELECT count(*) FROM transitions")?));
    r.unwrap();
}

/// Migration 5 gives existing cases the hash of their newest audit row, which the next
/// transition chains to: a case left without it would break its chain.
fn audit_head_is_backfilled(url: &str) {
    let db = Db::connect(&DbUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    for version in ["000007", "000006", "000005"] {
        assert!(
            migrations::revert_last(&mut conn)
                .unwrap()
                .ends_with(version)
        );
    }
    conn.batch_execute(
        "INSERT INTO cases (id, workflow, state, version, subject_id, subject_name, subject_email,
            subject_org, subject_position, applicant_id, applicant_name, applicant_email,
            applicant_role, title, overdue, catalogue_version, data, created_at, updated_at)
         VALUES ('c1', 'exoneration', 'investigating', 2, 's', 'S', 's@x.cn', 'p1', 'x', 's',
            'S', 's@x.cn', 'cadre', 't', false, '1', '{}', '2026-01-01 00:00:00',
            '2026-01-01 00:00:00');
         INSERT INTO transitions (case_id, seq, event, from_state, to_state, actor_id,
            actor_role, payload, at, prev_hash, hash)
         VALUES ('c1', 1, 'create', NULL, 'filed', 's', 'cadre', '{}', '2026-01-01 00:00:00',
                 'g', 'first'),
                ('c1', 2, 'accept', 'filed', 'investigating', 'i', 'intake', '{}',
                 '2026-01-01 00:00:00', 'first', 'second');",
    )
    .unwrap();
    assert_eq!(migrations::run_pending(&mut conn).unwrap().len(), 3);
    drop(conn);
    let heads: Vec<(String, String, i64, String)> = db
        .read_blocking(|c| rongcuo::db::repo::cases::all_ids(c).map_err(DbError::from))
        .unwrap();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].3, "second", "the head is the newest row's hash");
}

#[test]
fn audit_head_is_backfilled_by_its_migration() {
    with_each_database_url(audit_head_is_backfilled);
}

#[test]
fn migrations_run_up_down_and_up() {
    with_each_database_url(up_down_up);
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
