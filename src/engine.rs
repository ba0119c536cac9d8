//! The one transition path. Every event, from a handler or (later) a timer, goes:
//! load the case -> authorise -> the machine decides -> one transaction writes the state
//! (version-guarded), the audit row and the outbox rows -> respond after commit.

use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::audit::{self, GENESIS};
use crate::clock::Clock;
use crate::db::models::{CaseRow, IdempotencyRow, PersonRow, TimerRow, TransitionRow};
use crate::db::repo::cases::{ListFilter, Visibility};
use crate::db::{Db, DbConnection, DbError, repo};
use crate::domain::registry::Registry;
use crate::domain::workflow::{self, Case, DirectoryEntry, Lookup, TimerKind, TimerSpec, Workflow};
use crate::domain::{Actor, Refusal, Role};
use crate::error::{AppError, ErrorKind};
use crate::notify;
use crate::seal::Sealer;
use crate::view;

use std::sync::Arc;

/// What a request gets back (and what an idempotent replay returns again).
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub location: Option<String>,
    pub version: Option<i64>,
    /// True when this is a stored answer replayed for an idempotency key.
    pub replayed: bool,
}

/// An idempotency key with the fingerprint of the request it came with.
#[derive(Clone, Debug)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

impl Idempotency {
    pub fn new(key: String, method: &str, path: &str, body: &Value) -> Idempotency {
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update(b" ");
        h.update(path.as_bytes());
        h.update(b"\n");
        h.update(body.to_string().as_bytes());
        Idempotency {
            key,
            fingerprint: hex::encode(h.finalize()),
        }
    }
}

/// Errors inside a write transaction: a real error, or "lost a race: run again".
enum TxError {
    App(AppError),
    Retry,
}

impl From<AppError> for TxError {
    fn from(e: AppError) -> Self {
        TxError::App(e)
    }
}

impl From<Refusal> for TxError {
    fn from(r: Refusal) -> Self {
        TxError::App(r.into())
    }
}

impl From<DbError> for TxError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query(q) => q.into(),
            other => TxError::App(other.into()),
        }
    }
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        match e {
            // Another writer inserted the same key first (PostgreSQL): re-read and decide again.
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => TxError::Retry,
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                TxError::Retry
            }
            other => TxError::App(other.into()),
        }
    }
}

const ATTEMPTS: usize = 5;

/// The rows one step writes. They are decided on a read connection, outside any lock, and
/// written in one short transaction that first checks the case is still at the version the
/// decision was made on: a writer that lost the race decides again on fresh data.
#[derive(Default)]
struct Writes {
    /// The case's new row and the version it must still be at.
    update: Option<(CaseRow, i64)>,
    /// Cases filed, each with the text `q` searches.
    cases: Vec<(CaseRow, String)>,
    transitions: Vec<TransitionRow>,
    outbox: Vec<crate::db::models::OutboxRow>,
    /// Pending timers made moot: (id, when, why).
    cancel_timers: Vec<(String, chrono::NaiveDateTime, &'static str)>,
    timers: Vec<TimerRow>,
    idempotency: Option<IdempotencyRow>,
}

impl Writes {
    /// On PostgreSQL, writes that fit one statement (see `repo::step`): a step that moves
    /// one case and files none, or nothing at all (a replayed answer).
    fn one_statement(&self) -> bool {
        let nothing = self.transitions.is_empty()
            && self.outbox.is_empty()
            && self.cancel_timers.is_empty()
            && self.timers.is_empty()
            && self.idempotency.is_none();
        self.cases.is_empty() && (self.update.is_some() || nothing)
    }

