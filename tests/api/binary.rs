//! The real binary: serve over HTTP, mint tokens, refuse bad configuration.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rongcuo"))
}

use crate::helpers::ChildGuard as Server;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve_file_and_read(db_url: String) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let env = test_env(
        &db_url,
        &[("RONGCUO_LISTEN", &listen), ("RONGCUO_LOG_FORMAT", "json")],
    );
    let server = start_server(&env, dir.path(), "serve.log");
    let client = reqwest::Client::new();
    let base = format!("http://{listen}");
    wait_until_up(&client, &base).await;
    // Transparent huge pages are off for the service (they doubled its resident heap).
    if let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", server.0.id())) {
        let thp = status.lines().find(|l| l.starts_with("THP_enabled:"));
        if let Some(line) = thp {
            assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
        }
    }
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let out = bin()
        .args([
            "token",
            "--sub",
            ZHANG.id,
            "--name",
            ZHANG.name,
            "--email",
            &ZHANG.email(),
            "--role",
            "cadre",
            "--org",
            ZHANG.org,
        ])
        .envs(&env)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let r = client
        .post(format!("{base}/api/v1/exonerations"))
        .bearer_auth(&token)
        .json(&filing())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let case: Value = r.json().await.unwrap();
    let r = client
        .get(format!(
            "{base}/api/v1/exonerations/{}",
            case["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"1\"");
    let id = case["id"].as_str().unwrap();
    // A query string on the request (ignored here) stays out of the log: a list's may carry
    // search text.
    let r = client
        .post(format!(
            "{base}/api/v1/exonerations/{id}/transitions?q=%E7%A7%98%E5%AF%86"
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"event": "withdraw", "reason": "撤回"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Bad tokens are refused, and never written to the log either.
    let (head, rest) = token.split_once('.').unwrap();
    let attacks = [
        format!("{head}.{}x", rest),
        format!(
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
            rest.split('.').next().unwrap()
        ),
        "A".repeat(9000),
    ];
    for bad in &attacks {
        let r = client
            .get(format!("{base}/api/v1/exonerations"))
            .bearer_auth(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    drop(server);
    // JSON lines; what a request logs carries its request id; no secret is ever logged.
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    let applied = log
        .lines()
        .find(|l| l.contains("transition applied"))
        .expect("the transition is logged");
    let line: Value = serde_json::from_str(applied).expect("a JSON log line");
    assert!(line["spans"][0]["request_id"].is_string(), "{applied}");
    assert_eq!(line["spans"][0]["http.method"], "POST", "{applied}");
    assert_eq!(
        line["spans"][0]["http.target"],
        format!("/api/v1/exonerations/{id}/transitions"),
        "the path, without the query: {applied}"
    );
    assert!(
        !log.contains("%E7%A7%98") && !log.contains("秘密"),
        "the query is not logged"
    );
    assert!(
        !log.contains(&token) && !log.contains(SECRET),
        "no token or secret in the log"
    );
    for bad in &attacks {
        assert!(!log.contains(bad.as_str()), "a refused token is in the log");
    }
    assert!(
        !log.contains(rest.split('.').next().unwrap()),
        "no token's claims in the log"
    );
}

#[tokio::test]
async fn the_binary_serves_http_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    serve_file_and_read(format!("sqlite://{}/bin.db", dir.path().display())).await;
}

#[tokio::test]
async fn the_binary_serves_http_on_postgres() {
    let Some(pg) = tokio::task::spawn_blocking(create_pg_database)
        .await
        .unwrap()
    else {
        return;
    };
    serve_file_and_read(pg.url.clone()).await;
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let out = bin()
        .args(args)
        .envs(test_env(&db, env))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr =
        String::from_utf8_lossy(&out.stderr).to_string() + &format!("\nfiles: {leftovers:?}");
    (out.status.code(), stdout, stderr)
}

#[test]
fn bad_configuration_stops_the_start_naming_the_key() {
    for (var, value, key) in [
        ("RONGCUO_DATABASE_URL", "mysql://u@h/db", "database.url"),
        ("RONGCUO_LISTEN", "everywhere", "server.listen"),
        ("RONGCUO_TIMER_INTERVAL_MS", "soon", "timers.interval_ms"),
        ("RONGCUO_JWT_ALGORITHM", "none", "auth.algorithm"),
        ("RONGCUO_LOG_FORMAT", "xml", "log.format"),
        ("RONGCUO_CORS_ORIGINS", "*", "server.cors_origins"),
        ("RONGCUO_MAIL_CONCURRENCY", "0", "mail.concurrency"),
    ] {
        let (code, _, stderr) = run(&["migrate"], &[(var, value)]);
        assert_eq!(code, Some(2), "{var}: {stderr}");
        assert!(stderr.contains(key), "{var}: {stderr}");
    }
    let (code, _, stderr) = run(
        &["migrate"],
        &[("RONGCUO_CONFIG", "/nonexistent/rongcuo.toml")],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("RONGCUO_CONFIG"), "{stderr}");
}

#[test]
fn an_unreachable_database_is_an_error_not_a_new_sqlite_file() {
    let (code, _, stderr) = run(
        &["migrate"],
        &[(
            "RONGCUO_DATABASE_URL",
            "postgres://postgres:s3cret@127.0.0.1:1/nothing",
        )],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
    assert!(
        !stderr.contains("s3cret"),
        "the password is not printed: {stderr}"
    );
    assert!(
        stderr.contains("files: []"),
        "nothing was created: {stderr}"
    );
}

#[test]
fn token_refuses_claims_the_service_would_refuse() {
    let (code, _, stderr) = run(
        &[
            "token", "--sub", "u1", "--name", "n", "--email", "a@b.cn", "--role", "emperor",
            "--org", "anhui",
        ],
        &[],
    );
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains("unknown role"), "{stderr}");
    let (code, stdout, _) = run(
        &[
            "token", "--sub", "u1", "--name", "n", "--email", "a@b.cn", "--role", "cadre", "--org",
            "anhui",
        ],
        &[],
    );
    assert_eq!(code, Some(0));
    assert_eq!(stdout.trim().split('.').count(), 3);
}

#[tokio::test]
async fn sigterm_stops_the_server_and_its_workers_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let db = format!("sqlite://{}/term.db", dir.path().display());
    let env = test_env(
        &db,
        &[
            ("RONGCUO_LISTEN", &listen),
            ("RONGCUO_LOG_FORMAT", "json"),
            ("RONGCUO_TIMERS_ENABLED", "true"),
        ],
    );
    let mut server = start_server(&env, dir.path(), "serve.log");
    let client = reqwest::Client::new();
    wait_until_up(&client, &format!("http://{listen}")).await;
    sigterm(&server);
    let status = wait_for_exit(&mut server, Duration::from_secs(20)).await;
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(
        log.contains("mail worker stopped") && log.contains("timer scheduler stopped"),
        "{log}"
    );
}

fn sigterm(server: &Server) {
    let pid = server.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
}

async fn wait_for_exit(server: &mut Server, limit: Duration) -> std::process::ExitStatus {
    let stopped = Instant::now();
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            return status;
        }
        assert!(
            stopped.elapsed() < limit,
            "still running {limit:?} after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A database of this test for the binary: a PostgreSQL one (dropped with the guard) or a
/// SQLite file in `dir`.
fn database(backend: Backend, dir: &std::path::Path) -> (Option<PgDatabase>, String) {
    match backend {
        Backend::Postgres => {
            let pg = create_pg_database().unwrap();
            let url = pg.url.clone();
            (Some(pg), url)
        }
        Backend::Sqlite => (None, format!("sqlite://{}/test.db", dir.display())),
    }
}

/// A token from the binary's own `token` command.
fn mint_with_binary(env: &std::collections::HashMap<String, String>, p: &Person) -> String {
    let mut args = vec![
        "token".to_string(),
        "--sub".into(),
        p.id.into(),
        "--name".into(),
        p.name.into(),
        "--email".into(),
        p.email(),
        "--org".into(),
        p.org.into(),
    ];
    for r in p.roles {
        args.push("--role".into());
        args.push(r.to_string());
    }
    let out = bin().args(&args).envs(env).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn start_server(
    env: &std::collections::HashMap<String, String>,
    dir: &std::path::Path,
    log: &str,
) -> Server {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    Server(
        bin()
            .arg("serve")
            .envs(env)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

async fn wait_until_up(client: &reqwest::Client, base: &str) {
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the binary did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// SIGTERM while clients file cases and a request is half sent: the half-sent request is
/// answered in full, every acknowledged case is there after a restart with its audit chain,
/// no answer is a 5xx or cut short, the process exits 0, and the mail worker leaves no
/// message half-sent: after the restart each mail is delivered exactly once.
async fn sigterm_under_load_finishes_what_it_started(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let (pg, db_url) = database(backend, dir.path());
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let env = test_env(
        &db_url,
        &[
            ("RONGCUO_LISTEN", &listen),
            ("RONGCUO_LOG_FORMAT", "json"),
            ("RONGCUO_MAIL_DIR", "mail"),
            ("RONGCUO_MAIL_POLL_MS", "20"),
        ],
    );
    let mut server = start_server(&env, dir.path(), "first.log");
    let client = reqwest::Client::new();
    wait_until_up(&client, &base).await;
    let cadre = mint_with_binary(&env, &ZHANG);
    let admin = mint_with_binary(&env, &ADMIN);
    // An intake officer to mail about each filing.
    let r = client
        .put(format!("{base}/api/v1/directory/u-intake-load"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({
            "name": "受理", "email": "intake-load@example.cn", "roles": ["intake"],
            "org": "anhui/hefei"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // A request whose body is half sent when the signal comes.
    let body = filing().to_string();
    let (head, tail) = body.as_bytes().split_at(body.len() / 2);
    let mut slow = tokio::net::TcpStream::connect(&listen).await.unwrap();
    slow.write_all(
        format!(
            "POST /api/v1/exonerations HTTP/1.1\r\nHost: {listen}\r\nAuthorization: Bearer \
             {cadre}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    slow.write_all(head).await.unwrap();

    // Clients filing as fast as they can.
    let stop_load = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..8 {
        let (client, base, cadre, stop) = (
            reqwest::Client::new(),
            base.clone(),
            cadre.clone(),
            stop_load.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let sent = client
                    .post(format!("{base}/api/v1/exonerations"))
                    .bearer_auth(&cadre)
                    .json(&filing())
                    .send()
                    .await;
                let Ok(r) = sent else {
                    // Refused or closed before an answer: not acknowledged, fine.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let status = r.status();
                let text = match r.text().await {
                    Ok(t) => t,
                    Err(e) => panic!("an answer cut short ({status}): {e}"),
                };
                assert_eq!(status, 201, "{text}");
                let v: Value = serde_json::from_str(&text).expect("a whole JSON answer");
                acknowledged.push(v["id"].as_str().unwrap().to_string());
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    sigterm(&server);
    // Longer than actix's shutdown tick (1 s): a server that did not wait for in-flight
    // requests would have dropped this connection by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The half-sent request is in flight: finishing it gets its answer.
    slow.write_all(tail).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&answer);
                    if text.contains("\r\n\r\n") && text.trim_end().ends_with('}') {
                        break;
                    }
                }
            }
        }
    })
    .await;
    let answer = String::from_utf8_lossy(&answer).to_string();
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the in-flight request: {answer}"
    );
    let slow_id = answer
        .split("\r\n\r\n")
        .nth(1)
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .expect("the in-flight request's case");

    let status = wait_for_exit(&mut server, Duration::from_secs(30)).await;
    assert!(status.success(), "{status:?}");
    stop_load.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = vec![slow_id];
    for c in clients {
        acknowledged.extend(c.await.unwrap());
    }
    assert!(
        acknowledged.len() > 8,
        "only {} filings",
        acknowledged.len()
    );
    let log = std::fs::read_to_string(dir.path().join("first.log")).unwrap();
    assert!(log.contains("mail worker stopped"), "{log}");

    // Nothing half-sent was left behind by the worker.
    let sending = outbox_rows(&db_url, "sending");
    assert_eq!(sending, 0, "mails left in `sending`");

    // After a restart: every acknowledged case, every chain intact, every mail once.
    let _server = start_server(&env, dir.path(), "second.log");
    wait_until_up(&client, &base).await;
    for id in &acknowledged {
        let r = client
            .get(format!("{base}/api/v1/exonerations/{id}"))
            .bearer_auth(&cadre)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged case {id}");
    }
    audit_verifies_and_mail_drains(&env, &db_url).await;
    let sent = outbox_rows(&db_url, "sent");
    assert!(
        sent >= acknowledged.len(),
        "{sent} mails for {} cases",
        acknowledged.len()
    );
    let files = std::fs::read_dir(dir.path().join("mail")).unwrap().count();
    assert_eq!(files, sent, "each mail written once");
    drop(pg);
}

/// `rongcuo audit verify` passes, and the outbox empties (nothing pending or sending).
async fn audit_verifies_and_mail_drains(
    env: &std::collections::HashMap<String, String>,
    db_url: &str,
) {
    let (code, out, err) = run(&["audit", "verify"], &env_pairs(env));
    assert_eq!(code, Some(0), "{out}{err}");
    let started = Instant::now();
    while outbox_rows(db_url, "pending") + outbox_rows(db_url, "sending") > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "mail left undelivered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn env_pairs(env: &std::collections::HashMap<String, String>) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Outbox rows in `state`, read straight from the database.
fn outbox_rows(db_url: &str, state: &str) -> usize {
    use diesel::prelude::*;
    use rongcuo::db::schema::outbox::dsl;
    let count = |c: &mut rongcuo::db::DbConnection| -> i64 {
        match c {
            rongcuo::db::DbConnection::Pg(c) => dsl::outbox
                .filter(dsl::state.eq(state))
                .count()
                .get_result(c)
                .unwrap(),
            rongcuo::db::DbConnection::Sqlite(c) => dsl::outbox
                .filter(dsl::state.eq(state))
                .count()
                .get_result(c)
                .unwrap(),
        }
    };
    let mut conn = if let Some(path) = db_url.strip_prefix("sqlite://") {
        rongcuo::db::DbConnection::Sqlite(diesel::SqliteConnection::establish(path).unwrap())
    } else {
        rongcuo::db::DbConnection::Pg(diesel::PgConnection::establish(db_url).unwrap())
    };
    count(&mut conn) as usize
}

crate::on_both_backends!(sigterm_under_load_finishes_what_it_started);

/// SIGKILL at random moments while clients file cases and apply transitions and the outbox
/// sends: after each restart every acknowledged filing and transition is there, the audit
/// chains verify, every mail is delivered, and a mail sent twice carries one Message-ID.
async fn sigkill_under_load_loses_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (pg, db_url) = database(backend, dir.path());
    let sink = crate::smtp::SmtpSink::start(0, &[]);
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let env = test_env(
        &db_url,
        &[
            ("RONGCUO_LISTEN", &listen),
            ("RONGCUO_SMTP_URL", &sink.url()),
            ("RONGCUO_MAIL_POLL_MS", "20"),
            // A row left `sending` by a killed worker is taken up again soon.
            ("RONGCUO_MAIL_LEASE_MS", "500"),
        ],
    );
    let client = reqwest::Client::new();
    let mut server = start_server(&env, dir.path(), "run-0.log");
    wait_until_up(&client, &base).await;
    let cadre = mint_with_binary(&env, &ZHANG);
    let intake = mint_with_binary(&env, &LI);
    let filed = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let moved = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, i64)>::new()));
    for round in 1..=4 {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = Vec::new();
        for c in 0..6 {
            let (client, base, cadre, intake) = (
                reqwest::Client::new(),
                base.clone(),
                cadre.clone(),
                intake.clone(),
            );
            let (filed, moved, stop) = (filed.clone(), moved.clone(), stop.clone());
            clients.push(tokio::spawn(async move {
                let due = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if c % 2 == 0 {
                        let r = client
                            .post(format!("{base}/api/v1/exonerations"))
                            .bearer_auth(&cadre)
                            .json(&filing())
                            .send()
                            .await;
                        if let Ok(r) = r
                            && r.status() == 201
                            && let Ok(v) = r.json::<Value>().await
                        {
                            filed.lock().unwrap().push(v["id"].as_str().unwrap().into());
                        }
                    } else {
                        let next = {
                            let f = filed.lock().unwrap();
                            let m = moved.lock().unwrap();
                            f.iter()
                                .find(|id| !m.iter().any(|(x, _)| x == *id))
                                .cloned()
                        };
                        let Some(id) = next else {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            continue;
                        };
                        let r = client
                            .post(format!("{base}/api/v1/exonerations/{id}/transitions"))
                            .bearer_auth(&intake)
                            .json(&serde_json::json!({
                                "event": "request_supplement", "items": "会议纪要", "due_at": due
                            }))
                            .send()
                            .await;
                        match r {
                            Ok(r) if r.status() == 200 => {
                                let v: Value = r.json().await.unwrap_or(Value::Null);
                                if let Some(version) = v["version"].as_i64() {
                                    moved.lock().unwrap().push((id, version));
                                }
                            }
                            // Applied before the kill but unanswered: mark it as tried.
                            Ok(r) if r.status() == 409 => moved.lock().unwrap().push((id, 0)),
                            _ => tokio::time::sleep(Duration::from_millis(5)).await,
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(300 + fastrand::u64(0..500))).await;
        let pid = server.0.id().to_string();
        let killed = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        assert!(killed.success());
        let _ = server.0.wait();
        tokio::time::sleep(Duration::from_millis(100)).await;
        server = start_server(&env, dir.path(), &format!("run-{round}.log"));
        wait_until_up(&client, &base).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for c in clients {
            c.await.unwrap();
        }
    }
    let filed = filed.lock().unwrap().clone();
    let moved = moved.lock().unwrap().clone();
    assert!(
        filed.len() > 20 && moved.len() > 5,
        "{} / {}",
        filed.len(),
        moved.len()
    );
    for id in &filed {
        let r = client
            .get(format!("{base}/api/v1/exonerations/{id}"))
            .bearer_auth(&cadre)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged filing {id}");
    }
    for (id, version) in moved.iter().filter(|(_, v)| *v > 0) {
        let case: Value = client
            .get(format!("{base}/api/v1/exonerations/{id}"))
            .bearer_auth(&intake)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            case["version"].as_i64().unwrap() >= *version && case["state"] == "needs_supplement",
            "acknowledged transition of {id}: {case}"
        );
    }
    audit_verifies_and_mail_drains(&env, &db_url).await;
    drop(server);
    let sent = outbox_rows(&db_url, "sent");
    let mut ids = std::collections::HashMap::<String, usize>::new();
    for m in sink.received() {
        *ids.entry(m.message_id()).or_default() += 1;
    }
    assert_eq!(
        ids.len(),
        sent,
        "each outbox row arrived, under its own Message-ID"
    );
    eprintln!(
        "crash test: {} filed, {} moved, {sent} mails, {} deliveries",
        filed.len(),
        moved.len(),
        ids.values().sum::<usize>()
    );
    drop(pg);
}

crate::on_both_backends!(sigkill_under_load_loses_nothing);

/// A PostgreSQL cluster of this test's own (initdb into a temporary folder), so it can be
/// restarted without touching the server the other tests share.
struct PrivateCluster {
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivateCluster {
    fn bin(name: &str) -> Option<std::path::PathBuf> {
        let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
        versions
            .flatten()
            .map(|v| v.path().join("bin").join(name))
            .find(|p| p.exists())
    }

    /// As the `postgres` user when we are root (PostgreSQL refuses to run as root).
    fn command(name: &str) -> Command {
        let bin = Self::bin(name).expect("PostgreSQL server binaries");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            Command::new(bin)
        }
    }

    fn start() -> PrivateCluster {
        let dir = tempfile::tempdir().unwrap();
        let _ = Command::new("chown")
            .args(["postgres"])
            .arg(dir.path())
            .status();
        let port = free_port();
        let ok = Self::command("initdb")
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(dir.path().join("data"))
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "initdb");
        let cluster = PrivateCluster { dir, port };
        cluster.pg_ctl("start");
        cluster
    }

    fn pg_ctl(&self, action: &str) {
        let ok = Self::command("pg_ctl")
            .args(["-w", "-m", "fast", "-D"])
            .arg(self.dir.path().join("data"))
            .args([
                "-o",
                &format!(
                    "-p {} -k {} -c listen_addresses=127.0.0.1",
                    self.port,
                    self.dir.path().display()
                ),
            ])
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .arg(action)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "pg_ctl {action}");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Self::command("pg_ctl")
            .args(["-w", "-m", "immediate", "-D"])
            .arg(self.dir.path().join("data"))
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// PostgreSQL restarted while clients file cases: requests caught by the outage get 503
/// with a problem body (never a 500), the service reconnects by itself, and every
/// acknowledged case is there with its audit chain. Runs where the PostgreSQL server
/// binaries are installed and RONGCUO_TEST_PG_RESTART is set (`.ci/run`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarted_under_load_is_a_503_then_recovered() {
    if std::env::var("RONGCUO_TEST_PG_RESTART").is_err() || PrivateCluster::bin("initdb").is_none()
    {
        return;
    }
    let cluster = PrivateCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let env = test_env(
        &cluster.url(),
        &[
            ("RONGCUO_LISTEN", &listen),
            ("RONGCUO_MAIL_DELIVER", "false"),
        ],
    );
    let client = reqwest::Client::new();
    let _server = start_server(&env, dir.path(), "serve.log");
    wait_until_up(&client, &base).await;
    let cadre = mint_with_binary(&env, &ZHANG);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (client, base, cadre, stop) = (
            reqwest::Client::new(),
            base.clone(),
            cadre.clone(),
            stop.clone(),
        );
        clients.push(tokio::spawn(async move {
            let (mut acknowledged, mut unavailable) = (Vec::new(), 0usize);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = client
                    .post(format!("{base}/api/v1/exonerations"))
                    .bearer_auth(&cadre)
                    .json(&filing())
                    .send()
                    .await
                    .expect("the service itself stays up");
                let status = r.status().as_u16();
                let v: Value = r.json().await.expect("a JSON body");
                match status {
                    201 => acknowledged.push(v["id"].as_str().unwrap().to_string()),
                    503 => {
                        assert_eq!(v["code"], "unavailable", "{v}");
                        unavailable += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    other => panic!("{other} during the outage: {v}"),
                }
            }
            (acknowledged, unavailable)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.pg_ctl("restart");
    // After the restart the service must come back by itself.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut acknowledged, mut unavailable) = (Vec::new(), 0);
    for c in clients {
        let (a, u) = c.await.unwrap();
        acknowledged.extend(a);
        unavailable += u;
    }
    let r = client
        .post(format!("{base}/api/v1/exonerations"))
        .bearer_auth(&cadre)
        .json(&filing())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "recovered after the restart");
    eprintln!(
        "restart test: {} acknowledged, {unavailable} answered 503",
        acknowledged.len()
    );
    for id in &acknowledged {
        let r = client
            .get(format!("{base}/api/v1/exonerations/{id}"))
            .bearer_auth(&cadre)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged case {id}");
    }
    let (code, out, err) = run(&["audit", "verify"], &env_pairs(&env));
    assert_eq!(code, Some(0), "{out}{err}");
}

/// SQLite on a file system that fills up (a 3 MB tmpfs): filings past the last byte get a
/// 503 problem, none is half-written (every case has its audit row and nothing else is
/// there), and once space is freed the service files again; the same when the file system
/// turns read-only. Runs where tmpfs can be
/// mounted and RONGCUO_TEST_DISK_FULL is set (`.ci/run`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_503_and_no_half_written_case() {
    if std::env::var("RONGCUO_TEST_DISK_FULL").is_err() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("cannot mount a tmpfs here; skipped");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mnt.clone());
    // Room to give back later.
    std::fs::write(mnt.join("filler"), vec![0u8; 512 * 1024]).unwrap();
    let db_url = format!("sqlite://{}/full.db", mnt.display());
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let env = test_env(
        &db_url,
        &[
            ("RONGCUO_LISTEN", &listen),
            ("RONGCUO_MAIL_DELIVER", "false"),
        ],
    );
    let client = reqwest::Client::new();
    let _server = start_server(&env, dir.path(), "serve.log");
    wait_until_up(&client, &base).await;
    let cadre = mint_with_binary(&env, &ZHANG);
    let file = || async {
        let r = client
            .post(format!("{base}/api/v1/exonerations"))
            .bearer_auth(&cadre)
            .json(&filing())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap())
    };
    let mut acknowledged = 0;
    let refusal = loop {
        let (status, v) = file().await;
        if status == 201 {
            acknowledged += 1;
            assert!(acknowledged < 20_000, "the disk never filled");
            continue;
        }
        break (status, v);
    };
    assert_eq!(refusal.0, 503, "{}", refusal.1);
    assert_eq!(refusal.1["code"], "unavailable");
    assert!(acknowledged > 10, "only {acknowledged} filings fitted");
    // Nothing half-written: as many cases as acknowledged, each with exactly its filing row.
    let count = |sql: &str| {
        use diesel::prelude::*;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut c =
            diesel::SqliteConnection::establish(&format!("{}/full.db", mnt.display())).unwrap();
        diesel::sql_query(sql).get_result::<N>(&mut c).unwrap().n
    };
    assert_eq!(count("SELECT COUNT(*) AS n FROM cases"), acknowledged);
    assert_eq!(count("SELECT COUNT(*) AS n FROM transitions"), acknowledged);
    // Space again: the service goes on by itself.
    std::fs::remove_file(mnt.join("filler")).unwrap();
    let (status, v) = file().await;
    assert_eq!(status, 201, "after space was freed: {v}");
    // The file system turned read-only: the same 503, reads still answered.
    let remount = |how: &str| {
        Command::new("mount")
            .args(["-o", &format!("remount,{how}")])
            .arg(&mnt)
            .status()
            .is_ok_and(|s| s.success())
    };
    if remount("ro") {
        let (status, v) = file().await;
        assert_eq!(status, 503, "on a read-only file system: {v}");
        assert_eq!(v["code"], "unavailable");
        let r = client
            .get(format!("{base}/api/v1/exonerations?limit=1"))
            .bearer_auth(&cadre)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "reads go on");
        assert!(remount("rw"));
        let (status, v) = file().await;
        assert_eq!(status, 201, "writable again: {v}");
    }
    eprintln!("disk-full test: {acknowledged} filings fitted");
}

/// `rongcuo openapi` prints the very document the service serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_command_prints_the_served_document() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (code, stdout, stderr) = run(&["openapi"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let printed: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let served: Value = serde_json::from_str(app.state.docs.json()).unwrap();
    assert_eq!(printed["openapi"], "3.1.0");
    assert_eq!(printed, served);
}
