//! `bench/run.sh` (or `cargo run --release --example bench -- --help`): measures the service
//! against the limit its database sets, in one run, and prints BENCHMARKS.md-ready tables.
//!
//! For each backend: a fresh database, `size` seeded cases (for the reads), the release
//! binary serving HTTP; then at 1, 4, 16 and 64 clients, `runs` times each: filing cases,
//! each transition of the story ([`STEPS`]) applied to distinct cases the step before left
//! (as many as the run needs), reading one case, list pages, a search, the statistics and a
//! ledger page of a province. Each transition's limit is its own write work (update the
//! case row and its data, insert its audit row, its outbox rows and timers, cancel the
//! timers it cancels, with the service's own texts byte for byte) done straight against the
//! database: pgbench with a generated script on PostgreSQL, the service's own connection
//! code on SQLite. Then the whole ledger of a province as CSV, the outbox worker draining a
//! queue to an SMTP sink, and the server's peak memory.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, sql_query};
use serde_json::{Value, json};

const SECRET: &str = "bench-secret-0123456789abcdef0123";

#[derive(Parser, Debug, Clone)]
#[command(
    about = "Service versus database limit, in one run",
    args_override_self = true
)]
struct Args {
    /// The service binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/rongcuo")]
    bin: PathBuf,
    /// Cases seeded for the list benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    size: u64,
    /// Seconds per measured point.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Runs per point; the tables show medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Concurrent clients.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    clients: Vec<usize>,
    /// sqlite, postgres or both.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// PostgreSQL server to create the benchmark database on.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    /// Where to write the tables (also printed).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Which scenarios: file, transition, read, list, search, statistics, ledger (filing always runs: it makes the
    /// cases the transitions move).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "file,transition,read,list,search,statistics,ledger"
    )]
    scenarios: Vec<String>,
    /// Which transitions of the story to apply, each measured with its own limit (with
    /// `transition` among the scenarios).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "request_supplement,accept,submit_findings,decide"
    )]
    steps: Vec<String>,
    /// The service's database connections (RONGCUO_DATABASE_POOL_SIZE).
    #[arg(long, default_value_t = 16)]
    pool_size: u32,
    /// Mails the outbox worker drains to the SMTP sink, timed: the queue the runs left,
    /// topped up to this many with copies of one of its mails.
    #[arg(long, default_value_t = 100_000)]
    drain: u64,
    /// Keep the SQLite database file (its directory is printed) to look into afterwards.
    #[arg(long)]
    keep: bool,
}

/// One measured point.
#[derive(Clone, Debug, Default)]
struct Sample {
    ok: usize,
    errors: usize,
    elapsed: f64,
    /// CPU seconds used meanwhile by the service, the database server and this program.
    cpu: Cpu,
    /// Latencies in microseconds, sorted.
    latencies: Vec<u32>,
    /// A client ran out of cases to move before the run ended: it idled for the rest of
    /// the run, which counted it anyway, and the rate is too low.
    ran_out: bool,
    /// The service's largest anonymous memory (RssAnon: its heap and stacks, not the page
    /// cache of memory-mapped files) seen during the run, in MiB.
    peak_anon_mib: f64,
}

impl Sample {
    /// Adds one client's counts to the total.
    fn absorb(&mut self, s: Sample) {
        self.ok += s.ok;
        self.errors += s.errors;
        self.latencies.extend(s.latencies);
        self.ran_out |= s.ran_out;
    }

    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.max(1e-9)
    }
    fn pct(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i] as f64 / 1000.0
    }
}

/// CPU seconds (user + system) of the service, PostgreSQL's processes and the load generator.
#[derive(Clone, Copy, Debug, Default)]
struct Cpu {
    service: f64,
    database: f64,
    generator: f64,
}

fn ticks_of(stat: &str) -> f64 {
    // Fields after the command name (which may hold spaces): utime is the 12th, stime 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// CPU seconds of a process's children that have ended and been waited for (cutime and
/// cstime, after utime and stime).
fn children_ticks_of(stat: &str) -> f64 {
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(13) + t(14)) / 100.0
}

