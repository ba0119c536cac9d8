use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::TimerRow;
use crate::db::schema::timers;
use crate::db::{DbConnection, native};

pub fn insert(conn: &mut DbConnection, row: &TimerRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(timers::table).values(row).execute(c))?;
    Ok(())
}

/// A pending timer the case no longer needs (its deadline moved or was met).
pub fn cancel(conn: &mut DbConnection, id: &str, at: NaiveDateTime, why: &str) -> QueryResult<()> {
    use super::fixed::{Bind, Fixed};
    Fixed {
        sql: &[
            "UPDATE timers SET state = 'cancelled', fired_at = ",
            ", outcome = ",
            " WHERE id = ",
            " AND state = 'pending'",
        ],
        binds: vec![Bind::Timestamp(at), Bind::Text(why), Bind::Text(id)],
    }
    .execute_on(conn)?;
    Ok(())
}

/// Claims due timers, oldest due first: pending ones, and firing ones whose lease ran out
/// (the process died while firing). `SKIP LOCKED` on PostgreSQL keeps replicas apart.
///
/// The states are literals, not binds: only then can either planner tell that the query
/// asks for live timers alone and search the partial index `timers_live` (SQLite's readers
/// and PostgreSQL's generic plans do not look at bound values).
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<TimerRow>> {
    use diesel::dsl::sql;
    use diesel::sql_types::Bool;
    let due = timers::table
        .filter(
            sql::<Bool>("state = 'pending'")
                .and(timers::due_at.le(now))
                .or(sql::<Bool>("state = 'firing'").and(timers::lease_until.le(now))),
        )
        .order((timers::due_at.asc(), timers::id.asc()))
        .limit(limit);
    let mut rows: Vec<TimerRow> = match conn {
        DbConnection::Pg(pg) => due.for_update().skip_locked().load(pg)?,
        DbConnection::Sqlite(c) => due.load(c)?,
    };
    if rows.is_empty() {
        return Ok(rows);
    }
    // One by one by key on SQLite, which no statistics can turn into a scan (`id IN (…)`
    // can be, after an `ANALYZE` of a nearly empty table); one statement on PostgreSQL.
    let claim = (
        timers::state.eq("firing"),
        timers::lease_until.eq(Some(lease_until)),
    );
    match conn {
        DbConnection::Pg(pg) => {
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            diesel::update(timers::table.filter(timers::id.eq_any(ids)))
                .set(claim)
                .execute(pg)?;
        }
        DbConnection::Sqlite(c) => {
            for row in &rows {
                diesel::update(timers::table.find(&row.id))
                    .set(claim)
                    .execute(c)?;
            }
        }
    }
    for row in &mut rows {
        row.state = "firing".into();
        row.lease_until = Some(lease_until);
    }
    Ok(rows)
}

/// Ends a firing timer: `fired` or `dropped`, with what happened.
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    state: &str,
    outcome: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        timers::table
            .filter(timers::id.eq(id))
            .filter(timers::state.eq("firing")),
    )
    .set((
        timers::state.eq(state),
        timers::outcome.eq(Some(outcome)),
        timers::fired_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn list_for_case(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<TimerRow>> {
    let query = timers::table
        .filter(timers::case_id.eq(case_id))
        .order((timers::due_at.asc(), timers::id.asc()));
    native!(conn, c => query.load(c))
}
