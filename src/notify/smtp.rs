//! SMTP connections of our own, kept open across messages, on sockets with `TCP_NODELAY`.
//!
//! lettre 0.11 writes a message's body and its final `.` in two writes and sets no
//! `TCP_NODELAY`, so with Nagle's algorithm each message waited for the relay's delayed
//! ACK (about 40 ms). lettre accepts a socket opened by its caller
//! (`AsyncSmtpConnection::connect_with_transport`): we open it, set `TCP_NODELAY`, do
//! implicit TLS ourselves for `smtps://`, and leave EHLO, STARTTLS, AUTH and the SMTP
//! exchange to lettre.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Why a send failed, and whether trying again could help.
#[derive(Clone, Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

/// How the connection is secured, from the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: plain.
    Plain,
    /// `smtp://…?tls=opportunistic`: STARTTLS when the relay offers it.
    Opportunistic,
    /// `smtp://…?tls=required`: STARTTLS or no delivery.
    Required,
    /// `smtps://`: TLS from the first byte.
    Implicit,
}

/// Where and how to connect: `mail.smtp_url` (`smtp[s]://[user:pass@]host[:port][?tls=…]`).
#[derive(Clone)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    pub security: Security,
    credentials: Option<Credentials>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials.
        f.debug_struct("Relay")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("auth", &self.credentials.is_some())
            .finish()
    }
}

impl Relay {
    pub fn parse(raw: &str) -> Result<Relay, String> {
        let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
        let mode = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string());
        let security = match (url.scheme(), mode.as_deref()) {
            ("smtps", None) => Security::Implicit,
            ("smtp", None) => Security::Plain,
            ("smtp", Some("required")) => Security::Required,
            ("smtp", Some("opportunistic")) => Security::Opportunistic,
            ("smtp" | "smtps", Some(other)) => {
                return Err(format!(
                    "tls={other}: use tls=required or tls=opportunistic (smtp://), or smtps://"
                ));
            }
            (other, _) => return Err(format!("unsupported scheme `{other}`: smtp or smtps")),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("no host")?
            .trim_matches(['[', ']'])
            .to_string();
        let port = url.port().unwrap_or(match security {
            Security::Implicit => 465,
            _ => 587,
        });
        let decode = |s: &str| {
            percent_decode(s).map_err(|_| "user or password is not valid percent-encoding")
        };
        let credentials = if url.username().is_empty() {
            None
        } else {
            Some(Credentials::new(
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ))
        };
        Ok(Relay {
            host,
            port,
            security,
            credentials,
        })
    }
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(())?;
            let hex = std::str::from_utf8(hex).map_err(|_| ())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// A TLS stream lettre can drive (implicit TLS, `smtps://`).
#[derive(Debug)]
struct Tls(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for Tls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Tls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// The certificates TLS trusts: the web's roots and, for a relay with a private CA, the
/// PEM certificates of `mail.tls_ca_file`.
pub struct Trust {
    /// For STARTTLS (lettre's own TLS upgrade).
    starttls: TlsParameters,
    /// For `smtps://`.
    implicit: tokio_rustls::TlsConnector,
}

impl Trust {
    pub fn new(host: &str, ca_pem: Option<&[u8]>) -> Result<Trust, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut builder = TlsParameters::builder(host.to_string());
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = ca_pem {
            let cert = lettre::transport::smtp::client::Certificate::from_pem(pem)
                .map_err(|e| e.to_string())?;
            builder = builder.add_root_certificate(cert);
            for der in CertificateDer::pem_slice_iter(pem) {
                roots
                    .add(der.map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?;
            }
        }
        let starttls = builder.build_rustls().map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Trust {
            starttls,
            implicit: tokio_rustls::TlsConnector::from(Arc::new(config)),
        })
    }
}

/// Open connections to one relay, reused across messages: at most `max_idle` kept, each
/// for at most `idle_timeout` (an idle connection holds one of the relay's slots).
pub struct SmtpPool {
    relay: Relay,
    trust: Trust,
    hello: ClientId,
    connect_timeout: Duration,
    idle_timeout: Duration,
    max_idle: usize,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl SmtpPool {
    pub fn new(relay: Relay, trust: Trust, max_idle: usize) -> SmtpPool {
        SmtpPool {
            relay,
            trust,
            hello: ClientId::default(),
            connect_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(30),
            max_idle: max_idle.max(1),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A new connection: TCP with `TCP_NODELAY`, TLS as the URL says, EHLO, AUTH.
    async fn open(&self) -> Result<AsyncSmtpConnection, SendError> {
        let connect = TcpStream::connect((self.relay.host.as_str(), self.relay.port));
        let tcp = match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(tcp) => tcp.map_err(io_error)?,
            Err(_) => return Err(io_error("connecting to the SMTP relay timed out")),
        };
        tcp.set_nodelay(true).map_err(io_error)?;
        let stream: Box<dyn AsyncTokioStream> = if self.relay.security == Security::Implicit {
            let name = rustls::pki_types::ServerName::try_from(self.relay.host.clone())
                .map_err(io_error)?;
            let tls = self
                .trust
                .implicit
                .connect(name, tcp)
                .await
                .map_err(io_error)?;
            Box::new(Tls(tls))
        } else {
            Box::new(tcp)
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
            .await
            .map_err(lettre_error)?;
        let starttls = match self.relay.security {
            Security::Required => true,
            Security::Opportunistic => conn.can_starttls(),
            Security::Plain | Security::Implicit => false,
        };
        if starttls {
            conn.starttls(self.trust.starttls.clone(), &self.hello)
                .await
                .map_err(lettre_error)?;
        }
        if let Some(credentials) = &self.relay.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(lettre_error)?;
        }
        Ok(conn)
    }

    /// An idle connection young enough to trust, else `None`.
    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().ok()?;
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < self.idle_timeout && !conn.has_broken() {
                return Some(conn);
            }
        }
        None
    }