/// CPU seconds of this process's ended children (pgbench).
fn children_cpu() -> f64 {
    children_ticks_of(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
}

fn cpu_now(service: u32) -> Cpu {
    let read = |pid: &str| std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let mut database = 0.0;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.chars().all(|c| c.is_ascii_digit()) {
                let stat = read(&name);
                if stat.contains("(postgres)") {
                    // With the ended children's: the backends of pgbench's connections
                    // have exited when it is done, and the postmaster has reaped them.
                    database += ticks_of(&stat) + children_ticks_of(&stat);
                }
            }
        }
    }
    Cpu {
        service: ticks_of(&read(&service.to_string())),
        database,
        generator: ticks_of(&read("self")),
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.retain(|x| !x.is_nan());
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Peak resident set size so far, in MiB (anonymous memory and mapped file pages: on
    /// SQLite the readers' memory map of the database counts here).
    fn peak_rss_mib(&self) -> f64 {
        status_mib(self.child.id(), "VmHWM:")
    }
    fn peak_anon_mib(&self) -> f64 {
        status_mib(self.child.id(), "RssAnon:")
    }
}

fn env_for(db_url: &str, listen: &str, dir: &Path, pool: u32) -> HashMap<String, String> {
    let workflows = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows");
    [
        ("RONGCUO_LISTEN", listen.to_string()),
        ("RONGCUO_DATABASE_URL", db_url.to_string()),
        ("RONGCUO_JWT_SECRET", SECRET.to_string()),
        ("RONGCUO_WORKFLOWS_DIR", workflows.display().to_string()),
        ("RONGCUO_MAIL_DELIVER", "false".to_string()),
        ("RONGCUO_MAIL_DIR", dir.join("mail").display().to_string()),
        ("RONGCUO_PUBLIC_URL", "http://rongcuo.bench".to_string()),
        ("RONGCUO_DATABASE_POOL_SIZE", pool.to_string()),
        // The load generator is one caller sending thousands of requests a second.
        ("RONGCUO_RATE_LIMIT_PER_MINUTE", "0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn start(args: &Args, env: &HashMap<String, String>, dir: &Path, what: &str) -> Server {
    let log = std::fs::File::create(dir.join(format!("{what}.log"))).unwrap();
    let child = Command::new(&args.bin)
        .arg(what)
        .envs(env)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", args.bin.display()));
    Server { child }
}

async fn wait_up(client: &reqwest::Client, base: &str) {
    let t = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the service did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn token(keys: &rongcuo::auth::Keys, id: &str, role: &str, org: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    keys.mint(&rongcuo::auth::Claims {
        sub: id.into(),
        name: format!("测试{id}"),
        email: format!("{id}@example.cn"),
        roles: vec![role.into()],
        org: org.into(),
        iss: "rongcuo".into(),
        aud: "rongcuo".into(),
        exp: now + 24 * 3600,
        iat: now,
        nbf: None,
    })
    .unwrap()
}

fn filing(cadre: &str) -> Value {
    json!({
        "subject": {"id": cadre, "name": format!("测试{cadre}"), "email": format!("{cadre}@example.cn"),
                    "org": "anhui/hefei/finance", "position": "科长"},
        "incident": {"title": "先行先试的招标改革", "description": "为加快项目进度，先检查后招标，程序上有瑕疵。",
                     "occurred_on": "2026-03-01"},
        "circumstances": ["sanming-1"],
        "remedial_actions": "已补办手续并完成整改。",
    })
}

/// Who applies a step of the story.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Actor {
    Intake,
    Investigator,
    Reviewer,
}

/// A transition of the exoneration story, applied to cases the step before left in `from`
/// (`filed` ones are filed by the service, unmeasured).
#[derive(Clone, Copy)]
struct Step {
    event: &'static str,
    from: &'static str,
    to: &'static str,
    actor: Actor,
}

/// The story as the bench applies it: `request_supplement` (the cheapest: one mail, no
/// new directory look-up), and the path of a case to its decision.
const STEPS: [Step; 4] = [
    Step {
        event: "request_supplement",
        from: "filed",
        to: "needs_supplement",
        actor: Actor::Intake,
    },
    Step {
        event: "accept",
        from: "filed",
        to: "investigating",
        actor: Actor::Intake,
    },
    Step {
        event: "submit_findings",
        from: "investigating",
        to: "deliberating",
        actor: Actor::Investigator,
    },
    Step {
        event: "decide",
        from: "deliberating",
        to: "exonerated",
        actor: Actor::Reviewer,
    },
];

/// The bench's investigator, whom `accept` assigns.
const INVESTIGATOR: &str = "u-bench-investigator";

impl Step {
    fn row(&self) -> String {
        format!("apply `{}`", self.event)
    }

    /// The transition's body, as a client would send it.
    fn body(&self) -> Value {
        let due = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
        match self.event {
            "request_supplement" => {
                json!({"event": "request_supplement", "items": "请补充会议纪要", "due_at": due})
            }
            "accept" => json!({"event": "accept", "investigator_id": INVESTIGATOR}),
            "submit_findings" => {
                let e = json!({"finding": "favourable", "notes": "主观上勤勉尽责"});
                json!({"event": "submit_findings",
                       "elements": {"motive": e, "objective_conditions": e, "procedure": e,
                                    "nature": e, "consequences": e, "remediation": e},
                       "red_lines": [], "recommendation": "exonerate",
                       "notes": "决策程序、实际效果、廉洁底线均符合容错政策"})
            }
            "decide" => {
                json!({"event": "decide", "outcome": "exonerate", "explanation": "符合容错情形，予以免责",
                               "rectification": {"requirements": "完善招标程序并报送整改报告", "due_at": due}})
            }
            other => unreachable!("no body for {other}"),
        }
    }

    fn token<'a>(&self, tokens: &'a Tokens) -> &'a str {
        match self.actor {
            Actor::Intake => &tokens.intake,
            Actor::Investigator => &tokens.investigator,
            Actor::Reviewer => &tokens.reviewer,
        }
    }
}

/// What each client does per request.
#[derive(Clone)]
enum Work {
    File,
    Transition(Step, Arc<Vec<String>>, Arc<AtomicUsize>),
    Read(String),
    List,
    /// A page filtered by state and a unit (p7/c7/u7, a 3 100th of the cases, all of them
    /// deliberating).
    ListUnit,
    /// A search for two words that one seeded case of p7 holds ([`search_words`]).
    Search,
    /// The statistics of the seeded province p7 (over a quarter of the cases).
    Statistics,
    /// The first ledger page (100 cadres) of the province p7.
    Ledger,
}

/// One keep-alive HTTP/1.1 connection, spoken by hand. The load generator shares the two
/// cores with the service: reqwest (hyper, its pool, its header maps) cost ~60-100 µs of CPU
/// per request, a tenth of what the service spends on a transition, taken from the service's
/// share. Writing the request's bytes and reading the status and the body by
/// `Content-Length` (or chunks) is what wrk or oha do, at a fraction of that.
struct Http {
    addr: String,
    stream: Option<tokio::net::TcpStream>,
    buf: Vec<u8>,
}

/// An answer: the status and the body's length (and the body, for errors).
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Http {
    fn new(base: &str) -> Http {
        Http {
            addr: base
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string(),
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Sends one request (its bytes, ready) and reads the answer; reconnects once if the
    /// kept-alive connection was closed under it.
    async fn send(&mut self, request: &[u8]) -> std::io::Result<Answer> {
        let fresh = self.stream.is_none();
        match self.exchange(request).await {
            Ok(a) => Ok(a),
            Err(_) if !fresh => {
                self.stream = None;
                self.exchange(request).await
            }
            Err(e) => Err(e),
        }
    }

    async fn exchange(&mut self, request: &[u8]) -> std::io::Result<Answer> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if self.stream.is_none() {
            let s = tokio::net::TcpStream::connect(&self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
            self.buf.clear();
        }
        let stream = self.stream.as_mut().unwrap();
        let out = async {
            stream.write_all(request).await?;
            let eof = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed");
            // The head.
            let head_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                    break i + 4;
                }
                if stream.read_buf(&mut self.buf).await? == 0 {
                    return Err(eof());
                }
            };
            let head = std::str::from_utf8(&self.buf[..head_end])
                .map_err(|_| std::io::Error::other("head is not UTF-8"))?;
            let status: u16 = head
                .get(9..12)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| std::io::Error::other("no status"))?;
            let mut length = None;
            let mut chunked = false;
            let mut close = false;
            for line in head.split("\r\n").skip(1) {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.eq_ignore_ascii_case("chunked");
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                }
            }
            self.buf.drain(..head_end);
            let mut body = Vec::new();
            if chunked {
                loop {
                    let line_end = loop {
                        if let Some(i) = find(&self.buf, b"\r\n") {
                            break i;
                        }
                        if stream.read_buf(&mut self.buf).await? == 0 {
                            return Err(eof());
                        }
                    };
                    let size = std::str::from_utf8(&self.buf[..line_end])
                        .ok()
                        .and_then(|l| usize::from_str_radix(l.split(';').next()?.trim(), 16).ok())
                        .ok_or_else(|| std::io::Error::other("bad chunk size"))?;
                    while self.buf.len() < line_end + 2 + size + 2 {
                        if stream.read_buf(&mut self.buf).await? == 0 {
                            return Err(eof());
                        }
                    }
                    body.extend_from_slice(&self.buf[line_end + 2..line_end + 2 + size]);
                    self.buf.drain(..line_end + 2 + size + 2);
                    if size == 0 {
                        break;
                    }
                }
            } else {
                let length = length.unwrap_or(0);
                while self.buf.len() < length {
                    if stream.read_buf(&mut self.buf).await? == 0 {
                        return Err(eof());
                    }
                }
                body.extend(self.buf.drain(..length));
            }
            Ok((Answer { status, body }, close))
        }
        .await;
        match out {
            Ok((answer, close)) => {
                if close {
                    self.stream = None;
                }
                Ok(answer)
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A request's bytes: method, path, the caller's token and maybe a JSON body.
fn request(method: &str, host: &str, path: &str, token: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut r = Vec::with_capacity(1024);
    write_request(&mut r, method, host, path, token, body);
    r
}

/// [`request`] into a buffer that is reused from one request to the next.
fn write_request(
    r: &mut Vec<u8>,
    method: &str,
    host: &str,
    path: &str,
    token: &str,
    body: Option<&[u8]>,
) {
    use std::io::Write;
    r.clear();
    let _ = write!(
        r,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n"
    );
    if let Some(body) = body {
        let _ = write!(
            r,
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
    }
    r.extend_from_slice(b"\r\n");
    if let Some(body) = body {
        r.extend_from_slice(body);
    }
}

/// At least `need` of the service's own cases (not seeded ones) in `state`, the newest first:
/// filed through the service, and moved there by the steps of the story before (all of it
/// unmeasured), until there are enough.
#[allow(clippy::too_many_arguments)]
fn cases_in<'a>(
    backend: &'a Backend,
    base: &'a str,
    tokens: &'a Tokens,
    clients: usize,
    pid: u32,
    state: &'static str,
    need: usize,
    filing_rate: f64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<String>> + 'a>> {
    Box::pin(async move {
        let sql = format!(
            "SELECT id AS t FROM cases WHERE state = '{state}' AND id NOT LIKE 'seed-%' \
             ORDER BY created_at DESC LIMIT {need}"
        );
        loop {
            let ids = texts(&mut backend.connect(), &sql);
            if ids.len() >= need {
                return ids;
            }
            let missing = need - ids.len();
            match STEPS
                .iter()
                .find(|s| s.to == state && s.event != "request_supplement")
            {
                None => {
                    let seconds = (missing as f64 / filing_rate.max(1.0) * 1.2).clamp(0.2, 30.0);
                    let _ = load(base, tokens, Work::File, clients, seconds, pid).await;
                }
                Some(before) => {
                    let from = cases_in(
                        backend,
                        base,
                        tokens,
                        clients,
                        pid,
                        before.from,
                        missing,
                        filing_rate,
                    )
                    .await;
                    let work =
                        Work::Transition(*before, Arc::new(from), Arc::new(AtomicUsize::new(0)));
                    let _ = load(base, tokens, work, clients, 120.0, pid).await;
                }
            }
        }
    })
}

/// Runs `clients` loops of `work` for `seconds` (after a short warm-up).
async fn load(
    base: &str,
    tokens: &Tokens,
    work: Work,
    clients: usize,
    seconds: f64,
    service: u32,
) -> Sample {
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (base, tokens, work, stop, measuring) = (
            base.to_string(),
            tokens.clone(),
            work.clone(),
            stop.clone(),
            measuring.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut s = Sample::default();
            let mut http = Http::new(&base);
            let host = http.addr.clone();
            let filing = serde_json::to_vec(&filing(&tokens.cadre_id)).unwrap();
            let transition = match &work {
                Work::Transition(step, ..) => serde_json::to_vec(&step.body()).unwrap(),
                _ => Vec::new(),
            };
            let file = request(
                "POST",
                &host,
                "/api/v1/exonerations",
                &tokens.cadre,
                Some(&filing),
            );
            let read = match &work {
                Work::Read(id) => request(
                    "GET",
                    &host,
                    &format!("/api/v1/exonerations/{id}"),
                    &tokens.cadre,
                    None,
                ),
                _ => Vec::new(),
            };
            let list = request(
                "GET",
                &host,
                "/api/v1/exonerations?state=filed&org=p7&limit=20",
                &tokens.lister,
                None,
            );
            let list_unit = request(
                "GET",
                &host,
                "/api/v1/exonerations?state=deliberating&org=p7/c7/u7&limit=20",
                &tokens.lister,
                None,
            );
            let search = request(
                "GET",
                &host,
                &format!(
                    "/api/v1/exonerations?q={}&limit=20",
                    urlencode(&search_words(SEARCHED))
                ),
                &tokens.lister,
                None,
            );
            let statistics = request(
                "GET",
                &host,
                "/api/v1/statistics?org=p7",
                &tokens.lister,
                None,
            );
            let ledger = request(
                "GET",
                &host,
                "/api/v1/ledger?org=p7&limit=100",
                &tokens.lister,
                None,
            );
            let mut one = Vec::with_capacity(1024);
            while !stop.load(Ordering::Relaxed) {
                let req: &[u8] = match &work {
                    Work::File => &file,
                    Work::Transition(step, ids, next) => {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(id) = ids.get(i) else {
                            s.ran_out = !stop.load(Ordering::Relaxed);
                            break;
                        };
                        write_request(
                            &mut one,
                            "POST",
                            &host,
                            &format!("/api/v1/exonerations/{id}/transitions"),
                            step.token(&tokens),
                            Some(&transition),
                        );
                        &one
                    }
                    Work::Read(_) => &read,
                    Work::List => &list,
                    Work::ListUnit => &list_unit,
                    Work::Search => &search,
                    Work::Statistics => &statistics,
                    Work::Ledger => &ledger,
                };
                let t = Instant::now();
                let ok = match http.send(req).await {
                    Ok(a) if (200..300).contains(&a.status) => a.body.len() > 2,
                    Ok(a) => {
                        if s.errors < 3 {
                            eprintln!("  error {}: {}", a.status, String::from_utf8_lossy(&a.body));
                        }
                        false
                    }
                    Err(_) => false,
                };
                let micros = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        s.ok += 1;
                        s.latencies.push(micros);
                    } else {
                        s.errors += 1;
                    }
                }
            }
            s
        }));
    }
    // The service's anonymous memory, sampled while the clients run.
    let sampler = sample_anon(service, stop.clone());
    // Warm-up, then measure.
    tokio::time::sleep(Duration::from_secs_f64((seconds * 0.15).min(1.0))).await;
    measuring.store(true, Ordering::Relaxed);
    let t = Instant::now();
    let before = cpu_now(service);
    // The time given, or less when every client has run out of cases (preparing them).
    while t.elapsed().as_secs_f64() < seconds && !tasks.iter().all(|t| t.is_finished()) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    measuring.store(false, Ordering::Relaxed);
    let after = cpu_now(service);
    let elapsed = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut total = Sample {
        elapsed,
        cpu: Cpu {
            service: after.service - before.service,
            database: after.database - before.database,
            generator: after.generator - before.generator,
        },
        ..Default::default()
    };
    for t in tasks {
        total.absorb(t.await.unwrap());
    }
    total.peak_anon_mib = sampler.await.unwrap_or(f64::NAN);
    total.latencies.sort_unstable();
    total
}

