use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

both_backends!(
    tokens_that_are_not_valid_get_401,
    what_a_caller_may_not_see_is_404,
    wrong_role_or_party_gets_403_and_changes_nothing,
    events_not_allowed_now_get_409,
    stale_if_match_gets_412,
    bad_input_gets_422_naming_the_field_and_changes_nothing,
    malformed_oversized_and_unrouted_requests_get_problems,
    admins_register_people_in_their_jurisdiction,
);

async fn problem(r: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["status"], status.as_u16());
    v
}

/// The case is unchanged: same version, same timeline.
async fn unchanged(app: &TestApp, id: &str, version: i64, rows: usize) {
    assert_eq!(app.case(id, &LI).await["version"], version);
    assert_eq!(app.timeline(id, &LI).await.len(), rows);
}

async fn tokens_that_are_not_valid_get_401(app: TestApp) {
    let path = "/api/v1/exonerations";
    let r = app.request(Method::GET, path, None, None, &[]).await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"rongcuo\"");
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let mut expired = app.claims(&ZHANG);
    expired.exp = chrono::Utc::now().timestamp() - 3600;
    let mut wrong_iss = app.claims(&ZHANG);
    wrong_iss.iss = "someone-else".into();
    let mut wrong_aud = app.claims(&ZHANG);
    wrong_aud.aud = "another-service".into();
    let mut bad_role = app.claims(&ZHANG);
    bad_role.roles = vec!["emperor".into()];
    let mut bad_org = app.claims(&ZHANG);
    bad_org.org = "Anhui Province".into();
    let good = app.token(&ZHANG);
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &app.claims(&ZHANG),
        &jsonwebtoken::EncodingKey::from_secret(b"not-the-secret-at-all-0123456789"),
    )
    .unwrap();
    let (head, rest) = good.split_once('.').unwrap();
    let _ = head;
    let alg_none = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}",
        rest.split_once('.').unwrap().0
    ) + ".";
    let mut not_yet = app.claims(&ZHANG);
    not_yet.nbf = Some(chrono::Utc::now().timestamp() + 3600);
    // Claims without `iss`, or without `aud`, signed with the right secret.
    let signed = |v: Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &v,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    let mut no_iss = serde_json::to_value(app.claims(&ZHANG)).unwrap();
    no_iss.as_object_mut().unwrap().remove("iss");
    let mut no_aud = serde_json::to_value(app.claims(&ZHANG)).unwrap();
    no_aud.as_object_mut().unwrap().remove("aud");
    // A cadre's token whose payload is edited to claim admin, signature kept.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut payload: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &parts[1])
            .unwrap(),
    )
    .unwrap();
    payload["roles"] = json!(["admin"]);
    parts[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        payload.to_string(),
    );
    let edited = parts.join(".");
    let tokens = [
        app.mint(&not_yet),
        signed(no_iss),
        signed(no_aud),
        edited,
        app.mint(&expired),
        app.mint(&wrong_iss),
        app.mint(&wrong_aud),
        app.mint(&bad_role),
        app.mint(&bad_org),
        forged,
        alg_none,
        "x".repeat(10_000),
        "not.a.token".into(),
    ];
    for t in tokens {
        let r = app.request(Method::GET, path, Some(&t), None, &[]).await;
        problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let r = app
        .request(
            Method::GET,
            path,
            None,
            None,
            &[("Authorization", &format!("Basic {good}"))],
        )
        .await;
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = app.request(Method::GET, path, Some(&good), None, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn what_a_caller_may_not_see_is_404(app: TestApp) {
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap();
    for who in [&QIAN, &WU] {
        let r = app.get(&format!("/api/v1/exonerations/{id}"), who).await;
        problem(r, StatusCode::NOT_FOUND, "not_found").await;
        let r = app
            .get(&format!("/api/v1/exonerations/{id}/transitions"), who)
            .await;
        problem(r, StatusCode::NOT_FOUND, "not_found").await;
        let r = app
            .post(
                &format!("/api/v1/exonerations/{id}/transitions"),
                who,
                &json!({"event": "accept", "investigator_id": "u-wu"}),
            )
            .await;
        problem(r, StatusCode::NOT_FOUND, "not_found").await;
    }
    let r = app
        .get(
            "/api/v1/exonerations/01990000-0000-7000-8000-000000000000",
            &LI,
        )
        .await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    unchanged(&app, id, 1, 1).await;
}

async fn wrong_role_or_party_gets_403_and_changes_nothing(app: TestApp) {
    app.introduce(&[&CHEN, &ZHAO, &SUN]).await;
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap();
    // A cadre cannot accept; a reviewer cannot accept.
    for who in [&ZHANG, &SUN] {
        let (s, b) = app
            .try_act(
                id,
                who,
                json!({"event": "accept", "investigator_id": CHEN.id}),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{b}"
        );
    }
    unchanged(&app, id, 1, 1).await;
    app.act(
        id,
        &LI,
        json!({"event": "accept", "investigator_id": ZHAO.id}),
    )
    .await;
    // Only the assigned investigator submits findings.
    let (s, _) = app.try_act(id, &CHEN, findings("exonerate", &[])).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.act(id, &ZHAO, findings("exonerate", &[])).await;
    // ZHAO is also a reviewer, but the investigator may not decide.
    let decide = json!({"event": "decide", "outcome": "deny", "explanation": "x"});
    let (s, b) = app.try_act(id, &ZHAO, decide.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("separation of duties"),
        "{b}"
    );
    assert!(
        !app.case(id, &ZHAO).await["available_events"]
            .as_array()
            .unwrap()
            .contains(&json!("decide"))
    );
    // Timer events are not for REST callers.
    let (s, _) = app
        .try_act(id, &SUN, json!({"event": "supplement_overdue"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Filing about someone else (a payload refusal, 422 on the id: tests/api/authority.rs),
    // or outside one's jurisdiction.
    let mut about_qian = filing();
    about_qian["subject"]["id"] = json!(QIAN.id);
    let r = app.post("/api/v1/exonerations", &ZHANG, &about_qian).await;
    let v = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(v["errors"][0]["field"], "subject.id");
    let r = app.post("/api/v1/exonerations", &WU, &filing()).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app.post("/api/v1/exonerations", &SUN, &filing()).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    unchanged(&app, id, 3, 3).await;
    let v: Value = app
        .get("/api/v1/exonerations", &LI)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["items"].as_array().unwrap().len(),
        1,
        "no refused filing was stored"
    );
}

async fn events_not_allowed_now_get_409(app: TestApp) {
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap();
    let (s, b) = app
        .try_act(
            id,
            &SUN,
            json!({"event": "decide", "outcome": "deny", "explanation": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(b["code"], "invalid_transition");
    let detail = b["detail"].as_str().unwrap();
    assert!(
        detail.contains("decide") && detail.contains("filed"),
        "{detail}"
    );
    let (s, _) = app
        .try_act(id, &ZHANG, json!({"event": "supplement", "material": "x"}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    unchanged(&app, id, 1, 1).await;
}

async fn stale_if_match_gets_412(app: TestApp) {
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap();
    let body = json!({"event": "request_supplement", "items": "纪要", "due_at": due_in_days(5)});
    let path = format!("/api/v1/exonerations/{id}/transitions");
    let r = app
        .request(
            Method::POST,
            &path,
            Some(&app.token(&LI)),
            Some(&body),
            &[("If-Match", "\"7\"")],
        )
        .await;
    let v = problem(r, StatusCode::PRECONDITION_FAILED, "version_conflict").await;
    assert!(v["detail"].as_str().unwrap().contains("version 1"));
    unchanged(&app, id, 1, 1).await;
    let r = app
        .request(
            Method::POST,
            &path,
            Some(&app.token(&LI)),
            Some(&body),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let r = app
        .request(
            Method::POST,
            &path,
            Some(&app.token(&LI)),
            Some(&body),
            &[("If-Match", "soon")],
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST, "malformed").await;
}

async fn bad_input_gets_422_naming_the_field_and_changes_nothing(app: TestApp) {
    app.introduce(&[&WU]).await;
    let bad_filings = [
        (
            "circumstances[1]",
            json!({"circumstances": ["sanming-1", "sanming-99"]}),
        ),
        ("circumstances", json!({"circumstances": []})),
        (
            "subject.email",
            json!({"subject": {"id": ZHANG.id, "name": "张三", "email": "zhang", "org": ZHANG.org, "position": "科长"}}),
        ),
        (
            "subject.org",
            json!({"subject": {"id": ZHANG.id, "name": "张三", "email": ZHANG.email(), "org": "Anhui/", "position": "科长"}}),
        ),
        (
            "incident.occurred_on",
            json!({"incident": {"title": "t", "description": "d", "occurred_on": "2099-01-01"}}),
        ),
        (
            "incident.occurred_on",
            json!({"incident": {"title": "t", "description": "d", "occurred_on": "yesterday"}}),
        ),
        ("remedial_actions", json!({"remedial_actions": "  "})),
        ("surprise", json!({"surprise": true})),
    ];
    for (field, patch) in bad_filings {
        let mut body = filing();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post("/api/v1/exonerations", &ZHANG, &body).await;
        let v = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(
            v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{field}: {v}"
        );
    }
    let mut missing = filing();
    missing["incident"].as_object_mut().unwrap().remove("title");
    let v = problem(
        app.post("/api/v1/exonerations", &ZHANG, &missing).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(v["errors"][0]["field"], "incident.title", "{v}");

    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap();
    let bad_events = [
        ("event", json!({"items": "x"})),
        ("event", json!({"event": "pardon"})),
        (
            "due_at",
            json!({"event": "request_supplement", "items": "x"}),
        ),
        (
            "due_at",
            json!({"event": "request_supplement", "items": "x", "due_at": due_in_days(-1)}),
        ),
        (
            "investigator_id",
            json!({"event": "accept", "investigator_id": "u-nobody"}),
        ),
        (
            "investigator_id",
            json!({"event": "accept", "investigator_id": WU.id}),
        ),
        (
            "investigator_id",
            json!({"event": "accept", "investigator_id": LI.id}),
        ),
    ];
    for (field, body) in bad_events {
        let (s, v) = app.try_act(id, &LI, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(
            v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{field}: {v}"
        );
    }
    unchanged(&app, id, 1, 1).await;
    let v: Value = app
        .get("/api/v1/exonerations", &LI)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("state=lost", "state"),
        ("cursor=abc", "cursor"),
        ("org=A", "org"),
        ("colour=red", "colour"),
    ] {
        let r = app.get(&format!("/api/v1/exonerations?{q}"), &LI).await;
        let v = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(v["errors"][0]["field"], field, "{q}");
    }
}

async fn malformed_oversized_and_unrouted_requests_get_problems(app: TestApp) {
    let token = app.token(&ZHANG);
    let send = |body: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.client
                .post(format!("{}/api/v1/exonerations", app.base))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    problem(
        send("{\"subject\": ").await,
        StatusCode::BAD_REQUEST,
        "malformed",
    )
    .await;
    problem(send("[1, 2]").await, StatusCode::BAD_REQUEST, "malformed").await;
    problem(send("").await, StatusCode::BAD_REQUEST, "malformed").await;
    let mut big = filing();
    big["remedial_actions"] = json!("长".repeat(40_000));
    let r = app.post("/api/v1/exonerations", &ZHANG, &big).await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "too_large").await;
    let r = app
        .request(
            Method::DELETE,
            "/api/v1/exonerations",
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(r.headers()["allow"], "GET, POST");
    problem(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let r = app
        .request(Method::GET, "/api/v2/nothing", Some(&token), None, &[])
        .await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let v: Value = app
        .get("/api/v1/exonerations", &LI)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 0);
}

async fn admins_register_people_in_their_jurisdiction(app: TestApp) {
    let person = json!({"name": "新调查员", "email": "new@example.cn", "roles": ["investigator"], "org": "anhui/hefei"});
    let r = app.put("/api/v1/directory/u-new", &LI, &person).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app.put("/api/v1/directory/u-new", &ADMIN, &person).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut outside = person.clone();
    outside["org"] = json!("fujian");
    let r = app.put("/api/v1/directory/u-x", &ADMIN, &outside).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let mut bad = person.clone();
    bad["roles"] = json!(["wizard"]);
    let r = app.put("/api/v1/directory/u-x", &ADMIN, &bad).await;
    let v = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(v["errors"][0]["field"], "roles[0]");
    // The registered investigator can now be assigned.
    let case = app.file(&ZHANG, &filing()).await;
    let c = app
        .act(
            case["id"].as_str().unwrap(),
            &LI,
            json!({"event": "accept", "investigator_id": "u-new"}),
        )
        .await;
    assert_eq!(c["investigator_id"], "u-new");
}
