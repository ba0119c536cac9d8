//! Configuration: `config/default.toml` (or its copy built into the binary), then the file
//! named by `RONGCUO_CONFIG`, then environment variables. A bad value stops the start with
//! a message naming the key. Long because it is every key with its default and its check,
//! and the tests of the layering; one place to look a key up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::db::DbUrl;
use crate::domain::EmailAddress;

const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Environment variables and the keys they set.
pub const ENV_KEYS: &[(&str, &str)] = &[
    ("RONGCUO_LISTEN", "server.listen"),
    ("RONGCUO_PUBLIC_URL", "server.public_url"),
    ("RONGCUO_BODY_LIMIT_BYTES", "server.body_limit_bytes"),
    ("RONGCUO_CORS_ORIGINS", "server.cors_origins"),
    (
        "RONGCUO_RATE_LIMIT_PER_MINUTE",
        "server.rate_limit_per_minute",
    ),
    ("RONGCUO_MAX_HEADER_BYTES", "server.max_header_bytes"),
    ("RONGCUO_DATABASE_URL", "database.url"),
    ("RONGCUO_DATABASE_POOL_SIZE", "database.pool_size"),
    ("RONGCUO_DATABASE_TIMEOUT_MS", "database.connect_timeout_ms"),
    ("RONGCUO_REPORT_BUDGET_MS", "database.report_budget_ms"),
    (
        "RONGCUO_STATISTICS_CACHE_MS",
        "database.statistics_cache_ms",
    ),
    ("RONGCUO_JWT_ALGORITHM", "auth.algorithm"),
    ("RONGCUO_JWT_SECRET", "auth.secret"),
    ("RONGCUO_JWT_PUBLIC_KEY_FILE", "auth.public_key_file"),
    ("RONGCUO_JWT_PRIVATE_KEY_FILE", "auth.private_key_file"),
    ("RONGCUO_JWT_ISSUER", "auth.issuer"),
    ("RONGCUO_JWT_AUDIENCE", "auth.audience"),
    ("RONGCUO_REPORTER_KEY", "security.reporter_key"),
    (
        "RONGCUO_ATTACHMENT_MAX_FILE_BYTES",
        "attachments.max_file_bytes",
    ),
    (
        "RONGCUO_ATTACHMENT_MAX_CASE_BYTES",
        "attachments.max_case_bytes",
    ),
    ("RONGCUO_ATTACHMENT_MEDIA_TYPES", "attachments.media_types"),
    ("RONGCUO_CONSOLE_IDLE_MINUTES", "console.idle_minutes"),
    ("RONGCUO_CONSOLE_ABSOLUTE_HOURS", "console.absolute_hours"),
    ("RONGCUO_SMTP_URL", "mail.smtp_url"),
    ("RONGCUO_MAIL_FROM", "mail.from"),
    ("RONGCUO_MAIL_DIR", "mail.outbox_dir"),
    ("RONGCUO_SMTP_CA_FILE", "mail.tls_ca_file"),
    ("RONGCUO_MAIL_DELIVER", "mail.deliver"),
    ("RONGCUO_MAIL_POLL_MS", "mail.poll_interval_ms"),
    ("RONGCUO_MAIL_LEASE_MS", "mail.lease_ms"),
    ("RONGCUO_MAIL_RETRY_BASE_MS", "mail.retry_base_ms"),
    ("RONGCUO_MAIL_MAX_ATTEMPTS", "mail.max_attempts"),
    ("RONGCUO_MAIL_CONCURRENCY", "mail.concurrency"),
    ("RONGCUO_MAIL_SEND_TIMEOUT_MS", "mail.send_timeout_ms"),
    ("RONGCUO_TIMER_INTERVAL_MS", "timers.interval_ms"),
    ("RONGCUO_TIMERS_ENABLED", "timers.enabled"),
    ("RONGCUO_REMINDER_DAYS", "timers.reminder_days"),
    ("RONGCUO_WORKFLOWS_DIR", "workflows.dir"),
    ("RONGCUO_LOG_FORMAT", "log.format"),
];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: Server,
    pub database: Database,
    pub auth: Auth,
    pub security: Security,
    pub attachments: Attachments,
    pub console: ConsoleSettings,
    pub mail: Mail,
    pub timers: Timers,
    pub workflows: Workflows,
    pub log: Log,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub listen: String,
    pub public_url: String,
    pub body_limit_bytes: usize,
    pub workers: usize,
    /// Browser origins allowed to call the API (comma-separated); empty: CORS stays closed.
    pub cors_origins: String,
    /// Requests per minute per authenticated caller (0: no limit); more get 429.
    pub rate_limit_per_minute: u32,
    /// Longest request target plus headers read (431 beyond).
    pub max_header_bytes: usize,
}

