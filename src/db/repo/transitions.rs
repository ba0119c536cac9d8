use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::models::TransitionRow;
use crate::db::schema::transitions;

pub fn insert(conn: &mut DbConnection, row: &TransitionRow) -> QueryResult<()> {
    diesel::insert_into(transitions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The newest row of a case's chain: its seq and hash.
pub fn last_link(conn: &mut DbConnection, case_id: &str) -> QueryResult<Option<(i64, String)>> {
    transitions::table
        .filter(transitions::case_id.eq(case_id))
        .select((transitions::seq, transitions::hash))
        .order(transitions::seq.desc())
        .first(conn)
        .optional()
}

/// A case's timeline, oldest first.
pub fn list_for_case(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<TransitionRow>> {
    transitions::table
        .filter(transitions::case_id.eq(case_id))
        .order(transitions::seq.asc())
        .load(conn)
}
