use diesel::connection::SimpleConnection;
use rongcuo::db::{Db, DbError, DbUrl, migrations};

use crate::helpers::*;

/// The migrations of each backend (`migrations/sqlite`, `migrations/postgres`).
const MIGRATIONS: usize = 16;

/// Reverts the newest migrations down to migration `version` included (as a deployment
/// before it was released would have them), and says how many it reverted.
fn revert_through(conn: &mut rongcuo::db::DbConnection, version: usize) -> usize {
    let suffix = format!("{version:06}");
    for n in 1..=MIGRATIONS {
        if migrations::revert_last(conn).unwrap().ends_with(&suffix) {
            return n;
        }
    }
    panic!("migration {suffix} was never reverted");
}

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
    let reverted = revert_through(&mut conn, 5);
    conn.batch_execute(&format!(
        "{}
         INSERT INTO transitions (case_id, seq, event, from_state, to_state, actor_id,
            actor_role, payload, at, prev_hash, hash)
         VALUES ('c1', 1, 'create', NULL, 'filed', 's', 'cadre', '{{}}', '2026-01-01 00:00:00',
                 'g', 'first'),
                ('c1', 2, 'accept', 'filed', 'investigating', 'i', 'intake', '{{}}',
                 '2026-01-01 00:00:00', 'first', 'second');",
        insert_case_sql("c1", "investigating", 2)
    ))
    .unwrap();
    assert_eq!(migrations::run_pending(&mut conn).unwrap().len(), reverted);
    drop(conn);
    let heads: Vec<(String, String, i64, String)> = db
        .read_blocking(|c| rongcuo::db::repo::cases::all_ids(c).map_err(DbError::from))
        .unwrap();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].3, "second", "the head is the newest row's hash");
}

