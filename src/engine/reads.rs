//! Reading cases as a caller may see them (a case they may not see is `not_found`, never
//! `forbidden`: its existence is not told), and the directory as the machines look it up.

use chrono::{DateTime, Utc};

use super::{Engine, Seen};
use crate::db::models::{CaseRow, OutboxRow, PersonRow, TimerRow, TransitionRow};
use crate::db::repo::cases::{ListFilter, Visibility};
use crate::db::{DbConnection, repo};
use crate::domain::access;
use crate::domain::material::{self, Visibility as MaterialVisibility};
use crate::domain::workflow::{Case, DirectoryEntry, Lookup, Workflow};
use crate::domain::{Actor, Role};
use crate::error::AppError;
use serde_json::{Value, json};

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
        let engine = self.clone();
        self.db
            .read(move |conn| {
                let (case, _) = load_case(conn, name, &case_id, &actor)?;
                let mut rows = repo::transitions::list_for_case(conn, &case.id)?;
                let wf = engine.workflow(name)?;
                engine.redact_material(conn, wf, &case, &actor, &mut rows)?;
                let mails = repo::outbox::list_for_case(conn, &case.id)?;
                Ok(Timeline { case, rows, mails })
            })
            .await
    }

    /// Files and notes in a timeline as `actor` may see them: a row recording what they may
    /// not see keeps its place and hashes but says only `{"withheld": true}`; a file they may
    /// see under seal shows its name; an event citing files lists those they may see.
    pub(super) fn redact_material(
        &self,
        conn: &mut DbConnection,
        wf: &dyn Workflow,
        case: &Case,
        actor: &Actor,
        rows: &mut [TransitionRow],
    ) -> Result<(), AppError> {
        let sees = |v: Option<&str>| {
            v.and_then(MaterialVisibility::parse)
                .is_some_and(|v| material::sees(wf, actor, case, v))
        };
        let mut cited: Vec<String> = Vec::new();
        let mut payloads: Vec<Option<Value>> = Vec::with_capacity(rows.len());
        for row in rows.iter() {
            let p: Option<Value> = (material::is_annotation(&row.event)
                || row.payload.contains("\"attachments\""))
            .then(|| serde_json::from_str(&row.payload).ok())
            .flatten();
            if let Some(ids) = p
                .as_ref()
                .and_then(|p| p.get("attachments"))
                .and_then(Value::as_array)
            {
                cited.extend(ids.iter().filter_map(Value::as_str).map(str::to_string));
            }
            payloads.push(p);
        }
        let visible: Vec<String> = if cited.is_empty() {
            Vec::new()
        } else {
            repo::files::by_ids(conn, &case.id, &cited)?
                .into_iter()
                .filter(|a| sees(Some(&a.visibility)))
                .map(|a| a.id)
                .collect()
        };
        for (row, p) in rows.iter_mut().zip(payloads) {
            let Some(mut p) = p else { continue };
            if material::is_annotation(&row.event) {
                if !sees(p.get("visibility").and_then(Value::as_str)) {
                    row.payload = json!({"withheld": true}).to_string();
                    continue;
                }
                if let Some(sealed) = p.get("filename_sealed").and_then(Value::as_str) {
                    let name = self
                        .sealer
                        .open(&case.id, sealed)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .unwrap_or_else(|| {
                            "(sealed: cannot be opened with the configured key)".into()
                        });
                    if let Value::Object(map) = &mut p {
                        map.remove("filename_sealed");
                        map.insert("filename".into(), json!(name));
                    }
                }
            } else if let Some(Value::Array(ids)) = p.get_mut("attachments") {
                ids.retain(|id| {
                    id.as_str()
                        .is_some_and(|id| visible.iter().any(|v| v == id))
                });
            }
            row.payload = p.to_string();
        }
        Ok(())
    }
}
