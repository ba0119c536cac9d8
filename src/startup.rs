//! Wiring: database (migrated), workflows, keys, the HTTP server on its listener.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::{Context, anyhow};
use tracing_actix_web::TracingLogger;

use crate::auth::Keys;
use crate::auth::caller::Authenticator;
use crate::clock::Clock;
use crate::db::{Db, DbError, migrations};
use crate::domain::registry::Registry;
use crate::domain::workflow::Workflow;
use crate::engine::Engine;
use crate::http::{AppState, problem, routes};
use crate::notify::Notifier;
use crate::notify::mailer::{Mailer, from_mailbox};
use crate::notify::worker::{Worker, WorkerConfig};
use crate::seal::Sealer;
use crate::settings::Settings;
use crate::timers::Scheduler;
use tokio::sync::watch;

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    stopper: Stopper,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Stops a running application: the HTTP server finishes in-flight requests, then the
/// mail worker and the timer scheduler finish what they hold.
#[derive(Clone)]
pub struct Stopper {
    server: actix_web::dev::ServerHandle,
    shutdown: Arc<watch::Sender<bool>>,
}

impl Stopper {
    pub async fn stop(&self) {
        self.server.stop(true).await;
        let _ = self.shutdown.send(true);
    }
}

/// Connects and migrates (blocking work, off the async threads).
pub async fn connect_and_migrate(settings: &Settings) -> anyhow::Result<Db> {
    let url = settings.db_url()?;
    let pool_size = settings.database.pool_size;
    let timeout = std::time::Duration::from_millis(settings.database.connect_timeout_ms);
    tokio::task::spawn_blocking(move || -> Result<Db, DbError> {
        let db = Db::connect_with_timeout(&url, pool_size, timeout)?;
        let mut conn = db.writer_connection()?;
        let applied = migrations::run_pending(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(?applied, "migrations applied");
        }
        Ok(db)
    })
    .await
    .context("database start-up task")?
    .context("configuration key `database.url`")
}

/// CORS for the configured browser origins only (none configured: the middleware is off and
/// browsers get no cross-origin access).
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::IF_MATCH,
            actix_web::http::header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            actix_web::http::header::ETAG,
            actix_web::http::header::LOCATION,
        ])
        .max_age(600);
    for o in origins {
        cors = cors.allowed_origin(o);
    }
    cors
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Clock::default()).await
    }

    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Application> {
        Application::build_with(settings, clock, Vec::new()).await
    }

    /// The service with `workflows` registered beside the built-in ones (their rules in
    /// `<workflows.dir>/<name>.toml` like theirs).
    pub async fn build_with(
        settings: Settings,
        clock: Clock,
        workflows: Vec<Arc<dyn Workflow>>,
    ) -> anyhow::Result<Application> {
        let sealer = Arc::new(
            Sealer::from_base64(&settings.security.reporter_key)
                .map_err(|e| anyhow!("configuration key `security.reporter_key`: {e}"))?,
        );
        let mut registry = Registry::load(&settings.workflows, sealer.clone())
            .map_err(|e| anyhow!("configuration key `workflows.dir`: {e}"))?;
        for wf in workflows {
            registry = registry.with(wf).map_err(|e| anyhow!(e))?;
        }
        let docs = Arc::new(crate::http::docs::ApiDocs::new(
            &registry,
            &settings.attachments.media_types(),
        ));
        let notifier = Notifier::load(
            &settings.workflows_dir(),
            &registry,
            &settings.server.public_url,
        )
        .map_err(|e| anyhow!("configuration key `workflows.dir`: {e}"))?;
        let keys = Arc::new(Keys::from_settings(&settings.auth).map_err(|e| anyhow!(e))?);
        let mailer = Mailer::from_settings(&settings.mail).map_err(|e| anyhow!(e))?;
        let from = from_mailbox(&settings.mail.from).map_err(|e| anyhow!(e))?;
        let db = connect_and_migrate(&settings).await?;
        let listener = TcpListener::bind(settings.listen_addr()).with_context(|| {
            format!(
                "configuration key `server.listen`: cannot listen on {}",
                settings.server.listen
            )
        })?;
        let port = listener.local_addr()?.port();
        let engine = Engine {
            db: db.clone(),
            registry,
            clock,
            public_url: settings.server.public_url.clone(),
            sealer,
            notifier: Arc::new(notifier),
            reminder_days: settings.timers.reminder_days,
            answer: crate::http::cases::view::answer,
            files: crate::engine::FileLimits {
                max_file: settings.attachments.max_file_bytes,
                max_case: settings.attachments.max_case_bytes,
                media_types: settings.attachments.media_types(),
            },
        };
        let (shutdown, stop) = watch::channel(false);
        let worker = settings.mail.deliver.then(|| Worker {
            db: db.clone(),
            mailer: Arc::new(mailer),
            from,
            clock: engine.clock.clone(),
            config: WorkerConfig::from_settings(&settings.mail),
        });
        let statistics = Arc::new(crate::http::statistics::answers(&settings, &engine.clock));
        let console = Arc::new(crate::http::console::Console::new(
            settings.sessions(db.clone(), engine.clock.clone()),
            &settings.server.public_url,
            docs.json(),
        ));
        let state = AppState {
            engine,
            auth: Authenticator::new(keys, db)
                .with_rate_limit(settings.server.rate_limit_per_minute),
            settings: Arc::new(settings.clone()),
            docs,
            statistics,
            console,
        };
        let data = web::Data::new(state.clone());
        let origins = settings.server.cors_origins();
        let registry = state.engine.registry.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::Condition::new(
                    !origins.is_empty(),
                    cors(&origins),
                ))
                .wrap(actix_web::middleware::from_fn(
                    crate::http::middleware::limit_headers,
                ))
                .wrap(actix_web::middleware::from_fn(
                    crate::http::middleware::track,
                ))
                .wrap(TracingLogger::<crate::http::span::RequestSpan>::new())
                .app_data(data.clone())
                .configure(|cfg| routes::configure(cfg, &registry))
                .configure(crate::http::console::configure)
                .default_service(web::to(problem::not_found))
        })
        .listen(listener)?
        .shutdown_timeout(30);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let scheduler = settings.timers.enabled.then(|| Scheduler {
            engine: state.engine.clone(),
            interval: std::time::Duration::from_millis(settings.timers.interval_ms),
            lease: chrono::Duration::milliseconds(settings.timers.lease_ms as i64),
            batch: 100,
        });
        let mut tasks = Vec::new();
        if let Some(w) = worker {
            tasks.push(tokio::spawn(w.run(stop.clone())));
        }
        if let Some(s) = scheduler {
            tasks.push(tokio::spawn(s.run(stop)));
        }
        let server = server.run();
        let stopper = Stopper {
            server: server.handle(),
            shutdown: Arc::new(shutdown),
        };
        Ok(Application {
            port,
            server,
            state,
            stopper,
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the server stops (SIGINT/SIGTERM: in-flight requests finish), then lets
    /// the mail worker finish its batch.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        let _ = self.stopper.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        result
    }

    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }
}
