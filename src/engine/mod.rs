//! The one transition path. Every event, from a handler or a timer, goes: load the case ->
//! authorise -> the machine decides -> one transaction writes the state (version-guarded),
//! the audit row, the outbox rows and the timers -> the caller gets a typed outcome after
//! the commit; `http/` turns it into a status and a body.
//!
//! Beside it: `writes` (what a step writes, and how), `plan` (its audit row, mails and
//! timers), `idempotency` (stored answers), `reads` (cases and timelines as a caller sees
//! them).

mod export;
mod idempotency;
mod material;
mod plan;
mod reads;
mod writes;

use std::sync::Arc;

use serde_json::Value;

use crate::audit::GENESIS;
use crate::clock::Clock;
use crate::db::models::CaseRow;
use crate::db::{Db, DbConnection};
use crate::domain::access;
use crate::domain::registry::Registry;
use crate::domain::workflow::{Case, Workflow};
use crate::domain::{Actor, Refusal};
use crate::error::{AppError, ErrorKind};
use crate::notify;
use crate::seal::Sealer;

pub use export::CaseFile;
pub use idempotency::{Idempotency, Stored};
pub use material::{Attachment, FileLimits, NewNote, Upload};
pub use reads::Timeline;
use reads::{DbLookup, load_case_to_move};
use writes::{ATTEMPTS, TxError, Writes};

/// A case as one caller may see it, with the events they may apply to it now.
#[derive(Clone, Debug)]
pub struct Seen {
    pub case: Case,
    pub available: Vec<&'static str>,
}

/// What a filing or a step comes to.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // one per request, moved once: a box would buy nothing
pub enum Outcome {
    /// Done now: the case as it stands after the commit.
    Done(Seen),
    /// The idempotency key was used before: the answer given then, given again.
    Replayed(Stored),
}

/// Which request an answer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    File,
    Apply,
}

/// Writes a case as the answer to its caller (`http/` owns the format); the engine calls it
/// for a request with an idempotency key, to store the very answer the caller is sent.
pub type Answer = fn(&dyn Workflow, &Seen, &Actor, Request) -> Stored;

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
    /// How an answer is written, for idempotency keys' stored answers.
    pub answer: Answer,
    /// The limits of evidence files.
    pub files: FileLimits,
}

impl Engine {
    fn workflow(&self, name: &str) -> Result<&dyn Workflow, AppError> {
        self.registry.get(name).ok_or_else(AppError::not_found)
    }

    /// With an idempotency key: stores the answer the caller is about to be sent.
    #[allow(clippy::too_many_arguments)]
    fn remember(
        &self,
        wf: &dyn Workflow,
        seen: &Seen,
        actor: &Actor,
        request: Request,
        idem: &Option<Idempotency>,
        now: chrono::DateTime<chrono::Utc>,
        writes: &mut Writes,
    ) -> Result<(), TxError> {
        let Some(idem) = idem else { return Ok(()) };
        let answer = (self.answer)(wf, seen, actor, request);
        idempotency::remember(&self.sealer, writes, actor, idem, &answer, now)
    }

    /// Decides with `decide` on a read connection, then writes what it decided in one
    /// transaction; again on a lost race, at most [`ATTEMPTS`] times.
    async fn with_retries<T, F>(&self, decide: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: Fn(&Engine, &mut DbConnection) -> Result<(T, Writes), TxError>
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
                    |conn, (out, writes): (T, Writes)| {
                        writes.write(conn)?;
                        Ok(out)
                    },
                )
                .await;
            match out {
                Ok(out) => return Ok(out),
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
    ) -> Result<Outcome, AppError> {
        let name = self.workflow(workflow)?.def().name;
        self.with_retries(move |engine, conn| {
            if let Some(stored) = idempotency::replay(&engine.sealer, conn, &actor, &idem)? {
                return Ok((Outcome::Replayed(stored), Writes::default()));
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
            let seen = Seen {
                available: access::available_events(wf, &actor, &case, now),
                case,
            };
            engine.remember(wf, &seen, &actor, Request::File, &idem, now, &mut writes)?;
            Ok((Outcome::Done(seen), writes))
        })
        .await
        .inspect(|out| {
            if let Outcome::Done(_) = out {
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
    ) -> Result<Outcome, AppError> {
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
            if let Some(stored) = idempotency::replay(&engine.sealer, conn, &actor, &idem)? {
                return Ok((Outcome::Replayed(stored), Writes::default()));
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
            let role = access::authorize(def, event, &actor, &case)?;
            if !def.allows(&case.state, event) {
                return Err(Refusal::NotAllowed { state: case.state.clone(), event: event.to_string() }.into());
            }
            wf.separation(event, &actor, &case)?;
            // Files cited by the event are checked here, the same for every workflow, and
            // recorded in its payload; the workflow sees the rest of the body.
            let cited = match body.get("attachments") {
                Some(v) => Some(engine.cited(conn, wf, &case, &actor, event, v)?),
                None => None,
            };
            let mut step = if cited.is_some() {
                let mut rest = body.clone();
                if let Value::Object(map) = &mut rest {
                    map.remove("attachments");
                }
                wf.apply(&case, event, &rest, &actor, now, &mut DbLookup { conn })?
            } else {
                wf.apply(&case, event, &body, &actor, now, &mut DbLookup { conn })?
            };
            if let (Some(ids), Value::Object(map)) = (cited, &mut step.payload) {
                map.insert("attachments".into(), serde_json::json!(ids));
            }
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
            let seen = Seen {
                available: access::available_events(wf, &actor, &next, now),
                case: next,
            };
            engine.remember(wf, &seen, &actor, Request::Apply, &idem, now, &mut writes)?;
            Ok((Outcome::Done(seen), writes))
        })
        .await
        .inspect(|out| {
            if let Outcome::Done(seen) = out {
                tracing::info!(case.id = %logged_id, event, version = seen.case.version, "transition applied");
                crate::metrics::transition(name, event);
            }
        })
    }
}
