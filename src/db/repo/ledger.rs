//! The ledger (台账) a page at a time: the cadres of an org subtree in (org, cadre id)
//! order, each with all their exoneration cases, keyset-paginated on the cadre. A page
//! never splits a cadre, and never holds more than its cadres' cases.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbConnection;
use crate::db::models::CaseRow;
use crate::db::schema::cases;

/// Where a page starts: after this (org, cadre id).
pub type After = (String, String);

#[derive(QueryableByName)]
struct Cadre {
    #[diesel(sql_type = Text)]
    subject_org: String,
    #[diesel(sql_type = Text)]
    subject_id: String,
}

/// Up to `cadres` cadres of `org`'s subtree after `after`, with their exoneration cases
/// (oldest first), and where the next page starts (none: this is the last).
pub fn page(
    conn: &mut DbConnection,
    org: &str,
    after: Option<&After>,
    cadres: i64,
) -> QueryResult<(Vec<CaseRow>, Option<After>)> {
    // The first page starts at the subtree itself (every cadre id is longer than ""):
    // after ("", "") PostgreSQL began its index scan at the first org of the workflow and
    // filtered its way to the subtree (~90 ms for a province sorting after thirty others).
    let (after_org, after_id) = after
        .map(|(o, i)| (o.as_str(), i.as_str()))
        .unwrap_or((org, ""));
    // The subtree as a byte range, as SQLite compares; on PostgreSQL in the "C" collation,
    // which the ledger's index is built in (migration 11).
    let sql = match conn {
        DbConnection::Pg(_) => {
            "SELECT DISTINCT subject_org COLLATE \"C\" AS subject_org,
                    subject_id COLLATE \"C\" AS subject_id
             FROM cases
             WHERE workflow = 'exoneration'
               AND subject_org COLLATE \"C\" >= $1 AND subject_org COLLATE \"C\" < $2
               AND (subject_org = $1 OR subject_org COLLATE \"C\" >= $3)
               AND (subject_org COLLATE \"C\", subject_id COLLATE \"C\") > ($4, $5)
             ORDER BY 1, 2 LIMIT $6"
        }
        DbConnection::Sqlite(_) => {
            "SELECT DISTINCT subject_org, subject_id FROM cases
             WHERE workflow = 'exoneration'
               AND subject_org >= ?1 AND subject_org < ?2
               AND (subject_org = ?1 OR subject_org >= ?3)
               AND (subject_org, subject_id) > (?4, ?5)
             ORDER BY subject_org, subject_id LIMIT ?6"
        }
    };
    let mut found: Vec<Cadre> = diesel::sql_query(sql)
        .bind::<Text, _>(org)
        .bind::<Text, _>(format!("{org}0"))
        .bind::<Text, _>(format!("{org}/"))
        .bind::<Text, _>(after_org)
        .bind::<Text, _>(after_id)
        .bind::<BigInt, _>(cadres + 1)
        .load(conn)?;
    let more = found.len() as i64 > cadres;
    found.truncate(cadres as usize);
    let next = more
        .then(|| {
            found
                .last()
                .map(|c| (c.subject_org.clone(), c.subject_id.clone()))
        })
        .flatten();
    if found.is_empty() {
        return Ok((Vec::new(), None));
    }
    // Their cases, from the cadre index; a cadre's cases in another org are not this line.
    let ids: Vec<&str> = found.iter().map(|c| c.subject_id.as_str()).collect();
    let mut rows: Vec<CaseRow> = cases::table
        .filter(cases::subject_id.eq_any(ids))
        .filter(cases::workflow.eq("exoneration"))
        .load(conn)?;
    rows.retain(|r| {
        found
            .iter()
            .any(|c| c.subject_id == r.subject_id && c.subject_org == r.subject_org)
    });
    let position = |r: &CaseRow| {
        found
            .iter()
            .position(|c| c.subject_id == r.subject_id && c.subject_org == r.subject_org)
    };
    rows.sort_by(|a, b| {
        (position(a), a.created_at, &a.id).cmp(&(position(b), b.created_at, &b.id))
    });
    Ok((rows, next))
}
