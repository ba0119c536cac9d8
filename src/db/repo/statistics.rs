//! Statistics computed by the database: counts grouped in SQL, stage durations' median and
//! 90th percentile by the database's own exact methods, no case row loaded.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::cases::{BoxedCond, Subtree, Visibility, in_subtree_cond};
use super::like_escape;
use crate::db::DbConnection;
use crate::db::schema::cases;

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
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct Group {
    pub state: String,
    pub outcome: Option<String>,
    pub overdue: bool,
    pub talk_state: Option<String>,
    pub cases: i64,
}

/// The cases of `scope`, counted by state, outcome, overdue flag and talk state.
pub fn groups(conn: &mut DbConnection, scope: &Scope<'_>) -> QueryResult<Vec<Group>> {
    let how = Subtree::indexed_on(conn);
    let visible: BoxedCond = if scope.viewer.org_subtrees.is_empty() {
        Box::new(cases::disclosed)
    } else {
        Box::new(cases::disclosed.or(cases::subject_id.ne(scope.viewer.person_id.clone())))
    };
    cases::table
        .filter(cases::workflow.eq(scope.workflow.to_string()))
        .filter(in_subtree_cond(scope.org, how))
        .filter(cases::created_at.ge(scope.from))
        .filter(cases::created_at.lt(scope.to))
        .filter(visible)
        .group_by((
            cases::state,
            cases::outcome,
            cases::overdue,
            cases::talk_state,
        ))
        .select((
            cases::state,
            cases::outcome,
            cases::overdue,
            cases::talk_state,
            count_star(),
        ))
        .load(conn)
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
    let me = scope.viewer.person_id.as_str();
    // A unit admin alone sees disclosed cases only; staff never count hidden cases about
    // themselves.
    let hidden = if scope.viewer.org_subtrees.is_empty() {
        "(c.disclosed AND $6 IS NOT NULL)"
    } else {
        "(c.disclosed OR c.subject_id <> $6)"
    };
    match conn {
        DbConnection::Pg(c) => {
            let sql = format!(
                "SELECT t.from_state AS stage, count(*) AS spans,
                        percentile_disc(0.5) WITHIN GROUP (ORDER BY t.stage_seconds) AS median,
                        percentile_disc(0.9) WITHIN GROUP (ORDER BY t.stage_seconds) AS p90
                 FROM cases c JOIN transitions t ON t.case_id = c.id
                 WHERE c.workflow = $1 AND (c.subject_org = $2 OR c.subject_org LIKE $3 ESCAPE '\\')
                   AND c.created_at >= $4 AND c.created_at < $5 AND {hidden}
                   AND t.stage_seconds IS NOT NULL
                 GROUP BY t.from_state ORDER BY t.from_state"
            );
            diesel::sql_query(sql)
                .bind::<Text, _>(scope.workflow)
                .bind::<Text, _>(scope.org)
                .bind::<Text, _>(format!("{}/%", like_escape(scope.org)))
                .bind::<Timestamp, _>(scope.from)
                .bind::<Timestamp, _>(scope.to)
                .bind::<Text, _>(me)
                .load(c)
        }
        DbConnection::Sqlite(c) => {
            // The subtree as a byte range (see `Subtree::Range`); ⌈p·n⌉ in integers.
            let hidden = hidden.replace("$6", "?7");
            let sql = format!(
                "WITH spans AS (
                    SELECT t.from_state AS stage, t.stage_seconds AS secs
                    FROM cases c JOIN transitions t ON t.case_id = c.id
                    WHERE c.workflow = ?1 AND c.subject_org >= ?2 AND c.subject_org < ?3
                      AND (c.subject_org = ?2 OR c.subject_org >= ?4)
                      AND c.created_at >= ?5 AND c.created_at < ?6 AND {hidden}
                      AND t.stage_seconds IS NOT NULL),
                 ranked AS (
                    SELECT stage, secs,
                           row_number() OVER (PARTITION BY stage ORDER BY secs) AS rank,
                           count(*) OVER (PARTITION BY stage) AS n
                    FROM spans)
                 SELECT stage, n AS spans,
                        max(CASE WHEN rank = (n * 5 + 9) / 10 THEN secs END) AS median,
                        max(CASE WHEN rank = (n * 9 + 9) / 10 THEN secs END) AS p90
                 FROM ranked GROUP BY stage, n ORDER BY stage"
            );
            diesel::sql_query(sql)
                .bind::<Text, _>(scope.workflow)
                .bind::<Text, _>(scope.org)
                .bind::<Text, _>(format!("{}0", scope.org))
                .bind::<Text, _>(format!("{}/", scope.org))
                .bind::<Timestamp, _>(scope.from)
                .bind::<Timestamp, _>(scope.to)
                .bind::<Text, _>(me)
                .load(c)
        }
    }
}