impl Server {
    /// The configured origins, each `scheme://host[:port]`.
    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_origins
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout_ms: u64,
    /// The longest a statement of a report (statistics, ledger) may run.
    pub report_budget_ms: u64,
    /// How long an answer of statistics is reused for the same caller and question after
    /// its computation began; past half of it a request that reads it also starts its
    /// successor in the background (0: only requests that arrive while it is computed
    /// share it).
    pub statistics_cache_ms: u64,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub algorithm: String,
    pub secret: String,
    pub public_key_file: String,
    pub private_key_file: String,
    pub issuer: String,
    pub audience: String,
    pub leeway_seconds: u64,
}

/// Never prints the secret.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("algorithm", &self.algorithm)
            .field("secret", &"***")
            .field("public_key_file", &self.public_key_file)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    pub reporter_key: String,
}

/// Never prints the key.
impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Security { reporter_key: *** }")
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mail {
    pub smtp_url: String,
    /// An extra CA (PEM) to trust for the SMTP server's certificate.
    pub tls_ca_file: String,
    pub from: String,
    pub outbox_dir: String,
    pub deliver: bool,
    pub poll_interval_ms: u64,
    pub batch_size: i64,
    pub lease_ms: u64,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    pub max_attempts: i32,
    /// Mails sent at once by one worker.
    pub concurrency: usize,
    /// Longest one SMTP exchange may take before it counts as a transient failure.
    pub send_timeout_ms: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timers {
    pub interval_ms: u64,
    pub enabled: bool,
    pub reminder_days: i64,
    pub lease_ms: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflows {
    pub dir: String,
    pub appeal_window_days: i64,
}

/// The web console's sessions.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// A session unused this long ends.
    pub idle_minutes: i64,
    /// A session ends this long after sign-in, used or not.
    pub absolute_hours: i64,
    /// How long a one-time sign-in link stays valid.
    pub login_link_minutes: i64,
}

/// Evidence files: the limits of an upload and what may be uploaded.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachments {
    pub max_file_bytes: u64,
    pub max_case_bytes: u64,
    /// Comma-separated media types (`type/subtype`).
    pub media_types: String,
}

