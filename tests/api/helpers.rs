//! `spawn_app()`: a fresh database (a SQLite file, or a PostgreSQL database made for this
//! test and dropped after it), the app on port 0, and helpers that mint tokens.

use std::collections::HashMap;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::{Method, Response, StatusCode};
use rongcuo::auth::{Claims, Keys};
use rongcuo::clock::Clock;
use rongcuo::db::Db;
use rongcuo::http::AppState;
use rongcuo::settings::Settings;
use rongcuo::startup::Application;
use serde_json::{Value, json};

pub const EXO: &str = "exonerations";
pub const CLA: &str = "clarifications";

pub const SECRET: &str = "api-test-secret-0123456789abcdef";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A person of the test world.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: &'static str,
    pub name: &'static str,
    pub roles: &'static [&'static str],
    pub org: &'static str,
}

impl Person {
    pub fn email(&self) -> String {
        format!("{}@example.cn", self.id)
    }
}

pub const ZHANG: Person = Person {
    id: "u-zhang",
    name: "张三",
    roles: &["cadre"],
    org: "anhui/hefei/finance",
};
pub const QIAN: Person = Person {
    id: "u-qian",
    name: "钱七",
    roles: &["cadre"],
    org: "anhui/hefei/finance",
};
pub const WANG: Person = Person {
    id: "u-wang",
    name: "王五",
    roles: &["unit_admin"],
    org: "anhui/hefei/finance",
};
pub const LI: Person = Person {
    id: "u-li",
    name: "李四",
    roles: &["intake"],
    org: "anhui/hefei",
};
pub const CHEN: Person = Person {
    id: "u-chen",
    name: "陈六",
    roles: &["investigator"],
    org: "anhui/hefei",
};
pub const ZHAO: Person = Person {
    id: "u-zhao",
    name: "赵八",
    roles: &["investigator", "reviewer"],
    org: "anhui/hefei",
};
pub const SUN: Person = Person {
    id: "u-sun",
    name: "孙九",
    roles: &["reviewer"],
    org: "anhui/hefei",
};
pub const ZHOU: Person = Person {
    id: "u-zhou",
    name: "周十",
    roles: &["reviewer"],
    org: "anhui",
};
pub const WU: Person = Person {
    id: "u-wu",
    name: "吴十一",
    roles: &["investigator", "reviewer", "intake"],
    org: "fujian",
};
pub const ADMIN: Person = Person {
    id: "u-admin",
    name: "管理员",
    roles: &["admin"],
    org: "anhui",
};

pub struct TestApp {
    pub base: String,
    pub backend: Backend,
    pub client: reqwest::Client,
    pub state: AppState,
    pub settings: Settings,
    keys: Keys,
    stopper: rongcuo::startup::Stopper,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// A PostgreSQL database of this test; dropped with it.
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(mut c) = PgConnection::establish(&admin) {
                let _ =
                    c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        })
        .join();
    }
}

