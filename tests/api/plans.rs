//! The plan of every list query with a million cases, on PostgreSQL and on SQLite: no
//! sequential scan, and on SQLite the page filtered by state and org subtree found from an
//! index alone. The SQL is the one the repository really sends (captured with diesel's
//! instrumentation); PostgreSQL explains it with its binds, SQLite on a reader connection
//! as the service plans it there (plans made without the values: the readers' plan
//! stability guarantee). Slow: runs when RONGCUO_TEST_PLANS=1 (as .ci/run sets), on
//! PostgreSQL when it is configured.

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use diesel::connection::{Connection, InstrumentationEvent, SimpleConnection};
use diesel::{PgConnection, RunQueryDsl, sql_query};
use rongcuo::db::repo::cases::{ListFilter, Visibility, list};
use rongcuo::db::{Db, DbConnection, DbError, DbUrl, migrations};

use crate::helpers::create_pg_database;

const PG_SEED: &str = "
INSERT INTO cases (id, workflow, state, version, subject_id, subject_name, subject_email, subject_org,
    subject_position, applicant_id, applicant_name, applicant_email, applicant_role, investigator_id,
    decider_id, title, overdue, catalogue_version, data, created_at, updated_at)
SELECT md5(i::text), CASE WHEN i % 5 = 0 THEN 'clarification' ELSE 'exoneration' END,
    (ARRAY['filed','investigating','deliberating','exonerated','closed'])[1 + i % 5], 1,
    'u-' || (i % 200000), '干部', 'x@example.cn',
    'p' || (i % 31) || '/c' || (i % 310) || '/u' || (i % 3100), '科员',
    'u-' || (i % 200000), '干部', 'x@example.cn', 'cadre',
    CASE WHEN i % 3 = 0 THEN 'inv-' || (i % 700) END, NULL, '案件 ' || i, i % 97 = 0, '2026.1', '{}',
    timestamp '2023-01-01' + i * interval '1 minute', timestamp '2023-01-01' + i * interval '1 minute'
FROM generate_series(1, 1000000) AS i;
INSERT INTO case_search (case_id, text)
SELECT md5(i::text), 'case ' || i || ' 先检查后招标 description ' || (i % 1000)
FROM generate_series(1, 1000000) AS i;
INSERT INTO transitions (case_id, seq, event, from_state, to_state, actor_id, actor_role, payload,
    at, prev_hash, hash, stage_seconds)
SELECT md5(i::text), s, 'e', CASE WHEN s = 1 THEN NULL ELSE 'filed' END, 'filed', 'a', 'intake', '{}',
    timestamp '2023-01-01' + i * interval '1 minute' + s * interval '1 hour', 'p', 'h',
    CASE WHEN s = 1 THEN NULL ELSE 3600 + i % 7200 END
FROM generate_series(1, 1000000, 5) AS i, generate_series(1, 3) AS s;
ANALYZE cases;
ANALYZE case_search;
ANALYZE transitions;";

const SQLITE_SEED: &str = "
BEGIN IMMEDIATE;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000000)
INSERT INTO cases (id, workflow, state, version, subject_id, subject_name, subject_email, subject_org,
    subject_position, applicant_id, applicant_name, applicant_email, applicant_role, investigator_id,
    decider_id, title, overdue, catalogue_version, data, created_at, updated_at)
SELECT printf('c%09d', i), CASE WHEN i % 5 = 0 THEN 'clarification' ELSE 'exoneration' END,
    CASE i % 5 WHEN 0 THEN 'filed' WHEN 1 THEN 'investigating' WHEN 2 THEN 'deliberating'
               WHEN 3 THEN 'exonerated' ELSE 'closed' END, 1,
    'u-' || (i % 200000), '干部', 'x@example.cn',
    'p' || (i % 31) || '/c' || (i % 310) || '/u' || (i % 3100), '科员',
    'u-' || (i % 200000), '干部', 'x@example.cn', 'cadre',
    CASE WHEN i % 3 = 0 THEN 'inv-' || (i % 700) END, NULL, '案件 ' || i, i % 97 = 0, '2026.1', '{}',
    datetime('2023-01-01', '+' || i || ' minutes'), datetime('2023-01-01', '+' || i || ' minutes')
FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000000)
INSERT INTO case_search (case_id, text)
SELECT printf('c%09d', i), 'case ' || i || ' 先检查后招标 description ' || (i % 1000) FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 5 FROM s WHERE i < 1000000 - 5),
     k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 3)
