//! Statistics are counted and ranked by the database. Here they are checked against the
//! way the service computed them before, in memory from every row (kept below as the
//! oracle), on a varied data set: both workflows, several orgs and creation days, cases in
//! many states, hidden reports, follow-up talks, stage durations with sub-second parts,
//! for callers who see everything, a unit admin and a narrower period.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rongcuo::db::DbError;
use rongcuo::db::models::CaseRow;
use rongcuo::db::schema::{cases, transitions};
use rongcuo::domain::{Actor, OrgPath, Role, access};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

both_backends!(
    sql_statistics_equal_the_in_memory_ones_on_a_varied_data_set,
    a_report_past_its_time_budget_is_refused_and_frees_its_connection,
    identical_questions_share_one_computation_and_its_answer_renewed_ahead_of_time,
);

/// The p-quantile of sorted values by nearest rank (the service's former method).
fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The former in-memory summary of one workflow's rows and their transitions.
fn oracle(rows: &[CaseRow], stages: &[(String, Option<String>, NaiveDateTime)]) -> Value {
    let mut by_state: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
    let mut talks: BTreeMap<String, usize> = [("due".into(), 0), ("overdue".into(), 0)].into();
    let mut overdue = 0;
    for r in rows {
        *by_state.entry(r.state.clone()).or_default() += 1;
        if r.overdue {
            overdue += 1;
        }
        let data: Value = serde_json::from_str(&r.data).unwrap();
        if let Some(o) = data["decision"]["outcome"].as_str() {
            *by_outcome.entry(o.to_string()).or_default() += 1;
        }
        if let Some(f) = data["conclusion"]["finding"].as_str() {
            *by_outcome.entry(f.to_string()).or_default() += 1;
        }
        if let Some(t @ ("due" | "overdue")) = data["talk"]["state"].as_str() {
            *talks.entry(t.to_string()).or_default() += 1;
        }
    }
    let mut spans: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut prev: Option<(&str, NaiveDateTime)> = None;
    for (case_id, from, at) in stages {
        if let (Some((pc, pat)), Some(state)) = (prev, from)
            && pc == case_id
        {
            spans
                .entry(state.clone())
                .or_default()
                .push((*at - pat).num_seconds() as f64 / 3600.0);
        }
        prev = Some((case_id.as_str(), *at));
    }
    let durations: BTreeMap<String, Value> = spans
        .into_iter()
        .map(|(stage, mut hours)| {
            hours.sort_by(|a, b| a.total_cmp(b));
            let v = json!({
                "count": hours.len(),
                "median_hours": quantile(&hours, 0.5).map(round2),
                "p90_hours": quantile(&hours, 0.9).map(round2),
            });
            (stage, v)
        })
        .collect();
    json!({
        "cases": rows.len(),
        "by_state": by_state,
        "by_outcome": by_outcome,
        "overdue": overdue,
        "talks": talks,
        "stage_durations": durations,
    })
}

fn actor(p: &Person) -> Actor {
    Actor {
        id: p.id.into(),
        name: p.name.into(),
        email: p.email(),
        roles: p.roles.iter().map(|r| Role::parse(r).unwrap()).collect(),
        org: OrgPath::parse(p.org).unwrap(),
    }
}

