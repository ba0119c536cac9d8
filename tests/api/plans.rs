//! The plan of every list query on PostgreSQL with a million cases: no sequential scan.
//! The SQL is the one the repository really sends (captured with diesel's
//! instrumentation), explained with its binds. Slow: runs when RONGCUO_TEST_PLANS=1 (as
//! .ci/run sets) and PostgreSQL is configured.

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use diesel::connection::{Connection, InstrumentationEvent, SimpleConnection};
use diesel::{PgConnection, RunQueryDsl, sql_query};
use rongcuo::db::repo::cases::{ListFilter, Visibility, list};
use rongcuo::db::{Db, DbUrl, migrations};

use crate::helpers::create_pg_database;

const SEED: &str = "
INSERT INTO cases (id, workflow, state, version, subject_id, subject_name, subject_email, subject_org,
    subject_position, applicant_id, applicant_name, applicant_email, applicant_role, investigator_id,
    decider_id, title, overdue, catalogue_version, data, created_at, updated_at, search_text)
SELECT md5(i::text), CASE WHEN i % 5 = 0 THEN 'clarification' ELSE 'exoneration' END,
    (ARRAY['filed','investigating','deliberating','exonerated','closed'])[1 + i % 5], 1,
    'u-' || (i % 200000), '干部', 'x@example.cn',
    'p' || (i % 31) || '/c' || (i % 310) || '/u' || (i % 3100), '科员',
    'u-' || (i % 200000), '干部', 'x@example.cn', 'cadre',
    CASE WHEN i % 3 = 0 THEN 'inv-' || (i % 700) END, NULL, '案件 ' || i, i % 97 = 0, '2026.1', '{}',
    timestamp '2023-01-01' + i * interval '1 minute', timestamp '2023-01-01' + i * interval '1 minute',
    'case ' || i || ' 先检查后招标 description ' || (i % 1000)
FROM generate_series(1, 1000000) AS i;
ANALYZE cases;";

fn filter() -> ListFilter {
    ListFilter {
        workflow: "exoneration".into(),
        visibility: Visibility {
            person_id: "u-staff".into(),
            org_subtrees: vec!["p7".into()],
        },
        state: None,
        org: None,
        subject: None,
        q: None,
        investigator: None,
        created_from: None,
        created_to: None,
        overdue: None,
        after: None,
        limit: 21,
    }
}

/// Splits diesel's `[a, "b", 3]` bind list into SQL literals.
fn literals(binds: &str) -> Vec<String> {
    let inner = binds.trim().trim_start_matches('[').trim_end_matches(']');
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    let mut escaped = false;
    for ch in inner.chars() {
        match (in_str, escaped, ch) {
            (true, true, c) => {
                cur.push(c);
                escaped = false;
            }
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_str = false,
            (false, _, '"') => in_str = true,
            (false, _, ',') => {
                out.push(std::mem::take(&mut cur));
            }
            (_, _, c) => cur.push(c),
        }
    }
    if !cur.trim().is_empty() || !out.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|v| {
            let v = v.trim().to_string();
            match v.as_str() {
                "true" | "false" => v,
                _ if v.parse::<i64>().is_ok() => v,
                _ => format!("'{}'", v.replace('\'', "''")),
            }
        })
        .collect()
}

#[test]
fn every_list_filter_avoids_a_sequential_scan_on_a_million_cases() {
    if std::env::var("RONGCUO_TEST_PLANS").is_err() {
        eprintln!("RONGCUO_TEST_PLANS is not set: the million-case plan check is skipped");
        return;
    }
    let pg = create_pg_database().expect("RONGCUO_TEST_PLANS needs RONGCUO_TEST_POSTGRES_URL");
    let db = Db::connect(&DbUrl::parse(&pg.url).unwrap(), 1).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    conn.batch_execute(SEED).unwrap();

    let captured = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = captured.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            sink.lock().unwrap().push(query.to_string());
        }
    });
    let day = |s: &str| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    };
    let cases: Vec<(&str, ListFilter)> = vec![
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
            "free text",
            ListFilter {
                q: Some("description 977".into()),
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
            "a cadre's own",
            ListFilter {
                visibility: Visibility {
                    person_id: "u-77".into(),
                    org_subtrees: vec![],
                },
                ..filter()
            },
        ),
    ];
    let mut plans = Vec::new();
    for (name, f) in &cases {
        captured.lock().unwrap().clear();
        let rows = list(&mut conn, f).unwrap();
        let sql = captured
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("the list query was captured");
        plans.push((*name, sql, rows.len()));
    }
    drop(conn);
    let mut pgc = PgConnection::establish(&pg.url).unwrap();
    for (name, sql, n) in plans {
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
            .unwrap()
            .into_iter()
            .map(|l| l.line)
            .collect();
        let plan = plan.join("\n");
        assert!(
            !plan.contains("Seq Scan on cases"),
            "{name} ({n} rows): sequential scan\n{text}\n{plan}"
        );
        eprintln!("{name}: {n} rows, plan ok");
    }
}