/// Migration 9 hides from their subject the reports that never reached an inquiry or a
/// conclusion, and leaves every other case visible.
fn disclosed_is_backfilled(url: &str) {
    let db = Db::connect(&DbUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    let reverted = revert_through(&mut conn, 9);
    let report = |id: &str, state: &str, version: i64| {
        insert_case_sql(id, state, version).replace("'exoneration'", "'clarification'")
    };
    let row = |id: &str, seq: i64, to: &str| {
        format!(
            "INSERT INTO transitions (case_id, seq, event, from_state, to_state, actor_id,
                actor_role, payload, at, prev_hash, hash)
             VALUES ('{id}', {seq}, 'e', NULL, '{to}', 'a', 'intake', '{{}}',
                '2026-01-01 00:00:00', 'p', 'h{seq}');"
        )
    };
    conn.batch_execute(
        &[
            insert_case_sql("exo", "filed", 1),
            report("received", "received", 1),
            row("received", 1, "received"),
            report("asked", "investigating", 3),
            row("asked", 1, "received"),
            row("asked", 2, "inquiry"),
            row("asked", 3, "investigating"),
            report("buried", "closed", 3),
            row("buried", 1, "received"),
            row("buried", 2, "dismissed"),
            row("buried", 3, "closed"),
            report("cleared", "clarified", 3),
            row("cleared", 1, "received"),
            row("cleared", 2, "investigating"),
            row("cleared", 3, "unfounded"),
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(migrations::run_pending(&mut conn).unwrap().len(), reverted);
    drop(conn);
    let mut disclosed: Vec<(String, bool)> = db
        .read_blocking(|c| {
            use diesel::prelude::*;
            use rongcuo::db::schema::cases;
            Ok::<_, DbError>(cases::table.select((cases::id, cases::disclosed)).load(c)?)
        })
        .unwrap();
    disclosed.sort();
    assert_eq!(
        disclosed,
        [
            ("asked".to_string(), true),
            ("buried".to_string(), false),
            ("cleared".to_string(), true),
            ("exo".to_string(), true),
            ("received".to_string(), false),
        ]
    );
}

/// A case's id, outcome and talk state.
type CaseColumns = (String, Option<String>, Option<String>);

/// Migration 10 gives existing cases the outcome and talk state statistics count, and each
/// transition the whole seconds since the one before (`stage_seconds`), with sub-second
/// parts, on both backends, exactly as the service computes it for new rows.
fn statistics_columns_are_backfilled(url: &str) {
    let db = Db::connect(&DbUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    let reverted = revert_through(&mut conn, 10);
    let row = |seq: i64, at: &str| {
        format!(
            "INSERT INTO transitions (case_id, seq, event, from_state, to_state, actor_id,
                actor_role, payload, at, prev_hash, hash)
             VALUES ('c1', {seq}, 'e', 'filed', 'filed', 'a', 'intake', '{{}}', '{at}', 'p', 'h{seq}');"
        )
    };
    let data = r#"{"decision": {"outcome": "mitigate"}, "talk": {"state": "due"}}"#;
    conn.batch_execute(
        &[
            insert_case_sql("c1", "mitigated", 4).replace("'{}'", &format!("'{data}'")),
            insert_case_sql("c2", "unfounded", 1)
                .replace("'exoneration'", "'clarification'")
                .replace("'{}'", r#"'{"conclusion": {"finding": "unfounded"}}'"#),
            row(1, "2026-01-01 00:00:00"),
            row(2, "2026-01-01 00:59:59.900000"),
            row(3, "2026-01-01 01:00:00.100000"),
            row(4, "2026-01-03 01:00:00.100001"),
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(migrations::run_pending(&mut conn).unwrap().len(), reverted);
    drop(conn);
    let (cases, seconds): (Vec<CaseColumns>, Vec<Option<i64>>) = db
        .read_blocking(|c| {
            use diesel::prelude::*;
            use rongcuo::db::schema::{cases, transitions};
            let cases = cases::table
                .select((cases::id, cases::outcome, cases::talk_state))
                .order(cases::id)
                .load(c)?;
            let seconds = transitions::table
                .select(transitions::stage_seconds)
                .order(transitions::seq)
                .load(c)?;
            Ok::<_, DbError>((cases, seconds))
        })
        .unwrap();
    assert_eq!(
        cases,
        [
            ("c1".into(), Some("mitigate".into()), Some("due".into())),
            ("c2".into(), Some("unfounded".into()), None),
        ]
    );
    assert_eq!(seconds, [None, Some(3599), Some(0), Some(172_800)]);
}

#[test]
fn statistics_columns_are_backfilled_by_their_migration() {
    with_each_database_url(statistics_columns_are_backfilled);
}

#[test]
fn disclosed_is_backfilled_by_its_migration() {
    with_each_database_url(disclosed_is_backfilled);
}

#[test]
fn audit_head_is_backfilled_by_its_migration() {
    with_each_database_url(audit_head_is_backfilled);
}

/// Migration 12 moves the searched text of existing cases to `case_search` and builds its
/// trigram index: a search after the upgrade finds them, by the index and by walking.
fn search_text_moves_to_its_table(url: &str) {
    use rongcuo::db::repo::cases::{ListFilter, Visibility, list_sorting_at_most};
    let db = Db::connect(&DbUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    revert_through(&mut conn, 12);
    conn.batch_execute(&format!(
        "{}{}
         UPDATE cases SET search_text = '招商引资中先行先试' WHERE id = 'c1';
         UPDATE cases SET search_text = '改革探索' WHERE id = 'c2';",
        insert_case_sql("c1", "filed", 1),
        insert_case_sql("c2", "filed", 1),
    ))
    .unwrap();
    migrations::run_pending(&mut conn).unwrap();
    let visibility = Visibility {
        person_id: "staff".into(),
        org_subtrees: vec!["p1".into()],
        ..Default::default()
    };
    for (q, expected) in [
        ("先行先试", vec!["c1"]),
        ("探索", vec!["c2"]),
        ("无关", vec![]),
    ] {
        for at_most in [0, i64::MAX] {
            let f = ListFilter {
                q: Some(q.into()),
                ..ListFilter::new("exoneration", visibility.clone(), 10)
            };
            let ids: Vec<String> = list_sorting_at_most(&mut conn, &f, at_most)
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect();
            assert_eq!(ids, expected, "q = {q}, at most {at_most}");
        }
    }
}

/// A stage span as statistics read it: case, seq, org, subject, disclosed, stage, seconds.
type Span = (String, i64, String, String, bool, String, i64);

fn spans(conn: &mut rongcuo::db::DbConnection) -> Vec<Span> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        case_id: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        subject_org: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        subject_id: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        disclosed: bool,
        #[diesel(sql_type = diesel::sql_types::Text)]
        stage: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seconds: i64,
    }
    let rows: Vec<Row> = diesel::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT case_id, seq, subject_org, subject_id, disclosed, stage, seconds
             FROM stage_spans ORDER BY case_id, seq",
        ),
        conn,
    )
    .unwrap();
    rows.into_iter()
        .map(|r| {
            (
                r.case_id,
                r.seq,
                r.subject_org,
                r.subject_id,
                r.disclosed,
                r.stage,
                r.seconds,
            )
        })
        .collect()
}

/// Migration 14 builds the stage spans of existing transitions (a transition out of a state,
/// with its seconds), with its case's org, subject and disclosure; afterwards its triggers
/// add the span of each new transition and follow a case's disclosure, on both backends.
fn stage_spans_are_built(url: &str) {
    let db = Db::connect(&DbUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    let reverted = revert_through(&mut conn, 14);
    let row = |id: &str, seq: i64, from: Option<&str>, to: &str, secs: Option<i64>| {
        let from = from.map_or("NULL".to_string(), |f| format!("'{f}'"));
        let secs = secs.map_or("NULL".to_string(), |s| s.to_string());
        format!(
            "INSERT INTO transitions (case_id, seq, event, from_state, to_state, actor_id,
                actor_role, payload, at, prev_hash, hash, stage_seconds)
             VALUES ('{id}', {seq}, 'e', {from}, '{to}', 'a', 'intake', '{{}}',
                '2026-01-01 00:00:00', 'p', 'h{seq}', {secs});"
        )
    };
    let report = insert_case_sql("r1", "preliminary", 2)
        .replace("'exoneration'", "'clarification'")
        .replace("'p1'", "'p1/c2'");
    conn.batch_execute(
        &[
            insert_case_sql("c1", "investigating", 3),
            row("c1", 1, None, "filed", None),
            row("c1", 2, Some("filed"), "accepted", Some(60)),
            row("c1", 3, Some("accepted"), "investigating", Some(7200)),
            report,
            row("r1", 1, None, "received", None),
            row("r1", 2, Some("received"), "preliminary", Some(30)),
            "UPDATE cases SET disclosed = false WHERE id = 'r1';".to_string(),
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(migrations::run_pending(&mut conn).unwrap().len(), reverted);
    let span = |id: &str, seq, org: &str, disclosed, stage: &str, secs| -> Span {
        (
            id.into(),
            seq,
            org.into(),
            "s".into(),
            disclosed,
            stage.into(),
            secs,
        )
    };
    let built = [
        span("c1", 2, "p1", true, "filed", 60),
        span("c1", 3, "p1", true, "accepted", 7200),
        span("r1", 2, "p1/c2", false, "received", 30),
    ];
    assert_eq!(spans(&mut conn), built, "built from the transitions");
    // A new transition brings its span, and its case's disclosure the case's spans; on
    // PostgreSQL in one statement, as the service writes a transition.
    let disclose = "UPDATE cases SET disclosed = true, state = 'inquiry' WHERE id = 'r1'";
    conn.batch_execute(&if url.starts_with("postgres") {
        format!(
            "WITH u AS ({disclose} RETURNING id)
             INSERT INTO transitions (case_id, seq, event, from_state, to_state, actor_id,
                actor_role, payload, at, prev_hash, hash, stage_seconds)
             SELECT id, 3, 'e', 'preliminary', 'inquiry', 'a', 'intake', '{{}}',
                '2026-01-01 00:00:00', 'p', 'h3', 5 FROM u"
        )
    } else {
        format!(
            "{disclose}; {}",
            row("r1", 3, Some("preliminary"), "inquiry", Some(5))
        )
    })
    .unwrap();
    assert_eq!(
        spans(&mut conn),
        [
            built[0].clone(),
            built[1].clone(),
            span("r1", 2, "p1/c2", true, "received", 30),
            span("r1", 3, "p1/c2", true, "preliminary", 5),
        ],
        "a disclosed case's spans count for everyone"
    );
}

#[test]
fn stage_spans_are_built_by_their_migration_and_kept_by_triggers() {
    with_each_database_url(stage_spans_are_built);
}

#[test]
fn search_text_moves_to_its_table_in_its_migration() {
    with_each_database_url(search_text_moves_to_its_table);
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

/// PostgreSQL: a mail of a few kilobytes of Chinese text is stored whole in its outbox row,
/// neither compressed nor moved to the TOAST table (migration 8), so a transition writes
/// one row for it, not a row, a TOAST row and a TOAST index entry.
#[test]
fn a_mail_row_stays_whole_on_postgres() {
    let Some(pg) = crate::helpers::create_pg_database() else {
        eprintln!("RONGCUO_TEST_POSTGRES_URL is not set: skipped");
        return;
    };
    let db = Db::connect(&DbUrl::parse(&pg.url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    let body = "您好，关于您的容错免责申请，请在规定期限内补充会议纪要等材料。".repeat(30);
    assert!(body.len() > 2500);
    conn.batch_execute(&format!(
        "{}
         INSERT INTO outbox (id, case_id, seq, recipient_name, recipient_email, relation,
            template, subject, body_text, body_html, message_id, state, next_attempt_at,
            created_at)
         VALUES ('m1', 'c1', 1, 'S', 's@x.cn', 'subject', 't', '主题', '{body}', '<p>{body}</p>',
            '<m1@rongcuo>', 'pending', '2026-01-01 00:00:00', '2026-01-01 00:00:00');",
        insert_case_sql("c1", "filed", 1)
    ))
    .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Sizes {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        stored: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        plain: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        toast: i64,
    }
    let sizes: Sizes = match &mut **conn {
        rongcuo::db::DbConnection::Pg(c) => diesel::RunQueryDsl::get_result(
            diesel::sql_query(
                "SELECT pg_column_size(body_text)::bigint + pg_column_size(body_html) AS stored,
                    (octet_length(body_text) + octet_length(body_html))::bigint AS plain,
                    (SELECT pg_relation_size(reltoastrelid) FROM pg_class
                     WHERE relname = 'outbox') AS toast
                 FROM outbox WHERE id = 'm1'",
            ),
            c,
        )
        .unwrap(),
        rongcuo::db::DbConnection::Sqlite(_) => unreachable!(),
    };
    assert!(
        sizes.stored >= sizes.plain && sizes.toast == 0,
        "stored {} bytes for {} of text, TOAST table {} bytes",
        sizes.stored,
        sizes.plain,
        sizes.toast
    );
}
