//! The command line: serve (default), migrate, worker, token, audit verify, openapi,
//! workflows markdown; what each parses and what it does (`main.rs` sets the process up
//! and calls [`run`]).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::auth::{Claims, Keys};
use crate::settings::Settings;
use crate::startup::{Application, connect_and_migrate};
use crate::{audit, domain};

#[derive(Debug, Parser)]
#[command(
    name = "rongcuo",
    version,
    about = "容错免责 / 澄清正名 case management"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default): migrate, then listen.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Deliver outbox mail only (no HTTP), until SIGINT/SIGTERM.
    Worker,
    /// Print a JWT signed with the configured key (development and tests).
    Token {
        #[arg(long)]
        sub: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// Repeat for several roles.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        org: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
        /// Print a one-time link that opens a web console session as this person instead
        /// (valid `console.login_link_minutes`; needs the database).
        #[arg(long)]
        login_link: bool,
    },
    /// Audit-chain tools.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Print the OpenAPI 3.1 document the service serves at `/openapi.json`.
    Openapi,
    /// Check a case file (`GET …/{id}/export`) offline: every entry against the manifest,
    /// the archive's every byte, the audit chain; exit 1 naming what changed.
    VerifyExport { file: std::path::PathBuf },
    /// Workflow documents generated from the code's tables.
    Workflows {
        #[command(subcommand)]
        action: WorkflowsAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check every case's hash chain; exit 1 naming the first broken row of each case.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum WorkflowsAction {
    /// Print `workflows/<name>.md` as the code's table says it should be.
    Markdown { name: String },
}

/// Runs one command to its end; its exit code.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => {
            if settings.uses_development_secret() {
                tracing::warn!(
                    "auth.secret is the development default: set RONGCUO_JWT_SECRET for real use"
                );
            }
            if settings.uses_development_reporter_key() {
                tracing::warn!(
                    "security.reporter_key is the development default: set RONGCUO_REPORTER_KEY for real use"
                );
            }
            let app = Application::build(settings.clone()).await?;
            let db = settings.db_url()?.redacted();
            tracing::info!(port = app.port(), database = %db, "rongcuo listening");
            println!(
                "rongcuo listening on http://{}:{} (database {db})\n\
                 mint a development token:\n  cargo run --release -- token --sub u-zhang --name 张三 \
                 --email zhang@example.cn --role cadre --org anhui/hefei/finance",
                settings.listen_addr().ip(),
                app.port()
            );
            app.run_until_stopped().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker => {
            let db = connect_and_migrate(&settings).await?;
            let mailer = crate::notify::mailer::Mailer::from_settings(&settings.mail)
                .map_err(anyhow::Error::msg)?;
            let worker = crate::notify::worker::Worker {
                db,
                mailer: std::sync::Arc::new(mailer),
                from: crate::notify::mailer::from_mailbox(&settings.mail.from)
                    .map_err(anyhow::Error::msg)?,
                clock: crate::clock::Clock::default(),
                config: crate::notify::worker::WorkerConfig::from_settings(&settings.mail),
            };
            let (stop, stopped) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                shutdown_signal().await;
                let _ = stop.send(true);
            });
            worker.run(stopped).await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            connect_and_migrate(&settings).await?;
            println!("migrations applied ({})", settings.db_url()?.redacted());
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            sub,
            name,
            email,
            roles,
            org,
            ttl,
            login_link,
        } => {
            let keys = Keys::from_settings(&settings.auth).map_err(anyhow::Error::msg)?;
            let now = chrono::Utc::now().timestamp();
            let claims = Claims {
                sub,
                name,
                email,
                roles,
                org,
                iss: settings.auth.issuer.clone(),
                aud: settings.auth.audience.clone(),
                exp: now + ttl,
                iat: now,
                nbf: None,
            };
            claims
                .to_actor()
                .map_err(|e| anyhow::anyhow!("cannot mint this token: {e}"))?;
            if login_link {
                let db = connect_and_migrate(&settings).await?;
                let sessions = settings.sessions(db, crate::clock::Clock::default());
                let link = tokio::task::spawn_blocking(move || sessions.login_link(&claims))
                    .await?
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!(
                    "{}/console/login?link={link}",
                    settings.server.public_url.trim_end_matches('/')
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!("{}", keys.mint(&claims).map_err(anyhow::Error::msg)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            let db = connect_and_migrate(&settings).await?;
            let sealer = crate::seal::Sealer::from_base64(&settings.security.reporter_key)
                .map_err(|e| anyhow::anyhow!("configuration key `security.reporter_key`: {e}"))?;
            let store = crate::files::Store {
                db,
                sealer: std::sync::Arc::new(sealer),
            };
            let report = tokio::task::spawn_blocking(move || audit::verify_everything(&store))
                .await?
                .map_err(|e| anyhow::anyhow!("{e}: {}", e.cause.clone().unwrap_or_default()))?;
            for b in &report.breaks {
                println!("BROKEN {b}");
            }
            for b in &report.bad_files {
                println!("CHANGED {b}");
            }
            println!(
                "audit verify: {} cases, {} rows, {} broken chains; {} files, {} changed",
                report.cases,
                report.rows,
                report.breaks.len(),
                report.files,
                report.bad_files.len()
            );
            Ok(if report.breaks.is_empty() && report.bad_files.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::VerifyExport { file } => {
            let f = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            match crate::export::verify::verify(f) {
                Ok(s) => {
                    println!(
                        "verify-export: case {}: {} entries ({} files), {} chain rows ({} withheld from the exporter, linked by hash), audit head {}",
                        s.case_id, s.entries, s.files, s.rows, s.redacted, s.audit_head
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    for p in &problems {
                        println!("CHANGED {p}");
                    }
                    println!("verify-export: {} problems", problems.len());
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Openapi => {
            let registry = registry(&settings)?;
            println!(
                "{}",
                crate::http::docs::ApiDocs::new(&registry, &settings.attachments.media_types())
                    .json()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Workflows {
            action: WorkflowsAction::Markdown { name },
        } => {
            let registry = registry(&settings)?;
            let wf = registry
                .get(&name)
                .ok_or_else(|| anyhow::anyhow!("no workflow named `{name}`"))?;
            print!("{}", domain::describe::markdown(wf.def()));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The workflows as configured, for the commands that only describe them.
fn registry(settings: &crate::settings::Settings) -> anyhow::Result<domain::registry::Registry> {
    let sealer = crate::seal::Sealer::from_base64(&settings.security.reporter_key)
        .map_err(anyhow::Error::msg)?;
    let describe = crate::settings::Workflows {
        appeal_window_days: 0,
        ..settings.workflows.clone()
    };
    domain::registry::Registry::load(&describe, std::sync::Arc::new(sealer))
        .map_err(anyhow::Error::msg)
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