/// The peak anonymous memory (RssAnon) of process `pid` in MiB, sampled every 20 ms until
/// `stop`.
fn sample_anon(pid: u32, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<f64> {
    tokio::spawn(async move {
        let mut peak: f64 = 0.0;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(status_mib(pid, "RssAnon:"));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        peak
    })
}

/// A size line of `/proc/<pid>/status` (`VmHWM:`, `RssAnon:`, `RssFile:`), in MiB.
fn status_mib(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

#[derive(Clone)]
struct Tokens {
    cadre_id: String,
    cadre: String,
    intake: String,
    investigator: String,
    reviewer: String,
    lister: String,
    admin: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Text1 {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

enum Backend {
    Sqlite { path: PathBuf },
    Postgres { admin: String, name: String },
}

impl Backend {
    fn url(&self) -> String {
        match self {
            Backend::Sqlite { path } => format!("sqlite://{}", path.display()),
            Backend::Postgres { admin, name } => replace_db(admin, name),
        }
    }
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "SQLite",
            Backend::Postgres { .. } => "PostgreSQL",
        }
    }
    fn connect(&self) -> rongcuo::db::DbConnection {
        match self {
            Backend::Sqlite { path } => {
                let mut c =
                    diesel::SqliteConnection::establish(&path.display().to_string()).unwrap();
                // The running service's workers write too: wait for the lock as it does.
                c.batch_execute("PRAGMA busy_timeout = 60000;").unwrap();
                rongcuo::db::DbConnection::Sqlite(c)
            }
            Backend::Postgres { .. } => {
                rongcuo::db::DbConnection::Pg(PgConnection::establish(&self.url()).unwrap())
            }
        }
    }
}

fn replace_db(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

fn count(conn: &mut rongcuo::db::DbConnection, sql: &str) -> i64 {
    match conn {
        rongcuo::db::DbConnection::Pg(c) => sql_query(sql).get_result::<Count>(c).unwrap().n,
        rongcuo::db::DbConnection::Sqlite(c) => sql_query(sql).get_result::<Count>(c).unwrap().n,
    }
}

fn text(conn: &mut rongcuo::db::DbConnection, sql: &str) -> String {
    match conn {
        rongcuo::db::DbConnection::Pg(c) => sql_query(sql).get_result::<Text1>(c).unwrap().t,
        rongcuo::db::DbConnection::Sqlite(c) => sql_query(sql).get_result::<Text1>(c).unwrap().t,
    }
}

fn texts(conn: &mut rongcuo::db::DbConnection, sql: &str) -> Vec<String> {
    match conn {
        rongcuo::db::DbConnection::Pg(c) => sql_query(sql).load::<Text1>(c).unwrap(),
        rongcuo::db::DbConnection::Sqlite(c) => sql_query(sql).load::<Text1>(c).unwrap(),
    }
    .into_iter()
    .map(|r| r.t)
    .collect()
}

fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `size` exoneration cases in units under 31 provinces, a quarter of them and a 31st of
/// the rest in province p7 (27 %, the load of a large province's office), each with the
/// records of a real filing (`data`), ids `seed-0000000001`…, and a deadline timer each (pending and
/// years ahead for the open ones, so the scheduler has nothing to fire), so that `ANALYZE`
/// sees a timers table the size of a real one: planned over an empty one, PostgreSQL's
/// cached plan for a case's timers stays a sequential scan.
fn seed(backend: &Backend, conn: &mut rongcuo::db::DbConnection, size: u64, data: &str) {
    let data = sql_literal(data);
    let words = search_words_sql();
    // The time each seeded case spent in each state it left (as many spans as states behind
    // it, two a case on average, numbered as its transitions: its version counts them): from
    // a minute to ~30 days, spread.
    let span_seconds = |i: &str| format!("60 + ({i} * 7919 + k * 104729) % 2592000");
    let (pg_seconds, span_seconds) = (span_seconds("i::bigint"), span_seconds("i"));
    let sql = match backend {
        Backend::Postgres { .. } => format!(
            "INSERT INTO cases (id, workflow, state, version, subject_id, subject_name, subject_email,
                subject_org, subject_position, applicant_id, applicant_name, applicant_email,
                applicant_role, investigator_id, decider_id, title, overdue, catalogue_version, data,
                created_at, updated_at)
             SELECT 'seed-' || lpad(i::text, 10, '0'), 'exoneration',
                (ARRAY['filed','investigating','deliberating','exonerated','closed'])[1 + i % 5], 1 + i % 5,
                'u-' || (i % 200000), '干部', 'x@example.cn',
                'p' || (CASE WHEN i % 4 = 0 THEN 7 ELSE i % 31 END) || '/c' || (i % 310) || '/u' || (i % 3100), '科员',
                'u-' || (i % 200000), '干部', 'x@example.cn', 'cadre',
                CASE WHEN i % 3 = 0 THEN 'inv-' || (i % 700) END, NULL, '案件 ' || i, i % 97 = 0,
                '2026.1', {data},
                timestamp '2023-01-01' + i * interval '1 minute',
                timestamp '2023-01-01' + i * interval '1 minute'
             FROM generate_series(1, {size}) AS i;
             INSERT INTO case_search (case_id, text)
             SELECT 'seed-' || lpad(i::text, 10, '0'), '案件 ' || i || ' 先检查后招标 ' || {words}
             FROM generate_series(1, {size}) AS i;
             INSERT INTO timers (id, case_id, kind, name, due_at, state, created_at)
             SELECT 'seed-timer-' || i, 'seed-' || lpad(i::text, 10, '0'), 'event',
                'supplement_overdue',
                CASE WHEN i % 5 < 2 THEN timestamp '2031-01-01' ELSE timestamp '2023-02-01' END
                    + i * interval '1 minute',
                CASE WHEN i % 5 < 2 THEN 'pending' ELSE 'fired' END,
                timestamp '2023-01-01' + i * interval '1 minute'
             FROM generate_series(1, {size}) AS i;
             INSERT INTO stage_spans (workflow, subject_org, case_created_at, case_id, seq,
                subject_id, disclosed, stage, seconds)
             SELECT 'exoneration',
                'p' || (CASE WHEN i % 4 = 0 THEN 7 ELSE i % 31 END) || '/c' || (i % 310) || '/u' || (i % 3100),
                timestamp '2023-01-01' + i * interval '1 minute', 'seed-' || lpad(i::text, 10, '0'),
                k + 1, 'u-' || (i % 200000), true,
                (ARRAY['filed','investigating','deliberating','exonerated'])[k],
                {pg_seconds}
             FROM generate_series(1, {size}) AS i, generate_series(1, 4) AS k WHERE k <= i % 5;
             ANALYZE;"
        ),
        Backend::Sqlite { .. } => format!(
            "BEGIN IMMEDIATE;
             WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {size})
             INSERT INTO cases (id, workflow, state, version, subject_id, subject_name, subject_email,
                subject_org, subject_position, applicant_id, applicant_name, applicant_email,
                applicant_role, investigator_id, decider_id, title, overdue, catalogue_version, data,
                created_at, updated_at)
             SELECT printf('seed-%010d', i), 'exoneration',
                CASE i % 5 WHEN 0 THEN 'filed' WHEN 1 THEN 'investigating' WHEN 2 THEN 'deliberating'
                           WHEN 3 THEN 'exonerated' ELSE 'closed' END, 1 + i % 5,
                'u-' || (i % 200000), '干部', 'x@example.cn',
                'p' || (CASE WHEN i % 4 = 0 THEN 7 ELSE i % 31 END) || '/c' || (i % 310) || '/u' || (i % 3100), '科员',
                'u-' || (i % 200000), '干部', 'x@example.cn', 'cadre',
                CASE WHEN i % 3 = 0 THEN 'inv-' || (i % 700) END, NULL, '案件 ' || i, i % 97 = 0,
                '2026.1', {data},
                datetime('2023-01-01', '+' || i || ' minutes'),
                datetime('2023-01-01', '+' || i || ' minutes')
             FROM s;
             WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {size})
             INSERT INTO case_search (case_id, text)
             SELECT printf('seed-%010d', i), '案件 ' || i || ' 先检查后招标 ' || {words}
             FROM s;
             WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {size})
             INSERT INTO timers (id, case_id, kind, name, due_at, state, created_at)
             SELECT 'seed-timer-' || i, printf('seed-%010d', i), 'event', 'supplement_overdue',
                datetime(CASE WHEN i % 5 < 2 THEN '2031-01-01' ELSE '2023-02-01' END,
                         '+' || i || ' minutes'),
                CASE WHEN i % 5 < 2 THEN 'pending' ELSE 'fired' END,
                datetime('2023-01-01', '+' || i || ' minutes')
             FROM s;
             WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {size}),
                  n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 4)
             INSERT INTO stage_spans (workflow, subject_org, case_created_at, case_id, seq,
                subject_id, disclosed, stage, seconds)
             SELECT 'exoneration',
                'p' || (CASE WHEN i % 4 = 0 THEN 7 ELSE i % 31 END) || '/c' || (i % 310) || '/u' || (i % 3100),
                datetime('2023-01-01', '+' || i || ' minutes'), printf('seed-%010d', i), k + 1,
                'u-' || (i % 200000), 1,
                CASE k WHEN 1 THEN 'filed' WHEN 2 THEN 'investigating' WHEN 3 THEN 'deliberating'
                       ELSE 'exonerated' END,
                {span_seconds}
             FROM s, n WHERE k <= i % 5;
             COMMIT;
             ANALYZE;"
        ),
    };
    conn.batch_execute(&sql).unwrap();
    if let Backend::Postgres { .. } = backend {
        // As autovacuum leaves the tables: visibility maps set, so that statistics read the
        // scope's indexes alone (VACUUM cannot run in the batch's transaction).
        conn.batch_execute("VACUUM (ANALYZE) cases, stage_spans")
            .unwrap();
    }
}