pub fn pg_admin_url() -> Option<String> {
    std::env::var("RONGCUO_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Creates a database for one test (blocking).
pub fn create_pg_database() -> Option<PgDatabase> {
    let admin_url = pg_admin_url()?;
    let name = format!("rongcuo_t_{}", uuid::Uuid::new_v4().simple());
    let mut c =
        PgConnection::establish(&admin_url).expect("RONGCUO_TEST_POSTGRES_URL must be reachable");
    c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .expect("create test database");
    let base = admin_url.split('?').next().unwrap_or(&admin_url);
    let cut = base
        .rfind('/')
        .filter(|i| *i > "postgres://".len())
        .unwrap_or(base.len());
    let url = format!("{}/{name}", &base[..cut]);
    Some(PgDatabase {
        admin_url,
        name,
        url,
    })
}

/// Runs `check` on the URL of a fresh SQLite file and, when configured, of a fresh
/// PostgreSQL database (for tests below the HTTP layer; `on_both_backends!` runs an app).
pub fn with_each_database_url(check: fn(&str)) {
    let dir = tempfile::tempdir().unwrap();
    check(&format!("sqlite://{}/t.db", dir.path().display()));
    match create_pg_database() {
        Some(pg) => check(&pg.url),
        None => eprintln!("RONGCUO_TEST_POSTGRES_URL is not set: PostgreSQL variant skipped"),
    }
}

pub fn test_env(db_url: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("RONGCUO_LISTEN", "127.0.0.1:0"),
        ("RONGCUO_JWT_SECRET", SECRET),
        ("RONGCUO_DATABASE_URL", db_url),
        ("RONGCUO_DATABASE_POOL_SIZE", "4"),
        // Short, so a worker caught mid-pass when a test drops its database lets go soon.
        ("RONGCUO_DATABASE_TIMEOUT_MS", "1000"),
        // Tests that are about timers switch the scheduler on; others fire timer events
        // themselves and must not race it.
        ("RONGCUO_TIMERS_ENABLED", "false"),
        (
            "RONGCUO_WORKFLOWS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/workflows"),
        ),
        ("RONGCUO_PUBLIC_URL", "http://rongcuo.test"),
        // Tests send many requests as one caller; the limit has its own test.
        ("RONGCUO_RATE_LIMIT_PER_MINUTE", "0"),
        // Tests read statistics right after changing cases; the cache has its own test.
        ("RONGCUO_STATISTICS_CACHE_MS", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

/// Like [`spawn_app`], with more configuration variables.
pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> Option<TestApp> {
    spawn_app_running(backend, extra, Vec::new()).await
}

/// Like [`spawn_app_with`], with `workflows` registered beside the built-in ones.
pub async fn spawn_app_running(
    backend: Backend,
    extra: &[(&str, &str)],
    workflows: Vec<std::sync::Arc<dyn rongcuo::domain::workflow::Workflow>>,
) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (db_url, pg) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}/rongcuo.db", dir.path().display()),
            None,
        ),
        Backend::Postgres => {
            let Some(pg) = tokio::task::spawn_blocking(create_pg_database)
                .await
                .unwrap()
            else {
                eprintln!("RONGCUO_TEST_POSTGRES_URL is not set: PostgreSQL variant skipped");
                return None;
            };
            (pg.url.clone(), Some(pg))
        }
    };
    let mail_dir = dir.path().join("mail").display().to_string();
    let mut extra = extra.to_vec();
    if !extra.iter().any(|(k, _)| *k == "RONGCUO_MAIL_DIR") {
        extra.push(("RONGCUO_MAIL_DIR", &mail_dir));
    }
    let env = test_env(&db_url, &extra);
    let settings = Settings::load_from(|k| env.get(k).cloned()).expect("test settings");
    Some(start(backend, settings, Clock::default(), dir, pg, workflows).await)
}

async fn start(
    backend: Backend,
    settings: Settings,
    clock: Clock,
    dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
    workflows: Vec<std::sync::Arc<dyn rongcuo::domain::workflow::Workflow>>,
) -> TestApp {
    let keys = Keys::from_settings(&settings.auth).expect("keys");
    let app = Application::build_with(settings.clone(), clock, workflows)
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        backend,
        client: reqwest::Client::new(),
        state,
        settings,
        keys,
        stopper,
        _dir: dir,
        _pg: pg,
    }
}

impl TestApp {
    /// Stops this app (as a deploy or a crash would) and starts another on the same
    /// database, `later` after this one's now, with `extra` configuration.
    pub async fn stop_and_restart(
        &self,
        later: chrono::Duration,
        extra: &[(&str, &str)],
    ) -> TestApp {
        self.stopper.stop().await;
        self.another(later, extra).await
    }

    /// Another instance on the same database (a replica), its clock `later` than this one's.
    pub async fn another(&self, later: chrono::Duration, extra: &[(&str, &str)]) -> TestApp {
        let mut env = test_env(&self.settings.database.url, extra);
        env.insert(
            "RONGCUO_MAIL_DIR".into(),
            self.settings.mail.outbox_dir.clone(),
        );
        let settings = Settings::load_from(|k| env.get(k).cloned()).expect("test settings");
        let clock = Clock::default();
        clock.advance(self.clock().now() - chrono::Utc::now() + later);
        start(
            self.backend,
            settings,
            clock,
            tempfile::tempdir().unwrap(),
            None,
            Vec::new(),
        )
        .await
    }

    /// `GET /readyz` as JSON.
    pub async fn readyz(&self) -> Value {
        let r = self
            .client
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .expect("readyz answered");
        r.json().await.expect("readyz JSON")
    }

    pub fn db(&self) -> &Db {
        &self.state.engine.db
    }

    pub fn clock(&self) -> &Clock {
        &self.state.engine.clock
    }

