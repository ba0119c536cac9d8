//! HTTP hygiene: cross-origin access is closed unless origins are configured, and then
//! open to those origins only.

use reqwest::StatusCode;

use crate::helpers::*;

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    // Sent around `TestApp::request`: a preflight is not an operation of the document.
    app.client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/exonerations", app.base),
        )
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_closed_unless_configured() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let r = preflight(&app, "https://evil.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let r = app
        .client
        .get(format!("{}/api/v1/exonerations", app.base))
        .bearer_auth(app.token(&ZHANG))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_opens_to_the_configured_origins_only() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[(
            "RONGCUO_CORS_ORIGINS",
            "https://cases.example.cn, https://review.example.cn",
        )],
    )
    .await
    .unwrap();
    let r = preflight(&app, "https://cases.example.cn").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://cases.example.cn"
    );
    let allowed = r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("idempotency-key"), "{allowed}");
    let r = preflight(&app, "https://evil.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = app
        .client
        .get(format!("{}/api/v1/exonerations", app.base))
        .bearer_auth(app.token(&ZHANG))
        .header("Origin", "https://review.example.cn")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://review.example.cn"
    );
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("etag"), "{exposed}");
}
