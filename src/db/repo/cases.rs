use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::like_escape;
use crate::db::models::CaseRow;
use crate::db::schema::cases;
use crate::db::{DbBackend, DbConnection};

pub fn insert(conn: &mut DbConnection, row: &CaseRow) -> QueryResult<()> {
    diesel::insert_into(cases::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<CaseRow>> {
    cases::table.find(id).first::<CaseRow>(conn).optional()
}

/// Writes the new state of a case only if nobody changed it since `expected_version`
/// was read: of two conflicting writers exactly one sees `true`.
pub fn update_guarded(
    conn: &mut DbConnection,
    row: &CaseRow,
    expected_version: i64,
) -> QueryResult<bool> {
    let n = diesel::update(
        cases::table
            .filter(cases::id.eq(&row.id))
            .filter(cases::version.eq(expected_version)),
    )
    .set((
        cases::state.eq(&row.state),
        cases::version.eq(row.version),
        cases::investigator_id.eq(&row.investigator_id),
        cases::decider_id.eq(&row.decider_id),
        cases::overdue.eq(row.overdue),
        cases::data.eq(&row.data),
        cases::updated_at.eq(row.updated_at),
        cases::audit_head.eq(&row.audit_head),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Who may see which cases: staff see their org subtrees, everyone sees the cases
/// about them or filed by them.
#[derive(Clone, Debug, Default)]
pub struct Visibility {
    pub person_id: String,
    pub org_subtrees: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ListFilter {
    pub workflow: String,
    pub visibility: Visibility,
    pub state: Option<String>,
    pub org: Option<String>,
    pub subject: Option<String>,
    pub q: Option<String>,
    pub investigator: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    pub overdue: Option<bool>,
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

type BoxedCond = Box<dyn BoxableExpression<cases::table, DbBackend, SqlType = Bool>>;

fn in_subtree_cond(org: &str) -> BoxedCond {
    Box::new(
        cases::subject_org.eq(org.to_string()).or(cases::subject_org
            .like(format!("{}/%", like_escape(org)))
            .escape('\\')),
    )
}

/// A page of visible cases, newest first, keyset-paginated on (created_at, id).
pub fn list(conn: &mut DbConnection, f: &ListFilter) -> QueryResult<Vec<CaseRow>> {
    let mut visible: BoxedCond = Box::new(
        cases::subject_id
            .eq(f.visibility.person_id.clone())
            .or(cases::applicant_id.eq(f.visibility.person_id.clone())),
    );
    for org in &f.visibility.org_subtrees {
        visible = Box::new(visible.or(in_subtree_cond(org)));
    }
    let mut q = cases::table
        .filter(cases::workflow.eq(f.workflow.clone()))
        .filter(visible)
        .into_boxed();
    if let Some(state) = &f.state {
        q = q.filter(cases::state.eq(state.clone()));
    }
    if let Some(org) = &f.org {
        q = q.filter(in_subtree_cond(org));
    }
    if let Some(subject) = &f.subject {
        q = q.filter(cases::subject_id.eq(subject.clone()));
    }
    if let Some(text) = &f.q {
        let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
        q = q.filter(cases::search_text.like(pattern).escape('\\'));
    }
    if let Some(inv) = &f.investigator {
        q = q.filter(cases::investigator_id.eq(inv.clone()));
    }
    if let Some(from) = f.created_from {
        q = q.filter(cases::created_at.ge(from));
    }
    if let Some(to) = f.created_to {
        q = q.filter(cases::created_at.lt(to));
    }
    if let Some(overdue) = f.overdue {
        q = q.filter(cases::overdue.eq(overdue));
    }
    if let Some((at, id)) = &f.after {
        q = q.filter(
            cases::created_at
                .lt(*at)
                .or(cases::created_at.eq(*at).and(cases::id.lt(id.clone()))),
        );
    }
    q.order((cases::created_at.desc(), cases::id.desc()))
        .limit(f.limit)
        .load::<CaseRow>(conn)
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

/// Every case of `workflow` about a cadre of `org` or below (the ledger), by subject.
pub fn in_subtree(conn: &mut DbConnection, workflow: &str, org: &str) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::workflow.eq(workflow.to_string()))
        .filter(in_subtree_cond(org))
        .order((cases::subject_id.asc(), cases::created_at.asc()))
        .load(conn)
}

/// Cases of `workflow` in `org`'s subtree created in [from, to).
pub fn created_between(
    conn: &mut DbConnection,
    workflow: &str,
    org: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::workflow.eq(workflow.to_string()))
        .filter(in_subtree_cond(org))
        .filter(cases::created_at.ge(from))
        .filter(cases::created_at.lt(to))
        .load(conn)
}