/// What the former code answered for `who` over `org` and [from, to).
async fn expected(
    app: &TestApp,
    who: &Person,
    org: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Value {
    let (rows, all_stages) = app
        .db()
        .read(|c| {
            let rows: Vec<CaseRow> = cases::table.load(c)?;
            let stages: Vec<(String, Option<String>, NaiveDateTime)> = transitions::table
                .select((
                    transitions::case_id,
                    transitions::from_state,
                    transitions::at,
                ))
                .order((transitions::case_id.asc(), transitions::seq.asc()))
                .load(c)?;
            Ok::<_, DbError>((rows, stages))
        })
        .await
        .unwrap();
    let viewer = actor(who);
    let mut out = serde_json::Map::new();
    for name in ["exoneration", "clarification"] {
        let rows: Vec<CaseRow> = rows
            .iter()
            .filter(|r| r.workflow == name)
            .filter(|r| rongcuo::domain::org::covers(org, &r.subject_org))
            .filter(|r| r.created_at >= from && r.created_at < to)
            .filter(|r| access::can_see(&viewer, &CaseRow::clone(r).into_case().unwrap()))
            .cloned()
            .collect();
        let stages: Vec<_> = all_stages
            .iter()
            .filter(|(id, _, _)| rows.iter().any(|r| &r.id == id))
            .cloned()
            .collect();
        out.insert(name.into(), oracle(&rows, &stages));
    }
    Value::Object(out)
}

/// The statistics answer for `query` (`?org=…`) as `who` sees it, answered 200.
async fn statistics(app: &TestApp, who: &Person, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/statistics{query}"), who).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    r.json().await.unwrap()
}

async fn answered(app: &TestApp, who: &Person, query: &str) -> Value {
    statistics(app, who, query).await["workflows"].clone()
}

async fn sql_statistics_equal_the_in_memory_ones_on_a_varied_data_set(app: TestApp) {
    app.introduce(&[&CHEN, &SUN, &ZHOU, &WANG, &ZHAO]).await;
    let start = app.clock().now();
    let later = |mins: i64| {
        app.clock()
            .advance(Duration::minutes(mins) + Duration::milliseconds(317))
    };
    let order = || json!({"requirements": "整改", "due_at": due_in_days(400)});
    // Exoneration cases across the story, in two orgs, on different days.
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut body = filing();
        if i % 3 == 2 {
            body["subject"] = json!({"id": format!("u-new-{i}"), "name": "新人", "email": "n@example.cn",
                                     "org": "anhui/hefei/finance/budget", "position": "科员"});
        }
        let filer = if i % 3 == 2 { &CHEN } else { &ZHANG };
        let id = app.file(filer, &body).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        later(7 * (i + 1));
        if i >= 1 {
            app.act(
                &id,
                &LI,
                json!({"event": "accept", "investigator_id": CHEN.id}),
            )
            .await;
            later(90 + 13 * i);
        }
        if i >= 2 {
            app.act(
                &id,
                &CHEN,
                findings(if i == 4 { "mitigate" } else { "exonerate" }, &[]),
            )
            .await;
            later(30 * i);
        }
        if i >= 3 {
            let decide = match i {
                4 => {
                    json!({"event": "decide", "outcome": "mitigate", "explanation": "从轻", "degree": "reduced",
                            "sanction": "demerit", "rectification": order()})
                }
                5 => json!({"event": "decide", "outcome": "deny", "explanation": "不予容错"}),
                _ => {
                    json!({"event": "decide", "outcome": "exonerate", "explanation": "免责", "rectification": order()})
                }
            };
            app.act(&id, &SUN, decide).await;
            later(61);
        }
        if i == 6 {
            app.act(
                &id,
                &ZHANG,
                json!({"event": "submit_rectification", "report": "已整改"}),
            )
            .await;
            later(5);
        }
        ids.push(id);
        app.clock().advance(Duration::days(1));
    }
    app.act(
        &ids[0],
        &ZHANG,
        json!({"event": "withdraw", "reason": "撤回"}),
    )
    .await;
    // Reports: one hidden (received), one disclosed and investigated, one dismissed.
    let report = |summary: &str| {
        json!({"subject": {"id": ZHANG.id, "name": ZHANG.name, "email": ZHANG.email(), "org": ZHANG.org, "position": "科长"},
               "allegation": {"summary": summary, "details": "详情", "channel": "letter"}})
    };
    app.file_in(CLA, &LI, &report("未处理")).await;
    let asked = app.file_in(CLA, &LI, &report("函询")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    later(20);
    app.act_in(CLA, &asked, &CHEN, inquiry_letter()).await;
    later(200);
    app.act_in(
        CLA,
        &asked,
        &ZHANG,
        json!({"event": "submit_explanation", "explanation": "说明"}),
    )
    .await;
    later(45);
    app.act_in(
        CLA,
        &asked,
        &CHEN,
        json!({"event": "accept_explanation", "conclusion": "采信"}),
    )
    .await;
    let dropped = app.file_in(CLA, &LI, &report("不予调查")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    later(3);
    app.act_in(
        CLA,
        &dropped,
        &LI,
        json!({"event": "propose_dismissal", "reason_code": "labeling", "explanation": "乱扣帽子"}),
    )
    .await;
    later(300);
    app.act_in(CLA, &dropped, &SUN, json!({"event": "confirm_dismissal"}))
        .await;

    let from = start.naive_utc() - Duration::days(1);
    let to = app.clock().now().naive_utc() + Duration::days(2);
    let narrow = (start + Duration::days(2)).naive_utc();
    let narrow_to = (start + Duration::days(5)).naive_utc();
    let iso = |t: NaiveDateTime| t.and_utc().to_rfc3339();
    for (who, org, query, lo, hi) in [
        (&SUN, "anhui/hefei", String::new(), from, to),
        (&ZHOU, "anhui", String::new(), from, to),
        (&WANG, "anhui/hefei/finance", String::new(), from, to),
        (
            &SUN,
            "anhui/hefei/finance/budget",
            "?org=anhui/hefei/finance/budget".to_string(),
            from,
            to,
        ),
        (
            &SUN,
            "anhui/hefei",
            format!("?from={}&to={}", iso(narrow), iso(narrow_to)),
            narrow,
            narrow_to,
        ),
    ] {
        let query = if query.is_empty() {
            format!("?from={}&to={}", iso(lo), iso(hi))
        } else if query.starts_with("?org") {
            format!("{query}&from={}&to={}", iso(lo), iso(hi))
        } else {
            query
        };
        let got = answered(&app, who, &query.replace('+', "%2B")).await;
        let want = expected(&app, who, org, lo, hi).await;
        assert_eq!(got, want, "{} over {org} {query}", who.id);
    }
    // The data set is varied enough to mean something.
    let all = answered(&app, &SUN, "").await;
    assert!(
        all["exoneration"]["stage_durations"]
            .as_object()
            .unwrap()
            .len()
            >= 4,
        "{all}"
    );
    assert_eq!(all["exoneration"]["talks"]["due"], 1);
    assert_eq!(all["clarification"]["cases"], 3);
    assert_eq!(
        answered(&app, &WANG, "").await["clarification"]["cases"],
        1,
        "the hidden ones are not the unit's"
    );
}

/// Statistics whose queries run longer than `database.report_budget_ms` are stopped and
/// answered 503 with `Retry-After` (SQLite: the readers' progress handler; PostgreSQL:
/// `statement_timeout`); the connection goes back to work, and with the default budget the
/// same request is answered in full.
/// `n` stage spans of `filed` exoneration cases under anhui/hefei, created in 2026: enough
/// for statistics to take a while (a report past a tight budget, requests that overlap).
async fn seed_spans(app: &TestApp, n: i64) {
    let rows = match app.backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})
             INSERT INTO stage_spans (workflow, subject_org, case_created_at, case_id, seq,
                subject_id, disclosed, stage, seconds)
             SELECT 'exoneration', 'anhui/hefei/u' || (i % 50), datetime('2026-01-01', '+' || i || ' minutes'),
                'c' || i, 2, 's' || i, 1, 'filed', i % 86400 FROM s"
        ),
        Backend::Postgres => format!(
            "INSERT INTO stage_spans (workflow, subject_org, case_created_at, case_id, seq,
                subject_id, disclosed, stage, seconds)
             SELECT 'exoneration', 'anhui/hefei/u' || (i % 50),
                timestamp '2026-01-01' + i * interval '1 minute', 'c' || i, 2, 's' || i, true,
                'filed', i % 86400 FROM generate_series(1, {n}) AS i"
        ),
    };
    app.db()
        .write(move |c| {
            use diesel::connection::SimpleConnection;
            Ok::<_, DbError>(c.batch_execute(&rows)?)
        })
        .await
        .unwrap();
}

