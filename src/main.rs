use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use rongcuo::auth::{Claims, Keys};
use rongcuo::cli::{AuditAction, Cli, Command, WorkflowsAction};
use rongcuo::settings::Settings;
use rongcuo::startup::{Application, connect_and_migrate};
use rongcuo::{audit, domain, telemetry};

/// Transparent huge pages off for this process, first thing: mimalloc asks for them on its
/// arenas (`MADV_HUGEPAGE`), and each touched 2 MiB became resident whole; with them the
/// service's anonymous memory under sixteen clients was twice what it used (BENCHMARKS.md).
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer; it sets a flag of this process only.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rongcuo: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log.format, &settings.log.filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rongcuo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rongcuo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
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
            let mailer = rongcuo::notify::mailer::Mailer::from_settings(&settings.mail)
                .map_err(anyhow::Error::msg)?;
            let worker = rongcuo::notify::worker::Worker {
                db,
                mailer: std::sync::Arc::new(mailer),
                from: rongcuo::notify::mailer::from_mailbox(&settings.mail.from)
                    .map_err(anyhow::Error::msg)?,
                clock: rongcuo::clock::Clock::default(),
                config: rongcuo::notify::worker::WorkerConfig::from_settings(&settings.mail),
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
            println!("{}", keys.mint(&claims).map_err(anyhow::Error::msg)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            let db = connect_and_migrate(&settings).await?;
            let report = tokio::task::spawn_blocking(move || audit::verify_all(&db)).await??;
            for b in &report.breaks {
                println!("BROKEN {b}");
            }
            println!(
                "audit verify: {} cases, {} rows, {} broken chains",
                report.cases,
                report.rows,
                report.breaks.len()
            );
            Ok(if report.breaks.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Openapi => {
            let registry = registry(&settings)?;
            println!("{}", rongcuo::http::docs::ApiDocs::new(&registry).json());
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
fn registry(settings: &rongcuo::settings::Settings) -> anyhow::Result<domain::registry::Registry> {
    let sealer = rongcuo::seal::Sealer::from_base64(&settings.security.reporter_key)
        .map_err(anyhow::Error::msg)?;
    let describe = rongcuo::settings::Workflows {
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
