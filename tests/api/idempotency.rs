use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

both_backends!(a_replayed_request_returns_the_first_answer_and_changes_nothing);

async fn a_replayed_request_returns_the_first_answer_and_changes_nothing(app: TestApp) {
    let token = app.token(&ZHANG);
    let key = [("Idempotency-Key", "file-2026-001")];
    let r1 = app
        .request(
            Method::POST,
            "/api/v1/exonerations",
            Some(&token),
            Some(&filing()),
            &key,
        )
        .await;
    assert_eq!(r1.status(), StatusCode::CREATED);
    let loc1 = r1.headers()["location"].clone();
    let b1: Value = r1.json().await.unwrap();
    let r2 = app
        .request(
            Method::POST,
            "/api/v1/exonerations",
            Some(&token),
            Some(&filing()),
            &key,
        )
        .await;
    assert_eq!(r2.status(), StatusCode::CREATED);
    assert_eq!(r2.headers()["location"], loc1);
    assert_eq!(r2.headers()["etag"], "\"1\"");
    let b2: Value = r2.json().await.unwrap();
    assert_eq!(b1, b2);
    let list: Value = app
        .get("/api/v1/exonerations", &LI)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // The same key with another body is refused.
    let mut other = filing();
    other["remedial_actions"] = json!("别的补救措施");
    let r = app
        .request(
            Method::POST,
            "/api/v1/exonerations",
            Some(&token),
            Some(&other),
            &key,
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["field"], "Idempotency-Key");

    // A transition replayed: one row, the first answer again.
    let id = b1["id"].as_str().unwrap();
    let path = format!("/api/v1/exonerations/{id}/transitions");
    let body = json!({"event": "withdraw", "reason": "撤回申请"});
    let k = [("Idempotency-Key", "withdraw-1")];
    let a: Value = app
        .request(Method::POST, &path, Some(&token), Some(&body), &k)
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .request(Method::POST, &path, Some(&token), Some(&body), &k)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let b: Value = r.json().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(b["version"], 2);
    assert_eq!(app.timeline(id, &ZHANG).await.len(), 2);
    // Without the key the same request is a new one, and now not allowed.
    let r = app
        .request(Method::POST, &path, Some(&token), Some(&body), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Keys belong to their caller: another caller's identical key is a new request.
    let r = app
        .request(
            Method::POST,
            "/api/v1/exonerations",
            Some(&app.token(&WANG)),
            Some(&filing()),
            &key,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_ne!(v["id"], b1["id"]);
}