INSERT INTO transitions (case_id, seq, event, from_state, to_state, actor_id, actor_role, payload,
    at, prev_hash, hash, stage_seconds)
SELECT printf('c%09d', i), n, 'e', CASE WHEN n = 1 THEN NULL ELSE 'filed' END, 'filed', 'a',
    'intake', '{}', datetime('2023-01-01', '+' || i || ' minutes', '+' || n || ' hours'), 'p', 'h',
    CASE WHEN n = 1 THEN NULL ELSE 3600 + i % 7200 END
FROM s, k;
COMMIT;
ANALYZE;";

fn filter() -> ListFilter {
    let visibility = Visibility {
        person_id: "u-staff".into(),
        org_subtrees: vec!["p7".into()],
        ..Default::default()
    };
    ListFilter::new("exoneration", visibility, 21)
}

/// Splits diesel's `[a, "b", 3, ["x", "y"]]` bind list into SQL literals (a list of
/// strings, as `= ANY(…)` binds it, becomes an `ARRAY[…]`).
fn literals(binds: &str) -> Vec<String> {
    fn value(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            Some('"') => {
                chars.next();
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => s.extend(chars.next()),
                        '"' => break,
                        c => s.push(c),
                    }
                }
                format!("'{}'", s.replace('\'', "''"))
            }
            Some('[') => {
                chars.next();
                let mut items = Vec::new();
                loop {
                    while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
                        chars.next();
                    }
                    if chars.peek() == Some(&']') {
                        chars.next();
                        break;
                    }
                    items.push(value(chars));
                }
                format!("ARRAY[{}]", items.join(", "))
            }
            _ => {
                let mut token = String::new();
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == ']' {
                        break;
                    }
                    token.push(c);
                    chars.next();
                }
                let token = token.trim().to_string();
                match token.as_str() {
                    "true" | "false" => token,
                    "None" => "NULL".into(),
                    _ if token.parse::<i64>().is_ok() => token,
                    _ => format!("'{}'", token.replace('\'', "''")),
                }
            }
        }
    }
    let Some(list) = value(&mut binds.trim().chars().peekable())
        .strip_prefix("ARRAY[")
        .and_then(|l| l.strip_suffix(']'))
        .map(str::to_string)
    else {
        return Vec::new();
    };
    // Split the top-level list again on its own commas.
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut cur) = (0, false, String::new());
    let mut prev = ' ';
    for c in list.chars() {
        match c {
            '\'' if !(quoted && prev == '\'') => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 && !quoted {
            out.push(std::mem::take(&mut cur).trim().to_string());
        } else {
            cur.push(c);
        }
        prev = c;
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The list filters to explain, each a query the API can send.
fn filters() -> Vec<(&'static str, ListFilter)> {
    let day = |s: &str| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    };
    vec![
        ("visible to staff", filter()),
        (
            "state",
            ListFilter {
                state: Some("investigating".into()),
                ..filter()
            },
        ),
        (
            "org",
            ListFilter {
                org: Some("p7/c7".into()),
                ..filter()
            },
        ),
        (
            "state and org",
            ListFilter {
                state: Some("investigating".into()),
                org: Some("p7".into()),
                ..filter()
            },
        ),
        (
            "state and org, a city",
            ListFilter {
                state: Some("investigating".into()),
                org: Some("p7/c7".into()),
                ..filter()
            },
        ),
        (
            "state and org, a unit",
            ListFilter {
                state: Some("investigating".into()),
                org: Some("p7/c7/u7".into()),
                ..filter()
            },
        ),
        (
            "large org subtree",
            ListFilter {
                org: Some("p7".into()),
                ..filter()
            },
        ),
        (
            "subject",
            ListFilter {
                subject: Some("u-7".into()),
                ..filter()
            },
        ),
        (
            "investigator",
            ListFilter {
                investigator: Some("inv-42".into()),
                ..filter()
            },
        ),
        (
            "overdue",
            ListFilter {
                overdue: Some(true),
                ..filter()
            },
        ),
        (
            "free text few cases hold",
            ListFilter {
                q: Some("case 777777 ".into()),
                ..filter()
            },
        ),
        (
            "free text many cases hold",
            ListFilter {
                q: Some("description 977".into()),
                ..filter()
            },
        ),
        (
            "free text every case holds",
            ListFilter {
                q: Some("先检查后招标".into()),
                ..filter()
            },
        ),
        (
            "free text of two characters",
            ListFilter {
                q: Some("招标".into()),
                ..filter()
            },
        ),
        (
            "free text few cases hold, state and org",
            ListFilter {
                q: Some("case 77777".into()),
                state: Some("investigating".into()),
                org: Some("p7".into()),
                ..filter()
            },
        ),
        (
            "created range",
            ListFilter {
                created_from: Some(day("2024-03-01")),
                created_to: Some(day("2024-03-08")),
                ..filter()
            },
        ),
        (
            "next page",
            ListFilter {
                after: Some((day("2024-06-01"), "8".into())),
                ..filter()
            },
        ),
        (
            "a unit admin's (disclosed cases only)",
            ListFilter {
                visibility: Visibility {
                    person_id: "u-unit".into(),
                    disclosed_subtrees: vec!["p7/c7".into()],
                    ..Default::default()
                },
                ..filter()
            },
        ),
        (
            "staff who are the subject of a hidden report, by state and org",
            ListFilter {
                state: Some("investigating".into()),
                org: Some("p7".into()),
                visibility: Visibility {
                    subject_of_undisclosed: true,
                    ..filter().visibility
                },
                ..filter()
            },
        ),
        (
            "a cadre's own",
            ListFilter {
                visibility: Visibility {
                    person_id: "u-77".into(),
                    org_subtrees: vec![],
                    ..Default::default()
                },
                ..filter()
            },
        ),
    ]
}

/// A filter's name, the SELECTs its list query sent (diesel's debug form, with binds) and
/// the rows it found.
type Sent = (&'static str, Vec<String>, usize);

/// Seeds a million cases on `url` and runs every filter's list query.
/// Every statement `conn` sends from now on, in diesel's debug form (SQL, then its binds).
fn capture(conn: &mut DbConnection) -> Arc<Mutex<Vec<String>>> {
    let captured = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = captured.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            sink.lock().unwrap().push(query.to_string());
        }
    });
    captured
}