/// Two characters of each alphabet make a word: 2 000 words, and two words a text of its
/// own among 4 million, so that a search of them finds a case or two from the index, as a
/// search of a real text would (the rest of the seeded text, alike in every case, is what
/// trigram indexes handle worst).
const FIRST: &str = "安保财党道法干工规国海和机纪建交教金经科劳民农企秋区人商社审生市税司统土卫文务乡信巡业医邮援政志质组作资";
const SECOND: &str =
    "报备策查产程处导督队额发费分改管规划监检鉴决考理例量令论模评期审施事试项效信业议章制";

/// The seeded case whose words the bench searches for: one of p7's (7 mod 31).
const SEARCHED: u64 = 7 + 31 * 12_345;

/// The two words of seeded case `i` (as [`search_words_sql`] writes them).
fn search_words(i: u64) -> String {
    let a: Vec<char> = FIRST.chars().collect();
    let b: Vec<char> = SECOND.chars().collect();
    let (na, nb) = (a.len() as u64, b.len() as u64);
    let w = (i % (na * nb), (i / (na * nb)) % (na * nb));
    [w.0, w.1]
        .iter()
        .flat_map(|w| [a[(w % na) as usize], b[(w / na) as usize]])
        .collect()
}

/// The SQL of [`search_words`] over `i`, the same on both backends (`substr` counts
/// characters on both, `/` of integers truncates on both).
fn search_words_sql() -> String {
    let (na, nb) = (FIRST.chars().count(), SECOND.chars().count());
    let n = na * nb;
    let word = |w: String| {
        format!("substr('{FIRST}', 1 + ({w}) % {na}, 1) || substr('{SECOND}', 1 + ({w}) / {na}, 1)")
    };
    format!(
        "{} || {}",
        word(format!("i % {n}")),
        word(format!("(i / {n}) % {n}"))
    )
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The limit moves the first `HOT` seeded cases, a working set as warm as the cases the
/// service moves (just filed), not a random walk over a cold table.
const HOT: u64 = 20_000;

/// The write work of one step, as the service did it in its database: how many mails and
/// timers (new, cancelled), and one transition's own texts (its audit payload, one of its
/// mails, the case's data and columns after it, one new timer's kind and name), which the
/// limit writes byte for byte. Filler of the same number of characters was a third of the
/// bytes (the texts are mostly Chinese, three bytes a character), and on PostgreSQL
/// `repeat()` made them in the server instead of sending them.
#[derive(Clone)]
struct Shape {
    step: Step,
    outbox_per_transition: f64,
    timers_per_transition: f64,
    cancelled_per_transition: f64,
    payload: String,
    body_text: String,
    body_html: String,
    data: String,
    investigator_id: Option<String>,
    outcome: Option<String>,
    timer_kind: String,
    timer_name: String,
}

#[derive(QueryableByName)]
struct CaseColumns {
    #[diesel(sql_type = diesel::sql_types::Text)]
    data: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    investigator_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    outcome: Option<String>,
}

fn shape(conn: &mut rongcuo::db::DbConnection, step: Step) -> Shape {
    let event = step.event;
    let transitions = count(
        conn,
        &format!("SELECT COUNT(*) AS n FROM transitions WHERE event = '{event}'"),
    )
    .max(1);
    let per = |conn: &mut rongcuo::db::DbConnection, sql: &str| {
        count(conn, sql) as f64 / transitions as f64
    };
    let mails = per(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM outbox o JOIN transitions t ON t.case_id = o.case_id AND t.seq = o.seq
             WHERE t.event = '{event}'"
        ),
    );
    let timers = per(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM timers m JOIN transitions t ON t.case_id = m.case_id AND t.at = m.created_at
             WHERE t.event = '{event}'"
        ),
    );
    let cancelled = per(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM timers m JOIN transitions t ON t.case_id = m.case_id AND t.at = m.fired_at
             WHERE t.event = '{event}' AND m.state = 'cancelled'"
        ),
    );
    // The first case the step moved whose newest transition is this step's (by id): its
    // transition, its first mail, its columns after it, its first new timer.
    let case = sql_literal(&text(
        conn,
        &format!(
            "SELECT MIN(t.case_id) AS t FROM transitions t JOIN cases c ON c.id = t.case_id
             WHERE t.event = '{event}' AND c.state = '{}'",
            step.to
        ),
    ));
    let mail = format!(
        "FROM outbox o JOIN transitions t ON t.case_id = o.case_id AND t.seq = o.seq \
         WHERE t.event = '{event}' AND o.case_id = {case} ORDER BY o.id LIMIT 1"
    );
    let timer = format!(
        "FROM timers m JOIN transitions t ON t.case_id = m.case_id AND t.at = m.created_at \
         WHERE t.event = '{event}' AND m.case_id = {case} ORDER BY m.id LIMIT 1"
    );
    let columns_sql = format!("SELECT data, investigator_id, outcome FROM cases WHERE id = {case}");
    let columns: CaseColumns = match conn {
        rongcuo::db::DbConnection::Pg(c) => sql_query(&columns_sql).get_result(c).unwrap(),
        rongcuo::db::DbConnection::Sqlite(c) => sql_query(&columns_sql).get_result(c).unwrap(),
    };
    let (timer_kind, timer_name) = if timers > 0.0 {
        (
            text(conn, &format!("SELECT m.kind AS t {timer}")),
            text(conn, &format!("SELECT m.name AS t {timer}")),
        )
    } else {
        (String::new(), String::new())
    };
    Shape {
        step,
        outbox_per_transition: mails,
        timers_per_transition: timers,
        cancelled_per_transition: cancelled,
        payload: text(
            conn,
            &format!(
                "SELECT payload AS t FROM transitions WHERE event = '{event}' AND case_id = {case}"
            ),
        ),
        body_text: text(conn, &format!("SELECT o.body_text AS t {mail}")),
        body_html: text(conn, &format!("SELECT o.body_html AS t {mail}")),
        data: columns.data,
        investigator_id: columns.investigator_id,
        outcome: columns.outcome,
        timer_kind,
        timer_name,
    }
}

