//! The list query's org and text conditions, straight against the repository on both
//! backends: exactly the org and the orgs below it, exactly the cases whose text holds the
//! search, whichever way the page is found (sorting the matches, or walking the newest
//! cases), and never a case the caller may not see.

use diesel::connection::SimpleConnection;
use rongcuo::db::repo::cases::{ListFilter, Visibility, list_within};
use rongcuo::db::{Db, DbUrl, migrations};

use crate::helpers::with_each_database_url;

/// Orgs whose names share a prefix with `a/b` without lying below it, and orgs below it.
const ORGS: &[&str] = &[
    "a", "a/b", "a/b/c", "a/b/c/d", "a/b-c", "a/b_c", "a/b0", "a/bc", "a/ba/b", "b/a/b",
];

fn seed(url: &str) -> Db {
    let db = Db::connect(&DbUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    let mut sql = String::new();
    // Three cases per org, alternating states, one minute apart, newest last.
    for (i, org) in ORGS.iter().cycle().take(ORGS.len() * 3).enumerate() {
        let state = if i % 2 == 0 { "filed" } else { "investigating" };
        sql.push_str(&format!(
            "INSERT INTO cases (id, workflow, state, version, subject_id, subject_name,
                subject_email, subject_org, subject_position, applicant_id, applicant_name,
                applicant_email, applicant_role, title, overdue, catalogue_version, data,
                created_at, updated_at)
             VALUES ('c{i:02}', 'exoneration', '{state}', 1, 'u-{i}', 'S', 's@x.cn', '{org}',
                'x', 'u-{i}', 'S', 's@x.cn', 'cadre', 't', false, '1', '{{}}',
                '2026-01-01 00:{i:02}:00', '2026-01-01 00:{i:02}:00');"
        ));
    }
    conn.batch_execute(&sql).unwrap();
    let mut sql = String::new();
    for i in 0..ORGS.len() * 3 {
        let text = TEXTS[i % TEXTS.len()].replace('\'', "''");
        sql.push_str(&format!(
            "INSERT INTO case_search (case_id, text) VALUES ('c{i:02}', '{text}');"
        ));
    }
    conn.batch_execute(&sql).unwrap();
    drop(conn);
    db
}

/// The searched texts (lower-cased, as the service stores them), one per case in turn.
const TEXTS: &[&str] = &[
    "招商引资中先行先试 未造成损失",
    "先行先试 改革探索",
    "100% 完成 \"重点\" 任务 a_b",
    "o'brien 招标程序",
    "招商",
];

