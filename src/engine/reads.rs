//! Reading cases as a caller may see them (a case they may not see is `not_found`, never
//! `forbidden`: its existence is not told), and the directory as the machines look it up.

use chrono::{DateTime, Utc};

use super::{Engine, Seen};
use crate::db::models::{CaseRow, OutboxRow, PersonRow, TimerRow, TransitionRow};
use crate::db::repo::cases::{ListFilter, Visibility};
use crate::db::{DbConnection, repo};
use crate::domain::access;
use crate::domain::workflow::{Case, DirectoryEntry, Lookup};
use crate::domain::{Actor, Role};
use crate::error::AppError;

/// The audit timeline of a case: its rows, oldest first, and the mails they sent.
#[derive(Clone, Debug)]
pub struct Timeline {
    pub case: Case,
    pub rows: Vec<TransitionRow>,
    pub mails: Vec<OutboxRow>,
}

/// Directory look-ups for the machine, on the transaction's connection.
pub(super) struct DbLookup<'a> {
    pub(super) conn: &'a mut DbConnection,
}

impl Lookup for DbLookup<'_> {
    fn org_of_person_with_role(&mut self, id: &str, role: Role) -> Result<Option<String>, String> {
        let person = repo::people::find_by_id(self.conn, id).map_err(|e| e.to_string())?;
        Ok(person
            .filter(|p| p.roles.contains(&format!(",{},", role.as_str())))
            .map(|p| p.org))
    }

    fn person(&mut self, id: &str) -> Result<Option<DirectoryEntry>, String> {
        let person = repo::people::find_by_id(self.conn, id).map_err(|e| e.to_string())?;
        Ok(person.map(|p| DirectoryEntry {
            name: p.name,
            email: p.email,
            org: p.org,
        }))
    }
}

/// A case the caller may see, with the hash of its newest audit row.
fn load_case(
    conn: &mut DbConnection,
    workflow: &str,
    id: &str,
    actor: &Actor,
) -> Result<(Case, String), AppError> {
    let row = repo::cases::find_by_id(conn, id)?;
    visible_case(workflow, row, actor)
}

/// What directory rows were read with a case: each id the case names, with its row.
pub(super) type Known = Vec<(String, Option<PersonRow>)>;

/// [`load_case`], with the case's timers that are not cancelled and the directory's rows of
/// the people it names (one query: [`repo::cases::find_with_live_timers`]).
pub(super) fn load_case_to_move(
    conn: &mut DbConnection,
    workflow: &str,
    id: &str,
    actor: &Actor,
) -> Result<(Case, String, Vec<TimerRow>, Known), AppError> {
    let (row, timers, people) = match repo::cases::find_with_live_timers(conn, id)? {
        Some(found) => (Some(found.case), found.timers, found.people),
        None => (None, Vec::new(), Vec::new()),
    };
    let (case, head) = visible_case(workflow, row, actor)?;
    Ok((case, head, timers, people))
}

fn visible_case(
    workflow: &str,
    row: Option<CaseRow>,
    actor: &Actor,
) -> Result<(Case, String), AppError> {
    let (case, head) = match row.filter(|r| r.workflow == workflow) {
        Some(mut row) => {
            let head = std::mem::take(&mut row.audit_head);
            (row.into_case().map_err(AppError::internal)?, head)
        }
        None => return Err(AppError::not_found()),
    };
    if !access::can_see(actor, &case) {
        return Err(AppError::not_found());
    }
    Ok((case, head))
}

impl Engine {
    /// One case as the caller may see it.
    pub async fn get_case(
        &self,
        workflow: &str,
        case_id: String,
        actor: Actor,
    ) -> Result<Seen, AppError> {
        let name = self.workflow(workflow)?.def().name;
        let engine = self.clone();
        self.db
            .read(move |conn| {
                let (case, _) = load_case(conn, name, &case_id, &actor)?;
                let wf = engine.workflow(name)?;
                let available = access::available_events(wf, &actor, &case, engine.clock.now());
                Ok(Seen { case, available })
            })
            .await
    }

    /// A page of the cases the caller may see, with the cursor of the next page.
    pub async fn list_cases(
        &self,
        mut filter: ListFilter,
        actor: Actor,
    ) -> Result<(Vec<Seen>, Option<(DateTime<Utc>, String)>), AppError> {
        let name = self.workflow(&filter.workflow)?.def().name;
        filter.visibility = Visibility::of(&actor);
        let limit = filter.limit;
        filter.limit = limit + 1;
        let engine = self.clone();
        self.db
            .read(move |conn| {
                if !filter.visibility.org_subtrees.is_empty() {
                    filter.visibility.subject_of_undisclosed =
                        repo::cases::subject_of_undisclosed(conn, name, &actor.id)?;
                }
                let rows = repo::cases::list(conn, &filter)?;
                let wf = engine.workflow(name)?;
                let now = engine.clock.now();
                let more = rows.len() as i64 > limit;
                let mut items = Vec::new();
                let mut last = None;
                for row in rows.into_iter().take(limit as usize) {
                    let case = row.into_case().map_err(AppError::internal)?;
                    let available = access::available_events(wf, &actor, &case, now);
                    last = Some((case.created_at, case.id.clone()));
                    items.push(Seen { case, available });
                }
                Ok((items, if more { last } else { None }))
            })
            .await
    }

    /// The audit timeline of a case the caller may see.
    pub async fn timeline(
        &self,
        workflow: &str,
        case_id: String,
        actor: Actor,
    ) -> Result<Timeline, AppError> {
        let name = self.workflow(workflow)?.def().name;
        self.db
            .read(move |conn| {
                let (case, _) = load_case(conn, name, &case_id, &actor)?;
                let rows = repo::transitions::list_for_case(conn, &case.id)?;
                let mails = repo::outbox::list_for_case(conn, &case.id)?;
                Ok(Timeline { case, rows, mails })
            })
            .await
    }
}