    fn write(&self, conn: &mut DbConnection) -> Result<(), TxError> {
        if let (DbConnection::Pg(pg), Some((case, expected))) = (&mut *conn, &self.update)
            && self.cases.is_empty()
        {
            let written = repo::step::StepWrites {
                case,
                expected_version: *expected,
                transitions: &self.transitions,
                outbox: &self.outbox,
                cancel_timers: &self.cancel_timers,
                timers: &self.timers,
                idempotency: self.idempotency.as_ref(),
            }
            .run(pg)?;
            return if written { Ok(()) } else { Err(TxError::Retry) };
        }
        if let Some((row, expected)) = &self.update
            && !repo::cases::update_guarded(conn, row, *expected)?
        {
            return Err(TxError::Retry);
        }
        for (c, text) in &self.cases {
            repo::cases::insert(conn, c, text)?;
        }
        for t in &self.transitions {
            repo::transitions::insert(conn, t)?;
        }
        repo::outbox::insert_all(conn, &self.outbox)?;
        for (id, at, why) in &self.cancel_timers {
            repo::timers::cancel(conn, id, *at, why)?;
        }
        for t in &self.timers {
            repo::timers::insert(conn, t)?;
        }
        if let Some(row) = &self.idempotency {
            repo::idempotency::insert(conn, row)?;
        }
        Ok(())
    }
}

/// Directory look-ups for the machine, on the transaction's connection.
struct DbLookup<'a> {
    conn: &'a mut DbConnection,
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

#[derive(Clone)]
pub struct Engine {
    pub db: Db,
    pub registry: Registry,
    pub clock: Clock,
    pub public_url: String,
    /// Seals stored idempotent answers (the key of `security.reporter_key`).
    pub sealer: Arc<Sealer>,
    pub notifier: Arc<notify::Notifier>,
    /// Days before each deadline that a reminder goes out.
    pub reminder_days: i64,
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
type Known = Vec<(String, Option<PersonRow>)>;

/// [`load_case`], with the case's timers that are not cancelled and the directory's rows of
/// the people it names (one query: [`repo::cases::find_with_live_timers`]).
fn load_case_to_move(
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
    if !workflow::can_see(actor, &case) {
        return Err(AppError::not_found());
    }
    Ok((case, head))
}

/// Stored answers are sealed: a response may show confidential data to its caller (a
/// reporter's identity to intake), which must not rest in clear in the database.
fn idem_context(actor: &Actor, key: &str) -> String {
    format!("idempotency:{}:{key}", actor.id)
}

fn replay(
    sealer: &Sealer,
    conn: &mut DbConnection,
    actor: &Actor,
    idem: &Option<Idempotency>,
) -> Result<Option<Reply>, TxError> {
    let Some(idem) = idem else { return Ok(None) };
    let Some(row) = repo::idempotency::find(conn, &actor.id, &idem.key)? else {
        return Ok(None);
    };
    if row.fingerprint != idem.fingerprint {
        return Err(AppError::validation(
            "Idempotency-Key",
            "this key was already used with a different request; use a new key",
        )
        .into());
    }
    let clear = sealer
        .open(&idem_context(actor, &idem.key), &row.body)
        .map_err(|e| AppError::internal(format!("stored answer: {e}")))?;
    let body: Value =
        serde_json::from_slice(&clear).map_err(|e| AppError::internal(e.to_string()))?;
    let version = body.get("version").and_then(Value::as_i64);
    Ok(Some(Reply {
        status: row.status as u16,
        body,
        location: row.location,
        version,
        replayed: true,
    }))
}

/// Stores the answer under its idempotency key (a second writer of the same key loses on
/// the primary key, runs again, and replays this answer).
fn remember(
    sealer: &Sealer,
    writes: &mut Writes,
    actor: &Actor,
    idem: &Option<Idempotency>,
    reply: &Reply,
    now: DateTime<Utc>,
) -> Result<(), TxError> {
    if let Some(idem) = idem {
        let body = sealer
            .seal(
                &idem_context(actor, &idem.key),
                reply.body.to_string().as_bytes(),
            )
            .map_err(AppError::internal)?;
        writes.idempotency = Some(IdempotencyRow {
            caller_id: actor.id.clone(),
            key: idem.key.clone(),
            fingerprint: idem.fingerprint.clone(),
            status: reply.status as i32,
            location: reply.location.clone(),
            body,
            created_at: now.naive_utc(),
        });
    }
    Ok(())
}

impl Engine {
    fn workflow(&self, name: &str) -> Result<&dyn Workflow, AppError> {
        self.registry.get(name).ok_or_else(AppError::not_found)
    }

