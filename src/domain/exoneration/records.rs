//! The records an exoneration case accumulates, stored as JSON in `cases.data`. Long
//! because it is the whole record schema of the procedure (findings, decisions,
//! rectification, appeal, talk…), one type per record; the document shows them as written.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A condition a catalogue entry requires (all of an entry's must hold at once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub code: String,
    pub text: String,
}

/// An item of the circumstance catalogue, copied into the case when cited (at filing, or
/// by the investigator's findings) so the case keeps the text and the conditions it was
/// cited under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Circumstance {
    pub code: String,
    pub text: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Condition>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub title: String,
    pub description: String,
    pub occurred_on: NaiveDate,
}

pub use crate::domain::common::{Material, Note};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Supplement {
    pub items: String,
    pub due_at: DateTime<Utc>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub overdue: bool,
    #[serde(default)]
    pub material: Vec<Material>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ExonerationFinding)]
pub enum Finding {
    Favourable,
    Unfavourable,
    Neutral,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Element {
    pub finding: Finding,
    #[serde(default)]
    pub notes: String,
}

/// The six elements by name, as `overrides` and error fields name them.
pub const ELEMENT_NAMES: [&str; 6] = [
    "motive",
    "objective_conditions",
    "procedure",
    "nature",
    "consequences",
    "remediation",
];

/// The six elements (六个要件, seed 004 #11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Elements {
    pub motive: Element,
    pub objective_conditions: Element,
    pub procedure: Element,
    pub nature: Element,
    pub consequences: Element,
    pub remediation: Element,
}

impl Elements {
    /// Each element with its name, in [`ELEMENT_NAMES`] order.
    pub fn named(&self) -> [(&'static str, &Element); 6] {
        [
            ("motive", &self.motive),
            ("objective_conditions", &self.objective_conditions),
            ("procedure", &self.procedure),
            ("nature", &self.nature),
            ("consequences", &self.consequences),
            ("remediation", &self.remediation),
        ]
    }
}

/// Red lines (seed 000 §四.3, 002 #10, 004 #10–11): any one leaves only `deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RedLine {
    PoliticalDiscipline,
    Integrity,
    PersonalGain,
    SeriousImpact,
    MajorLoss,
    AfterProhibition,
    Shirking,
    KnowingViolation,
    LawViolation,
}

impl RedLine {
    pub const ALL: [RedLine; 9] = [
        RedLine::PoliticalDiscipline,
        RedLine::Integrity,
        RedLine::PersonalGain,
        RedLine::SeriousImpact,
        RedLine::MajorLoss,
        RedLine::AfterProhibition,
        RedLine::Shirking,
        RedLine::KnowingViolation,
        RedLine::LawViolation,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RedLine::PoliticalDiscipline => "political_discipline",
            RedLine::Integrity => "integrity",
            RedLine::PersonalGain => "personal_gain",
            RedLine::SeriousImpact => "serious_impact",
            RedLine::MajorLoss => "major_loss",
            RedLine::AfterProhibition => "after_prohibition",
            RedLine::Shirking => "shirking",
            RedLine::KnowingViolation => "knowing_violation",
            RedLine::LawViolation => "law_violation",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            RedLine::PoliticalDiscipline => "违反政治纪律和政治规矩",
            RedLine::Integrity => "违反廉洁纪律、法律法规或明确的政策规定",
            RedLine::PersonalGain => "为自己、他人或其他组织谋取不当利益",
            RedLine::SeriousImpact => "造成严重社会影响",
            RedLine::MajorLoss => "造成重大经济损失",
            RedLine::AfterProhibition => "明令禁止后依然我行我素",
            RedLine::Shirking => "不担当、慢作为、乱作为",
            RedLine::KnowingViolation => "明知故犯、主观故意",
            RedLine::LawViolation => "违纪违法",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    Exonerate,
    Mitigate,
    Deny,
}

impl DecisionOutcome {
    pub fn state(self) -> &'static str {
        match self {
            DecisionOutcome::Exonerate => "exonerated",
            DecisionOutcome::Mitigate => "mitigated",
            DecisionOutcome::Deny => "denied",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionOutcome::Exonerate => "exonerate",
            DecisionOutcome::Mitigate => "mitigate",
            DecisionOutcome::Deny => "deny",
        }
    }
}

/// Whether one condition of a cited entry holds, as the investigator found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionFinding {
    pub met: bool,
    #[serde(default)]
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Findings {
    pub elements: Elements,
    pub red_lines: Vec<RedLine>,
    pub recommendation: DecisionOutcome,
    pub notes: String,
    /// The conditions of the cited entries that declare `requires`, by condition code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, ConditionFinding>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// 从轻 (lighter, within the range) or 减轻 (reduced, below it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Degree {
    Lighter,
    Reduced,
}

impl Degree {
    pub fn as_str(self) -> &'static str {
        match self {
            Degree::Lighter => "lighter",
            Degree::Reduced => "reduced",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Degree::Lighter => "从轻",
            Degree::Reduced => "减轻",
        }
    }
}

