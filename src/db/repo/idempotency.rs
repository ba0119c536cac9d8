use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::models::IdempotencyRow;
use crate::db::schema::idempotency_keys;

pub fn find(
    conn: &mut DbConnection,
    caller_id: &str,
    key: &str,
) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table
        .find((caller_id, key))
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConnection, row: &IdempotencyRow) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}