/// The limit on PostgreSQL: pgbench, the same writes as one transition.
fn pg_limit(
    backend: &Backend,
    shape: &Shape,
    size: u64,
    clients: usize,
    seconds: f64,
    dir: &Path,
) -> Sample {
    let mails = shape.outbox_per_transition.round().max(0.0) as usize;
    let timers = shape.timers_per_transition.round().max(0.0) as usize;
    let cancelled = shape.cancelled_per_transition.round().max(0.0) as usize;
    let (event, from, to) = (shape.step.event, shape.step.from, shape.step.to);
    let nullable = |v: &Option<String>| v.as_deref().map_or("NULL".to_string(), sql_literal);
    // The texts go as parameters (`-D`, prepared mode): sent with each transaction as the
    // service sends them. The state changes at every update, as a transition's does: set to
    // the state it already had, an update touches no index column and PostgreSQL makes it a
    // HOT update, which writes no index entry (a case has eleven indexes).
    let mut script = format!(
        "\\set n random(1, :size)\n\
         BEGIN;\n\
         UPDATE cases SET state = CASE state WHEN '{to}' THEN '{from}' ELSE '{to}' END, \
         version = version + 1, updated_at = now(), investigator_id = {}, outcome = {}, \
         overdue = false, disclosed = true, talk_state = NULL, data = :data, audit_head = md5(random()::text) || md5(random()::text) \
         WHERE id = 'seed-' || lpad(:n::text, 10, '0') RETURNING version AS v \\gset\n\
         INSERT INTO transitions (case_id, seq, event, from_state, to_state, actor_id, actor_role, \
         payload, at, prev_hash, hash, stage_seconds) VALUES ('seed-' || lpad(:n::text, 10, '0'), :v, \
         '{event}', '{from}', '{to}', 'u-actor', 'intake', :payload, \
         now(), repeat('0', 64), md5(random()::text) || md5(random()::text), 60);\n",
        nullable(&shape.investigator_id),
        nullable(&shape.outcome),
    );
    for k in 0..mails {
        script.push_str(&format!(
            "INSERT INTO outbox (id, case_id, seq, recipient_id, recipient_name, recipient_email, \
             relation, template, subject, body_text, message_id, state, attempts, next_attempt_at, \
             created_at, body_html) VALUES (gen_random_uuid()::text, 'seed-' || lpad(:n::text, 10, '0'), \
             :v, 'u-{k}', '收件人', 'r{k}@example.cn', 'subject', 'deadline', '主题', :body_text, \
             '<' || gen_random_uuid()::text || '@rongcuo>', 'pending', 0, now(), now(), :body_html);\n"
        ));
    }
    for _ in 0..cancelled {
        script.push_str(
            "UPDATE timers SET state = 'cancelled', fired_at = now(), outcome = 'the case left the state' \
             WHERE id = 'seed-timer-' || :n;\n",
        );
    }
    for _ in 0..timers {
        script.push_str(&format!(
            "INSERT INTO timers (id, case_id, kind, name, due_at, state, created_at) \
             VALUES (gen_random_uuid()::text, 'seed-' || lpad(:n::text, 10, '0'), {}, {}, \
             now() + interval '30 days', 'pending', now());\n",
            sql_literal(&shape.timer_kind),
            sql_literal(&shape.timer_name)
        ));
    }
    script.push_str("COMMIT;\n");
    let file = dir.join(format!("{event}.pgbench"));
    std::fs::write(&file, script).unwrap();
    let (before, pgbench_before) = (cpu_now(0), children_cpu());
    let out = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-r"])
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            &clients.min(2).to_string(),
        ])
        .args(["-T", &format!("{}", seconds.ceil() as u64)])
        .args(["-D", &format!("size={}", size.min(HOT))])
        .args(["-D", &format!("data={}", shape.data)])
        .args(["-D", &format!("payload={}", shape.payload)])
        .args(["-D", &format!("body_text={}", shape.body_text)])
        .args(["-D", &format!("body_html={}", shape.body_html)])
        .arg("-f")
        .arg(&file)
        .arg(backend.url())
        .output()
        .expect("pgbench runs (Debian: postgresql-client)");
    let cpu = Cpu {
        service: 0.0,
        database: cpu_now(0).database - before.database,
        generator: children_cpu() - pgbench_before,
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pgbench: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tps = stdout
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|x| x.parse::<f64>().ok())
        .expect("pgbench prints tps");
    let latency = stdout
        .lines()
        .find(|l| l.starts_with("latency average = "))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|x| x.parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    // pgbench ran for whole seconds: CPU per transaction over what it ran.
    let ran = seconds.ceil();
    Sample {
        ok: (tps * seconds) as usize,
        errors: 0,
        elapsed: seconds,
        cpu: Cpu {
            database: cpu.database * seconds / ran,
            generator: cpu.generator * seconds / ran,
            ..cpu
        },
        latencies: vec![(latency * 1000.0) as u32],
        ran_out: false,
        peak_anon_mib: f64::NAN,
    }
}