    pub fn claims(&self, p: &Person) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: p.id.into(),
            name: p.name.into(),
            email: p.email(),
            roles: p.roles.iter().map(|r| r.to_string()).collect(),
            org: p.org.into(),
            iss: "rongcuo".into(),
            aud: "rongcuo".into(),
            exp: now + 3600,
            iat: now,
            nbf: None,
        }
    }

    pub fn token(&self, p: &Person) -> String {
        self.keys.mint(&self.claims(p)).unwrap()
    }

    pub fn mint(&self, claims: &Claims) -> String {
        self.keys.mint(claims).unwrap()
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let method_name = method.to_string();
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let json_body = headers
            .iter()
            .all(|(k, _)| !k.eq_ignore_ascii_case("content-type"))
            .then_some(body)
            .flatten();
        self.send_checked(req, &method_name, json_body).await
    }

    /// Sends bytes (an upload) with these headers as `who`.
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        who: &Person,
        headers: &[(&str, &str)],
        bytes: Vec<u8>,
    ) -> Response {
        let method_name = method.to_string();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token(who))
            .body(bytes);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send_checked(req, &method_name, None).await
    }

    /// Sends `req`, checks the answer against /openapi.json, and hands back an equal one.
    async fn send_checked(
        &self,
        req: reqwest::RequestBuilder,
        method_name: &str,
        json_body: Option<&Value>,
    ) -> Response {
        let resp = req.send().await.expect("request sent");
        // Read the answer, check it against /openapi.json, and hand the test an equal one.
        let status = resp.status();
        // After redirects, the resource that answered.
        let answered = resp.url().path().to_string();
        let version = resp.version();
        let resp_headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("response body");
        let content_type = resp_headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        crate::conformance::shared(self.state.docs.json()).check(
            method_name,
            &answered,
            json_body,
            status.as_u16(),
            content_type,
            &bytes,
        );
        let mut rebuilt = http::Response::builder().status(status).version(version);
        if let Some(h) = rebuilt.headers_mut() {
            *h = resp_headers;
        }
        Response::from(rebuilt.body(bytes).expect("a response"))
    }

    pub async fn get(&self, path: &str, who: &Person) -> Response {
        self.request(Method::GET, path, Some(&self.token(who)), None, &[])
            .await
    }

    pub async fn put(&self, path: &str, who: &Person, body: &Value) -> Response {
        self.request(Method::PUT, path, Some(&self.token(who)), Some(body), &[])
            .await
    }

    pub async fn post(&self, path: &str, who: &Person, body: &Value) -> Response {
        self.request(Method::POST, path, Some(&self.token(who)), Some(body), &[])
            .await
    }

    /// Makes the service know these people (callers are learned from their tokens).
    pub async fn introduce(&self, people: &[&Person]) {
        for p in people {
            let r = self.get("/api/v1/exonerations?limit=1", p).await;
            assert_eq!(r.status(), StatusCode::OK, "introducing {}", p.id);
        }
    }

    pub async fn file(&self, who: &Person, body: &Value) -> Value {
        self.file_in(EXO, who, body).await
    }

    /// Files a case in `collection` (`exonerations`, `clarifications`) and expects 201.
    pub async fn file_in(&self, collection: &str, who: &Person, body: &Value) -> Value {
        let r = self.post(&format!("/api/v1/{collection}"), who, body).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{v}");
        v
    }

    /// Applies an event and expects success.
    pub async fn act(&self, case_id: &str, who: &Person, body: Value) -> Value {
        self.act_in(EXO, case_id, who, body).await
    }

    pub async fn act_in(
        &self,
        collection: &str,
        case_id: &str,
        who: &Person,
        body: Value,
    ) -> Value {
        let (status, v) = self
            .try_act_in(collection, case_id, who, body.clone())
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{} by {}: {v}",
            body["event"],
            who.id
        );
        v
    }

    pub async fn try_act(&self, case_id: &str, who: &Person, body: Value) -> (StatusCode, Value) {
        self.try_act_in(EXO, case_id, who, body).await
    }

    pub async fn try_act_in(
        &self,
        collection: &str,
        case_id: &str,
        who: &Person,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = self
            .post(
                &format!("/api/v1/{collection}/{case_id}/transitions"),
                who,
                &body,
            )
            .await;
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn case(&self, case_id: &str, who: &Person) -> Value {
        self.case_in(EXO, case_id, who).await
    }

    pub async fn case_in(&self, collection: &str, case_id: &str, who: &Person) -> Value {
        let r = self
            .get(&format!("/api/v1/{collection}/{case_id}"), who)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    pub async fn timeline(&self, case_id: &str, who: &Person) -> Vec<Value> {
        self.timeline_in(EXO, case_id, who).await
    }

    pub async fn timeline_in(&self, collection: &str, case_id: &str, who: &Person) -> Vec<Value> {
        let r = self
            .get(&format!("/api/v1/{collection}/{case_id}/transitions"), who)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        v["items"].as_array().unwrap().clone()
    }

    /// The outbox rows of a case: (seq, relation, email).
    pub async fn outbox(&self, case_id: &str) -> Vec<(i64, String, String)> {
        let id = case_id.to_string();
        self.db()
            .read(move |c| {
                rongcuo::db::repo::outbox::list_for_case(c, &id).map_err(rongcuo::db::DbError::from)
            })
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.seq, r.relation, r.recipient_email))
            .collect()
    }
}

