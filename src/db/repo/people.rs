use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use super::like_escape;
use crate::db::models::PersonRow;
use crate::db::schema::people;
use crate::db::{DbConnection, native};

/// Inserts or replaces a person (the same SQL on SQLite and PostgreSQL).
pub fn upsert(conn: &mut DbConnection, p: &PersonRow) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO people (id, name, email, roles, org, source, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, \
         roles = excluded.roles, org = excluded.org, source = excluded.source, \
         updated_at = excluded.updated_at",
    )
    .bind::<Text, _>(&p.id)
    .bind::<Text, _>(&p.name)
    .bind::<Text, _>(&p.email)
    .bind::<Text, _>(&p.roles)
    .bind::<Text, _>(&p.org)
    .bind::<Text, _>(&p.source)
    .bind::<Timestamp, _>(p.updated_at)
    .execute(conn)?;
    Ok(())
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<PersonRow>> {
    native!(conn, c => people::table.find(id).first(c).optional())
}

/// People holding `role` whose org is one of `orgs` (the ancestors of a case's org).
pub fn with_role_in_orgs(
    conn: &mut DbConnection,
    role: &str,
    orgs: &[String],
) -> QueryResult<Vec<PersonRow>> {
    let query = people::table
        .filter(people::org.eq_any(orgs))
        .filter(
            people::roles
                .like(format!("%,{},%", like_escape(role)))
                .escape('\\'),
        )
        .order(people::id.asc());
    native!(conn, c => query.load(c))
}