fn filter(person: &str, subtrees: &[&str]) -> ListFilter {
    let visibility = Visibility {
        person_id: person.into(),
        org_subtrees: subtrees.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    ListFilter::new("exoneration", visibility, 100)
}

/// The orgs of the page `f` finds, newest first, each way of finding it (sorting the
/// matches; walking the newest cases, as far as it takes or at most 1, 7 or 12 of them
/// before sorting), also for a page of two; every way agrees.
fn orgs_listed(db: &Db, f: &ListFilter) -> Vec<String> {
    let mut pages: Vec<Vec<String>> = Vec::new();
    for limit in [f.limit, 2] {
        let mut ways = Vec::new();
        for (at_most, walk) in [(0, i64::MAX), (0, 1), (0, 7), (0, 12), (i64::MAX, 0)] {
            let f = ListFilter { limit, ..f.clone() };
            let rows = db
                .read_blocking(move |c| {
                    list_within(c, &f, at_most, walk).map_err(rongcuo::db::DbError::from)
                })
                .unwrap();
            ways.push(
                rows.iter()
                    .map(|r| format!("{} {}", r.id, r.subject_org))
                    .collect::<Vec<_>>(),
            );
        }
        assert!(
            ways.iter().all(|w| *w == ways[0]),
            "walking and sorting find the same page: {ways:#?}"
        );
        pages.push(ways.remove(0));
    }
    let (all, two) = (&pages[0], &pages[1]);
    assert_eq!(
        two[..],
        all[..all.len().min(2)],
        "a page of two is the start of the list"
    );
    pages.remove(0)
}

fn expected(keep: impl Fn(usize, &str) -> bool) -> Vec<String> {
    let mut out: Vec<String> = ORGS
        .iter()
        .cycle()
        .take(ORGS.len() * 3)
        .enumerate()
        .filter(|(i, org)| keep(*i, org))
        .map(|(i, org)| format!("c{i:02} {org}"))
        .collect();
    out.reverse();
    out
}

fn subtrees_are_exact(url: &str) {
    let db = seed(url);
    let below_ab = |org: &str| org == "a/b" || org.starts_with("a/b/");

    // Staff of `a` filtering on `a/b`: the org filter implies visibility.
    let f = ListFilter {
        org: Some("a/b".into()),
        ..filter("staff", &["a"])
    };
    assert_eq!(orgs_listed(&db, &f), expected(|_, org| below_ab(org)));

    // With a state, and a page boundary in the middle: the next page continues exactly.
    let f = ListFilter {
        org: Some("a/b".into()),
        state: Some("filed".into()),
        limit: 2,
        ..filter("staff", &["a"])
    };
    let all = expected(|i, org| i % 2 == 0 && below_ab(org));
    assert_eq!(all.len(), 3, "{all:?}");
    let first = orgs_listed(&db, &f);
    assert_eq!(first, all[..2]);
    let last_id = first[1].split(' ').next().unwrap().to_string();
    let last_i: u32 = last_id[1..].parse().unwrap();
    let after = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, last_i, 0)
        .unwrap();
    let next = ListFilter {
        after: Some((after, last_id)),
        ..f
    };
    assert_eq!(orgs_listed(&db, &next), all[2..]);

    // Staff of `a/b` filtering on an org outside their subtree: nothing but what the
    // visibility allows (here: no case of theirs).
    let f = ListFilter {
        org: Some("a/bc".into()),
        ..filter("staff", &["a/b"])
    };
    assert_eq!(orgs_listed(&db, &f), Vec::<String>::new());

    // A cadre filtering on an org: only the cases about or filed by them.
    let f = ListFilter {
        org: Some("a".into()),
        ..filter("u-3", &[])
    };
    assert_eq!(orgs_listed(&db, &f), expected(|i, _| i == 3));

    // Staff without an org filter see their subtree exactly.
    let f = filter("staff", &["a/b"]);
    assert_eq!(orgs_listed(&db, &f), expected(|_, org| below_ab(org)));
}

#[test]
fn an_org_filter_keeps_exactly_the_subtree_on_both_backends() {
    with_each_database_url(subtrees_are_exact);
}

fn texts_are_exact(url: &str) {
    let db = seed(url);
    let holds = |i: usize, q: &str| TEXTS[i % TEXTS.len()].contains(&q.to_lowercase());
    for q in [
        "招",
        "招商",
        "招商引资",
        "先行先试",
        "先行先试 改",
        "100%",
        "%",
        "a_b",
        "_",
        "\"重点\"",
        "\"",
        "o'brien",
        "O'BRIEN",
        "不存在的文字",
        "行先",
    ] {
        let f = ListFilter {
            q: Some(q.into()),
            ..filter("staff", &["a", "b"])
        };
        assert_eq!(
            orgs_listed(&db, &f),
            expected(|i, _| holds(i, q)),
            "q = {q}"
        );
        // With an org and a state: both conditions and the text.
        let f = ListFilter {
            q: Some(q.into()),
            org: Some("a/b".into()),
            state: Some("filed".into()),
            ..filter("staff", &["a"])
        };
        assert_eq!(
            orgs_listed(&db, &f),
            expected(|i, org| holds(i, q)
                && i % 2 == 0
                && (org == "a/b" || org.starts_with("a/b/"))),
            "q = {q}, org and state"
        );
        // A cadre: their own cases only, text or not.
        let f = ListFilter {
            q: Some(q.into()),
            ..filter("u-5", &[])
        };
        assert_eq!(
            orgs_listed(&db, &f),
            expected(|i, _| i == 5 && holds(i, q)),
            "q = {q}, cadre"
        );
    }
}

#[test]
fn a_text_search_finds_exactly_the_cases_holding_it_on_both_backends() {
    with_each_database_url(texts_are_exact);
}
