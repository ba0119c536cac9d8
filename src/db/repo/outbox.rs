use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::models::OutboxRow;
use crate::db::schema::outbox;

/// Inserts the rows one by one (batch inserts do not compile through the backend enum;
/// inside the caller's transaction this costs one round trip per recipient).
pub fn insert_all(conn: &mut DbConnection, rows: &[OutboxRow]) -> QueryResult<()> {
    for row in rows {
        diesel::insert_into(outbox::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn list_for_case(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::case_id.eq(case_id))
        .order((outbox::seq.asc(), outbox::recipient_email.asc()))
        .load(conn)
}
