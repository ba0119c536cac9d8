//! Rows as stored. Field order follows `schema.rs`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    attachments, blob_chunks, blobs, cases, idempotency_keys, notes, outbox, people, timers,
    transitions,
};

#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = people, treat_none_as_default_value = false)]
pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub roles: String,
    pub org: String,
    pub source: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = cases, treat_none_as_default_value = false)]
pub struct CaseRow {
    pub id: String,
    pub workflow: String,
    pub state: String,
    pub version: i64,
    pub subject_id: String,
    pub subject_name: String,
    pub subject_email: String,
    pub subject_org: String,
    pub subject_position: String,
    pub applicant_id: String,
    pub applicant_name: String,
    pub applicant_email: String,
    pub applicant_role: String,
    pub investigator_id: Option<String>,
    pub decider_id: Option<String>,
    pub title: String,
    pub overdue: bool,
    pub catalogue_version: String,
    pub data: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The hash of the case's newest audit row (what its next row chains to).
    pub audit_head: String,
    /// Visible to its subject and their unit (see `Case::disclosed`).
    pub disclosed: bool,
    /// What statistics count as the outcome: the decision's, or a report's finding.
    pub outcome: Option<String>,
    /// The follow-up talk's state, if the case owes one.
    pub talk_state: Option<String>,
}

#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = transitions, treat_none_as_default_value = false)]
pub struct TransitionRow {
    pub case_id: String,
    pub seq: i64,
    pub event: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_id: String,
    pub actor_role: String,
    pub payload: String,
    pub at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
    /// Whole seconds spent in `from_state` before this transition (none for the filing):
    /// derived from the chain, outside the hash, checked by `audit verify`.
    pub stage_seconds: Option<i64>,
}

#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct OutboxRow {
    pub id: String,
    pub case_id: String,
    pub seq: i64,
    pub recipient_id: Option<String>,
    pub recipient_name: String,
    pub recipient_email: String,
    pub relation: String,
    pub template: String,
    pub subject: String,
    pub body_text: String,
    pub message_id: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub body_html: String,
}

#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = timers, treat_none_as_default_value = false)]
pub struct TimerRow {
    pub id: String,
    pub case_id: String,
    pub kind: String,
    pub name: String,
    pub due_at: NaiveDateTime,
    pub state: String,
    pub lease_until: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub created_at: NaiveDateTime,
    pub fired_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = idempotency_keys, treat_none_as_default_value = false)]
pub struct IdempotencyRow {
    pub caller_id: String,
    pub key: String,
    pub fingerprint: String,
    pub status: i32,
    pub location: Option<String>,
    pub body: String,
    pub created_at: NaiveDateTime,
}

use crate::domain::Role;
use crate::domain::workflow::{Applicant, Case, Subject, Tallies};

impl CaseRow {
    pub fn from_case(c: &Case, audit_head: &str, tallies: Tallies) -> CaseRow {
        CaseRow {
            id: c.id.clone(),
            workflow: c.workflow.clone(),
            state: c.state.clone(),
            version: c.version,
            subject_id: c.subject.id.clone(),
            subject_name: c.subject.name.clone(),
            subject_email: c.subject.email.clone(),
            subject_org: c.subject.org.clone(),
            subject_position: c.subject.position.clone(),
            applicant_id: c.applicant.id.clone(),
            applicant_name: c.applicant.name.clone(),
            applicant_email: c.applicant.email.clone(),
            applicant_role: c.applicant.role.as_str().to_string(),
            investigator_id: c.investigator_id.clone(),
            decider_id: c.decider_id.clone(),
            title: c.title.clone(),
            overdue: c.overdue,
            catalogue_version: c.catalogue_version.clone(),
            data: c.records.to_string(),
            created_at: c.created_at.naive_utc(),
            updated_at: c.updated_at.naive_utc(),
            audit_head: audit_head.to_string(),
            disclosed: c.disclosed,
            outcome: tallies.outcome,
            talk_state: tallies.talk_state,
        }
    }

    pub fn into_case(self) -> Result<Case, String> {
        let records =
            serde_json::from_str(&self.data).map_err(|e| format!("case {}: data: {e}", self.id))?;
        let role = Role::parse(&self.applicant_role).ok_or_else(|| {
            format!(
                "case {}: unknown applicant role `{}`",
                self.id, self.applicant_role
            )
        })?;
        Ok(Case {
            id: self.id,
            workflow: self.workflow,
            state: self.state,
            version: self.version,
            subject: Subject {
                id: self.subject_id,
                name: self.subject_name,
                email: self.subject_email,
                org: self.subject_org,
                position: self.subject_position,
            },
            applicant: Applicant {
                id: self.applicant_id,
                name: self.applicant_name,
                email: self.applicant_email,
                role,
            },
            investigator_id: self.investigator_id,
            decider_id: self.decider_id,
            title: self.title,
            overdue: self.overdue,
            disclosed: self.disclosed,
            catalogue_version: self.catalogue_version,
            records,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// A file's bytes, stored once per case and content (`blob_chunks` hold them).
#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = blobs, treat_none_as_default_value = false)]
pub struct BlobRow {
    pub id: String,
    pub case_id: String,
    /// Each chunk is sealed with the reporter key (nonce + ciphertext).
    pub sealed: bool,
    /// The upload finished and was recorded; until then the chunks are being written.
    pub complete: bool,
    /// SHA-256 of the clear bytes, once complete.
    pub sha256: Option<String>,
    /// CRC-32 of the clear bytes (what a ZIP entry carries), once complete.
    pub crc32: Option<i64>,
    pub size: i64,
    pub chunks: i32,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = blob_chunks)]
pub struct ChunkRow {
    pub blob_id: String,
    pub seq: i32,
    pub data: Vec<u8>,
}

/// One upload to a case: its name, media type and visibility, and the blob with its bytes.
#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = attachments, treat_none_as_default_value = false)]
pub struct AttachmentRow {
    pub id: String,
    pub case_id: String,
    pub blob_id: String,
    /// The timeline row that recorded the upload.
    pub seq: i64,
    /// Sealed (`v1.…`) when the visibility is `sealed`.
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub visibility: String,
    pub uploaded_by: String,
    pub uploaded_role: String,
    pub at: NaiveDateTime,
}

/// A note on a case, and the timeline row (`seq`) that recorded it.
#[derive(Queryable, Insertable, Clone, Debug, PartialEq)]
#[diesel(table_name = notes)]
pub struct NoteRow {
    pub case_id: String,
    pub seq: i64,
    pub body: String,
    pub visibility: String,
    pub author_id: String,
    pub author_role: String,
    pub at: NaiveDateTime,
}