/// The limit on SQLite: the service's own connection code (its PRAGMAs, its one writer,
/// `BEGIN IMMEDIATE`), `clients` threads doing the writes of one transition.
fn sqlite_limit(
    backend: &Backend,
    shape: &Shape,
    size: u64,
    clients: usize,
    seconds: f64,
) -> Sample {
    let url = rongcuo::db::DbUrl::parse(&backend.url()).unwrap();
    let db = rongcuo::db::Db::connect(&url, 4).unwrap();
    let mails = shape.outbox_per_transition.round().max(0.0) as usize;
    let timers = shape.timers_per_transition.round().max(0.0) as usize;
    let cancelled = shape.cancelled_per_transition.round().max(0.0) as usize;
    let stop = Arc::new(AtomicBool::new(false));
    let shape = Arc::new(shape.clone());
    let mut threads = Vec::new();
    let t0 = Instant::now();
    let before = cpu_now(0);
    for c in 0..clients {
        let (db, stop, shape) = (db.clone(), stop.clone(), shape.clone());
        threads.push(std::thread::spawn(move || {
            let mut s = Sample::default();
            let size = size.min(HOT);
            let mut n = (c as u64 * 7919) % size;
            let Shape {
                step,
                payload,
                body_text,
                body_html,
                data,
                investigator_id,
                outcome,
                timer_kind,
                timer_name,
                ..
            } = &*shape;
            let toggle = format!(
                "CASE state WHEN '{}' THEN '{}' ELSE '{}' END",
                step.to, step.from, step.to
            );
            while !stop.load(Ordering::Relaxed) {
                n = (n * 1_103_515_245 + 12_345) % size + 1;
                let id = format!("seed-{n:010}");
                let t = Instant::now();
                let r: Result<(), rongcuo::db::DbError> = db.write_blocking(|conn| {
                    // The service's own statements (diesel's, prepared once per connection):
                    // the guarded update carrying the new audit head, the audit row, the mail.
                    use diesel::prelude::*;
                    use rongcuo::db::models::{OutboxRow, TimerRow, TransitionRow};
                    use rongcuo::db::schema::{cases, outbox, timers, transitions};
                    let rongcuo::db::DbConnection::Sqlite(c) = conn else {
                        unreachable!()
                    };
                    let now = rongcuo::time::now_micros();
                    let hash = format!("{:064x}", fastrand::u128(..));
                    let v: i64 = diesel::update(cases::table.find(&id))
                        .set((
                            cases::state.eq(diesel::dsl::sql::<diesel::sql_types::Text>(&toggle)),
                            cases::version.eq(cases::version + 1),
                            cases::updated_at.eq(now),
                            cases::investigator_id.eq(investigator_id),
                            cases::overdue.eq(false),
                            cases::disclosed.eq(true),
                            cases::outcome.eq(outcome),
                            cases::talk_state.eq(None::<String>),
                            cases::data.eq(data),
                            cases::audit_head.eq(&hash),
                        ))
                        .returning(cases::version)
                        .get_result(c)?;
                    diesel::insert_into(transitions::table)
                        .values(&TransitionRow {
                            case_id: id.clone(),
                            seq: v,
                            event: step.event.into(),
                            from_state: Some(step.from.into()),
                            to_state: step.to.into(),
                            actor_id: "u-intake".into(),
                            actor_role: "intake".into(),
                            payload: payload.clone(),
                            at: now,
                            prev_hash: "0".repeat(64),
                            hash,
                            stage_seconds: Some(60),
                        })
                        .execute(c)?;
                    for k in 0..mails {
                        diesel::insert_into(outbox::table)
                            .values(&OutboxRow {
                                id: uuid::Uuid::now_v7().to_string(),
                                case_id: id.clone(),
                                seq: v,
                                recipient_id: Some(format!("u-{k}")),
                                recipient_name: "收件人".into(),
                                recipient_email: "r@example.cn".into(),
                                relation: "subject".into(),
                                template: "deadline".into(),
                                subject: "主题".into(),
                                body_text: body_text.clone(),
                                message_id: format!("<{}@rongcuo>", uuid::Uuid::now_v7()),
                                state: "pending".into(),
                                attempts: 0,
                                next_attempt_at: now,
                                last_error: None,
                                created_at: now,
                                sent_at: None,
                                body_html: body_html.clone(),
                            })
                            .execute(c)?;
                    }
                    for _ in 0..cancelled {
                        diesel::update(timers::table.find(format!("seed-timer-{n}")))
                            .set((
                                timers::state.eq("cancelled"),
                                timers::fired_at.eq(Some(now)),
                                timers::outcome.eq(Some("the case left the state")),
                            ))
                            .execute(c)?;
                    }
                    for _ in 0..timers {
                        diesel::insert_into(timers::table)
                            .values(&TimerRow {
                                id: uuid::Uuid::now_v7().to_string(),
                                case_id: id.clone(),
                                kind: timer_kind.clone(),
                                name: timer_name.clone(),
                                due_at: now + chrono::Duration::days(30),
                                state: "pending".into(),
                                lease_until: None,
                                outcome: None,
                                created_at: now,
                                fired_at: None,
                            })
                            .execute(c)?;
                    }
                    Ok(())
                });
                let micros = t.elapsed().as_micros() as u32;
                match r {
                    Ok(()) => {
                        s.ok += 1;
                        s.latencies.push(micros);
                    }
                    Err(_) => s.errors += 1,
                }
                if t0.elapsed().as_secs_f64() > seconds {
                    break;
                }
            }
            s
        }));
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut total = Sample {
        elapsed: t0.elapsed().as_secs_f64(),
        ..Default::default()
    };
    for t in threads {
        total.absorb(t.join().unwrap());
    }
    // SQLite runs in this process, on the clients' own threads: all of it is the database.
    total.cpu.database = cpu_now(0).generator - before.generator;
    total.latencies.sort_unstable();
    total
}

/// An SMTP server that accepts and forgets, counting messages.
#[derive(Clone)]
struct Sink(Arc<AtomicUsize>);

impl mailin_embedded::Handler for Sink {
    fn data_end(&mut self) -> mailin_embedded::Response {
        self.0.fetch_add(1, Ordering::Relaxed);
        mailin_embedded::response::OK
    }
}

fn smtp_sink() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let mut server = mailin_embedded::Server::new(Sink(count.clone()));
    server
        .with_name("sink.bench")
        .with_ssl(mailin_embedded::SslConfig::None)
        .unwrap()
        .with_num_threads(8)
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (format!("smtp://127.0.0.1:{port}"), count)
}

#[derive(Default)]
struct Results {
    /// (scenario, clients) → samples.
    points: Vec<(String, usize, Vec<Sample>)>,
    /// (row of a step, clients) → the limit's samples.
    limits: Vec<(String, usize, Vec<Sample>)>,
    peak_rss_mib: f64,
    mail_per_second: f64,
    /// Mails the worker drained and the seconds it took.
    drained: (i64, f64),
    worker_peak_anon_mib: f64,
    seeded: u64,
    /// The whole ledger of p7 as CSV, once: (bytes, lines, seconds, the service's peak
    /// anonymous memory meanwhile in MiB).
    ledger_csv: Option<(u64, u64, f64, f64)>,
    /// The statistics of p7 computed alone, one request at a time, each a question not
    /// asked before (nothing kept to answer from): (requests, median and slowest seconds,
    /// the service's peak anonymous memory meanwhile in MiB).
    statistics_alone: Option<(usize, f64, f64, f64)>,
}

impl Results {
    fn add(&mut self, scenario: &str, clients: usize, s: Sample) {
        if let Some(p) = self
            .points
            .iter_mut()
            .find(|(n, c, _)| n == scenario && *c == clients)
        {
            p.2.push(s);
        } else {
            self.points.push((scenario.to_string(), clients, vec![s]));
        }
    }
    fn add_limit(&mut self, row: &str, clients: usize, s: Sample) {
        if let Some(p) = self
            .limits
            .iter_mut()
            .find(|(r, c, _)| r == row && *c == clients)
        {
            p.2.push(s);
        } else {
            self.limits.push((row.to_string(), clients, vec![s]));
        }
    }
    /// The limit's samples of a row's point, if it has a limit.
    fn limit(&self, row: &str, clients: usize) -> Option<&Vec<Sample>> {
        self.limits
            .iter()
            .find(|(r, c, _)| r == row && *c == clients)
            .map(|(_, _, s)| s)
    }
}

