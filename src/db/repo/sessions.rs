//! The web console's sessions and one-time sign-in links.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{console_sessions, login_links};

/// A session as stored.
#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = console_sessions, treat_none_as_default_value = false)]
pub struct SessionRow {
    pub id_hash: String,
    pub person_id: String,
    pub claims: String,
    pub csrf: String,
    pub created_at: NaiveDateTime,
    pub seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert_link(
    conn: &mut DbConnection,
    token_hash: &str,
    claims: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(login_links::table)
        .values((
            login_links::token_hash.eq(token_hash),
            login_links::claims.eq(claims),
            login_links::created_at.eq(now),
            login_links::expires_at.eq(expires_at),
            login_links::used_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Uses a link once: its claims, if it exists, is unused and has not expired.
pub fn consume_link(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let n = diesel::update(
        login_links::table
            .filter(login_links::token_hash.eq(token_hash))
            .filter(login_links::used_at.is_null())
            .filter(login_links::expires_at.gt(now)),
    )
    .set(login_links::used_at.eq(Some(now)))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    login_links::table
        .find(token_hash)
        .select(login_links::claims)
        .first(conn)
        .optional()
}

pub fn insert_session(conn: &mut DbConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(console_sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_session(conn: &mut DbConnection, id_hash: &str) -> QueryResult<Option<SessionRow>> {
    console_sessions::table.find(id_hash).first(conn).optional()
}

/// Marks a session used now (its idle timeout starts again).
pub fn touch(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(console_sessions::table.find(id_hash))
        .set(console_sessions::seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Ends a session (sign-out, or an administrator's revocation).
pub fn revoke(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        console_sessions::table
            .find(id_hash)
            .filter(console_sessions::revoked_at.is_null()),
    )
    .set(console_sessions::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}
