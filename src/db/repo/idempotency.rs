use diesel::prelude::*;

use crate::db::models::IdempotencyRow;
use crate::db::schema::idempotency_keys;
use crate::db::{DbConnection, native};

pub fn find(
    conn: &mut DbConnection,
    caller_id: &str,
    key: &str,
) -> QueryResult<Option<IdempotencyRow>> {
    native!(conn, c => idempotency_keys::table
        .find((caller_id, key))
        .first(c)
        .optional())
}

pub fn insert(conn: &mut DbConnection, row: &IdempotencyRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(idempotency_keys::table).values(row).execute(c))?;
    Ok(())
}