pub fn due_in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

/// The inspection-before-tender story of seed 003 (镇海): filed by the cadre.
pub fn filing() -> Value {
    json!({
        "subject": {"id": ZHANG.id, "name": ZHANG.name, "email": ZHANG.email(), "org": ZHANG.org, "position": "安全监管科科长"},
        "incident": {
            "title": "重大事故后先委托中介开展安全检查、后补招标",
            "description": "区内刚发生重大安全事故，为尽快排除隐患，先组织中介机构开展全区安全检查，招标程序事后补办。",
            "occurred_on": "2026-03-10"
        },
        "circumstances": ["sanming-1", "general-1"],
        "remedial_actions": "检查结束后立即补办招标手续，并向区政府专题报告。"
    })
}

/// An inquiry letter (函询) due in nine days: what puts a report to its subject.
pub fn inquiry_letter() -> Value {
    json!({"event": "send_inquiry", "questions": "请说明", "due_at": due_in_days(9)})
}

pub fn elements(finding: &str) -> Value {
    let e = json!({"finding": finding, "notes": "主观上勤勉尽责"});
    json!({"motive": e, "objective_conditions": e, "procedure": e, "nature": e, "consequences": e, "remediation": e})
}

pub fn findings(recommendation: &str, red_lines: &[&str]) -> Value {
    json!({"event": "submit_findings", "elements": elements("favourable"), "red_lines": red_lines,
           "recommendation": recommendation, "notes": "决策程序、实际效果、廉洁底线均符合容错政策"})
}

/// Files a case and brings it to `deliberating` with CHEN as the investigator.
pub async fn case_in_deliberation(app: &TestApp, red_lines: &[&str]) -> String {
    app.introduce(&[&CHEN, &SUN, &ZHOU]).await;
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    app.act(
        &id,
        &LI,
        json!({"event": "accept", "investigator_id": CHEN.id}),
    )
    .await;
    let rec = if red_lines.is_empty() {
        "exonerate"
    } else {
        "deny"
    };
    app.act(&id, &CHEN, findings(rec, red_lines)).await;
    id
}

/// Runs an async test body on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await.unwrap();
                    super::$name(app).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
}

/// Like [`both_backends!`] for tests that build their own app: the function takes the
/// backend; the PostgreSQL variant runs when `RONGCUO_TEST_POSTGRES_URL` is set.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::{Backend, pg_admin_url};
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if pg_admin_url().is_some() {
                        super::$name(Backend::Postgres).await;
                    }
                }
            }
        )*
    };
}

/// Runs `rongcuo audit verify` on the app's database, as an operator would.
pub async fn audit_verify_command(app: &TestApp) -> std::process::Output {
    let url = app.settings.database.url.clone();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_rongcuo"))
            .args(["audit", "verify"])
            .envs(test_env(&url, &[]))
            .env("RONGCUO_LOG_FORMAT", "json")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// A child process killed when the guard drops, even when a test panics first.
pub struct ChildGuard(pub std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SQL inserting a bare case `id` in `state` at `version`, for tests below the engine.
pub fn insert_case_sql(id: &str, state: &str, version: i64) -> String {
    format!(
        "INSERT INTO cases (id, workflow, state, version, subject_id, subject_name,
            subject_email, subject_org, subject_position, applicant_id, applicant_name,
            applicant_email, applicant_role, title, overdue, catalogue_version, data,
            created_at, updated_at)
         VALUES ('{id}', 'exoneration', '{state}', {version}, 's', 'S', 's@x.cn', 'p1', 'x',
            's', 'S', 's@x.cn', 'cadre', 't', false, '1', '{{}}', '2026-01-01 00:00:00',
            '2026-01-01 00:00:00');"
    )
}