    fn give_back(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max_idle
        {
            idle.push((conn, Instant::now()));
        }
    }

    /// Sends one message; a reused connection the relay has closed meanwhile is replaced
    /// once by a new one.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SendError> {
        if let Some(mut conn) = self.take_idle() {
            match conn.send(envelope, message).await {
                Ok(_) => {
                    self.give_back(conn);
                    return Ok(());
                }
                // The relay answered: the answer stands.
                Err(e) if e.is_permanent() || e.is_transient() => {
                    self.give_back(conn);
                    return Err(lettre_error(e));
                }
                // The connection itself failed: try a fresh one.
                Err(_) => {}
            }
        }
        let mut conn = self.open().await?;
        let sent = conn.send(envelope, message).await;
        self.give_back(conn);
        sent.map(drop).map_err(lettre_error)
    }
}

fn lettre_error(e: SmtpError) -> SendError {
    SendError {
        permanent: e.is_permanent(),
        message: e.to_string(),
    }
}

/// A failure of our own socket or TLS (transient: the relay may come back).
fn io_error(e: impl std::fmt::Display) -> SendError {
    SendError {
        permanent: false,
        message: format!("connection: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Relay, Security};

    #[test]
    fn the_relay_url_says_host_port_security_and_credentials() {
        let r = Relay::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.security, r.credentials.is_some()),
            ("127.0.0.1", 2525, Security::Plain, false)
        );
        let r = Relay::parse("smtps://mail.example.cn").unwrap();
        assert_eq!((r.port, r.security), (465, Security::Implicit));
        let r = Relay::parse("smtp://rc%40x:p%3As@relay.example.cn?tls=required").unwrap();
        assert_eq!((r.port, r.security), (587, Security::Required));
        assert!(r.credentials.is_some());
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("p:s") && !shown.contains("p%3As"),
            "{shown}"
        );
        let r = Relay::parse("smtp://[::1]:25?tls=opportunistic").unwrap();
        assert_eq!(
            (r.host.as_str(), r.security),
            ("::1", Security::Opportunistic)
        );
        for bad in [
            "http://x",
            "smtp://x?tls=maybe",
            "smtp:///nohost",
            "smtp://u:%zz@x",
        ] {
            assert!(Relay::parse(bad).is_err(), "{bad}");
        }
    }
}
