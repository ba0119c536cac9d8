use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

both_backends!(
    twenty_conflicting_transitions_have_exactly_one_winner,
    conflicting_events_with_if_match_one_wins_others_412
);

async fn twenty_conflicting_transitions_have_exactly_one_winner(app: TestApp) {
    app.introduce(&[&CHEN, &ZHAO]).await;
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/exonerations/{id}/transitions");
    let requests = (0..20).map(|i| {
        let inv = if i % 2 == 0 { CHEN.id } else { ZHAO.id };
        let body = json!({"event": "accept", "investigator_id": inv});
        let token = app.token(&LI);
        let app = &app;
        let path = path.clone();
        async move {
            app.request(Method::POST, &path, Some(&token), Some(&body), &[])
                .await
                .status()
        }
    });
    let statuses = join_all(requests).await;
    let wins = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((wins, conflicts), (1, 19), "{statuses:?}");
    let c = app.case(&id, &LI).await;
    assert_eq!(
        (c["state"].as_str(), c["version"].as_i64()),
        (Some("investigating"), Some(2))
    );
    assert_eq!(app.timeline(&id, &LI).await.len(), 2);
    let rows = app.outbox(&id).await;
    assert!(rows.iter().all(|(seq, _, _)| *seq <= 2));
    assert_eq!(
        rows.iter()
            .filter(|(seq, rel, _)| *seq == 2 && rel == "investigator")
            .count(),
        1
    );
}

async fn conflicting_events_with_if_match_one_wins_others_412(app: TestApp) {
    app.introduce(&[&CHEN]).await;
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/exonerations/{id}/transitions");
    let bodies: Vec<(Person, Value)> = (0..20)
        .map(|i| match i % 3 {
            0 => (ZHANG, json!({"event": "withdraw", "reason": "撤回"})),
            1 => (LI, json!({"event": "accept", "investigator_id": CHEN.id})),
            _ => (LI, json!({"event": "reject_intake", "reason": "重复申请"})),
        })
        .collect();
    let requests = bodies.iter().map(|(who, body)| {
        let token = app.token(who);
        let app = &app;
        let path = path.clone();
        async move {
            app.request(
                Method::POST,
                &path,
                Some(&token),
                Some(body),
                &[("If-Match", "\"1\"")],
            )
            .await
            .status()
        }
    });
    let statuses = join_all(requests).await;
    let wins = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let lost = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
        .count();
    assert_eq!((wins, lost), (1, 19), "{statuses:?}");
    let items = app.timeline(&id, &LI).await;
    assert_eq!(items.len(), 2);
    assert_eq!(app.case(&id, &LI).await["state"], items[1]["to"]);
}