fn list_queries(url: &str, seed: &str) -> (Db, Vec<Sent>) {
    let db = Db::connect(&DbUrl::parse(url).unwrap(), 1).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    conn.batch_execute(seed).unwrap();
    if url.starts_with("postgres") {
        // As autovacuum leaves a table: its visibility map set, so that an index-only scan
        // reads no heap page.
        conn.batch_execute("VACUUM (ANALYZE) cases, stage_spans")
            .unwrap();
    }
    let captured = capture(&mut conn);
    let mut out = Vec::new();
    for (name, f) in filters() {
        list(&mut conn, &f).unwrap();
        captured.lock().unwrap().clear();
        let started = std::time::Instant::now();
        let rows = list(&mut conn, &f).unwrap();
        eprintln!(
            "{name}: {} rows in {:?} (warm; not asserted)",
            rows.len(),
            started.elapsed()
        );
        let selects: Vec<String> = captured
            .lock()
            .unwrap()
            .iter()
            .filter(|q| q.starts_with("SELECT"))
            .cloned()
            .collect();
        assert!(!selects.is_empty(), "{name}: the list query was captured");
        out.push((name, selects, rows.len()));
    }
    for (name, run) in reports() {
        captured.lock().unwrap().clear();
        let n = run(&mut conn);
        let selects: Vec<String> = captured
            .lock()
            .unwrap()
            .iter()
            .filter(|q| q.starts_with("SELECT") || q.starts_with("WITH"))
            .cloned()
            .collect();
        assert!(!selects.is_empty(), "{name}: the query was captured");
        out.push((name, selects, n));
    }
    drop(conn);
    (db, out)
}

