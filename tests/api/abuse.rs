//! Abuse is bounded: requests per caller (429 with `Retry-After`), JSON depth, header size,
//! slow clients, list limits, cursors. Body size: `refusals.rs`.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_over_its_rate_gets_429_with_retry_after_and_others_go_on() {
    let app = spawn_app_with(Backend::Sqlite, &[("RONGCUO_RATE_LIMIT_PER_MINUTE", "5")])
        .await
        .unwrap();
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/exonerations", &ZHANG).await.status(), 200);
    }
    let r = app.get("/api/v1/exonerations", &ZHANG).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "too_many_requests");
    // The limit is per caller.
    assert_eq!(app.get("/api/v1/exonerations", &LI).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_json_big_headers_and_bad_limits_are_refused_cleanly() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let token = app.token(&ZHANG);
    // 10 000 levels of nesting, well under the body limit: a 400, not a stack overflow.
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let r = app
        .client
        .post(format!("{}/api/v1/exonerations", app.base))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "malformed");
    // Headers over server.max_header_bytes (16 KB) are refused before any work.
    let r = app
        .request(
            Method::GET,
            "/api/v1/exonerations",
            Some(&token),
            None,
            &[("X-Padding", &"a".repeat(20_000))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "headers_too_large");
    for limit in ["0", "101", "-1", "many", "99999999999999999999"] {
        let r = app
            .request(
                Method::GET,
                &format!("/api/v1/exonerations?limit={limit}"),
                Some(&token),
                None,
                &[],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit={limit}"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["errors"][0]["field"], "limit");
    }
    // And the service is still there.
    assert_eq!(app.get("/api/v1/exonerations", &ZHANG).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_let_go() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(15), slow.read(&mut buf)).await;
    let waited = started.elapsed();
    match read {
        Ok(Ok(n)) => {
            // Closed (0) or answered 408: either way the connection is not held.
            let text = String::from_utf8_lossy(&buf[..n]);
            assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
        }
        Ok(Err(_)) => {}
        Err(_) => panic!("a half-sent request held its connection for 15 s"),
    }
    assert!(waited < Duration::from_secs(15));
}

/// A cursor is a position, not a permission: another caller's cursor shows that caller's
/// own cases only, and a forged one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_never_widens_what_a_caller_sees() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.introduce(&[&ZHANG, &QIAN, &LI]).await;
    for _ in 0..3 {
        app.file(&ZHANG, &filing()).await;
    }
    let page: Value = app
        .get("/api/v1/exonerations?limit=1", &LI)
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let other: Value = app
        .get(
            &format!("/api/v1/exonerations?limit=10&cursor={cursor}"),
            &QIAN,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["items"], serde_json::json!([]), "{other}");
    use base64::Engine as _;
    let forged =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1790000000000000|x' OR '1'='1");
    let r = app
        .get(&format!("/api/v1/exonerations?cursor={forged}"), &LI)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["field"], "cursor");
}
