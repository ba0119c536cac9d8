//! The web console over HTTP as a browser would use it (cookies, redirects, forms): a
//! one-time link signs a person in; pages show what the engine lets them see; sessions end.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

both_backends!(a_cadre_signs_in_with_a_link_and_sees_his_case_and_nothing_else);

/// A one-time sign-in link's secret for `who`.
async fn link(app: &TestApp, who: &Person) -> String {
    let sessions = app.state.console.sessions.clone();
    let claims = app.claims(who);
    tokio::task::spawn_blocking(move || sessions.login_link(&claims))
        .await
        .unwrap()
        .unwrap()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, String, String) {
    let r = browser()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    answered(r).await
}

/// An answer's status, `Location` (or empty) and body.
async fn answered(r: reqwest::Response) -> (StatusCode, String, String) {
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// Signs in with a fresh link; the session's cookie (`name=value`).
async fn sign_in(app: &TestApp, who: &Person, next: &str) -> (String, String) {
    let secret = link(app, who).await;
    let r = browser()
        .get(format!(
            "{}/console/login?link={secret}&next={next}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/console"] {
        assert!(set.contains(attr), "{set}");
    }
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    let again = browser()
        .get(format!("{}/console/login?link={secret}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::UNAUTHORIZED,
        "a link opens one session"
    );
    (cookie, location)
}

fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..at + 64].to_string()
}

async fn a_cadre_signs_in_with_a_link_and_sees_his_case_and_nothing_else(app: TestApp) {
    app.introduce(&[&ZHANG, &LI, &CHEN]).await;
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    let number = case["number"].as_str().unwrap().to_string();
    let report = app
        .file_in(
            CLA,
            &LI,
            &json!({
                "subject": {"id": ZHANG.id, "name": ZHANG.name, "email": ZHANG.email(), "org": ZHANG.org, "position": "科长"},
                "allegation": {"summary": "来信反映收受好处", "details": "来信称其收受中介好处。", "channel": "letter"},
                "reporter": {"name": "举报人甲", "contact": "13900000000"}
            }),
        )
        .await;
    let rid = report["id"].as_str().unwrap().to_string();

    // Without a session every page sends the reader to sign in, and back afterwards.
    let (status, location, _) = page(&app, &format!("/console/exonerations/{id}"), "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location,
        format!("/console/login?next=%2Fconsole%2Fexonerations%2F{id}")
    );
    let (cookie, location) = sign_in(&app, &ZHANG, &format!("/console/exonerations/{id}")).await;
    assert_eq!(location, format!("/console/exonerations/{id}"));
    // Only console pages are places to go back to.
    let (_, elsewhere) = sign_in(&app, &ZHANG, "https://evil.example/").await;
    assert_eq!(elsewhere, "/console/");

    let (status, _, home) = page(&app, "/console/", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        home.contains("我的案件") && home.contains(&number),
        "{home}"
    );
    let (status, _, html) = page(&app, &format!("/console/exonerations/{id}"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("已提交申请") && html.contains("办理记录"),
        "{html}"
    );
    // The report he has not been asked about does not exist for him, nor its reporter.
    let (status, _, missing) = page(&app, &format!("/console/clarifications/{rid}"), &cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for text in [&home, &html, &missing] {
        assert!(!text.contains("举报人甲") && !text.contains("收受好处") && !text.contains(&rid));
    }
    // The intake officer's work queue has both; his page of the report names the reporter
    // nowhere either (the console shows no payloads).
    let (staff_cookie, _) = sign_in(&app, &LI, "/console/").await;
    let (_, _, queue) = page(&app, "/console/", &staff_cookie).await;
    assert!(
        queue.contains("待我处理") && queue.contains(&number),
        "{queue}"
    );
    let (status, _, report_page) = page(
        &app,
        &format!("/console/clarifications/{rid}"),
        &staff_cookie,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!report_page.contains("13900000000"));

    // Signing out needs the page's CSRF token; then the cookie opens nothing.
    let post = |body: String, cookie: String| {
        let base = app.base.clone();
        async move {
            browser()
                .post(format!("{base}/console/logout"))
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = post("csrf=forged".into(), cookie.clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (status, _, _) = page(&app, "/console/", &cookie).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a refused sign-out leaves the session"
    );
    let r = post(format!("csrf={}", csrf(&home)), cookie.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, location, _) = page(&app, "/console/", &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/console/login"), "{location}");

    // The command line prints such a link for development.
    let url = app.settings.database.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_rongcuo"))
            .args([
                "token",
                "--sub",
                ZHANG.id,
                "--name",
                ZHANG.name,
                "--email",
                "zhang@example.cn",
            ])
            .args(["--role", "cadre", "--org", ZHANG.org, "--login-link"])
            .envs(test_env(&url, &[]))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "{printed} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let query = printed
        .split_once("/console/login?")
        .expect("a console link")
        .1;
    let r = browser()
        .get(format!("{}/console/login?{query}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{printed}");
    assert!(r.headers().get("set-cookie").is_some());

    // An idle session ends after the configured minutes (30).
    app.clock().advance(chrono::Duration::minutes(31));
    let (status, _, _) = page(&app, "/console/", &staff_cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the idle session ended");
}

both_backends!(staff_apply_events_through_forms_built_from_the_schemas);

async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let r = browser()
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    answered(r).await
}

async fn staff_apply_events_through_forms_built_from_the_schemas(app: TestApp) {
    app.introduce(&[&ZHANG, &LI, &CHEN]).await;
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    let (cookie, _) = sign_in(&app, &LI, "/console/").await;
    let path = format!("/console/exonerations/{id}");
    let (_, _, html) = page(&app, &path, &cookie).await;
    // A form per event the intake officer may apply, its inputs from the event's schema.
    for needle in [
        "/events/request_supplement",
        "/events/accept",
        "name=\"items\"",
        "type=\"datetime-local\"",
        "name=\"investigator_id\"",
    ] {
        assert!(html.contains(needle), "{needle} missing from {html}");
    }
    let token = csrf(&html);
    let action = format!("{path}/events/request_supplement");

    // Without the page's token the form is refused and nothing happens.
    let (status, _, _) = post_form(
        &app,
        &action,
        &cookie,
        &[("items", "会议纪要"), ("due_at", "2030-01-01T09:00")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A required field left empty is named next to its input.
    let (status, _, again) = post_form(
        &app,
        &action,
        &cookie,
        &[
            ("csrf", &token),
            ("version", "1"),
            ("due_at", "2030-01-01T09:00"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again.contains("role=\"alert\"") && again.contains("必填"),
        "{again}"
    );
    // The engine's refusal (a due date in the past) comes back beside the field it names.
    let (status, _, refused) = post_form(
        &app,
        &action,
        &cookie,
        &[
            ("csrf", &token),
            ("version", "1"),
            ("items", "会议纪要"),
            ("due_at", "2020-01-01T09:00"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains("会议纪要"), "what was entered is kept");
    assert_eq!(app.case(&id, &LI).await["state"], "filed");
    // Filled in, it is applied as the API would, and the reader goes back to the case.
    let (status, location, _) = post_form(
        &app,
        &action,
        &cookie,
        &[
            ("csrf", &token),
            ("version", "1"),
            ("items", "会议纪要"),
            ("due_at", "2030-01-01T09:00"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, path);
    let after = app.case(&id, &LI).await;
    assert_eq!(after["state"], "needs_supplement");
    assert_eq!(
        after["supplement"]["due_at"]
            .as_str()
            .map(|s| s.starts_with("2030-01-01T01:00:00")),
        Some(true),
        "{after}"
    );
    // A form of a page gone stale (the case moved on) is refused as the API refuses it.
    let (status, _, stale) = post_form(
        &app,
        &format!("{path}/events/accept"),
        &cookie,
        &[
            ("csrf", &token),
            ("version", "1"),
            ("investigator_id", CHEN.id),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{stale}");
    assert!(stale.contains("role=\"alert\""));
}

both_backends!(a_file_is_added_from_the_case_page_and_downloaded_from_it);

/// A `multipart/form-data` body of these text fields, then one file.
fn multipart(
    fields: &[(&str, &str)],
    filename: &str,
    media_type: &str,
    bytes: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "----console-test";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {media_type}\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn a_file_is_added_from_the_case_page_and_downloaded_from_it(app: TestApp) {
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    let (cookie, _) = sign_in(&app, &ZHANG, "/console/").await;
    let path = format!("/console/exonerations/{id}");
    let (_, _, html) = page(&app, &path, &cookie).await;
    assert!(
        html.contains("enctype=\"multipart/form-data\"") && !html.contains("name=\"visibility\""),
        "a cadre's material is for the parties: {html}"
    );
    let token = csrf(&html);
    let text = "情况说明：会议纪要见附件。\n".repeat(20);
    let send = |fields: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (content_type, body) = multipart(&fields, "说明.txt", "text/plain", text.as_bytes());
        let url = format!("{}{path}/files", app.base);
        let cookie = cookie.clone();
        async move {
            answered(
                browser()
                    .post(url)
                    .header("cookie", cookie)
                    .header("content-type", content_type)
                    .body(body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, _, _) = send(vec![]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token, no upload");
    let (status, location, _) = send(vec![("csrf", token.clone())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, path);
    let (_, _, html) = page(&app, &path, &cookie).await;
    assert!(html.contains("说明.txt"), "{html}");
    let at = html.find(&format!("{path}/files/")).unwrap() + path.len() + "/files/".len();
    let file_id = &html[at..at + 36];
    let r = browser()
        .get(format!("{}{path}/files/{file_id}", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.text().await.unwrap(), text);
    // The API sees the same file.
    let listed: serde_json::Value = app
        .get(&format!("/api/v1/exonerations/{id}/attachments"), &ZHANG)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], file_id);
}