async fn run_backend(args: &Args, backend: Backend, dir: &Path) -> Results {
    let mut results = Results {
        seeded: args.size,
        ..Default::default()
    };
    let url = backend.url();
    // Migrate with the binary itself, then file one real case to copy its records.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let env = env_for(&url, &listen, dir, args.pool_size);
    let base = format!("http://{listen}");
    let keys = rongcuo::auth::Keys::from_settings(&rongcuo::settings::Auth {
        algorithm: "HS256".into(),
        secret: SECRET.into(),
        public_key_file: String::new(),
        private_key_file: String::new(),
        issuer: "rongcuo".into(),
        audience: "rongcuo".into(),
        leeway_seconds: 30,
    })
    .unwrap();
    let tokens = Tokens {
        cadre_id: "u-bench-cadre".into(),
        cadre: token(&keys, "u-bench-cadre", "cadre", "anhui/hefei/finance"),
        intake: token(&keys, "u-bench-intake", "intake", "anhui"),
        investigator: token(&keys, INVESTIGATOR, "investigator", "anhui"),
        reviewer: token(&keys, "u-bench-reviewer", "reviewer", "anhui"),
        lister: token(&keys, "u-bench-lister", "intake", "p7"),
        admin: token(&keys, "u-bench-admin", "admin", "anhui"),
    };
    let _ = &tokens.admin;
    let client = reqwest::Client::new();
    let mut server = start(args, &env, dir, "serve");
    wait_up(&client, &base).await;
    let r = client
        .post(format!("{base}/api/v1/exonerations"))
        .bearer_auth(&tokens.cadre)
        .json(&filing(&tokens.cadre_id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let first: Value = r.json().await.unwrap();
    let first_id = first["id"].as_str().unwrap().to_string();
    let mut conn = backend.connect();
    let data = text(
        &mut conn,
        &format!(
            "SELECT data AS t FROM cases WHERE id = {}",
            sql_literal(&first_id)
        ),
    );
    let t = Instant::now();
    eprintln!("{}: seeding {} cases", backend.name(), args.size);
    seed(&backend, &mut conn, args.size, &data);
    eprintln!(
        "{}: seeded in {:.1} s",
        backend.name(),
        t.elapsed().as_secs_f64()
    );
    // Start again on the seeded, analysed database, as a service deployed on it would:
    // connections opened before ANALYZE would plan without its statistics.
    drop(server);
    server = start(args, &env, dir, "serve");
    let pid = server.child.id();
    wait_up(&client, &base).await;

    let mut shapes: HashMap<&'static str, Shape> = HashMap::new();
    let mut step_rates: HashMap<&'static str, f64> = HashMap::new();
    // The investigator and the reviewer are known to the directory (any call registers the
    // caller): `accept` assigns one of them.
    for t in [&tokens.investigator, &tokens.reviewer] {
        let r = client
            .get(format!("{base}/api/v1/exonerations?limit=1"))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    for &clients in &args.clients {
        for run in 0..args.runs {
            eprintln!("{}: {clients} clients, run {}", backend.name(), run + 1);
            let s = load(&base, &tokens, Work::File, clients, args.seconds, pid).await;
            let filing_rate = s.rate();
            results.add("file a case", clients, s);
            // Each step of the story, with its limit right after it.
            for step in STEPS {
                if !args.scenarios.iter().any(|x| x == "transition")
                    || !args.steps.iter().any(|e| e == step.event)
                {
                    continue;
                }
                let s = apply_step(
                    &backend,
                    &base,
                    &tokens,
                    step,
                    clients,
                    pid,
                    args.seconds,
                    filing_rate,
                    step_rates.get(step.event).copied().unwrap_or(0.0),
                )
                .await;
                step_rates.insert(
                    step.event,
                    s.rate()
                        .max(step_rates.get(step.event).copied().unwrap_or(0.0)),
                );
                results.add(&step.row(), clients, s);
                // The limit right after, while the service idles: on a shared machine whose
                // speed drifts over minutes, a limit measured at the end compared the service
                // with a different machine. The shape is what the service wrote so far.
                let shape = shapes.entry(step.event).or_insert_with(|| {
                    let s = shape(&mut conn, step);
                    eprintln!(
                        "{}: `{}` writes {:.2} mails, {:.2} timers, cancels {:.2}; payload {} B, mail {}+{} B, data {} B",
                        backend.name(),
                        step.event,
                        s.outbox_per_transition,
                        s.timers_per_transition,
                        s.cancelled_per_transition,
                        s.payload.len(),
                        s.body_text.len(),
                        s.body_html.len(),
                        s.data.len()
                    );
                    s
                });
                let s = match &backend {
                    Backend::Postgres { .. } => {
                        pg_limit(&backend, shape, args.size, clients, args.seconds, dir)
                    }
                    Backend::Sqlite { .. } => {
                        sqlite_limit(&backend, shape, args.size, clients, args.seconds)
                    }
                };
                results.add_limit(&step.row(), clients, s);
            }
            // The reads, each a scenario of `--scenarios` and a row of the tables.
            let reads = [
                ("read", Work::Read(first_id.clone()), "read one case"),
                (
                    "list",
                    Work::List,
                    "list page (state + province) over seeded",
                ),
                (
                    "list",
                    Work::ListUnit,
                    "list page (state + a unit) over seeded",
                ),
                ("search", Work::Search, "search (two words one case holds)"),
                (
                    "statistics",
                    Work::Statistics,
                    "statistics of a province (p7: 27 % of seeded)",
                ),
                (
                    "ledger",
                    Work::Ledger,
                    "ledger page of a province (p7, 100 cadres)",
                ),
            ];
            for (scenario, work, row) in reads {
                if args.scenarios.iter().any(|x| x == scenario) {
                    let s = load(&base, &tokens, work, clients, args.seconds, pid).await;
                    results.add(row, clients, s);
                }
            }
        }
    }
    if args.scenarios.iter().any(|x| x == "statistics") {
        results.statistics_alone = Some(statistics_alone(&base, &tokens, pid, 5).await);
    }
    if args.scenarios.iter().any(|x| x == "ledger") {
        results.ledger_csv = Some(ledger_csv(&base, &tokens, pid).await);
    }
    results.peak_rss_mib = server.peak_rss_mib();
    drop(server);

    // Mail: the worker drains the outbox to an SMTP sink.
    let (smtp, received) = match std::env::var("BENCH_SMTP_URL") {
        Ok(url) => (url, Arc::new(AtomicUsize::new(0))),
        Err(_) => smtp_sink(),
    };
    let mut env = env.clone();
    env.insert("RONGCUO_SMTP_URL".into(), smtp);
    env.insert("RONGCUO_MAIL_DELIVER".into(), "true".into());
    // The queue first, counted before the worker starts: from its start (its own start-up
    // included) until the `drain`th mail is marked sent, or none is left to send.
    top_up_outbox(&backend, &mut conn, args.drain);
    let state_count = |conn: &mut rongcuo::db::DbConnection, state: &str| {
        count(
            conn,
            &format!("SELECT COUNT(*) AS n FROM outbox WHERE state = '{state}'"),
        )
    };
    let before = state_count(&mut conn, "sent");
    let before_sink = received.load(Ordering::Relaxed);
    let t = Instant::now();
    let worker = start(args, &env, dir, "worker");
    let mut sent = 0;
    while t.elapsed() < Duration::from_secs(900) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        sent = state_count(&mut conn, "sent") - before;
        if sent >= args.drain as i64 || state_count(&mut conn, "pending") == 0 {
            break;
        }
    }
    let elapsed = t.elapsed().as_secs_f64();
    results.mail_per_second = sent as f64 / elapsed;
    results.drained = (sent, elapsed);
    results.worker_peak_anon_mib = worker.peak_anon_mib();
    eprintln!(
        "{}: {sent} mails marked sent, {} received by the sink, in {elapsed:.1} s",
        backend.name(),
        received.load(Ordering::Relaxed) - before_sink
    );
    drop(worker);
    drop(conn);
    if let Backend::Postgres { admin, name } = &backend {
        let mut c = PgConnection::establish(admin).unwrap();
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
    results
}

/// One measured run of `step` over cases the steps before it left (prepared unmeasured), as
/// many as the run needs: a run that still ran out is done again with twice as many.
#[allow(clippy::too_many_arguments)]
async fn apply_step(
    backend: &Backend,
    base: &str,
    tokens: &Tokens,
    step: Step,
    clients: usize,
    pid: u32,
    seconds: f64,
    filing_rate: f64,
    rate_seen: f64,
) -> Sample {
    let warm_and_run = seconds + (seconds * 0.15).min(1.0);
    let guess = rate_seen.max(filing_rate * 2.0);
    let mut need = (guess * warm_and_run * 1.3) as usize + 64;
    loop {
        let ids = cases_in(
            backend,
            base,
            tokens,
            clients,
            pid,
            step.from,
            need,
            filing_rate,
        )
        .await;
        eprintln!(
            "{}: `{}` on up to {} cases",
            backend.name(),
            step.event,
            ids.len()
        );
        let work = Work::Transition(step, Arc::new(ids), Arc::new(AtomicUsize::new(0)));
        let s = load(base, tokens, work, clients, seconds, pid).await;
        if !s.ran_out {
            return s;
        }
        need *= 2;
        eprintln!(
            "{}: ran out of cases to move; again with {need}",
            backend.name()
        );
    }
}

/// The statistics of p7, `n` requests one after another, each from a different start of the
/// period (all before the first case: the same numbers, never an answer kept for another
/// question): what one computation costs when no answer can be reused.
async fn statistics_alone(
    base: &str,
    tokens: &Tokens,
    service: u32,
    n: usize,
) -> (usize, f64, f64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_anon(service, stop.clone());
    let client = reqwest::Client::new();
    let mut seconds = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let r = client
            .get(format!(
                "{base}/api/v1/statistics?org=p7&from=2001-01-{:02}T00:00:00Z",
                i + 1
            ))
            .bearer_auth(&tokens.lister)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        assert!(status.is_success(), "statistics alone: {status} {body}");
        seconds.push(t.elapsed().as_secs_f64());
    }
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.await.unwrap_or(f64::NAN);
    seconds.sort_by(f64::total_cmp);
    let (median, slowest) = (seconds[n / 2], seconds[n - 1]);
    eprintln!(
        "statistics alone: {n} requests, median {median:.2} s, slowest {slowest:.2} s, peak anon {peak:.0} MiB"
    );
    (n, median, slowest, peak)
}

/// The whole ledger of p7 as CSV, one download, read as it streams: its size, its lines, how
/// long it took, and the service's peak anonymous memory meanwhile (constant, whatever the
/// ledger's size, if it streams).
async fn ledger_csv(base: &str, tokens: &Tokens, service: u32) -> (u64, u64, f64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_anon(service, stop.clone());
    let t = Instant::now();
    let mut r = reqwest::Client::new()
        .get(format!("{base}/api/v1/ledger?org=p7"))
        .bearer_auth(&tokens.lister)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the ledger as CSV");
    let (mut bytes, mut lines) = (0_u64, 0_u64);
    while let Some(chunk) = r.chunk().await.unwrap() {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let elapsed = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.await.unwrap_or(f64::NAN);
    eprintln!(
        "ledger CSV: {bytes} bytes, {lines} lines in {elapsed:.1} s, peak anon {peak:.0} MiB"
    );
    (bytes, lines, elapsed, peak)
}

/// Tops the outbox's pending mails up to `at_least` with copies of one of them (each its
/// own id and Message-ID), for the worker to drain.
fn top_up_outbox(backend: &Backend, conn: &mut rongcuo::db::DbConnection, at_least: u64) {
    let pending = count(
        conn,
        "SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'",
    );
    let missing = at_least as i64 - pending;
    if missing <= 0 {
        return;
    }
    let columns = "case_id, seq, recipient_id, recipient_name, recipient_email, relation, \
                   template, subject, body_text, state, attempts, next_attempt_at, created_at, body_html";
    let sql = match backend {
        Backend::Postgres { .. } => format!(
            "INSERT INTO outbox (id, message_id, {columns})
             SELECT 'drain-' || i, '<drain-' || i || '@rongcuo>', {columns}
             FROM (SELECT * FROM outbox ORDER BY created_at LIMIT 1) AS o,
                  generate_series(1, {missing}) AS i"
        ),
        Backend::Sqlite { .. } => format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {missing})
             INSERT INTO outbox (id, message_id, {columns})
             SELECT 'drain-' || i, '<drain-' || i || '@rongcuo>', {columns}
             FROM (SELECT * FROM outbox ORDER BY created_at LIMIT 1) AS o, s"
        ),
    };
    conn.batch_execute(&sql).unwrap();
    // Pending from now: the copy's state and due time are those of the mail copied.
    conn.batch_execute(
        "UPDATE outbox SET state = 'pending', attempts = 0, sent_at = NULL, last_error = NULL
         WHERE id LIKE 'drain-%'",
    )
    .unwrap();
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem}")
}

