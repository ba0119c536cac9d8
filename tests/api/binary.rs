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
    let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
    let server = Server(
        bin()
            .arg("serve")
            .envs(&env)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let base = format!("http://{listen}");
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the binary did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
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
    let r = client
        .post(format!("{base}/api/v1/exonerations/{id}/transitions"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"event": "withdraw", "reason": "撤回"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(server);
    // JSON lines; what a request logs carries its request id; no secret is ever logged.
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    let applied = log
        .lines()
        .find(|l| l.contains("transition applied"))
        .expect("the transition is logged");
    let line: Value = serde_json::from_str(applied).expect("a JSON log line");
    assert!(line["spans"][0]["request_id"].is_string(), "{applied}");
    assert!(
        !log.contains(&token) && !log.contains(SECRET),
        "no token or secret in the log"
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
    let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
    let mut server = Server(
        bin()
            .arg("serve")
            .envs(&env)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("http://{listen}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the binary did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(20),
            "still running 20 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(
        log.contains("mail worker stopped") && log.contains("timer scheduler stopped"),
        "{log}"
    );
}
