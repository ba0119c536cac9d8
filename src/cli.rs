//! The command line: serve (default), migrate, token, audit verify, workflows markdown.

use clap::{Parser, Subcommand};

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
    },
    /// Audit-chain tools.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Print the OpenAPI 3.1 document the service serves at `/openapi.json`.
    Openapi,
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