    /// Brings the case's pending timers in line with what its new state calls for, in the
    /// transition's transaction: timers made moot are cancelled, new ones written, and a
    /// reminder goes before each deadline still far enough ahead.
    fn reconcile_timers(
        &self,
        case: &Case,
        existing: &[TimerRow],
        now: DateTime<Utc>,
        writes: &mut Writes,
    ) -> Result<(), TxError> {
        let wf = self.workflow(&case.workflow)?;
        let mut desired = wf.timers(case);
        let ahead = chrono::Duration::days(self.reminder_days);
        for spec in desired.clone() {
            let at = spec.due_at - ahead;
            if self.reminder_days > 0 && at > now {
                desired.push(TimerSpec {
                    kind: TimerKind::Reminder,
                    name: spec.name.clone(),
                    due_at: at,
                });
            }
        }
        let naive_now = now.naive_utc();
        let key = |kind: &str, name: &str, due: chrono::NaiveDateTime| {
            (kind.to_string(), name.to_string(), due)
        };
        // A timer fires at most once: one being fired, fired or dropped is not planned again.
        let wanted: Vec<_> = desired
            .iter()
            .map(|d| {
                key(
                    d.kind.as_str(),
                    &d.name,
                    crate::time::truncate_micros(d.due_at.naive_utc()),
                )
            })
            .collect();
        for e in existing.iter().filter(|e| e.state == "pending") {
            if !wanted.contains(&key(&e.kind, &e.name, e.due_at)) {
                writes.cancel_timers.push((
                    e.id.clone(),
                    naive_now,
                    "the deadline changed or was met",
                ));
            }
        }
        for (spec, k) in desired.iter().zip(&wanted) {
            if existing
                .iter()
                .any(|e| key(&e.kind, &e.name, e.due_at) == *k)
            {
                continue;
            }
            writes.timers.push(TimerRow {
                id: uuid::Uuid::now_v7().to_string(),
                case_id: case.id.clone(),
                kind: spec.kind.as_str().to_string(),
                name: spec.name.clone(),
                due_at: k.2,
                state: "pending".into(),
                lease_until: None,
                outcome: None,
                created_at: naive_now,
                fired_at: None,
            });
        }
        Ok(())
    }

    /// Plans the audit row, the outbox rows and the timers of one transition, and returns
    /// the audit row's hash: the case's new head. `prev_hash` is the head the case had when
    /// it was read, `timers` its timers that are not cancelled (none for a new case); the
    /// case's version guard makes sure it still has them when written. `from` is the state
    /// left and when the case entered it (none for a filing).
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        conn: &mut DbConnection,
        case: &Case,
        prev_hash: &str,
        timers: &[TimerRow],
        event: &str,
        from: Option<(&str, DateTime<Utc>)>,
        actor: &Actor,
        role: Role,
        payload: &Value,
        now: DateTime<Utc>,
        known: &[(String, Option<PersonRow>)],
        writes: &mut Writes,
    ) -> Result<String, TxError> {
        let seq = case.version;
        let prev_hash = if seq == 1 { GENESIS } else { prev_hash }.to_string();
        let (from, entered) = (from.map(|(state, _)| state), from.map(|(_, at)| at));
        let mut row = TransitionRow {
            case_id: case.id.clone(),
            seq,
            event: event.to_string(),
            from_state: from.map(str::to_string),
            // How long the case stayed in `from`: since the transition that entered it.
            stage_seconds: entered.map(|at| (now - at).num_seconds()),
            to_state: case.state.clone(),
            actor_id: actor.id.clone(),
            actor_role: role.as_str().to_string(),
            payload: payload.to_string(),
            at: now.naive_utc(),
            prev_hash,
            hash: String::new(),
        };
        row.hash = audit::row_hash(&row);
        let head = row.hash.clone();
        writes.transitions.push(row);
        let wf = self.workflow(&case.workflow)?;
        let rows = self
            .notifier
            .rows(conn, wf, case, event, from, payload, now, known)
            .map_err(|e| match e {
                notify::NotifyError::Db(e) => TxError::from(e),
                notify::NotifyError::Render(m) => TxError::App(AppError::internal(m)),
            })?;
        writes.outbox.extend(rows);
        self.reconcile_timers(case, timers, now, writes)?;
        Ok(head)
    }