/// The queries of the ledger and the statistics, each a request the API can serve.
#[allow(clippy::type_complexity)]
fn reports() -> Vec<(&'static str, Box<dyn Fn(&mut DbConnection) -> usize>)> {
    use rongcuo::db::repo::{ledger, statistics};
    let scope = |org: &'static str, c: &mut DbConnection| {
        let viewer = Visibility {
            person_id: "u-staff".into(),
            org_subtrees: vec!["p7".into()],
            ..Default::default()
        };
        let scope = statistics::Scope {
            workflow: "exoneration",
            org,
            from: NaiveDate::from_ymd_opt(2023, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
            viewer: &viewer,
        };
        statistics::groups(c, &scope).unwrap().len() + statistics::stages(c, &scope).unwrap().len()
    };
    vec![
        (
            "ledger page of a large subtree",
            Box::new(|c| ledger::page(c, "p7", None, 100).unwrap().0.len()),
        ),
        (
            "ledger page after a cursor",
            Box::new(|c| {
                let after = ("p7/c7/u7".to_string(), "u-5".to_string());
                ledger::page(c, "p7", Some(&after), 100).unwrap().0.len()
            }),
        ),
        (
            "ledger page of a small subtree",
            Box::new(|c| ledger::page(c, "p7/c7/u7", None, 100).unwrap().0.len()),
        ),
        (
            "statistics of a large subtree",
            Box::new(move |c| scope("p7", c)),
        ),
        (
            "statistics of a small subtree",
            Box::new(move |c| scope("p7/c7/u7", c)),
        ),
    ]
}

fn plans_enabled() -> bool {
    if std::env::var("RONGCUO_TEST_PLANS").is_err() {
        eprintln!("RONGCUO_TEST_PLANS is not set: the million-case plan check is skipped");
        return false;
    }
    true
}

#[test]
fn every_list_filter_avoids_a_sequential_scan_on_a_million_cases() {
    if !plans_enabled() {
        return;
    }
    let pg = create_pg_database().expect("RONGCUO_TEST_PLANS needs RONGCUO_TEST_POSTGRES_URL");
    let (_db, queries) = list_queries(&pg.url, PG_SEED);
    let mut pgc = PgConnection::establish(&pg.url).unwrap();
    for (name, selects, n) in queries {
        let mut explained = Vec::new();
        for sql in &selects {
            let (text, binds) = sql.split_once(" -- binds: ").expect("diesel's debug form");
            let args = literals(binds);
            pgc.batch_execute("DEALLOCATE ALL").unwrap();
            pgc.batch_execute(&format!("PREPARE q AS {text}")).unwrap();
            let explain = format!("EXPLAIN (FORMAT TEXT) EXECUTE q({})", args.join(", "));
            #[derive(diesel::QueryableByName)]
            struct Line {
                #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
                line: String,
            }
            let plan: Vec<String> = sql_query(&explain)
                .load::<Line>(&mut pgc)
                .unwrap_or_else(|e| panic!("{name}: {e}\n{text}\n{args:?}"))
                .into_iter()
                .map(|l| l.line)
                .collect();
            let plan = plan.join("\n");
            explained.push((text.to_string(), plan.clone()));
            // The matches of a text search, at most so many: read from the table in order
            // when the planner expects most texts to hold it (bounded by the limit).
            let bounded_matches = text
                .starts_with("SELECT case_id FROM case_search WHERE text LIKE")
                && plan.starts_with("Limit");
            assert!(
                !plan.contains("Seq Scan on cases")
                    && !plan.contains("Seq Scan on transitions")
                    && !plan.contains("Seq Scan on stage_spans")
                    && (bounded_matches || !plan.contains("Seq Scan on case_search")),
                "{name} ({n} rows): sequential scan\n{text}\n{plan}"
            );
            // The ledger's first page of a province starts its index scan at the province,
            // not at the first org of the workflow (after ("", ""), it read the index of
            // every province sorting before it).
            if name == "ledger page of a large subtree" && text.contains("DISTINCT") {
                let analyzed = format!(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) EXECUTE q({})",
                    args.join(", ")
                );
                let lines: Vec<String> = sql_query(&analyzed)
                    .load::<Line>(&mut pgc)
                    .unwrap()
                    .into_iter()
                    .map(|l| l.line)
                    .collect();
                let pages: u64 = lines
                    .iter()
                    .find_map(|l| l.trim().strip_prefix("Buffers: shared "))
                    .map(|b| {
                        b.split_whitespace()
                            .filter_map(|kv| kv.split_once('=')?.1.parse::<u64>().ok())
                            .sum()
                    })
                    .unwrap_or(u64::MAX);
                assert!(
                    pages < 200,
                    "{name}: {pages} pages read for a page of 100 cadres\n{}",
                    lines.join("\n")
                );
            }
        }
        if name.starts_with("statistics") {
            let counts = explained
                .iter()
                .find(|(text, _)| text.contains("count(*) AS cases"))
                .map(|(_, plan)| plan.as_str())
                .unwrap_or_default();
            assert!(
                counts.contains("Index Only Scan using cases_workflow_org_created"),
                "{name}: the counts from the scope's index alone\n{counts}"
            );
            let stages = explained
                .iter()
                .find(|(text, _)| text.contains("percentile_disc"))
                .map(|(_, plan)| plan.as_str())
                .unwrap_or_default();
            assert!(
                stages.contains("Index Only Scan using stage_spans_scope"),
                "{name}: the stage durations from the spans' index alone\n{stages}"
            );
        }
        eprintln!("{name}: {n} rows, plan ok");
    }
}

