//! The records of an accusation-clarification case, stored as JSON in `cases.data`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::exoneration::records::{Material, Note};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Letter,
    Phone,
    Online,
    Visit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Allegation {
    pub summary: String,
    pub details: String,
    pub channel: Channel,
}

/// The reporter's identity, sealed (see `seal.rs`); never stored or logged in clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SealedReporter {
    pub sealed: String,
}

/// What the sealed value holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reporter {
    pub name: String,
    pub contact: String,
}

/// What intake and the jurisdiction's investigators see in place of the sealed reporter
/// (everyone else sees no `reporter` at all): the identity, `{"anonymous": true}`, or
/// `{"sealed": true, "error"}` when the configured key cannot open it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReporterView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// 不予调查 (seed 002 #12): subjective speculation, labelling, unclear leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DismissReason {
    SubjectiveSpeculation,
    Labeling,
    UnclearLeads,
}

/// 不予调查: proposed by intake or an investigator (`by`, `at`), confirmed or rejected by a
/// reviewer who did not propose it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dismissal {
    pub reason_code: DismissReason,
    pub explanation: String,
    pub by: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Why a reviewer sent the report back to triage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Note>,
}

/// 函询: questions the cadre answers in writing by a deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Inquiry {
    pub questions: String,
    pub due_at: DateTime<Utc>,
    pub sent_by: String,
    pub sent_at: DateTime<Utc>,
    pub overdue: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Material>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Acceptance {
    pub conclusion: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ClarificationFinding)]
pub enum Finding {
    Substantiated,
    PartiallySubstantiated,
    Unfounded,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Conclusion {
    pub finding: Finding,
    pub report: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Talk,
    MeetingNotice,
    WrittenNotice,
}

/// 澄清正名: how, to whom, when the organisation clears the cadre.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Clarification {
    pub methods: Vec<Method>,
    pub scope: String,
    pub date: NaiveDate,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferralCategory {
    FalseAccusation,
    MaliciousSlander,
    Rumour,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccuserSource {
    /// The report's own reporter.
    Reporter,
    /// Someone identified otherwise.
    Identified,
}

/// The accuser a referral names, sealed like the reporter (see `seal.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Accuser {
    pub source: AccuserSource,
    pub sealed: String,
}

/// What intake and the jurisdiction's investigators see in place of the sealed accuser
/// (everyone else sees no `accuser`).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AccuserView {
    pub source: AccuserSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How the referred accuser was dealt with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Handling {
    None,
    Education,
    Discipline,
    Criminal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReferralOutcome {
    pub handling: Handling,
    /// Put on the 失信 blacklist (only for `false_accusation`, seeds 003 and 004 #12).
    pub blacklisted: bool,
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// 诬告陷害 etc. referred for handling (seed 004 #12), once per case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Referral {
    pub category: ReferralCategory,
    pub evidence: String,
    pub by: String,
    pub at: DateTime<Utc>,
    /// Absent on referrals made before accusers were named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<AccuserView>)]
    pub accuser: Option<Accuser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ReferralOutcome>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ClarificationRecords)]
pub struct Records {
    pub allegation: Allegation,
    /// Absent for anonymous reports. Readers see a [`ReporterView`] or nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ReporterView>)]
    pub reporter: Option<SealedReporter>,
    /// The dismissal proposed or confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dismissal: Option<Dismissal>,
    /// Proposals a reviewer rejected, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_dismissals: Vec<Dismissal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inquiry: Option<Inquiry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Acceptance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<Conclusion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clarification: Option<Clarification>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referrals: Vec<Referral>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<Note>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_case_id: Option<String>,
}
