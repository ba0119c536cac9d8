//! Statistics computed by the database: counts grouped in SQL, stage durations' median and
//! 90th percentile by the database's own exact methods, no case row loaded.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};

use super::cases::Visibility;
use super::like_escape;
use crate::db::DbConnection;

/// Which cases statistics cover: those of `workflow` about a cadre of `org` or below,
/// created in [from, to), that `viewer` (staff of that subtree) may see.
pub struct Scope<'a> {
    pub workflow: &'a str,
    pub org: &'a str,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub viewer: &'a Visibility,
}

/// Cases with the same state, outcome, overdue flag and talk state.
#[derive(Clone, Debug, PartialEq, Eq, QueryableByName)]
pub struct Group {
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub outcome: Option<String>,
    #[diesel(sql_type = Bool)]
    pub overdue: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub talk_state: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub cases: i64,
}

/// Who counts: a unit admin alone sees disclosed cases only; staff never count hidden cases
/// about themselves (the viewer's id is always bound, as `$6`).
fn hidden(scope: &Scope<'_>) -> &'static str {
    if scope.viewer.org_subtrees.is_empty() {
        "(c.disclosed AND $6 IS NOT NULL)"
    } else {
        "(c.disclosed OR c.subject_id <> $6)"
    }
}

/// What a statistics query reads: the cases themselves, or their stage spans (one row per
/// transition out of a state, with its case's scope columns: migration 14).
#[derive(Clone, Copy)]
enum Rows {
    Cases,
    Spans,
}

/// The scope's rows (`c`: cases or their spans) on each backend, both from one range of
/// the subtree's index (`[org, org0)`, then the org itself or below it): PostgreSQL with the
/// pattern operators of its index, which also carries every column the query needs (an
/// index-only scan); SQLite from the table of spans keyed by the scope, or the cases' index
/// it is told to use (planning without the values, it would walk the period's cases of every
/// org instead).
fn scoped(conn: &DbConnection, scope: &Scope<'_>, rows: Rows, select: &str, rest: &str) -> String {
    let (table, created) = match (conn, rows) {
        (DbConnection::Pg(_), Rows::Cases) => ("cases c", "c.created_at"),
        (DbConnection::Sqlite(_), Rows::Cases) => (
            "cases c INDEXED BY cases_workflow_org_created",
            "c.created_at",
        ),
        (_, Rows::Spans) => ("stage_spans c", "c.case_created_at"),
    };
    match conn {
        DbConnection::Pg(_) => format!(
            "SELECT {select} FROM {table}
             WHERE c.workflow = $1 AND c.subject_org ~>=~ $2 AND c.subject_org ~<~ $7
               AND (c.subject_org = $2 OR c.subject_org LIKE $3 ESCAPE '\\')
               AND {created} >= $4 AND {created} < $5 AND {} {rest}",
            hidden(scope)
        ),
        DbConnection::Sqlite(_) => format!(
            "SELECT {select} FROM {table}
             WHERE c.workflow = ?1 AND c.subject_org >= ?2 AND c.subject_org < ?3
               AND (c.subject_org = ?2 OR c.subject_org >= ?7)
               AND {created} >= ?4 AND {created} < ?5 AND {} {rest}",
            hidden(scope).replace("$6", "?6")
        ),
    }
}

/// Runs `sql` (from [`scoped`]) with the scope's binds.
fn load<T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static>(
    conn: &mut DbConnection,
    scope: &Scope<'_>,
    sql: String,
) -> QueryResult<Vec<T>> {
    let me = scope.viewer.person_id.as_str();
    match conn {
        DbConnection::Pg(c) => diesel::sql_query(sql)
            .bind::<Text, _>(scope.workflow)
            .bind::<Text, _>(scope.org)
            .bind::<Text, _>(format!("{}/%", like_escape(scope.org)))
            .bind::<Timestamp, _>(scope.from)
            .bind::<Timestamp, _>(scope.to)
            .bind::<Text, _>(me)
            .bind::<Text, _>(format!("{}0", scope.org))
            .load(c),
        DbConnection::Sqlite(c) => diesel::sql_query(sql)
            .bind::<Text, _>(scope.workflow)
            .bind::<Text, _>(scope.org)
            .bind::<Text, _>(format!("{}0", scope.org))
            .bind::<Timestamp, _>(scope.from)
            .bind::<Timestamp, _>(scope.to)
            .bind::<Text, _>(me)
            .bind::<Text, _>(format!("{}/", scope.org))
            .load(c),
    }
}

/// The cases of `scope`, counted by state, outcome, overdue flag and talk state.
pub fn groups(conn: &mut DbConnection, scope: &Scope<'_>) -> QueryResult<Vec<Group>> {
    let sql = scoped(
        conn,
        scope,
        Rows::Cases,
        "c.state AS state, c.outcome AS outcome, c.overdue AS overdue, \
         c.talk_state AS talk_state, count(*) AS cases",
        "GROUP BY c.state, c.outcome, c.overdue, c.talk_state",
    );
    load(conn, scope, sql)
}

/// How long the cases of a scope stayed in one state (each transition's `stage_seconds`).
#[derive(Clone, Debug, PartialEq, Eq, QueryableByName)]
pub struct Stage {
    #[diesel(sql_type = Text)]
    pub stage: String,
    #[diesel(sql_type = BigInt)]
    pub spans: i64,
    /// The nearest-rank median and 90th percentile, in whole seconds.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub median: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub p90: Option<i64>,
}

/// Time spent in each state by the cases of `scope`: the count of spans, their median and
/// 90th percentile by nearest rank (the value at rank ⌈p·n⌉, as the service always
/// reported): PostgreSQL's `percentile_disc`, on SQLite the same ranks picked with
/// window functions. Both exact, both over the scope's range of `stage_spans` alone.
pub fn stages(conn: &mut DbConnection, scope: &Scope<'_>) -> QueryResult<Vec<Stage>> {
    let sql = match conn {
        DbConnection::Pg(_) => scoped(
            conn,
            scope,
            Rows::Spans,
            "c.stage AS stage, count(*) AS spans,
             percentile_disc(0.5) WITHIN GROUP (ORDER BY c.seconds) AS median,
             percentile_disc(0.9) WITHIN GROUP (ORDER BY c.seconds) AS p90",
            "GROUP BY c.stage ORDER BY c.stage",
        ),
        // ⌈p·n⌉ in integers, the rank picked with window functions.
        DbConnection::Sqlite(_) => format!(
            "WITH spans AS ({}),
             ranked AS (
                SELECT stage, secs,
                       row_number() OVER (PARTITION BY stage ORDER BY secs) AS rank,
                       count(*) OVER (PARTITION BY stage) AS n
                FROM spans)
             SELECT stage, n AS spans,
                    max(CASE WHEN rank = (n * 5 + 9) / 10 THEN secs END) AS median,
                    max(CASE WHEN rank = (n * 9 + 9) / 10 THEN secs END) AS p90
             FROM ranked GROUP BY stage, n ORDER BY stage",
            scoped(
                conn,
                scope,
                Rows::Spans,
                "c.stage AS stage, c.seconds AS secs",
                "",
            )
        ),
    };
    load(conn, scope, sql)
}