    /// Decides with `decide` on a read connection, then writes what it decided in one
    /// transaction; again on a lost race, at most [`ATTEMPTS`] times.
    async fn with_retries<F>(&self, decide: F) -> Result<Reply, AppError>
    where
        F: Fn(&Engine, &mut DbConnection) -> Result<(Reply, Writes), TxError>
            + Send
            + Sync
            + Clone
            + 'static,
    {
        for _ in 0..ATTEMPTS {
            let engine = self.clone();
            let decide = decide.clone();
            let out = self
                .db
                .read_then_write(
                    move |conn| decide(&engine, conn),
                    |(_, writes)| writes.one_statement(),
                    |conn, (reply, writes): (Reply, Writes)| {
                        writes.write(conn)?;
                        Ok(reply)
                    },
                )
                .await;
            match out {
                Ok(reply) => return Ok(reply),
                Err(TxError::App(e)) => return Err(e),
                Err(TxError::Retry) => continue,
            }
        }
        Err(AppError::new(
            ErrorKind::InvalidTransition,
            "the case changed concurrently several times; read it again and retry",
        ))
    }

    /// Files a new case (the workflow's `create`).
    pub async fn file_case(
        &self,
        workflow: &str,
        actor: Actor,
        body: Value,
        idem: Option<Idempotency>,
    ) -> Result<Reply, AppError> {
        let name = self.workflow(workflow)?.def().name;
        self.with_retries(move |engine, conn| {
            if let Some(reply) = replay(&engine.sealer, conn, &actor, &idem)? {
                return Ok((reply, Writes::default()));
            }
            let wf = engine.workflow(name)?;
            let now = engine.clock.now();
            let filing = wf.file(
                &actor,
                &body,
                now,
                uuid::Uuid::now_v7().to_string(),
                &mut DbLookup { conn },
            )?;
            let case = filing.case;
            let mut writes = Writes::default();
            let head = engine.record(
                conn,
                &case,
                GENESIS,
                &[],
                "create",
                None,
                &actor,
                case.applicant.role,
                &filing.payload,
                now,
                &[],
                &mut writes,
            )?;
            writes.cases.push((
                CaseRow::from_case(&case, &head, wf.tallies(&case)),
                wf.search_text(&case),
            ));
            let available = workflow::available_events(wf, &actor, &case, now);
            let reply = Reply {
                status: 201,
                body: view::case_json(wf, &case, &actor, &available),
                location: Some(format!("{}/{}", wf.def().path(), case.id)),
                version: Some(case.version),
                replayed: false,
            };
            remember(&engine.sealer, &mut writes, &actor, &idem, &reply, now)?;
            Ok((reply, writes))
        })
        .await
        .inspect(|r| {
            if !r.replayed {
                crate::metrics::transition(name, "create");
            }
        })
    }

