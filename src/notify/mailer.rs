//! Transports: SMTP (`mail.smtp_url`: smtp:// plain or with `?tls=required`, smtps:// TLS,
//! optional user:pass; connections of our own, `smtp.rs`) or `.eml` files under
//! `mail.outbox_dir` when no SMTP is configured.

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

pub use super::smtp::SendError;
use super::smtp::{Relay, Security, SmtpPool, Trust};

use crate::db::models::OutboxRow;
use crate::settings::Mail;

pub enum Mailer {
    Smtp(SmtpPool),
    File(AsyncFileTransport<Tokio1Executor>, String),
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
        let relay = Relay::parse(&mail.smtp_url)
            .map_err(|e| format!("configuration key `mail.smtp_url`: {e}"))?;
        let ca = if mail.tls_ca_file.is_empty() {
            None
        } else {
            if relay.security == Security::Plain {
                return Err(
                    "configuration key `mail.tls_ca_file`: applies to smtps:// or smtp://…?tls=required|opportunistic URLs"
                        .into(),
                );
            }
            Some(std::fs::read(&mail.tls_ca_file).map_err(|e| {
                format!(
                    "configuration key `mail.tls_ca_file`: cannot read {}: {e}",
                    mail.tls_ca_file
                )
            })?)
        };
        let trust = Trust::new(&relay.host, ca.as_deref())
            .map_err(|e| format!("configuration key `mail.tls_ca_file`: {e}"))?;
        // No more open connections than mails in flight: an idle connection holds a
        // relay's connection slot.
        Ok(Mailer::Smtp(SmtpPool::new(relay, trust, mail.concurrency)))
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
            Mailer::Smtp(pool) => pool.send(message.envelope(), &message.formatted()).await,
            Mailer::File(t, _) => t.send(message).await.map(drop).map_err(|e| SendError {
                permanent: false,
                message: e.to_string(),
            }),
        }
    }
}

/// Parses `mail.from` ("name <addr>" or "addr").
pub fn from_mailbox(from: &str) -> Result<Mailbox, String> {
    from.parse::<Mailbox>()
        .map_err(|e| format!("configuration key `mail.from`: {e}"))
}
