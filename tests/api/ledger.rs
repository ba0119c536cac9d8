//! The ledger (台账), CSV exports, and readiness with the mail backlog.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

both_backends!(
    the_ledger_lists_outcomes_influence_periods_and_open_rectifications,
    readiness_reports_the_mail_backlog,
    metrics_count_requests_transitions_and_mail,
    statistics_count_states_outcomes_and_time_per_stage,
    the_ledger_pages_through_cadres_without_splitting_one,
);

async fn statistics_count_states_outcomes_and_time_per_stage(app: TestApp) {
    use chrono::Duration;
    app.introduce(&[&CHEN, &SUN]).await;
    let a = app.file(&ZHANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock().advance(Duration::hours(2));
    app.act(
        &a,
        &LI,
        json!({"event": "accept", "investigator_id": CHEN.id}),
    )
    .await;
    app.clock().advance(Duration::hours(24));
    app.act(&a, &CHEN, findings("exonerate", &[])).await;
    app.clock().advance(Duration::hours(48));
    app.act(
        &a,
        &SUN,
        json!({"event": "decide", "outcome": "exonerate", "explanation": "免责",
        "rectification": {"requirements": "整改", "due_at": due_in_days(30)}}),
    )
    .await;
    let b = app.file(&WANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock().advance(Duration::hours(1));
    app.act(&b, &WANG, json!({"event": "withdraw", "reason": "撤回"}))
        .await;

    let v: Value = get(&app, "/api/v1/statistics", &LI, "application/json")
        .await
        .json()
        .await
        .unwrap();
    let exo = &v["workflows"]["exoneration"];
    assert_eq!(exo["cases"], 2, "{v}");
    assert_eq!(exo["by_state"], json!({"exonerated": 1, "withdrawn": 1}));
    assert_eq!(exo["by_outcome"], json!({"exonerate": 1}));
    assert_eq!(exo["overdue"], 0);
    let stages = &exo["stage_durations"];
    assert_eq!(
        stages["filed"],
        json!({"count": 2, "median_hours": 1.0, "p90_hours": 2.0})
    );
    assert_eq!(stages["investigating"]["median_hours"], 24.0);
    assert_eq!(stages["deliberating"]["median_hours"], 48.0);
    assert_eq!(v["workflows"]["clarification"]["cases"], 0);

    let v: Value = get(
        &app,
        "/api/v1/statistics?to=2020-01-01",
        &LI,
        "application/json",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["workflows"]["exoneration"]["cases"], 0);
    assert_eq!(
        get(&app, "/api/v1/statistics", &ZHANG, "application/json")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(
            &app,
            "/api/v1/statistics?org=fujian",
            &LI,
            "application/json"
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let r = get(
        &app,
        "/api/v1/statistics?from=someday",
        &LI,
        "application/json",
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["field"], "from");
}

/// The value of the first sample of `metric` whose labels include all of `labels`.
fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(metric) && !l.starts_with('#'))
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_count_requests_transitions_and_mail(app: TestApp) {
    let id = app.file(&ZHANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&id, &ZHANG, json!({"event": "withdraw", "reason": "撤回"}))
        .await;
    let r = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    let created = sample(
        &text,
        "rongcuo_http_requests_total",
        &[
            "route=\"/api/v1/exonerations\"",
            "method=\"POST\"",
            "status=\"201\"",
        ],
    );
    assert!(created.is_some_and(|n| n >= 1.0), "{text}");
    let by_pattern = sample(
        &text,
        "rongcuo_http_requests_total",
        &["route=\"/api/v1/exonerations/{id}/transitions\""],
    );
    assert!(
        by_pattern.is_some_and(|n| n >= 1.0),
        "routes are counted by pattern, not by id"
    );
    let withdrawn = sample(
        &text,
        "rongcuo_transitions_total",
        &["event=\"withdraw\"", "workflow=\"exoneration\""],
    );
    assert!(withdrawn.is_some_and(|n| n >= 1.0));
    assert!(
        sample(
            &text,
            "rongcuo_http_request_duration_seconds_count",
            &["route=\"/api/v1/exonerations\""]
        )
        .is_some()
    );
    assert!(sample(&text, "rongcuo_mail_waiting", &[]).is_some());
    assert!(!text.contains(&id), "no case ids in labels");
}

async fn get(app: &TestApp, path: &str, who: &Person, accept: &str) -> reqwest::Response {
    app.request(
        reqwest::Method::GET,
        path,
        Some(&app.token(who)),
        None,
        &[("Accept", accept)],
    )
    .await
}

async fn the_ledger_lists_outcomes_influence_periods_and_open_rectifications(app: TestApp) {
    let zhang = case_in_deliberation(&app, &[]).await;
    app.act(
        &zhang,
        &SUN,
        json!({"event": "decide", "outcome": "mitigate", "explanation": "从轻处理",
        "degree": "lighter", "sanction": "admonishment",
        "rectification": {"requirements": "整改", "due_at": due_in_days(20)}}),
    )
    .await;
    let mut other = filing();
    other["subject"] = json!({"id": QIAN.id, "name": QIAN.name, "email": QIAN.email(), "org": "anhui/hefei/finance", "position": "干部"});
    let qian = app.file(&QIAN, &other).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(
        &qian,
        &LI,
        json!({"event": "reject_intake", "reason": "重复申请"}),
    )
    .await;

    let v: Value = get(&app, "/api/v1/ledger", &LI, "application/json")
        .await
        .json()
        .await
        .unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{v}");
    let z = items
        .iter()
        .find(|i| i["subject"]["id"] == ZHANG.id)
        .unwrap();
    assert_eq!(z["open_rectifications"], 1);
    assert_eq!(z["cases"][0]["outcome"], "mitigate");
    assert_eq!(z["cases"][0]["influence_active"], true);
    let until =
        chrono::NaiveDate::parse_from_str(z["influence_until"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    assert!(until > chrono::Utc::now().date_naive() + chrono::Duration::days(170));
    let q = items
        .iter()
        .find(|i| i["subject"]["id"] == QIAN.id)
        .unwrap();
    assert!(q["influence_until"].is_null() && q["cases"][0]["outcome"].is_null());

    // Staff of the jurisdiction only.
    assert_eq!(
        get(&app, "/api/v1/ledger", &ZHANG, "application/json")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&app, "/api/v1/ledger?org=fujian", &LI, "application/json")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&app, "/api/v1/ledger?org=Bad", &LI, "application/json")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let v: Value = get(&app, "/api/v1/ledger", &WU, "application/json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["items"].as_array().unwrap().len(),
        0,
        "another province sees none of it"
    );

    // As CSV, with a BOM for spreadsheet software.
    let r = get(&app, "/api/v1/ledger", &LI, "text/csv").await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF]);
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("干部编号 cadre id,姓名 name"));
    assert!(
        text.contains("张三") && text.contains("mitigate") && text.contains("是 yes"),
        "{text}"
    );

    // Any list as CSV too.
    let r = get(&app, "/api/v1/exonerations?limit=1", &LI, "text/csv").await;
    assert!(
        r.headers()["link"]
            .to_str()
            .unwrap()
            .contains("rel=\"next\"")
    );
    let text = r.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert_eq!(text.lines().count(), 2);
}

async fn readiness_reports_the_mail_backlog(app: TestApp) {
    let v: Value = app.readyz().await;
    assert_eq!(
        (v["status"].as_str(), v["migrations_pending"].as_i64()),
        (Some("ready"), Some(0))
    );
    assert!(
        v["outbox"]["waiting"].is_i64() && v["outbox"]["dead"] == 0,
        "{v}"
    );
}

/// 300 cadres, some with two cases, in a subtree, its sub-orgs and a sibling org that shares
/// its prefix (`…/finance-x`, not part of it): written straight to the database.
async fn seed_cadres(app: &TestApp) -> Vec<(String, String, usize)> {
    let mut sql = String::new();
    let mut expected = Vec::new();
    for i in 0..330 {
        let org = match i % 4 {
            0 => "anhui/hefei/finance",
            1 => "anhui/hefei/finance/budget",
            2 => "anhui/hefei/finance/tax/a",
            _ => "anhui/hefei/finance-x",
        };
        let cadre = format!("c-{:04}", (i * 7919) % 1000);
        let cases = 1 + i % 2;
        for k in 0..cases {
            sql.push_str(&format!(
                "INSERT INTO cases (id, workflow, state, version, subject_id, subject_name,
                    subject_email, subject_org, subject_position, applicant_id, applicant_name,
                    applicant_email, applicant_role, title, overdue, catalogue_version, data,
                    created_at, updated_at, audit_head)
                 VALUES ('s-{i}-{k}', 'exoneration', 'filed', 1, '{cadre}', '干部{i}', 'c@x.cn', '{org}',
                    '科员', '{cadre}', '干部{i}', 'c@x.cn', 'cadre', '事项{i}', false, '2026.2',
                    '{{\"incident\": {{}}}}', '2026-0{m}-01 00:00:00', '2026-01-01 00:00:00', '');",
                m = 1 + k,
            ));
        }
        if org != "anhui/hefei/finance-x" {
            expected.push((org.to_string(), cadre, cases));
        }
    }
    app.db()
        .write(move |c| {
            diesel::connection::SimpleConnection::batch_execute(c, &sql)
                .map_err(rongcuo::db::DbError::from)
        })
        .await
        .unwrap();
    expected.sort();
    expected
}

