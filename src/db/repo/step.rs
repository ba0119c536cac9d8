//! PostgreSQL: a transition's writes in one statement.
//!
//! A transition writes the case (guarded by its version), its audit row, one outbox row per
//! recipient, the timers it cancels and plans, and maybe an idempotent answer. One statement
//! per row was one round trip each, and on PostgreSQL each round trip is most of a small
//! statement's cost. Here they are one statement of data-modifying `WITH` queries, one per
//! table (the rows of a kind as one `VALUES` list), each drawing its rows `FROM u`, the
//! guarded update: when the case moved on (the guard matched no row) nothing at all is
//! written, and the count of `u` says so.
//!
//! The text depends only on how many rows of each kind there are, so diesel prepares it
//! once per shape and connection, like any other statement. SQLite keeps one statement per
//! row: in-process, it has no round trips to save.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};

use crate::db::models::{CaseRow, IdempotencyRow, OutboxRow, TimerRow, TransitionRow};

pub struct StepWrites<'a> {
    /// The case's new row and the version it must still be at.
    pub case: &'a CaseRow,
    pub expected_version: i64,
    pub transitions: &'a [TransitionRow],
    pub outbox: &'a [OutboxRow],
    /// Pending timers made moot: (id, when, why).
    pub cancel_timers: &'a [(String, NaiveDateTime, &'static str)],
    pub timers: &'a [TimerRow],
    pub idempotency: Option<&'a IdempotencyRow>,
}

impl StepWrites<'_> {
    /// Writes everything, or nothing when the case is no longer at the expected version
    /// (then `false`).
    pub fn run(self, conn: &mut PgConnection) -> QueryResult<bool> {
        Ok(self.get_result::<i64>(conn)? == 1)
    }
}

impl QueryId for StepWrites<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for StepWrites<'_> {
    type SqlType = BigInt;
}

impl RunQueryDsl<PgConnection> for StepWrites<'_> {}

/// `(a, b, …)` of a list of binds, comma-separated.
struct List<'p, 'q, 'b> {
    out: &'p mut AstPass<'q, 'b, Pg>,
    first: bool,
}

impl<'p, 'q, 'b> List<'p, 'q, 'b> {
    fn new(out: &'p mut AstPass<'q, 'b, Pg>) -> Self {
        List { out, first: true }
    }

