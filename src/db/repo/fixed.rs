//! Statements whose text never varies, written out, so that diesel prepares each once per
//! connection. Diesel never caches its own `UPDATE`s (the text of an `AsChangeset` update
//! can vary with its values), so a transition's case update was parsed and planned again
//! at every call: about a quarter of its cost on SQLite's writer thread.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, HasSqlType, Nullable, Text, Timestamp};

use crate::db::{DbConnection, native};

/// One bound value.
pub enum Bind<'a> {
    Text(&'a str),
    NullableText(Option<&'a str>),
    BigInt(i64),
    Bool(bool),
    Timestamp(NaiveDateTime),
}

/// SQL text in pieces, a value bound between each two: `sql[0] binds[0] sql[1] …`.
pub struct Fixed<'a> {
    pub sql: &'static [&'static str],
    pub binds: Vec<Bind<'a>>,
}

impl QueryId for Fixed<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB> QueryFragment<DB> for Fixed<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Bool> + HasSqlType<Timestamp>,
    str: diesel::serialize::ToSql<Text, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    bool: diesel::serialize::ToSql<Bool, DB>,
    NaiveDateTime: diesel::serialize::ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        debug_assert_eq!(self.sql.len(), self.binds.len() + 1);
        for (i, part) in self.sql.iter().enumerate() {
            out.push_sql(part);
            match self.binds.get(i) {
                Some(Bind::Text(v)) => out.push_bind_param::<Text, str>(v)?,
                Some(Bind::NullableText(v)) => {
                    out.push_bind_param::<Nullable<Text>, Option<&str>>(v)?
                }
                Some(Bind::BigInt(v)) => out.push_bind_param::<BigInt, i64>(v)?,
                Some(Bind::Bool(v)) => out.push_bind_param::<Bool, bool>(v)?,
                Some(Bind::Timestamp(v)) => out.push_bind_param::<Timestamp, NaiveDateTime>(v)?,
                None => {}
            }
        }
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for Fixed<'_> {}
impl RunQueryDsl<PgConnection> for Fixed<'_> {}

impl Fixed<'_> {
    /// Runs the statement; the number of rows it changed.
    pub fn execute_on(self, conn: &mut DbConnection) -> QueryResult<usize> {
        native!(conn, c => self.execute(c))
    }
}
