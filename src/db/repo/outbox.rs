use diesel::prelude::*;

use crate::db::models::OutboxRow;
use crate::db::schema::outbox;
use crate::db::{DbConnection, native};

/// Inserts the rows one by one: one statement text whatever the number of recipients, so
/// it is prepared once per connection (a batch insert's text varies with its row count).
/// Inside the caller's transaction this costs a round trip per recipient on PostgreSQL,
/// whose transitions write their mail in one statement anyway (`repo::step`).
pub fn insert_all(conn: &mut DbConnection, rows: &[OutboxRow]) -> QueryResult<()> {
    for row in rows {
        native!(conn, c => diesel::insert_into(outbox::table).values(row).execute(c))?;
    }
    Ok(())
}

pub fn list_for_case(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<OutboxRow>> {
    let query = outbox::table
        .filter(outbox::case_id.eq(case_id))
        .order((outbox::seq.asc(), outbox::recipient_email.asc()));
    native!(conn, c => query.load(c))
}

/// Claims up to `limit` rows that are due: `sending` ones whose lease ran out (a worker died
/// between send and mark) first, then pending ones, oldest first. They become `sending`
/// until `lease_until`, and come back in the order they were created. On PostgreSQL the
/// rows are locked with `SKIP LOCKED`, so replicas never claim the same row; SQLite has one
/// writer. Run inside a write transaction.
///
/// One state at a time, each an ordered range of `outbox_due (state, next_attempt_at)` read
/// no further than `limit` rows: with both states in one `IN`, SQLite read and sorted every
/// due row for each batch. The rows come from that range whole; SQLite then updates them
/// one by one by key, which no statistics can turn into a scan (`id IN (…)` was planned as
/// a scan of the whole table after an `ANALYZE` of a nearly empty outbox: ~70 mails a
/// second from a queue of 100 000).
pub fn claim_due(
    conn: &mut DbConnection,
    now: chrono::NaiveDateTime,
    lease_until: chrono::NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let mut rows: Vec<OutboxRow> = Vec::new();
    for state in ["sending", "pending"] {
        let wanted = limit - rows.len() as i64;
        if wanted <= 0 {
            break;
        }
        let due = outbox::table
            .filter(outbox::state.eq(state))
            .filter(outbox::next_attempt_at.le(now))
            .order(outbox::next_attempt_at.asc())
            .limit(wanted);
        rows.extend(match conn {
            DbConnection::Pg(pg) => due.for_update().skip_locked().load::<OutboxRow>(pg)?,
            DbConnection::Sqlite(c) => due.load::<OutboxRow>(c)?,
        });
    }
    if rows.is_empty() {
        return Ok(rows);
    }
    let claim = (
        outbox::state.eq("sending"),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::next_attempt_at.eq(lease_until),
    );
    match conn {
        DbConnection::Pg(pg) => {
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
                .set(claim)
                .execute(pg)?;
        }
        DbConnection::Sqlite(c) => {
            for row in &rows {
                diesel::update(outbox::table.find(&row.id))
                    .set(claim)
                    .execute(c)?;
            }
        }
    }
    for row in &mut rows {
        row.state = "sending".into();
        row.attempts += 1;
        row.next_attempt_at = lease_until;
    }
    rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(rows)
}

/// Marks a row sent, only if this claim still holds it: `attempts` is the count the claim
/// set, so a row another worker re-claimed after the lease ran out is left alone.
pub fn mark_sent(
    conn: &mut DbConnection,
    id: &str,
    attempts: i32,
    at: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::state.eq("sending"))
            .filter(outbox::attempts.eq(attempts)),
    )
    .set((
        outbox::state.eq("sent"),
        outbox::sent_at.eq(Some(at)),
        outbox::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// After a failed attempt: again at `retry_at`, or `dead` for good.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    attempts: i32,
    error: &str,
    retry_at: Option<chrono::NaiveDateTime>,
) -> QueryResult<bool> {
    let target = outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::state.eq("sending"))
        .filter(outbox::attempts.eq(attempts));
    let n = match retry_at {
        Some(at) => diesel::update(target)
            .set((
                outbox::state.eq("pending"),
                outbox::next_attempt_at.eq(at),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((outbox::state.eq("dead"), outbox::last_error.eq(Some(error))))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// A dead row goes back to the queue (operations).
pub fn retry_dead(
    conn: &mut DbConnection,
    id: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::state.eq("dead")),
    )
    .set((
        outbox::state.eq("pending"),
        outbox::next_attempt_at.eq(now),
        outbox::attempts.eq(0),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<OutboxRow>> {
    outbox::table.find(id).first(conn).optional()
}

/// Rows in `state` for cases whose subject is in one of `org_subtrees` (operations).
pub fn list_by_state(
    conn: &mut DbConnection,
    state: &str,
    org_subtree: &str,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    use crate::db::schema::cases;
    let like = format!("{}/%", super::like_escape(org_subtree));
    outbox::table
        .inner_join(cases::table)
        .filter(outbox::state.eq(state))
        .filter(
            cases::subject_org
                .eq(org_subtree)
                .or(cases::subject_org.like(like).escape('\\')),
        )
        .select(outbox::all_columns)
        .order(outbox::created_at.desc())
        .limit(limit)
        .load(conn)
}

/// Mail not yet delivered (pending or being sent), the oldest such row's creation time,
/// and the dead rows: the backlog operators watch.
pub fn backlog(conn: &mut DbConnection) -> QueryResult<(i64, Option<chrono::NaiveDateTime>, i64)> {
    use diesel::dsl::{count_star, min};
    let waiting = outbox::table.filter(outbox::state.eq_any(["pending", "sending"]));
    let n: i64 = waiting.clone().select(count_star()).first(conn)?;
    let oldest: Option<chrono::NaiveDateTime> =
        waiting.select(min(outbox::created_at)).first(conn)?;
    let dead: i64 = outbox::table
        .filter(outbox::state.eq("dead"))
        .select(count_star())
        .first(conn)?;
    Ok((n, oldest, dead))
}