/// An entry of the sanctions catalogue (`workflows/exoneration.toml`), copied into the
/// decision that imposes it, so a later catalogue never rewrites a decided case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sanction {
    pub code: String,
    pub text: String,
    pub source: String,
    /// 影响期: 0 is none.
    pub influence_months: u32,
    /// Months in which the cadre may not be promoted: 0 is none.
    pub promotion_bar_months: u32,
}

/// What an exoneration leaves unaffected (seeds 002 #12, 003), recorded with the decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Effect {
    pub code: String,
    pub text: String,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub outcome: DecisionOutcome,
    pub explanation: String,
    /// Why the reviewer exonerates despite an unfavourable element, per element.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degree: Option<Degree>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanction: Option<Sanction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub influence_period_months: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub influence_ends_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_bar_ends_on: Option<NaiveDate>,
    /// An exoneration's effects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
    pub by: String,
    pub at: DateTime<Utc>,
    /// True when the decision is the result of an appeal (no further appeal).
    #[serde(default)]
    pub via_appeal: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RectificationState {
    Ordered,
    Submitted,
    Verified,
    Overdue,
}

impl RectificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            RectificationState::Ordered => "ordered",
            RectificationState::Submitted => "submitted",
            RectificationState::Verified => "verified",
            RectificationState::Overdue => "overdue",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Verification {
    pub accepted: bool,
    pub comment: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Extension {
    pub due_at: DateTime<Utc>,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// 限期整改: the order, its state and its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rectification {
    pub requirements: String,
    pub due_at: DateTime<Utc>,
    pub state: RectificationState,
    pub ordered_at: DateTime<Utc>,
    #[serde(default)]
    pub reports: Vec<Material>,
    #[serde(default)]
    pub verifications: Vec<Verification>,
    #[serde(default)]
    pub extensions: Vec<Extension>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppealResult {
    Uphold,
    Revise,
    Remand,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Appeal {
    pub grounds: String,
    pub by: String,
    pub at: DateTime<Utc>,
    /// The state the case was in when appealed (where `uphold` returns it).
    pub prior_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<AppealResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
}

/// Why a case is referred to accountability (问责) from its rectification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// The rectification is overdue.
    Overdue,
    /// Reports kept being rejected (`max_rejections` since the decision).
    Ineffective,
    /// The cadre refuses to rectify (with evidence), whatever the due date.
    Refused,
}

impl Ground {
    pub fn as_str(self) -> &'static str {
        match self {
            Ground::Overdue => "overdue",
            Ground::Ineffective => "ineffective",
            Ground::Refused => "refused",
        }
    }
}

/// The referral to accountability. Cases referred before grounds existed have none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Accountability {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ground: Option<Ground>,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TalkState {
    Due,
    Overdue,
    Held,
    Cancelled,
}

impl TalkState {
    pub fn as_str(self) -> &'static str {
        match self {
            TalkState::Due => "due",
            TalkState::Overdue => "overdue",
            TalkState::Held => "held",
            TalkState::Cancelled => "cancelled",
        }
    }

    /// Still to be held.
    pub fn is_open(self) -> bool {
        matches!(self, TalkState::Due | TalkState::Overdue)
    }
}

/// 受到组织处理必谈 (seed 001 #16): the follow-up talk a sanctioned cadre is owed, tracked
/// whatever state the case is in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Talk {
    pub state: TalkState,
    pub due_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// The subject's waiver of their right to appeal a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Waiver {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Everything an exoneration case records beyond its columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ExonerationRecords)]
pub struct Records {
    pub incident: Incident,
    pub circumstances: Vec<Circumstance>,
    pub remedial_actions: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accountability_ref: Option<String>,
    /// Raised by an investigator during an accountability procedure (同步考虑).
    #[serde(default)]
    pub ex_officio: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplement: Option<Supplement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Note>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<Findings>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<Note>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_decisions: Vec<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectification: Option<Rectification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<Appeal>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_appeals: Vec<Appeal>,
    /// The subject gave up the appeal of the current decision (`waive_appeal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal_waiver: Option<Waiver>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<Note>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<Note>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accountability: Option<Accountability>,
    /// The follow-up talk of the current mitigation, if its sanction calls for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub talk: Option<Talk>,
    /// Talks of earlier decisions (held or cancelled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_talks: Vec<Talk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_case_id: Option<String>,
}

impl Records {
    /// The records of a case just filed: nothing has happened to it yet.
    pub fn filed(
        incident: Incident,
        circumstances: Vec<Circumstance>,
        remedial_actions: String,
        accountability_ref: Option<String>,
        ex_officio: bool,
    ) -> Records {
        Records {
            incident,
            circumstances,
            remedial_actions,
            accountability_ref,
            ex_officio,
            supplement: None,
            rejection: None,
            findings: None,
            returns: Vec::new(),
            decision: None,
            previous_decisions: Vec::new(),
            rectification: None,
            appeal: None,
            previous_appeals: Vec::new(),
            appeal_waiver: None,
            withdrawal: None,
            closure: None,
            accountability: None,
            talk: None,
            previous_talks: Vec::new(),
            linked_case_id: None,
        }
    }
}
