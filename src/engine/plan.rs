//! What one step writes besides the case: its audit row (hash-chained), its mails (from the
//! workflow's rules) and its timers (brought in line with the new state).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Engine;
use super::writes::{TxError, Writes};
use crate::audit::{self, GENESIS};
use crate::db::DbConnection;
use crate::db::models::{PersonRow, TimerRow, TransitionRow};
use crate::domain::workflow::{Case, TimerKind, TimerSpec};
use crate::domain::{Actor, Role};
use crate::error::AppError;
use crate::notify;

impl Engine {
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
    pub(super) fn record(
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
        // A file or a note is recorded in the chain but is no step: the state, its
        // deadlines and the time spent in it stay as they were.
        let annotation = crate::domain::material::is_annotation(event);
        let seq = case.version;
        let prev_hash = if seq == 1 { GENESIS } else { prev_hash }.to_string();
        let (from, entered) = (from.map(|(state, _)| state), from.map(|(_, at)| at));
        let mut row = TransitionRow {
            case_id: case.id.clone(),
            seq,
            event: event.to_string(),
            from_state: from.map(str::to_string),
            // How long the case stayed in `from`: since the transition that entered it.
            stage_seconds: entered
                .filter(|_| !annotation)
                .map(|at| (now - at).num_seconds()),
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
        if annotation && event != "note" {
            return Ok(head);
        }
        let wf = self.workflow(&case.workflow)?;
        let rows = self
            .notifier
            .rows(
                conn,
                wf,
                case,
                event,
                from,
                payload,
                now,
                known,
                Some(actor),
            )
            .map_err(|e| match e {
                notify::NotifyError::Db(e) => TxError::from(e),
                notify::NotifyError::Render(m) => TxError::App(AppError::internal(m)),
            })?;
        writes.outbox.extend(rows);
        if !annotation {
            self.reconcile_timers(case, timers, now, writes)?;
        }
        Ok(head)
    }
}