impl Attachments {
    /// The allowed media types, lower-cased.
    pub fn media_types(&self) -> Vec<String> {
        self.media_types
            .split(',')
            .map(|m| m.trim().to_ascii_lowercase())
            .filter(|m| !m.is_empty())
            .collect()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    pub format: String,
    pub filter: String,
}

/// A configuration error naming the key (and the variable that set it, if any).
#[derive(Debug, thiserror::Error)]
#[error("configuration key `{key}`{}: {message}", .source_hint.as_ref().map(|s| format!(" ({s})")).unwrap_or_default())]
pub struct SettingsError {
    pub key: String,
    pub source_hint: Option<String>,
    pub message: String,
}

impl SettingsError {
    fn new(key: &str, message: impl Into<String>) -> Self {
        SettingsError {
            key: key.to_string(),
            source_hint: None,
            message: message.into(),
        }
    }
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn set_key(table: &mut toml::Table, key: &str, raw: &str, var: &str) -> Result<(), SettingsError> {
    let (section, name) = key.split_once('.').unwrap_or(("", key));
    let err = |m: String| SettingsError {
        key: key.into(),
        source_hint: Some(format!("from {var}")),
        message: m,
    };
    let sect = table
        .entry(section.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or_else(|| err("is not a table".into()))?;
    let value = match sect.get(name) {
        Some(toml::Value::Integer(_)) => toml::Value::Integer(
            raw.trim()
                .parse::<i64>()
                .map_err(|_| err(format!("`{raw}` is not a whole number")))?,
        ),
        Some(toml::Value::Boolean(_)) => toml::Value::Boolean(
            raw.trim()
                .parse::<bool>()
                .map_err(|_| err(format!("`{raw}` is not true or false")))?,
        ),
        _ => toml::Value::String(raw.to_string()),
    };
    sect.insert(name.to_string(), value);
    Ok(())
}

impl Settings {
    /// Loads from the process environment.
    pub fn load() -> Result<Settings, SettingsError> {
        Settings::load_from(|k| std::env::var(k).ok())
    }

    /// Loads with `env` as the environment (tests pass their own).
    pub fn load_from(env: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let default_text = match std::fs::read_to_string("config/default.toml") {
            Ok(t) => t,
            Err(_) => DEFAULT_TOML.to_string(),
        };
        let mut table: toml::Table = toml::from_str(&default_text)
            .map_err(|e| SettingsError::new("config/default.toml", e.to_string()))?;
        if let Some(path) = env("RONGCUO_CONFIG").filter(|p| !p.is_empty()) {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                SettingsError::new("RONGCUO_CONFIG", format!("cannot read {path}: {e}"))
            })?;
            let over: toml::Table = toml::from_str(&text)
                .map_err(|e| SettingsError::new("RONGCUO_CONFIG", format!("{path}: {e}")))?;
            merge(&mut table, over);
        }
        for (var, key) in ENV_KEYS {
            if let Some(value) = env(var) {
                set_key(&mut table, key, &value, var)?;
            }
        }
        let settings: Settings = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let key = e.path().to_string();
                let message = e.inner().message().to_string();
                let hint = ENV_KEYS
                    .iter()
                    .find(|(_, k)| *k == key)
                    .map(|(v, _)| format!("or {v}"));
                SettingsError {
                    key,
                    source_hint: hint,
                    message,
                }
            })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let bad = |key: &str, m: String| {
            let hint = ENV_KEYS
                .iter()
                .find(|(_, k)| *k == key)
                .map(|(v, _)| format!("or {v}"));
            Err(SettingsError {
                key: key.into(),
                source_hint: hint,
                message: m,
            })
        };
        if self.server.listen.parse::<SocketAddr>().is_err() {
            return bad(
                "server.listen",
                format!(
                    "`{}` is not an address like 127.0.0.1:8080",
                    self.server.listen
                ),
            );
        }
        if !(self.server.public_url.starts_with("http://")
            || self.server.public_url.starts_with("https://"))
        {
            return bad(
                "server.public_url",
                "must start with http:// or https://".into(),
            );
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.server.body_limit_bytes) {
            return bad(
                "server.body_limit_bytes",
                "must be between 1024 and 16777216".into(),
            );
        }
        if let Err(e) = DbUrl::parse(&self.database.url) {
            return bad("database.url", e.to_string());
        }
        if !(100..=600_000).contains(&self.database.connect_timeout_ms) {
            return bad(
                "database.connect_timeout_ms",
                "must be between 100 and 600000".into(),
            );
        }
        if !(10..=3_600_000).contains(&self.database.report_budget_ms) {
            return bad(
                "database.report_budget_ms",
                "must be between 10 and 3600000".into(),
            );
        }
        if self.database.statistics_cache_ms > 3_600_000 {
            return bad(
                "database.statistics_cache_ms",
                "must be at most 3600000 (an hour)".into(),
            );
        }
        if !(1..=256).contains(&self.database.pool_size) {
            return bad("database.pool_size", "must be between 1 and 256".into());
        }
        match self.auth.algorithm.as_str() {
            "HS256" => {
                if self.auth.secret.len() < 16 {
                    return bad("auth.secret", "must be at least 16 bytes for HS256".into());
                }
            }
            "RS256" | "EdDSA" => {
                if self.auth.public_key_file.is_empty() {
                    return bad(
                        "auth.public_key_file",
                        format!("{} needs a public key (PEM)", self.auth.algorithm),
                    );
                }
            }
            other => {
                return bad(
                    "auth.algorithm",
                    format!("`{other}` is not one of HS256, RS256, EdDSA"),
                );
            }
        }
        if self.auth.issuer.is_empty() {
            return bad("auth.issuer", "must not be empty".into());
        }
        if self.auth.audience.is_empty() {
            return bad("auth.audience", "must not be empty".into());
        }
        if let Err(e) = crate::seal::Sealer::from_base64(&self.security.reporter_key) {
            return bad("security.reporter_key", e);
        }
        let from_addr = self
            .mail
            .from
            .rsplit_once('<')
            .map(|(_, a)| a.trim_end_matches('>').to_string())
            .unwrap_or_else(|| self.mail.from.clone());
        if let Err(e) = EmailAddress::parse(&from_addr) {
            return bad("mail.from", e);
        }
        let smtp = &self.mail.smtp_url;
        if !smtp.is_empty() && !smtp.starts_with("smtp://") && !smtp.starts_with("smtps://") {
            return bad(
                "mail.smtp_url",
                "must start with smtp:// or smtps://".into(),
            );
        }
        if !(10..=600_000).contains(&self.mail.poll_interval_ms) {
            return bad(
                "mail.poll_interval_ms",
                "must be between 10 and 600000".into(),
            );
        }
        if !(1..=1000).contains(&self.mail.batch_size) {
            return bad("mail.batch_size", "must be between 1 and 1000".into());
        }
        if !(100..=86_400_000).contains(&self.mail.lease_ms) {
            return bad("mail.lease_ms", "must be between 100 and 86400000".into());
        }
        if self.mail.retry_base_ms == 0 || self.mail.retry_base_ms > self.mail.retry_max_ms {
            return bad(
                "mail.retry_base_ms",
                "must be positive and at most mail.retry_max_ms".into(),
            );
        }
        for origin in self.server.cors_origins() {
            let ok = origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https")
                    && !rest.is_empty()
                    && !rest.contains(['/', ' ', '*', '?', '#'])
            });
            if !ok {
                return bad(
                    "server.cors_origins",
                    format!("`{origin}` is not an origin like https://cases.example.cn"),
                );
            }
        }
        if !(1..=100).contains(&self.mail.max_attempts) {
            return bad("mail.max_attempts", "must be between 1 and 100".into());
        }
        if !(1..=64).contains(&self.mail.concurrency) {
            return bad("mail.concurrency", "must be between 1 and 64".into());
        }
        if !(100..=600_000).contains(&self.mail.send_timeout_ms) {
            return bad(
                "mail.send_timeout_ms",
                "must be between 100 and 600000".into(),
            );
        }
        if let Err(e) = self.mail.from.parse::<lettre::message::Mailbox>() {
            return bad("mail.from", e.to_string());
        }
        if !(10..=3_600_000).contains(&self.timers.interval_ms) {
            return bad(
                "timers.interval_ms",
                "must be between 10 and 3600000".into(),
            );
        }
        if !(0..=60).contains(&self.timers.reminder_days) {
            return bad(
                "timers.reminder_days",
                "must be between 0 (no reminders) and 60".into(),
            );
        }
        if !(100..=86_400_000).contains(&self.timers.lease_ms) {
            return bad("timers.lease_ms", "must be between 100 and 86400000".into());
        }
        if !(0..=3650).contains(&self.workflows.appeal_window_days) {
            return bad(
                "workflows.appeal_window_days",
                "must be between 0 and 3650".into(),
            );
        }
        if !(1..=(1u64 << 40)).contains(&self.attachments.max_file_bytes) {
            return bad(
                "attachments.max_file_bytes",
                "must be between 1 and 2^40".into(),
            );
        }
        if self.attachments.max_case_bytes < self.attachments.max_file_bytes {
            return bad(
                "attachments.max_case_bytes",
                "must be at least attachments.max_file_bytes".into(),
            );
        }
        let types = self.attachments.media_types();
        if types.is_empty() {
            return bad(
                "attachments.media_types",
                "must name at least one media type".into(),
            );
        }
        if let Some(t) = types.iter().find(|t| {
            let mut parts = t.splitn(2, '/');
            let (a, b) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            a.is_empty() || b.is_empty() || t.contains(['*', ';', ' '])
        }) {
            return bad(
                "attachments.media_types",
                format!("`{t}` is not a media type like application/pdf"),
            );
        }
        if !(1..=1440).contains(&self.console.idle_minutes) {
            return bad("console.idle_minutes", "must be between 1 and 1440".into());
        }
        if !(1..=720).contains(&self.console.absolute_hours) {
            return bad("console.absolute_hours", "must be between 1 and 720".into());
        }
        if !(1..=1440).contains(&self.console.login_link_minutes) {
            return bad(
                "console.login_link_minutes",
                "must be between 1 and 1440".into(),
            );
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return bad(
                "log.format",
                format!("`{}` is not text or json", self.log.format),
            );
        }
        Ok(())
    }

    /// The console's session store with the configured timeouts.
    pub fn sessions(
        &self,
        db: crate::db::Db,
        clock: crate::clock::Clock,
    ) -> crate::auth::session::Sessions {
        crate::auth::session::Sessions {
            db,
            clock,
            idle: chrono::Duration::minutes(self.console.idle_minutes),
            absolute: chrono::Duration::hours(self.console.absolute_hours),
            link_ttl: chrono::Duration::minutes(self.console.login_link_minutes),
        }
    }

    pub fn listen_addr(&self) -> SocketAddr {
        self.server
            .listen
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)))
    }

    pub fn db_url(&self) -> Result<DbUrl, SettingsError> {
        DbUrl::parse(&self.database.url)
            .map_err(|e| SettingsError::new("database.url", e.to_string()))
    }

    pub fn workflows_dir(&self) -> PathBuf {
        Path::new(&self.workflows.dir).to_path_buf()
    }

    /// True while the development reporter key of `config/default.toml` is in use.
    pub fn uses_development_reporter_key(&self) -> bool {
        DEFAULT_TOML.contains(&format!(
            "reporter_key = \"{}\"",
            self.security.reporter_key
        ))
    }

    /// True while the development secret of `config/default.toml` is in use.
    pub fn uses_development_secret(&self) -> bool {
        self.auth.algorithm == "HS256"
            && DEFAULT_TOML.contains(&format!("secret = \"{}\"", self.auth.secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load_from(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_load_and_env_overrides() {
        let s = load(&[]).unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:8080");
        assert!(s.uses_development_secret());
        let s = load(&[
            ("RONGCUO_LISTEN", "127.0.0.1:9999"),
            ("RONGCUO_TIMER_INTERVAL_MS", "250"),
        ])
        .unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:9999");
        assert_eq!(s.timers.interval_ms, 250);
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = load(&[("RONGCUO_DATABASE_URL", "mysql://x@y/z")]).unwrap_err();
        assert_eq!(e.key, "database.url");
        assert!(e.to_string().contains("RONGCUO_DATABASE_URL"), "{e}");
        let e = load(&[("RONGCUO_TIMER_INTERVAL_MS", "soon")]).unwrap_err();
        assert_eq!(e.key, "timers.interval_ms");
        let e = load(&[("RONGCUO_LISTEN", "everywhere")]).unwrap_err();
        assert_eq!(e.key, "server.listen");
        let e = load(&[("RONGCUO_JWT_ALGORITHM", "none")]).unwrap_err();
        assert_eq!(e.key, "auth.algorithm");
        let e = load(&[("RONGCUO_REPORTER_KEY", "c2hvcnQ=")]).unwrap_err();
        assert_eq!(e.key, "security.reporter_key");
        let e = load(&[("RONGCUO_JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(e.key, "auth.secret");
        assert!(
            !e.to_string().contains("short"),
            "the secret is not echoed: {e}"
        );
    }

    #[test]
    fn config_file_layers_between_defaults_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[database]\npool_size = 3\n[log]\nformat = \"json\"\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let s = load(&[("RONGCUO_CONFIG", p)]).unwrap();
        assert_eq!(s.database.pool_size, 3);
        assert_eq!(s.log.format, "json");
        let s = load(&[("RONGCUO_CONFIG", p), ("RONGCUO_LOG_FORMAT", "text")]).unwrap();
        assert_eq!(s.log.format, "text");
        std::fs::write(&path, "[database]\npool_size = \"many\"\n").unwrap();
        let e = load(&[("RONGCUO_CONFIG", p)]).unwrap_err();
        assert_eq!(e.key, "database.pool_size");
        std::fs::write(&path, "[databse]\nurl = \"x\"\n").unwrap();
        assert!(load(&[("RONGCUO_CONFIG", p)]).is_err());
    }
}