async fn a_report_past_its_time_budget_is_refused_and_frees_its_connection(app: TestApp) {
    const SPANS: i64 = 200_000;
    seed_spans(&app, SPANS).await;
    let query = "/api/v1/statistics?from=2025-01-01T00:00:00Z&to=2027-01-01T00:00:00Z";
    let tight = app
        .another(Duration::zero(), &[("RONGCUO_REPORT_BUDGET_MS", "10")])
        .await;
    for _ in 0..3 {
        let r = tight.get(query, &SUN).await;
        assert_eq!(r.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()["retry-after"], "30");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["code"], "unavailable", "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("report_budget_ms"),
            "{problem}"
        );
    }
    // The readers that were stopped still serve.
    for _ in 0..4 {
        let r = tight.get("/api/v1/exonerations", &SUN).await;
        assert_eq!(r.status(), reqwest::StatusCode::OK);
    }
    let full = answered(&app, &SUN, &query["/api/v1/statistics".len()..]).await;
    assert_eq!(
        full["exoneration"]["stage_durations"]["filed"]["count"], SPANS,
        "{full}"
    );
}

/// Requests for the same statistics that overlap share one computation (the same
/// `computed_at`, even with no cache time); with a cache time, the answer is reused by the
/// same caller for that long and no longer, while another caller gets numbers of their own.
async fn identical_questions_share_one_computation_and_its_answer_renewed_ahead_of_time(
    app: TestApp,
) {
    seed_spans(&app, 200_000).await;
    let query = "?org=anhui/hefei";
    let at = |v: &Value| v["computed_at"].as_str().unwrap().to_string();
    let overlapping =
        futures::future::join_all((0..6).map(|_| statistics(&app, &SUN, query))).await;
    let mut times: Vec<String> = overlapping.iter().map(at).collect();
    times.dedup();
    assert_eq!(
        times.len(),
        1,
        "one computation for overlapping requests: {times:?}"
    );
    let later: Value = statistics(&app, &SUN, query).await;
    assert_ne!(
        at(&later),
        times[0],
        "no cache time: a later request computes again"
    );

    let cached = app
        .another(
            Duration::zero(),
            &[("RONGCUO_STATISTICS_CACHE_MS", "60000")],
        )
        .await;
    let cases = |v: &Value| v["workflows"]["exoneration"]["cases"].as_i64().unwrap();
    let first: Value = statistics(&cached, &SUN, query).await;
    cached.file(&ZHANG, &filing()).await;
    cached.clock().advance(Duration::seconds(20));
    let reused: Value = statistics(&cached, &SUN, query).await;
    assert_eq!(reused, first, "within the cache time the same answer");
    let other: Value = statistics(&cached, &ZHOU, query).await;
    assert_eq!(
        cases(&other),
        cases(&first) + 1,
        "another caller's own numbers"
    );

    // Past half the cache time the kept answer at once, and its successor meanwhile.
    cached.clock().advance(Duration::seconds(20));
    let kept: Value = statistics(&cached, &SUN, query).await;
    assert_eq!(kept, first, "still within the cache time");
    let started = std::time::Instant::now();
    let renewed = loop {
        let v: Value = statistics(&cached, &SUN, query).await;
        if at(&v) != at(&first) {
            break v;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no successor computed in the background"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        cases(&renewed),
        cases(&first) + 1,
        "the successor's numbers"
    );
    cached.clock().advance(Duration::seconds(25));
    let again: Value = statistics(&cached, &SUN, query).await;
    assert_eq!(again, renewed, "the successor is kept its own cache time");

    // Asked for by no one past the cache time: computed anew.
    cached.clock().advance(Duration::seconds(61));
    cached.file(&ZHANG, &filing()).await;
    let fresh: Value = statistics(&cached, &SUN, query).await;
    assert_eq!(cases(&fresh), cases(&first) + 2, "numbers anew");
    assert_ne!(at(&fresh), at(&renewed));
}
