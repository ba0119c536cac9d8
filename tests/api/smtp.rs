//! A real SMTP server on 127.0.0.1 for the tests (mailin-embedded), recording what it
//! receives; addresses in `reject` get a permanent 550.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::{Handler, Response, Server, SslConfig, response};

#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parseable message")
    }

    pub fn message_id(&self) -> String {
        self.parsed()
            .message_id()
            .map(|m| format!("<{m}>"))
            .unwrap_or_default()
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    pub fn html(&self) -> String {
        self.parsed()
            .body_html(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }
}

#[derive(Clone)]
struct Sink {
    received: Arc<Mutex<Vec<Received>>>,
    reject: Arc<Vec<String>>,
    /// (user, password) AUTH PLAIN must present, when set.
    login: Option<(String, String)>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Sink {
    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        match &self.login {
            Some((u, p)) if u == user && p == password => response::AUTH_OK,
            _ => response::INVALID_CREDENTIALS,
        }
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.reject.iter().any(|r| to.contains(r.as_str())) {
            response::NO_MAILBOX
        } else {
            response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let r = Received {
            to: std::mem::take(&mut self.to),
            raw: std::mem::take(&mut self.data),
        };
        if let Ok(mut v) = self.received.lock() {
            v.push(r);
        }
        response::OK
    }
}

pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    /// Serves on `port` (0: any free port) until the test process ends.
    pub fn start(port: u16, reject: &[&str]) -> SmtpSink {
        SmtpSink::serve(port, reject, None)
    }

    /// STARTTLS with `cert`/`key` (PEM files; `chain` the CA) and AUTH PLAIN as `login`.
    pub fn start_tls(cert: &str, key: &str, chain: &str, login: (&str, &str)) -> SmtpSink {
        rongcuo::notify::mailer::install_crypto_provider();
        let tls = SslConfig::Trusted {
            cert_path: cert.into(),
            key_path: key.into(),
            chain_path: chain.into(),
        };
        SmtpSink::serve(
            0,
            &[],
            Some((tls, (login.0.to_string(), login.1.to_string()))),
        )
    }

    fn serve(port: u16, reject: &[&str], tls: Option<(SslConfig, (String, String))>) -> SmtpSink {
        let listener =
            std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the SMTP sink");
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler = Sink {
            received: received.clone(),
            reject: Arc::new(reject.iter().map(|s| s.to_string()).collect()),
            login: tls.as_ref().map(|(_, l)| l.clone()),
            to: Vec::new(),
            data: Vec::new(),
        };
        let mut server = Server::new(handler);
        let (ssl, auth) = match tls {
            Some((ssl, _)) => (ssl, true),
            None => (SslConfig::None, false),
        };
        server
            .with_name("localhost")
            .with_ssl(ssl)
            .unwrap()
            // A thread per connection: enough for two replicas' pooled connections
            // (mail.concurrency each), so the sink is never what makes a test wait.
            .with_num_threads(16)
            .with_tcp_listener(listener);
        if auth {
            server.with_auth(mailin_embedded::AuthMechanism::Plain);
        }
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpSink { port, received }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` until it is true, for at most `secs` seconds.
pub async fn eventually(secs: u64, what: &str, mut f: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    loop {
        if f().await {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