    fn bind<ST, U>(&mut self, value: &'b U) -> QueryResult<&mut Self>
    where
        Pg: diesel::sql_types::HasSqlType<ST>,
        U: diesel::serialize::ToSql<ST, Pg> + 'b,
        ST: diesel::sql_types::SqlType,
    {
        if !self.first {
            self.out.push_sql(", ");
        }
        self.first = false;
        self.out.push_bind_param::<ST, U>(value)?;
        Ok(self)
    }
}

impl QueryFragment<Pg> for StepWrites<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let c = self.case;
        out.push_sql("WITH u AS (UPDATE cases SET state = ");
        out.push_bind_param::<Text, _>(&c.state)?;
        out.push_sql(", version = ");
        out.push_bind_param::<BigInt, _>(&c.version)?;
        out.push_sql(", investigator_id = ");
        out.push_bind_param::<Nullable<Text>, _>(&c.investigator_id)?;
        out.push_sql(", decider_id = ");
        out.push_bind_param::<Nullable<Text>, _>(&c.decider_id)?;
        out.push_sql(", overdue = ");
        out.push_bind_param::<Bool, _>(&c.overdue)?;
        out.push_sql(", disclosed = ");
        out.push_bind_param::<Bool, _>(&c.disclosed)?;
        out.push_sql(", outcome = ");
        out.push_bind_param::<Nullable<Text>, _>(&c.outcome)?;
        out.push_sql(", talk_state = ");
        out.push_bind_param::<Nullable<Text>, _>(&c.talk_state)?;
        out.push_sql(", data = ");
        out.push_bind_param::<Text, _>(&c.data)?;
        out.push_sql(", updated_at = ");
        out.push_bind_param::<Timestamp, _>(&c.updated_at)?;
        out.push_sql(", audit_head = ");
        out.push_bind_param::<Text, _>(&c.audit_head)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Text, _>(&c.id)?;
        out.push_sql(" AND version = ");
        out.push_bind_param::<BigInt, _>(&self.expected_version)?;
        out.push_sql(" RETURNING id)");
        for (i, t) in self.transitions.iter().enumerate() {
            out.push_sql(&format!(
                ", t{i} AS (INSERT INTO transitions (case_id, seq, event, from_state, to_state, \
                 actor_id, actor_role, payload, at, prev_hash, hash, stage_seconds) SELECT "
            ));
            List::new(&mut out)
                .bind::<Text, _>(&t.case_id)?
                .bind::<BigInt, _>(&t.seq)?
                .bind::<Text, _>(&t.event)?
                .bind::<Nullable<Text>, _>(&t.from_state)?
                .bind::<Text, _>(&t.to_state)?
                .bind::<Text, _>(&t.actor_id)?
                .bind::<Text, _>(&t.actor_role)?
                .bind::<Text, _>(&t.payload)?
                .bind::<Timestamp, _>(&t.at)?
                .bind::<Text, _>(&t.prev_hash)?
                .bind::<Text, _>(&t.hash)?
                .bind::<Nullable<BigInt>, _>(&t.stage_seconds)?;
            out.push_sql(" FROM u)");
        }
        // The mails, and below the timers, in one statement each, not one per row: every
        // data-modifying `WITH` query is a node PostgreSQL initialises at each run, opening
        // the table and its indexes again.
        if !self.outbox.is_empty() {
            out.push_sql(
                ", o AS (INSERT INTO outbox (id, case_id, seq, recipient_id, recipient_name, \
                 recipient_email, relation, template, subject, body_text, message_id, state, \
                 attempts, next_attempt_at, last_error, created_at, sent_at, body_html) \
                 SELECT v.* FROM (VALUES ",
            );
            for (i, o) in self.outbox.iter().enumerate() {
                out.push_sql(if i == 0 { "(" } else { ", (" });
                List::new(&mut out)
                    .bind::<Text, _>(&o.id)?
                    .bind::<Text, _>(&o.case_id)?
                    .bind::<BigInt, _>(&o.seq)?
                    .bind::<Nullable<Text>, _>(&o.recipient_id)?
                    .bind::<Text, _>(&o.recipient_name)?
                    .bind::<Text, _>(&o.recipient_email)?
                    .bind::<Text, _>(&o.relation)?
                    .bind::<Text, _>(&o.template)?
                    .bind::<Text, _>(&o.subject)?
                    .bind::<Text, _>(&o.body_text)?
                    .bind::<Text, _>(&o.message_id)?
                    .bind::<Text, _>(&o.state)?
                    .bind::<Integer, _>(&o.attempts)?
                    .bind::<Timestamp, _>(&o.next_attempt_at)?
                    .bind::<Nullable<Text>, _>(&o.last_error)?
                    .bind::<Timestamp, _>(&o.created_at)?
                    .bind::<Nullable<Timestamp>, _>(&o.sent_at)?
                    .bind::<Text, _>(&o.body_html)?;
                out.push_sql(")");
            }
            out.push_sql(") AS v, u)");
        }
        if !self.cancel_timers.is_empty() {
            out.push_sql(
                ", c AS (UPDATE timers SET state = 'cancelled', fired_at = v.at, outcome = v.why \
                 FROM (VALUES ",
            );
            for (i, (id, at, why)) in self.cancel_timers.iter().enumerate() {
                out.push_sql(if i == 0 { "(" } else { ", (" });
                List::new(&mut out)
                    .bind::<Text, _>(id)?
                    .bind::<Timestamp, _>(at)?
                    .bind::<Text, _>(why)?;
                out.push_sql(")");
            }
            out.push_sql(
                ") AS v (id, at, why) WHERE timers.id = v.id AND timers.state = 'pending' \
                 AND EXISTS (SELECT 1 FROM u))",
            );
        }
        if !self.timers.is_empty() {
            out.push_sql(
                ", m AS (INSERT INTO timers (id, case_id, kind, name, due_at, state, \
                 lease_until, outcome, created_at, fired_at) SELECT v.* FROM (VALUES ",
            );
            for (i, t) in self.timers.iter().enumerate() {
                out.push_sql(if i == 0 { "(" } else { ", (" });
                List::new(&mut out)
                    .bind::<Text, _>(&t.id)?
                    .bind::<Text, _>(&t.case_id)?
                    .bind::<Text, _>(&t.kind)?
                    .bind::<Text, _>(&t.name)?
                    .bind::<Timestamp, _>(&t.due_at)?
                    .bind::<Text, _>(&t.state)?
                    .bind::<Nullable<Timestamp>, _>(&t.lease_until)?
                    .bind::<Nullable<Text>, _>(&t.outcome)?
                    .bind::<Timestamp, _>(&t.created_at)?
                    .bind::<Nullable<Timestamp>, _>(&t.fired_at)?;
                out.push_sql(")");
            }
            out.push_sql(") AS v, u)");
        }
        if let Some(k) = self.idempotency {
            out.push_sql(
                ", k AS (INSERT INTO idempotency_keys (caller_id, key, fingerprint, status, \
                 location, body, created_at) SELECT ",
            );
            List::new(&mut out)
                .bind::<Text, _>(&k.caller_id)?
                .bind::<Text, _>(&k.key)?
                .bind::<Text, _>(&k.fingerprint)?
                .bind::<Integer, _>(&k.status)?
                .bind::<Nullable<Text>, _>(&k.location)?
                .bind::<Text, _>(&k.body)?
                .bind::<Timestamp, _>(&k.created_at)?;
            out.push_sql(" FROM u)");
        }
        out.push_sql(" SELECT count(*) FROM u");
        Ok(())
    }
}