#[test]
fn every_sqlite_list_filter_uses_an_index_on_a_million_cases() {
    if !plans_enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/plans.db", dir.path().display());
    let (db, queries) = list_queries(&url, SQLITE_SEED);
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    for (name, selects, n) in queries {
        let mut plans = Vec::new();
        for sql in &selects {
            let (text, _) = sql.split_once(" -- binds: ").expect("diesel's debug form");
            let explain = format!("EXPLAIN QUERY PLAN {text}");
            let lines: Vec<Line> = db
                .read_blocking(|c| sql_query(&explain).load(c).map_err(DbError::from))
                .unwrap();
            let plan: Vec<String> = lines.into_iter().map(|l| l.detail).collect();
            // A whole table read, under its name or an alias (`c`, `t`).
            let table_scan = |l: &String| {
                matches!(
                    l.trim(),
                    "SCAN cases"
                        | "SCAN c"
                        | "SCAN transitions"
                        | "SCAN t"
                        | "SCAN case_search"
                        | "SCAN s"
                )
            };
            assert!(
                !plan.iter().any(table_scan),
                "{name} ({n} rows): a scan of the whole table\n{text}\n{plan:#?}"
            );
            plans.push(plan.join("; "));
        }
        // SQLite and an org filter: the count of its matches, then either the page's ids
        // from an index alone (few matches) or the page from the newest cases (many).
        if name == "state and org" {
            assert!(
                plans.len() == 3
                    && plans[1].contains("COVERING INDEX cases_workflow_state_org_created"),
                "{name}: the page's ids from the state-and-org index alone\n{plans:#?}"
            );
        }
        if name.starts_with("statistics") {
            assert!(
                plans[0].contains("COVERING INDEX cases_workflow_org_created"),
                "{name}: the counts from the scope's index alone\n{plans:#?}"
            );
            assert!(
                plans[1].contains(
                    "SEARCH c USING PRIMARY KEY (workflow=? AND subject_org>? AND subject_org<?)"
                ),
                "{name}: the stage durations from one range of the spans' key\n{plans:#?}"
            );
        }
        if name == "large org subtree" {
            assert!(
                plans.len() == 2
                    && plans[1].contains("LIST SUBQUERY")
                    && plans[1].contains("COVERING INDEX cases_workflow_created (workflow=?")
                    && plans[1].contains("USING INDEX sqlite_autoindex_cases_1 (id=?)"),
                "{name}: the newest cases walked, at most so many, by key\n{plans:#?}"
            );
        }
        eprintln!("{name}: {n} rows, plans {plans:?}");
    }
}

