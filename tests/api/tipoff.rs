//! No tip-off: a report against a cadre reaches them and their unit only when the
//! organisation turns to them (an inquiry letter) or concludes it. Before that it is absent
//! for them everywhere: 404, lists, statistics, mail. Once disclosed it stays so; a report
//! dismissed without asking the cadre stays hidden for good.

use reqwest::StatusCode;
use rongcuo::audit;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

both_backends!(
    a_report_reaches_its_subject_when_the_organisation_turns_to_them,
    a_report_dismissed_without_asking_the_cadre_stays_hidden_for_good,
    a_report_about_a_reviewer_does_not_tip_them_off,
);

fn report(subject: &Person) -> Value {
    json!({
        "subject": {"id": subject.id, "name": subject.name, "email": subject.email(), "org": subject.org, "position": "科长"},
        "allegation": {"summary": "来信反映收受好处", "details": "来信称其收受中介好处。", "channel": "letter"},
        "reporter": {"name": "举报人甲", "contact": "13900000000"}
    })
}

/// What `who` finds of case `id`: (GET status, timeline status, in the list, in the list
/// filtered by subject and by `org`, clarification cases counted by statistics).
async fn seen(
    app: &TestApp,
    id: &str,
    who: &Person,
    subject: &Person,
) -> (u16, u16, bool, bool, Option<u64>) {
    let get = app
        .get(&format!("/api/v1/clarifications/{id}"), who)
        .await
        .status()
        .as_u16();
    let timeline = app
        .get(&format!("/api/v1/clarifications/{id}/transitions"), who)
        .await
        .status()
        .as_u16();
    let listed = |v: Value| v["items"].as_array().unwrap().iter().any(|c| c["id"] == id);
    let all: Value = app
        .get("/api/v1/clarifications?limit=100", who)
        .await
        .json()
        .await
        .unwrap();
    let path = format!(
        "/api/v1/clarifications?subject={}&org={}",
        subject.id, subject.org
    );
    let filtered: Value = app.get(&path, who).await.json().await.unwrap();
    let stats = app.get("/api/v1/statistics", who).await;
    let counted = if stats.status() == StatusCode::OK {
        let v: Value = stats.json().await.unwrap();
        v["workflows"]["clarification"]["cases"].as_u64()
    } else {
        None
    };
    (get, timeline, listed(all), listed(filtered), counted)
}

/// Whether case `id` is on ZHANG's record as `who` reads it.
async fn on_record(app: &TestApp, id: &str, who: &Person) -> bool {
    let path = format!("/api/v1/cadres/{}/record", ZHANG.id);
    let v: Value = app.get(&path, who).await.json().await.unwrap();
    v["cases"].as_array().unwrap().iter().any(|c| c["id"] == id)
}

const HIDDEN: (u16, u16, bool, bool, Option<u64>) = (404, 404, false, false, None);
const SHOWN: (u16, u16, bool, bool, Option<u64>) = (200, 200, true, true, None);

/// The relations mailed about case `id`.
async fn mailed(app: &TestApp, id: &str) -> Vec<String> {
    app.outbox(id)
        .await
        .into_iter()
        .map(|(_, relation, _)| relation)
        .collect()
}

async fn verify_chains(app: &TestApp, cases: usize) {
    let db = app.db().clone();
    let report = tokio::task::spawn_blocking(move || audit::verify_all(&db))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.cases, report.breaks.len()), (cases, 0));
}

