//! The REST surface of docs/API.md. Handlers are thin: parse, call the engine, shape the reply.

pub mod body;
pub mod cadres;
pub mod cases;
pub mod console;
pub mod directory;
pub mod docs;
pub mod extract;
pub mod health;
pub mod ledger;
pub mod middleware;
pub mod openapi;
pub mod outbox;
pub mod problem;
pub mod query;
pub mod routes;
pub mod span;
pub mod statistics;
pub mod swagger;
pub mod workflows;

use std::sync::Arc;

use crate::auth::caller::Authenticator;
use crate::engine::Engine;
use crate::settings::Settings;

/// Shared by every worker.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub auth: Authenticator,
    pub settings: Arc<Settings>,
    pub docs: Arc<docs::ApiDocs>,
    /// Statistics answers shared by identical requests (`database.statistics_cache_ms`).
    pub statistics: Arc<statistics::Answers>,
    /// The web console's templates and sessions.
    pub console: Arc<console::Console>,
}

impl AppState {
    /// The time budget of each query of a report (statistics, the ledger):
    /// `database.report_budget_ms`.
    pub fn report_budget(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.settings.database.report_budget_ms)
    }
}
