//! The shapes of the responses the handlers build, for the document.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// An error body (RFC 9457) with the stable `code` of docs/API.md.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// `urn:rongcuo:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One of the codes of docs/API.md's error table.
    pub code: String,
    /// For `validation_failed`: each offending field with what is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
}

#[derive(Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's path, such as `rectification.due_at`.
    pub field: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowLink {
    pub name: String,
    pub title: String,
    pub href: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowList {
    pub items: Vec<WorkflowLink>,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowEvent {
    pub name: String,
    /// Roles and parties (`applicant`, `assigned_investigator`, `system`…) who may apply it.
    pub who: Vec<String>,
    pub timer: bool,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowTransition {
    /// The states the event leaves.
    pub from: Vec<String>,
    pub event: String,
    /// The states it may lead to (which one depends on the fields or the records).
    pub to: Vec<String>,
    pub who: Vec<String>,
    /// What the event carries, in words.
    pub carries: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowCreate {
    pub who: Vec<String>,
    pub to: String,
}

/// The machine's table, with the workflow's catalogues (`circumstances`, `red_lines`,
/// `reason_codes`…) as further properties.
#[derive(Serialize, ToSchema)]
pub struct WorkflowDescription {
    pub name: String,
    pub title: String,
    pub roles: Vec<String>,
    pub initial: String,
    pub states: Vec<String>,
    pub terminal: Vec<String>,
    pub create: WorkflowCreate,
    pub events: Vec<WorkflowEvent>,
    pub transitions: Vec<WorkflowTransition>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerSubject {
    pub id: String,
    pub name: String,
    pub org: String,
    pub position: String,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerRectification {
    pub state: Option<String>,
    pub due_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerCase {
    pub case_id: String,
    pub number: String,
    pub title: String,
    pub state: String,
    pub outcome: Option<String>,
    pub decided_at: Option<String>,
    pub influence_period_months: Option<i64>,
    pub influence_ends_on: Option<NaiveDate>,
    pub influence_active: bool,
    pub rectification: Option<LedgerRectification>,
    pub rectification_open: bool,
    /// `lighter` (从轻) or `reduced` (减轻).
    pub degree: Option<String>,
    pub sanction: Option<crate::domain::workflow::Labelled>,
    pub promotion_bar_ends_on: Option<NaiveDate>,
    /// What an exoneration leaves unaffected.
    pub effects: Vec<crate::domain::workflow::Labelled>,
    pub talk: Option<crate::domain::workflow::TalkSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerEntry {
    pub subject: LedgerSubject,
    /// The latest end of an active influence period (影响期).
    pub influence_until: Option<NaiveDate>,
    pub open_rectifications: i64,
    pub cases: Vec<LedgerCase>,
}

/// 台账: the exoneration cases of each cadre of the org subtree, a page of cadres.
#[derive(Serialize, ToSchema)]
pub struct Ledger {
    pub org: String,
    pub as_of: NaiveDate,
    pub items: Vec<LedgerEntry>,
    /// The next page's `cursor`; null on the last page.
    pub next_cursor: Option<String>,
}

/// A mail in the transactional outbox.
#[derive(Serialize, ToSchema)]
pub struct OutboxItem {
    pub id: String,
    pub case_id: String,
    pub seq: i64,
    pub relation: String,
    pub recipient_email: String,
    pub template: String,
    pub subject: String,
    pub message_id: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxList {
    pub items: Vec<OutboxItem>,
}

#[derive(Serialize, ToSchema)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<crate::domain::Role>,
    pub org: String,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxBacklog {
    pub waiting: Option<i64>,
    pub oldest_age_seconds: Option<i64>,
    pub dead: Option<i64>,
    pub error: Option<String>,
}

/// `ready` with the mail backlog, or `not_ready` (503) with what is wrong.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: String,
    pub database: String,
    pub migrations_pending: Option<i64>,
    pub outbox: Option<OutboxBacklog>,
}