    /// Applies one event to a case.
    pub async fn apply(
        &self,
        workflow: &str,
        case_id: String,
        actor: Actor,
        body: Value,
        if_match: Option<i64>,
        idem: Option<Idempotency>,
    ) -> Result<Reply, AppError> {
        let def = self.workflow(workflow)?.def();
        let event = match body.get("event") {
            Some(Value::String(e)) => e.clone(),
            Some(_) => return Err(AppError::validation("event", "must be a string")),
            None => {
                return Err(AppError::validation(
                    "event",
                    "is required: the name of the event to apply",
                ));
            }
        };
        let Some(event) = def.events().into_iter().find(|e| *e == event) else {
            return Err(AppError::validation(
                "event",
                format!(
                    "unknown event `{event}`; {} has: {}",
                    def.name,
                    def.events().join(", ")
                ),
            ));
        };
        let name = def.name;
        let logged_id = case_id.clone();
        self.with_retries(move |engine, conn| {
            if let Some(reply) = replay(&engine.sealer, conn, &actor, &idem)? {
                return Ok((reply, Writes::default()));
            }
            let wf = engine.workflow(name)?;
            let now = engine.clock.now();
            let (case, head, timers, known) = load_case_to_move(conn, name, &case_id, &actor)?;
            if let Some(expected) = if_match
                && expected != case.version
            {
                return Err(AppError::new(
                    ErrorKind::VersionConflict,
                    format!("If-Match names version {expected} but the case is at version {}", case.version),
                )
                .into());
            }
            let role = workflow::authorize(def, event, &actor, &case)?;
            if !def.allows(&case.state, event) {
                return Err(Refusal::NotAllowed { state: case.state.clone(), event: event.to_string() }.into());
            }
            wf.separation(event, &actor, &case)?;
            let step = wf.apply(&case, event, &body, &actor, now, &mut DbLookup { conn })?;
            let mut next = case.clone();
            // A linked case (open_exoneration) is filed in this same transaction.
            let linked = match step.spawn {
                Some(target) => {
                    let filing = engine.workflow(target)?.file_linked(&case, &actor, now, uuid::Uuid::now_v7().to_string())?;
                    Some(filing)
                }
                None => None,
            };
            next.records = step.records;
            if let (Some(filing), Value::Object(map)) = (&linked, &mut next.records) {
                map.insert("linked_case_id".into(), Value::String(filing.case.id.clone()));
            }
            next.state = step.to;
            next.version = case.version + 1;
            next.investigator_id = step.investigator_id;
            next.decider_id = step.decider_id;
            next.overdue = step.overdue;
            next.disclosed = case.disclosed || wf.discloses(&next.state);
            next.updated_at = now;
            let mut writes = Writes::default();
            let new_head = engine.record(conn, &next, &head, &timers, event, Some((&case.state, case.updated_at)), &actor, role, &step.payload, now, &known, &mut writes)?;
            writes.update = Some((CaseRow::from_case(&next, &new_head, wf.tallies(&next)), case.version));
            if let Some(filing) = linked {
                let lc = filing.case;
                let target = engine.workflow(&lc.workflow)?;
                let lc_head = engine.record(conn, &lc, GENESIS, &[], "create", None, &actor, lc.applicant.role, &filing.payload, now, &[], &mut writes)?;
                writes
                    .cases
                    .push((CaseRow::from_case(&lc, &lc_head, target.tallies(&lc)), target.search_text(&lc)));
            }
            let available = workflow::available_events(wf, &actor, &next, now);
            let reply = Reply {
                status: 200,
                body: view::case_json(wf, &next, &actor, &available),
                location: None,
                version: Some(next.version),
                replayed: false,
            };
            remember(&engine.sealer, &mut writes, &actor, &idem, &reply, now)?;
            Ok((reply, writes))
        })
        .await
        .inspect(|r| {
            if !r.replayed {
                tracing::info!(case.id = %logged_id, event, version = r.version, "transition applied");
                crate::metrics::transition(name, event);
            }
        })
    }

    /// One case as the caller may see it.
    pub async fn get_case(
        &self,
        workflow: &str,
        case_id: String,
        actor: Actor,
    ) -> Result<Reply, AppError> {
        let name = self.workflow(workflow)?.def().name;
        let engine = self.clone();
        self.db
            .read(move |conn| {
                let (case, _) = load_case(conn, name, &case_id, &actor)?;
                let wf = engine.workflow(name)?;
                let available = workflow::available_events(wf, &actor, &case, engine.clock.now());
                Ok(Reply {
                    status: 200,
                    body: view::case_json(wf, &case, &actor, &available),
                    location: None,
                    version: Some(case.version),
                    replayed: false,
                })
            })
            .await
    }

    /// A page of the cases the caller may see.
    pub async fn list_cases(
        &self,
        mut filter: ListFilter,
        actor: Actor,
    ) -> Result<(Vec<Value>, Option<(DateTime<Utc>, String)>), AppError> {
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
                    let available = workflow::available_events(wf, &actor, &case, now);
                    last = Some((case.created_at, case.id.clone()));
                    items.push(view::case_json(wf, &case, &actor, &available));
                }
                Ok((items, if more { last } else { None }))
            })
            .await
    }

    /// The audit timeline of a case, oldest first.
    pub async fn timeline(
        &self,
        workflow: &str,
        case_id: String,
        actor: Actor,
    ) -> Result<Vec<Value>, AppError> {
        let name = self.workflow(workflow)?.def().name;
        let engine = self.clone();
        self.db
            .read(move |conn| {
                let (case, _) = load_case(conn, name, &case_id, &actor)?;
                let wf = engine.workflow(name)?;
                let rows = repo::transitions::list_for_case(conn, &case.id)?;
                let mails = repo::outbox::list_for_case(conn, &case.id)?;
                Ok(rows
                    .iter()
                    .map(|r| {
                        let mut item = view::timeline_item(wf, &case, &actor, r);
                        item["deliveries"] =
                            view::deliveries(mails.iter().filter(|m| m.seq == r.seq));
                        item
                    })
                    .collect())
            })
            .await
    }
}
