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

/// (case id, from state, at) of every transition of the given cases, in order per case.
pub fn stage_times(
    conn: &mut DbConnection,
    case_ids: &[String],
) -> QueryResult<Vec<(String, Option<String>, chrono::NaiveDateTime)>> {
    let mut out = Vec::new();
    // Bounded IN lists keep the statement small on both backends.
    for chunk in case_ids.chunks(500) {
        out.extend(
            transitions::table
                .filter(transitions::case_id.eq_any(chunk))
                .select((
                    transitions::case_id,
                    transitions::from_state,
                    transitions::at,
                ))
                .order((transitions::case_id.asc(), transitions::seq.asc()))
                .load::<(String, Option<String>, chrono::NaiveDateTime)>(conn)?,
        );
    }
    Ok(out)
}
