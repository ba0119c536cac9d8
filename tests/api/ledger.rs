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