async fn a_report_reaches_its_subject_when_the_organisation_turns_to_them(app: TestApp) {
    app.introduce(&[&ZHANG, &WANG, &CHEN, &SUN]).await;
    let id = app.file_in(CLA, &LI, &report(&ZHANG)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.case_in(CLA, &id, &LI).await["disclosed"], false);
    assert_eq!(seen(&app, &id, &ZHANG, &ZHANG).await, HIDDEN);
    assert!(
        !on_record(&app, &id, &ZHANG).await && !on_record(&app, &id, &WANG).await,
        "not on their record"
    );
    assert!(
        on_record(&app, &id, &SUN).await,
        "on the record for those who handle it"
    );
    let unit = (404, 404, false, false, Some(0));
    assert_eq!(seen(&app, &id, &WANG, &ZHANG).await, unit, "the unit admin");
    assert_eq!(
        seen(&app, &id, &SUN, &ZHANG).await,
        (200, 200, true, true, Some(1))
    );
    // Acting on it is as if it were not there.
    let (s, _) = app
        .try_act_in(
            CLA,
            &id,
            &WANG,
            json!({"event": "submit_explanation", "explanation": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        !mailed(&app, &id)
            .await
            .iter()
            .any(|r| r == "subject" || r == "unit_contact")
    );

    // The inquiry letter discloses it: to the cadre, their unit, and in their mail.
    app.act_in(CLA, &id, &CHEN, inquiry_letter()).await;
    assert_eq!(seen(&app, &id, &ZHANG, &ZHANG).await, SHOWN);
    assert_eq!(
        seen(&app, &id, &WANG, &ZHANG).await,
        (200, 200, true, true, Some(1))
    );
    assert!(on_record(&app, &id, &ZHANG).await && on_record(&app, &id, &WANG).await);
    let relations = mailed(&app, &id).await;
    assert!(
        relations.contains(&"subject".to_string())
            && relations.contains(&"unit_contact".to_string())
    );
    // Once disclosed, for good: an investigation and its conclusion change nothing.
    app.act_in(
        CLA,
        &id,
        &CHEN,
        json!({"event": "open_investigation", "investigator_id": CHEN.id}),
    )
    .await;
    assert_eq!(seen(&app, &id, &ZHANG, &ZHANG).await, SHOWN);
    let c = app.case_in(CLA, &id, &ZHANG).await;
    assert_eq!(
        (c["state"].as_str(), c["disclosed"].as_bool()),
        (Some("investigating"), Some(true))
    );
    assert!(c.get("reporter").is_none());

    // A report investigated from the start is disclosed by its conclusion.
    let other = app.file_in(CLA, &LI, &report(&ZHANG)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act_in(
        CLA,
        &other,
        &CHEN,
        json!({"event": "open_investigation", "investigator_id": CHEN.id}),
    )
    .await;
    assert_eq!(seen(&app, &other, &ZHANG, &ZHANG).await, HIDDEN);
    app.act_in(
        CLA,
        &other,
        &CHEN,
        json!({"event": "conclude", "finding": "unfounded", "report": "查无实据"}),
    )
    .await;
    assert_eq!(seen(&app, &other, &ZHANG, &ZHANG).await, SHOWN);
    verify_chains(&app, 2).await;
}

async fn a_report_dismissed_without_asking_the_cadre_stays_hidden_for_good(app: TestApp) {
    app.introduce(&[&ZHANG, &WANG, &SUN, &ZHAO]).await;
    let id = app.file_in(CLA, &LI, &report(&ZHANG)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act_in(
        CLA,
        &id,
        &LI,
        json!({"event": "propose_dismissal", "reason_code": "labeling", "explanation": "乱扣帽子"}),
    )
    .await;
    app.act_in(CLA, &id, &SUN, json!({"event": "confirm_dismissal"}))
        .await;
    assert_eq!(seen(&app, &id, &ZHANG, &ZHANG).await, HIDDEN);
    let c = app
        .act_in(
            CLA,
            &id,
            &SUN,
            json!({"event": "close", "reason": "不予调查，办结"}),
        )
        .await;
    assert_eq!(
        (c["state"].as_str(), c["disclosed"].as_bool()),
        (Some("closed"), Some(false))
    );
    assert_eq!(seen(&app, &id, &ZHANG, &ZHANG).await, HIDDEN);
    assert_eq!(
        seen(&app, &id, &WANG, &ZHANG).await,
        (404, 404, false, false, Some(0))
    );
    assert_eq!(
        seen(&app, &id, &ZHAO, &ZHANG).await,
        (200, 200, true, true, Some(1))
    );
    assert!(
        !mailed(&app, &id)
            .await
            .iter()
            .any(|r| r == "subject" || r == "unit_contact")
    );
    verify_chains(&app, 1).await;
}

/// A reviewer of the jurisdiction is mailed every new report of it, and sees its cases:
/// not one about themselves.
async fn a_report_about_a_reviewer_does_not_tip_them_off(app: TestApp) {
    app.introduce(&[&SUN, &ZHOU, &CHEN]).await;
    let id = app.file_in(CLA, &LI, &report(&SUN)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        seen(&app, &id, &SUN, &SUN).await,
        (404, 404, false, false, Some(0))
    );
    assert_eq!(
        seen(&app, &id, &ZHOU, &SUN).await,
        (200, 200, true, true, Some(1))
    );
    let to: Vec<String> = app
        .outbox(&id)
        .await
        .into_iter()
        .map(|(_, _, email)| email)
        .collect();
    assert!(
        to.contains(&ZHOU.email()) && !to.contains(&SUN.email()),
        "{to:?}"
    );
    // Their other cases stay in their list.
    let exo = app.file(&ZHANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let page: Value = app
        .get("/api/v1/exonerations", &SUN)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], exo.as_str());
    // Put to them, the report is theirs to see.
    app.act_in(CLA, &id, &CHEN, inquiry_letter()).await;
    assert_eq!(
        seen(&app, &id, &SUN, &SUN).await,
        (200, 200, true, true, Some(1))
    );
    assert!(
        app.outbox(&id)
            .await
            .iter()
            .any(|(_, relation, email)| relation == "subject" && *email == SUN.email())
    );
    verify_chains(&app, 2).await;
}