/// The mail worker's claim over a queue of 20 000 mails: each state one ordered range of
/// `outbox_due`, read no further than the batch (with both states in one `IN`, SQLite read
/// and sorted the whole queue for every batch of fifty), the expired leases first, then the
/// oldest pending mails. Runs always (the plans do not need a million rows).
fn the_mail_claim_reads_its_batch_alone(url: &str) {
    use rongcuo::db::repo::outbox::claim_due;
    let db = Db::connect(&DbUrl::parse(url).unwrap(), 1).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    let pg = url.starts_with("postgres");
    let (series, at, later) = if pg {
        (
            "generate_series(1, 20000) AS s(i)",
            "timestamp '2026-01-01' + i * interval '1 second'",
            "timestamp '2026-01-05' + i * interval '1 second'",
        )
    } else {
        (
            "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000)
              SELECT i FROM s) AS s",
            "datetime('2026-01-01', '+' || i || ' seconds')",
            "datetime('2026-01-05', '+' || i || ' seconds')",
        )
    };
    // Every 7th mail sent; every 1000th being sent, its lease over for the first ten. SQLite's
    // statistics are taken while the outbox is still empty (as a deployment that ran ANALYZE
    // early has them): the claim must not depend on them.
    let (stale, fresh) = if pg {
        ("", "ANALYZE outbox;")
    } else {
        (
            "INSERT INTO outbox (id, case_id, seq, recipient_name, recipient_email, relation,
                template, subject, body_text, message_id, state, attempts, next_attempt_at,
                created_at)
             VALUES ('m0', 'c1', 1, 'S', 's@x.cn', 'subject', 't', '主题', '正文', '<m>', 'sent',
                1, '2025-01-01 00:00:00', '2025-01-01 00:00:00');
             ANALYZE outbox;",
            "",
        )
    };
    conn.batch_execute(&format!(
        "{}
         {stale}
         INSERT INTO outbox (id, case_id, seq, recipient_name, recipient_email, relation,
            template, subject, body_text, message_id, state, attempts, next_attempt_at,
            created_at)
         SELECT 'm' || i, 'c1', 1, 'S', 's@x.cn', 'subject', 't', '主题', '正文', '<m>',
            CASE WHEN i % 1000 = 0 THEN 'sending' WHEN i % 7 = 0 THEN 'sent' ELSE 'pending' END,
            1,
            CASE WHEN i % 1000 = 0 AND i > 10000 THEN {later} ELSE {at} END,
            {at}
         FROM {series};
         {fresh}",
        crate::helpers::insert_case_sql("c1", "filed", 1),
    ))
    .unwrap();
    let captured = capture(&mut conn);
    let now = NaiveDate::from_ymd_opt(2026, 1, 2)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let lease = now + chrono::Duration::minutes(1);
    let claimed: Vec<String> =
        rongcuo::db::transaction(&mut conn, |c| claim_due(c, now, lease, 50))
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
    let mut expected: Vec<String> = (1..=10).map(|k| format!("m{}", k * 1000)).collect();
    expected.extend(
        (1..)
            .filter(|i| i % 7 != 0 && i % 1000 != 0)
            .take(40)
            .map(|i| format!("m{i}")),
    );
    let mut sorted = claimed.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(
        sorted, expected,
        "the expired leases, then the oldest pending mails"
    );
    let sent: Vec<String> = captured.lock().unwrap().clone();
    let explain = |conn: &mut DbConnection, sql: &str| -> String {
        let (text, binds) = sql.split_once(" -- binds: ").expect("diesel's debug form");
        let plan: Vec<String> = if pg {
            #[derive(diesel::QueryableByName)]
            struct Line {
                #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
                line: String,
            }
            conn.batch_execute("DEALLOCATE ALL").unwrap();
            conn.batch_execute(&format!("PREPARE q AS {text}")).unwrap();
            let explain = format!("EXPLAIN EXECUTE q({})", literals(binds).join(", "));
            sql_query(&explain)
                .load::<Line>(conn)
                .unwrap()
                .into_iter()
                .map(|l| l.line)
                .collect()
        } else {
            #[derive(diesel::QueryableByName)]
            struct Line {
                #[diesel(sql_type = diesel::sql_types::Text)]
                detail: String,
            }
            sql_query(format!("EXPLAIN QUERY PLAN {text}"))
                .load::<Line>(conn)
                .unwrap()
                .into_iter()
                .map(|l| l.detail)
                .collect()
        };
        format!("{text}\n{}", plan.join("\n"))
    };
    let claims: Vec<&String> = sent
        .iter()
        .filter(|q| q.starts_with("SELECT") && q.contains("LIMIT"))
        .collect();
    assert_eq!(claims.len(), 2, "one query a state: {claims:#?}");
    for sql in claims {
        let plan = explain(&mut conn, sql);
        assert!(
            plan.contains("outbox_due") && !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
            "the claim reads one ordered range of outbox_due\n{plan}"
        );
    }
    let updates: Vec<&String> = sent.iter().filter(|q| q.starts_with("UPDATE")).collect();
    assert!(!updates.is_empty(), "the claim was captured: {sent:#?}");
    for sql in updates {
        let plan = explain(&mut conn, sql);
        assert!(
            !plan.contains("SCAN outbox") && !plan.contains("Seq Scan"),
            "the claimed rows are updated by key, whatever the statistics say\n{plan}"
        );
    }
}

#[test]
fn the_mail_claim_reads_its_batch_alone_from_the_queue() {
    crate::helpers::with_each_database_url(the_mail_claim_reads_its_batch_alone);
}
