//! Transports: SMTP (`mail.smtp_url`: smtp:// plain or with `?tls=required`, smtps:// TLS,
//! optional user:pass) or `.eml` files under `mail.outbox_dir` when no SMTP is configured.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
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

impl Mailer {
    pub fn from_settings(mail: &Mail) -> Result<Mailer, String> {
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
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&mail.smtp_url)
            .map_err(|e| format!("configuration key `mail.smtp_url`: {e}"))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(Mailer::Smtp(transport))
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

/// Parses `mail.from` ("name <addr>" or "addr").
pub fn from_mailbox(from: &str) -> Result<Mailbox, String> {
    from.parse::<Mailbox>()
        .map_err(|e| format!("configuration key `mail.from`: {e}"))
}
