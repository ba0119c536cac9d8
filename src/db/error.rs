//! What a database call can fail with, and which failures are worth a retry (503).

use super::budget;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Url(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database task failed")]
    Task,
}

impl DbError {
    /// True when the database itself is out of reach (pool exhausted or connection lost),
    /// which the HTTP layer answers with 503 rather than 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Pool(_) | DbError::Connect(_) => true,
            DbError::Query(e) => connection_lost(e),
            _ => false,
        }
    }
}

impl DbError {
    /// True when a report's query ran past its time budget ([`budget`]).
    pub fn is_over_budget(&self) -> bool {
        matches!(self, DbError::Query(e) if budget::over_budget(e))
    }
}

/// A query that failed because the connection or the server went away (PostgreSQL
/// restarting, a network cut) or the storage is full, not because of the query: worth a
/// retry later (503).
pub fn connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _) => true,
        Error::DatabaseError(_, info) => {
            let m = info.message().to_ascii_lowercase();
            [
                "terminating connection",
                "server closed the connection",
                "no connection to the server",
                "could not receive data",
                "could not send data",
                "connection to server",
                "the database system is shutting down",
                "the database system is starting up",
                "the database system is in recovery mode",
                "ssl syscall error",
                // SQLite: the disk (or the file system) is full or failing.
                "database or disk is full",
                "disk i/o error",
                "attempt to write a readonly database",
            ]
            .iter()
            .any(|p| m.contains(p))
        }
        _ => false,
    }
}
