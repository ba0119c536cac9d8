use diesel::prelude::*;

use crate::db::models::TransitionRow;
use crate::db::schema::transitions;
use crate::db::{DbConnection, native};

pub fn insert(conn: &mut DbConnection, row: &TransitionRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(transitions::table).values(row).execute(c))?;
    Ok(())
}

/// A case's timeline, oldest first.
pub fn list_for_case(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<TransitionRow>> {
    let query = transitions::table
        .filter(transitions::case_id.eq(case_id))
        .order(transitions::seq.asc());
    native!(conn, c => query.load(c))
}

/// One row of a case's chain.
pub fn one(conn: &mut DbConnection, case_id: &str, seq: i64) -> QueryResult<Option<TransitionRow>> {
    transitions::table
        .filter(transitions::case_id.eq(case_id))
        .filter(transitions::seq.eq(seq))
        .first(conn)
        .optional()
}
