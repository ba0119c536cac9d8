//! Transports: SMTP (`mail.smtp_url`: smtp:// plain or with `?tls=required`, smtps:// TLS,
//! optional user:pass) or `.eml` files under `mail.outbox_dir` when no SMTP is configured.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::models::OutboxRow;
use crate::settings::Mail;

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>, String),
}

/// Why a send failed, and whether trying again could help.
#[derive(Clone, Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

/// Chooses rustls's crypto provider (ring) for the process. rustls refuses to guess when a
/// build enables more than one backend, which any dependency can cause; once is enough,
/// and a provider already installed is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Mailer {
    pub fn from_settings(mail: &Mail) -> Result<Mailer, String> {
        install_crypto_provider();
        if mail.smtp_url.is_empty() {
            std::fs::create_dir_all(&mail.outbox_dir).map_err(|e| {
                format!(
                    "configuration key `mail.outbox_dir`: cannot create {}: {e}",
                    mail.outbox_dir
                )
            })?;
            return Ok(Mailer::File(
                AsyncFileTransport::new(&mail.outbox_dir),
                mail.outbox_dir.clone(),
            ));
        }
        // No more open connections than mails in flight: an idle pooled connection holds a
        // relay's connection slot.
        let pool = lettre::transport::smtp::PoolConfig::new()
            .max_size(mail.concurrency.max(1) as u32)
            .idle_timeout(Duration::from_secs(30));
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&mail.smtp_url)
            .map_err(|e| format!("configuration key `mail.smtp_url`: {e}"))?
            .timeout(Some(Duration::from_secs(15)))
            .pool_config(pool);
        if !mail.tls_ca_file.is_empty() {
            builder = builder.tls(tls_with_ca(&mail.smtp_url, &mail.tls_ca_file)?);
        }
        Ok(Mailer::Smtp(builder.build()))
    }

    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(_) => "SMTP".into(),
            Mailer::File(_, dir) => format!(".eml files in {dir}"),
        }
    }

    /// Sends one outbox row, with its stable Message-ID.
    pub async fn send(&self, from: &Mailbox, row: &OutboxRow) -> Result<(), SendError> {
        let permanent = |message: String| SendError {
            permanent: true,
            message,
        };
        let to = row
            .recipient_email
            .parse()
            .map(|addr| Mailbox::new(Some(row.recipient_name.clone()), addr))
            .map_err(|e| permanent(format!("recipient address: {e}")))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(row.message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(
                row.body_text.clone(),
                row.body_html.clone(),
            ))
            .map_err(|e| permanent(format!("message: {e}")))?;
        match self {
            Mailer::Smtp(t) => t.send(message).await.map(drop).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            }),
            Mailer::File(t, _) => t.send(message).await.map(drop).map_err(|e| SendError {
                permanent: false,
                message: e.to_string(),
            }),
        }
    }
}

/// TLS for the URL's mode (smtps://: TLS from the start; ?tls=required or opportunistic:
/// STARTTLS) that also trusts the CA in `ca_file` (PEM), for relays with a private CA.
fn tls_with_ca(url: &str, ca_file: &str) -> Result<Tls, String> {
    let bad = |m: String| format!("configuration key `mail.tls_ca_file`: {m}");
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("mail.smtp_url has no scheme".into()))?;
    let after_auth = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let host = after_auth
        .split([':', '/', '?'])
        .next()
        .unwrap_or_default()
        .to_string();
    let mode = rest
        .split_once("?tls=")
        .map(|(_, m)| m.split('&').next().unwrap_or_default());
    let pem = std::fs::read(ca_file).map_err(|e| bad(format!("cannot read {ca_file}: {e}")))?;
    let cert = Certificate::from_pem(&pem).map_err(|e| bad(e.to_string()))?;
    let params = TlsParameters::builder(host)
        .add_root_certificate(cert)
        .build_rustls()
        .map_err(|e| bad(e.to_string()))?;
    match (scheme, mode) {
        ("smtps", _) => Ok(Tls::Wrapper(params)),
        ("smtp", Some("required")) => Ok(Tls::Required(params)),
        ("smtp", Some("opportunistic")) => Ok(Tls::Opportunistic(params)),
        _ => Err(bad(
            "applies to smtps:// or smtp://…?tls=required|opportunistic URLs".into(),
        )),
    }
}

/// Parses `mail.from` ("name <addr>" or "addr").
pub fn from_mailbox(from: &str) -> Result<Mailbox, String> {
    from.parse::<Mailbox>()
        .map_err(|e| format!("configuration key `mail.from`: {e}"))
}
