//! Embedded migrations, one folder per backend, run at start.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, DbError};

pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any number for the advisory lock that keeps replicas from migrating at once.
const PG_MIGRATION_LOCK: i64 = 0x5243_4d49_4752;

fn err(e: impl std::fmt::Display) -> DbError {
    DbError::Migration(e.to_string())
}

/// Applies pending migrations; returns the versions applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    match conn {
        DbConnection::Sqlite(c) => Ok(c
            .run_pending_migrations(SQLITE)
            .map_err(err)?
            .iter()
            .map(|v| v.to_string())
            .collect()),
        DbConnection::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
            let result: Result<Vec<String>, DbError> = c
                .run_pending_migrations(POSTGRES)
                .map(|v| v.iter().map(|v| v.to_string()).collect())
                .map_err(err);
            c.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
            result
        }
    }
}

/// Reverts every migration (tests of down migrations).
pub fn revert_all(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map_err(err)?,
        DbConnection::Pg(c) => c.revert_all_migrations(POSTGRES).map_err(err)?,
    };
    Ok(reverted.iter().map(|v| v.to_string()).collect())
}

/// Reverts the newest migration (tests of a migration's data changes).
pub fn revert_last(conn: &mut DbConnection) -> Result<String, DbError> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE).map_err(err)?,
        DbConnection::Pg(c) => c.revert_last_migration(POSTGRES).map_err(err)?,
    };
    Ok(reverted.to_string())
}

/// How many migrations are not yet applied (for `/readyz`).
pub fn pending_count(conn: &mut DbConnection) -> Result<usize, DbError> {
    Ok(match conn {
        DbConnection::Sqlite(c) => c.pending_migrations(SQLITE).map_err(err)?.len(),
        DbConnection::Pg(c) => c.pending_migrations(POSTGRES).map_err(err)?.len(),
    })
}
