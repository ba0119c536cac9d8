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

/// The scope's cases (`c`), joined to `join`, on each backend, both from the subtree's
/// range of the (workflow, org, created) index (`[org, org0)`, then the org itself or
/// below it): PostgreSQL with the pattern operators of its index, which also carries every
/// column the counts need (an index-only scan); SQLite told to use it (planning without the
/// values, it would walk the period's cases of every org instead).
fn scoped(conn: &DbConnection, scope: &Scope<'_>, select: &str, join: &str, rest: &str) -> String {
    match conn {
        DbConnection::Pg(_) => format!(
            "SELECT {select} FROM cases c {join}
             WHERE c.workflow = $1 AND c.subject_org ~>=~ $2 AND c.subject_org ~<~ $7
               AND (c.subject_org = $2 OR c.subject_org LIKE $3 ESCAPE '\\')
               AND c.created_at >= $4 AND c.created_at < $5 AND {} {rest}",
            hidden(scope)
        ),
        DbConnection::Sqlite(_) => format!(
            "SELECT {select} FROM cases c INDEXED BY cases_workflow_org_created {join}
             WHERE c.workflow = ?1 AND c.subject_org >= ?2 AND c.subject_org < ?3
               AND (c.subject_org = ?2 OR c.subject_org >= ?7)
               AND c.created_at >= ?4 AND c.created_at < ?5 AND {} {rest}",
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
        "c.state AS state, c.outcome AS outcome, c.overdue AS overdue, \
         c.talk_state AS talk_state, count(*) AS cases",
        "",
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
/// window functions. Both exact.
pub fn stages(conn: &mut DbConnection, scope: &Scope<'_>) -> QueryResult<Vec<Stage>> {
    // SQLite: CROSS JOIN keeps the scope's cases the outer loop (its planner may otherwise
    // walk every transition and search the scope for each).
    let join = "CROSS JOIN transitions t ON t.case_id = c.id";
    let sql = match conn {
        // Each case's transitions from its key (`OFFSET 0` keeps PostgreSQL from joining
        // by hashing the whole transitions table): the work follows the scope, not the table.
        DbConnection::Pg(_) => scoped(
            conn,
            scope,
            "t.from_state AS stage, count(*) AS spans,
             percentile_disc(0.5) WITHIN GROUP (ORDER BY t.stage_seconds) AS median,
             percentile_disc(0.9) WITHIN GROUP (ORDER BY t.stage_seconds) AS p90",
            "CROSS JOIN LATERAL (SELECT from_state, stage_seconds FROM transitions
                 WHERE case_id = c.id AND stage_seconds IS NOT NULL OFFSET 0) t",
            "GROUP BY t.from_state ORDER BY t.from_state",
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
                "t.from_state AS stage, t.stage_seconds AS secs",
                join,
                "AND t.stage_seconds IS NOT NULL",
            )
        ),
    };
    load(conn, scope, sql)
}