async fn the_ledger_pages_through_cadres_without_splitting_one(app: TestApp) {
    let expected = seed_cadres(&app).await;
    assert_eq!(expected.len(), 248);
    // Page after page of 100 cadres: each cadre once, whole, in (org, id) order.
    let mut seen: Vec<(String, String, usize)> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/ledger?org=anhui/hefei/finance&cursor={c}"),
            None => "/api/v1/ledger?org=anhui/hefei/finance".to_string(),
        };
        let v: Value = get(&app, &path, &LI, "application/json")
            .await
            .json()
            .await
            .unwrap();
        pages += 1;
        let items = v["items"].as_array().unwrap();
        assert!(items.len() <= 100);
        for item in items {
            seen.push((
                item["subject"]["org"].as_str().unwrap().to_string(),
                item["subject"]["id"].as_str().unwrap().to_string(),
                item["cases"].as_array().unwrap().len(),
            ));
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen, expected,
        "every cadre once, with all their cases, in order"
    );
    // A smaller page; a bad limit or cursor is a 422 naming it.
    let v: Value = get(&app, "/api/v1/ledger?limit=7", &LI, "application/json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 7);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=xyz", "cursor"),
    ] {
        let r = get(
            &app,
            &format!("/api/v1/ledger?{query}"),
            &LI,
            "application/json",
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["errors"][0]["field"], field);
    }
    // The whole ledger as CSV, streamed in batches: every case line once.
    let r = get(
        &app,
        "/api/v1/ledger?org=anhui/hefei/finance",
        &LI,
        "text/csv",
    )
    .await;
    assert!(
        r.headers().get("content-length").is_none(),
        "streamed, not buffered"
    );
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    let cases: usize = expected.iter().map(|(_, _, n)| n).sum();
    assert_eq!(lines.len(), cases);
    assert!(
        !text.contains("finance-x"),
        "the sibling org is not in the subtree"
    );
    let mut ids: Vec<&str> = lines.iter().map(|l| l.split(',').next().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), expected.len(), "a cadre's lines stay together");
}