fn commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The median over runs of one part's CPU µs per request served.
fn cpu_per_request(samples: &[Sample], part: fn(&Cpu) -> f64) -> f64 {
    median(
        samples
            .iter()
            .map(|s| 1e6 * part(&s.cpu) / (s.ok.max(1) as f64))
            .collect(),
    )
}

fn table(name: &str, r: &Results, args: &Args) -> String {
    let mut out = format!(
        "### {name}\n\n{} seeded cases; medians of {} runs of {} s per row. Limit: the same \
         writes as one transition straight against the database (no HTTP, no JSON, no machine), \
         measured right after each run of the service; service / limit is the median of the \
         runs' ratios.\n\n\
         | scenario | clients | service req/s | limit tx/s | service / limit | p50 ms | p99 ms | p99.9 ms | errors | CPU µs/req: service · database · load generator | peak anon MiB |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        r.seeded, args.runs, args.seconds
    );
    for (scenario, clients, samples) in &r.points {
        let rate = median(samples.iter().map(Sample::rate).collect());
        let p = |q: f64| median(samples.iter().map(|s| s.pct(q)).collect());
        let errors: usize = samples.iter().map(|s| s.errors).sum();
        let (limit, ratio) = match r.limit(scenario, *clients) {
            Some(limits) => {
                let limit = median(limits.iter().map(Sample::rate).collect());
                // Each run's rate over the limit measured right after it, then the median.
                let paired = median(
                    samples
                        .iter()
                        .zip(limits)
                        .map(|(s, l)| s.rate() / l.rate())
                        .collect(),
                );
                (format!("{limit:.0}"), format!("**{:.0}%**", 100.0 * paired))
            }
            None => ("".into(), "".into()),
        };
        let per = |f: fn(&Cpu) -> f64| cpu_per_request(samples, f);
        let anon = samples
            .iter()
            .map(|s| s.peak_anon_mib)
            .fold(f64::NAN, f64::max);
        out.push_str(&format!(
            "| {scenario} | {clients} | {rate:.0} | {limit} | {ratio} | {:.2} | {:.2} | {:.2} | {errors} | {:.0} · {:.0} · {:.0} | {anon:.0} |\n",
            p(0.5),
            p(0.99),
            p(0.999),
            per(|c| c.service),
            per(|c| c.database),
            per(|c| c.generator),
        ));
        // The limit's own CPU per transaction: the database's (SQLite: the whole in-process
        // work) and its driver's (pgbench), to set beside the service's.
        if let Some(limits) = r.limit(scenario, *clients) {
            let per = |f: fn(&Cpu) -> f64| cpu_per_request(limits, f);
            out.push_str(&format!(
                "| … the limit's own CPU | {clients} |  |  |  |  |  |  |  | — · {:.0} · {:.0} |  |\n",
                per(|c| c.database),
                per(|c| c.generator),
            ));
        }
    }
    out.push_str(&format!(
        "\nPeak RSS of the service (anonymous memory and mapped file pages): {:.0} MiB. \
         Outbox worker to a local SMTP sink: {} mails drained in {:.1} s, {:.0} mails/s \
         (worker's anonymous memory at the end: {:.0} MiB).\n\n",
        r.peak_rss_mib, r.drained.0, r.drained.1, r.mail_per_second, r.worker_peak_anon_mib
    ));
    if let Some((n, median, slowest, anon)) = r.statistics_alone {
        out.push_str(&format!(
            "The statistics of p7 computed alone ({n} requests one after another, each a \
             question not asked before, so that no answer is reused): median {:.0} ms, slowest \
             {:.0} ms; the service's peak anonymous memory meanwhile: {anon:.0} MiB.\n\n",
            median * 1000.0,
            slowest * 1000.0
        ));
    }
    if let Some((bytes, lines, seconds, anon)) = r.ledger_csv {
        out.push_str(&format!(
            "The whole ledger of p7 as CSV, one download: {lines} lines, {:.1} MB in {seconds:.1} s \
             ({:.1} MB/s); the service's peak anonymous memory meanwhile: {anon:.0} MiB.\n\n",
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / seconds
        ));
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    assert!(
        args.bin.exists(),
        "{} is missing: cargo build --release first (bench/run.sh does)",
        args.bin.display()
    );
    let started = Instant::now();
    let mut report = format!(
        "## Run of {} (commit {})\n\nMachine: {}. Load generator, service and database share it.\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        commit(),
        machine()
    );
    for b in &args.backends {
        let dir = tempfile::tempdir().unwrap();
        let backend = match b.as_str() {
            "sqlite" => Backend::Sqlite {
                path: dir.path().join("bench.db"),
            },
            "postgres" => {
                let name = format!("rongcuo_bench_{}", std::process::id());
                let mut admin = PgConnection::establish(&args.postgres)
                    .unwrap_or_else(|e| panic!("PostgreSQL at {}: {e}", args.postgres));
                for sql in [
                    format!("DROP DATABASE IF EXISTS \"{name}\""),
                    format!("CREATE DATABASE \"{name}\""),
                ] {
                    admin.batch_execute(&sql).unwrap();
                }
                Backend::Postgres {
                    admin: args.postgres.clone(),
                    name,
                }
            }
            other => panic!("unknown backend {other}"),
        };
        let name = backend.name();
        let r = run_backend(&args, backend, dir.path()).await;
        if args.keep {
            eprintln!("{name}: kept in {}", dir.keep().display());
        }
        let t = table(name, &r, &args);
        // Each backend's table as soon as it is done: a later failure does not lose it.
        eprintln!("{t}");
        report.push_str(&t);
        if let Some(out) = &args.out {
            std::fs::write(out, &report).unwrap();
        }
    }
    report.push_str(&format!(
        "The whole run took {:.0} s.\n",
        started.elapsed().as_secs_f64()
    ));
    println!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).unwrap();
    }
    // A request the service refused is a broken benchmark, not a slow one.
    if report.lines().any(|l| {
        l.starts_with("| ")
            && l.split('|')
                .nth(9)
                .map(str::trim)
                .is_some_and(|e| !e.is_empty() && e != "0" && e != "errors")
    }) {
        eprintln!("some requests failed: see the errors column");
        std::process::exit(1);
    }
}
