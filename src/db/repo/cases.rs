//! Cases by id: filing, reading (with what a step needs), the guarded update; lists are in
//! `list`.

use diesel::dsl::count_star;
use diesel::prelude::*;

pub use super::list::{
    ListFilter, SQLITE_SORT_AT_MOST, SQLITE_WALK_AT_MOST, Visibility, list, list_sorting_at_most,
    list_within, subject_of_undisclosed,
};
use crate::db::models::{CaseRow, PersonRow, TimerRow};
use crate::db::schema::{case_search, cases, people, timers};
use crate::db::{DbConnection, native};

/// Files a case: its row and the text a list's `q` searches (see [`crate::db::models::search_text`]).
pub fn insert(conn: &mut DbConnection, row: &CaseRow, search_text: &str) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(cases::table).values(row).execute(c))?;
    let search = diesel::insert_into(case_search::table).values((
        case_search::case_id.eq(&row.id),
        case_search::text.eq(search_text),
    ));
    native!(conn, c => search.execute(c))?;
    Ok(())
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<CaseRow>> {
    native!(conn, c => cases::table.find(id).first::<CaseRow>(c).optional())
}

/// A case as a transition reads it, in one query (one round trip on PostgreSQL, one
/// statement on SQLite): its row, its timers that are not cancelled (pending, firing,
/// fired), which the transition plans against, and what the directory holds for the people
/// the case names (subject, applicant, investigator), whom its mail most often goes to.
#[derive(Debug)]
pub struct CaseToMove {
    pub case: CaseRow,
    pub timers: Vec<TimerRow>,
    /// Each person id the case names, with the directory's row (`None`: not in it).
    pub people: Vec<(String, Option<PersonRow>)>,
}

pub fn find_with_live_timers(conn: &mut DbConnection, id: &str) -> QueryResult<Option<CaseToMove>> {
    let (subject, applicant, investigator) = diesel::alias!(
        people as subject_person,
        people as applicant_person,
        people as investigator_person
    );
    let query = cases::table
        .left_join(
            timers::table.on(timers::case_id
                .eq(cases::id)
                .and(timers::state.ne("cancelled"))),
        )
        .left_join(subject.on(subject.field(people::id).eq(cases::subject_id)))
        .left_join(applicant.on(applicant.field(people::id).eq(cases::applicant_id)))
        .left_join(
            investigator.on(investigator
                .field(people::id)
                .nullable()
                .eq(cases::investigator_id)),
        )
        .filter(cases::id.eq(id))
        .select((
            cases::all_columns,
            timers::all_columns.nullable(),
            subject.fields(people::all_columns).nullable(),
            applicant.fields(people::all_columns).nullable(),
            investigator.fields(people::all_columns).nullable(),
        ));
    type Row = (
        CaseRow,
        Option<TimerRow>,
        Option<PersonRow>,
        Option<PersonRow>,
        Option<PersonRow>,
    );
    let rows: Vec<Row> = native!(conn, c => query.load(c))?;
    let mut rows = rows.into_iter();
    let Some((case, first, subject, applicant, investigator)) = rows.next() else {
        return Ok(None);
    };
    let mut people = vec![
        (case.subject_id.clone(), subject),
        (case.applicant_id.clone(), applicant),
    ];
    if let Some(id) = &case.investigator_id {
        people.push((id.clone(), investigator));
    }
    let timers = first
        .into_iter()
        .chain(rows.filter_map(|(_, t, ..)| t))
        .collect();
    Ok(Some(CaseToMove {
        case,
        timers,
        people,
    }))
}

/// Writes the new state of a case only if nobody changed it since `expected_version`
/// was read: of two conflicting writers exactly one sees `true`.
pub fn update_guarded(
    conn: &mut DbConnection,
    row: &CaseRow,
    expected_version: i64,
) -> QueryResult<bool> {
    use super::fixed::{Bind, Fixed};
    let n = Fixed {
        sql: &[
            "UPDATE cases SET state = ",
            ", version = ",
            ", investigator_id = ",
            ", decider_id = ",
            ", overdue = ",
            ", disclosed = ",
            ", outcome = ",
            ", talk_state = ",
            ", data = ",
            ", updated_at = ",
            ", audit_head = ",
            " WHERE id = ",
            " AND version = ",
            "",
        ],
        binds: vec![
            Bind::Text(&row.state),
            Bind::BigInt(row.version),
            Bind::NullableText(row.investigator_id.as_deref()),
            Bind::NullableText(row.decider_id.as_deref()),
            Bind::Bool(row.overdue),
            Bind::Bool(row.disclosed),
            Bind::NullableText(row.outcome.as_deref()),
            Bind::NullableText(row.talk_state.as_deref()),
            Bind::Text(&row.data),
            Bind::Timestamp(row.updated_at),
            Bind::Text(&row.audit_head),
            Bind::Text(&row.id),
            Bind::BigInt(expected_version),
        ],
    }
    .execute_on(conn)?;
    Ok(n == 1)
}

/// The newest `limit` cases about `subject_id`, of every workflow (a cadre's record).
pub fn about_subject(
    conn: &mut DbConnection,
    subject_id: &str,
    limit: i64,
) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::subject_id.eq(subject_id.to_string()))
        .order((cases::created_at.desc(), cases::id.desc()))
        .limit(limit)
        .load(conn)
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    cases::table.select(count_star()).first(conn)
}

/// Every case id, oldest first (audit verification).
pub fn all_ids(conn: &mut DbConnection) -> QueryResult<Vec<(String, String, i64, String)>> {
    cases::table
        .select((cases::id, cases::state, cases::version, cases::audit_head))
        .order((cases::created_at.asc(), cases::id.asc()))
        .load(conn)
}
