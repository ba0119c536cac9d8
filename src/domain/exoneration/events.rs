//! Events of Workflow A with their payloads, parsed once and validated (422 names the field).
//! Long because it holds one body type per event, each with its checks; they
//! are read together when an event's fields change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use std::collections::BTreeMap;

use super::records::{
    AppealResult, ConditionFinding, DecisionOutcome, Degree, ELEMENT_NAMES, Elements, Finding,
    Ground, RedLine,
};
use crate::domain::workflow::{WorkflowApi, parse_payload};
use crate::domain::{FieldError, Refusal};

pub use crate::domain::common::{MAX_TEXT, Nothing, Reason, Text};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSupplement {
    pub items: Text,
    pub due_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplementMaterial {
    pub material: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    pub investigator_id: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitFindings {
    pub elements: Elements,
    pub red_lines: Vec<RedLine>,
    pub recommendation: DecisionOutcome,
    #[serde(default)]
    pub notes: String,
    /// Replaces the circumstance codes the case cites (how an ex-officio case gets its
    /// codes); audited with the findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circumstances: Option<Vec<String>>,
    /// Whether each condition of the cited entries that declare `requires` holds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, ConditionFinding>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationOrder {
    pub requirements: Text,
    pub due_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decide {
    pub outcome: DecisionOutcome,
    pub explanation: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectification: Option<RectificationOrder>,
    /// Mitigate: 从轻 or 减轻.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degree: Option<Degree>,
    /// Mitigate: a code of the sanctions catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanction: Option<String>,
    /// Mitigate: longer than the sanction's, up to 60; left out, the sanction's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub influence_period_months: Option<u32>,
    /// Exonerate: why, for each unfavourable element of the findings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, Text>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub report: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    pub accepted: bool,
    pub comment: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Extend {
    pub due_at: DateTime<Utc>,
    pub reason: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    pub grounds: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideAppeal {
    pub result: AppealResult,
    pub explanation: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<DecisionOutcome>,
    /// A revision to exonerate or mitigate: left out only to keep a verified one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectification: Option<RectificationOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degree: Option<Degree>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub influence_period_months: Option<u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, Text>,
}

impl DecideAppeal {
    /// A revision's new outcome as a decision, to be tested and recorded like one.
    pub fn as_decision(&self) -> Option<Decide> {
        Some(Decide {
            outcome: self.outcome?,
            explanation: self.explanation.clone(),
            rectification: self.rectification.clone(),
            degree: self.degree,
            sanction: self.sanction.clone(),
            influence_period_months: self.influence_period_months,
            overrides: self.overrides.clone(),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferAccountability {
    pub ground: Ground,
    pub reason: Text,
    /// Required for `refused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordTalk {
    pub held_on: chrono::NaiveDate,
    #[schema(min_items = 1)]
    pub participants: Vec<Text>,
    pub summary: Text,
}

/// Every event of Workflow A.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    RequestSupplement(RequestSupplement),
    Supplement(SupplementMaterial),
    SupplementOverdue,
    RejectIntake(Reason),
    Accept(Accept),
    SubmitFindings(SubmitFindings),
    ReturnForInvestigation(Reason),
    Decide(Decide),
    SubmitRectification(Report),
    VerifyRectification(Verify),
    RectificationOverdue,
    ExtendRectification(Extend),
    ReferAccountability(ReferAccountability),
    Appeal(AppealBody),
    DecideAppeal(DecideAppeal),
    Close(Reason),
    AppealWindowExpired,
    WaiveAppeal,
    RecordTalk(RecordTalk),
    TalkOverdue,
    Withdraw(Reason),
}

/// Longest influence period (影响期) a mitigation may set, in months.
pub const MAX_INFLUENCE_MONTHS: u32 = 60;

fn future(field: &str, at: &DateTime<Utc>, now: DateTime<Utc>, errors: &mut Vec<FieldError>) {
    if *at <= now {
        errors.push(FieldError::new(field, "must be in the future"));
    }
}

/// Checks what an outcome must carry, from the payload alone: exonerate and mitigate a
/// rectification order (a revision on appeal may leave it out to keep a verified one: the
/// machine decides), mitigate its degree and sanction, exonerate alone overrides of
/// elements; what an outcome does not carry must be absent.
fn check_outcome_carries(
    d: &Decide,
    revising: bool,
    now: DateTime<Utc>,
    errors: &mut Vec<FieldError>,
) {
    use DecisionOutcome::*;
    let mut absent = |present: bool, field: &str, why: &str| {
        if present {
            errors.push(FieldError::new(field, why));
        }
    };
    absent(
        d.outcome == Deny && d.rectification.is_some(),
        "rectification",
        "a denial carries no rectification order",
    );
    absent(
        d.outcome != Mitigate && d.degree.is_some(),
        "degree",
        "only a mitigation has a degree",
    );
    absent(
        d.outcome != Mitigate && d.sanction.is_some(),
        "sanction",
        "only a mitigation carries a sanction",
    );
    absent(
        d.outcome != Mitigate && d.influence_period_months.is_some(),
        "influence_period_months",
        "only a mitigation carries an influence period",
    );
    absent(
        d.outcome != Exonerate && !d.overrides.is_empty(),
        "overrides",
        "only an exoneration overrides unfavourable elements",
    );
    match &d.rectification {
        Some(order) => future("rectification.due_at", &order.due_at, now, errors),
        None if d.outcome != Deny && !revising => errors.push(FieldError::new(
            "rectification",
            "exonerate and mitigate carry a rectification order: {\"requirements\", \"due_at\"}",
        )),
        None => {}
    }
    if d.outcome == Mitigate {
        if d.degree.is_none() {
            errors.push(FieldError::new(
                "degree",
                "a mitigation is `lighter` (从轻) or `reduced` (减轻)",
            ));
        }
        if d.sanction.is_none() {
            errors.push(FieldError::new(
                "sanction",
                "a mitigation names its sanction, a code of the sanctions catalogue",
            ));
        }
        if d.influence_period_months
            .is_some_and(|m| m > MAX_INFLUENCE_MONTHS)
        {
            errors.push(FieldError::new(
                "influence_period_months",
                format!("must be at most {MAX_INFLUENCE_MONTHS}"),
            ));
        }
    }
    for key in d.overrides.keys() {
        if !ELEMENT_NAMES.contains(&key.as_str()) {
            errors.push(FieldError::new(
                format!("overrides.{key}"),
                format!(
                    "not an element; the elements are {}",
                    ELEMENT_NAMES.join(", ")
                ),
            ));
        }
    }
}

/// The six elements and the red lines describe the same facts (seed 004 #11): a motive of
/// private gain is the `personal_gain` red line, a violation of discipline or law the
/// `law_violation` one.
fn check_elements_agree(p: &SubmitFindings, errors: &mut Vec<FieldError>) {
    let pairs = [
        (&p.elements.motive, "motive", RedLine::PersonalGain),
        (&p.elements.nature, "nature", RedLine::LawViolation),
    ];
    for (element, name, red_line) in pairs {
        if element.finding == Finding::Unfavourable && !p.red_lines.contains(&red_line) {
            errors.push(FieldError::new(
                "red_lines",
                format!(
                    "an unfavourable `{name}` is the red line `{}` ({}): record it, or find `{name}` otherwise",
                    red_line.code(),
                    red_line.text()
                ),
            ));
        }
    }
}

fn done(event: Event, errors: Vec<FieldError>) -> Result<Event, Refusal> {
    if errors.is_empty() {
        Ok(event)
    } else {
        Err(Refusal::Invalid(errors))
    }
}

/// The fields of every event a person may send, as `Event::parse` reads them (timer
/// events come from the service itself).
pub fn api(api: WorkflowApi) -> WorkflowApi {
    api.event::<RequestSupplement>("request_supplement")
        .event::<SupplementMaterial>("supplement")
        .event::<Reason>("reject_intake")
        .event::<Accept>("accept")
        .event::<SubmitFindings>("submit_findings")
        .event::<Reason>("return_for_investigation")
        .event::<Decide>("decide")
        .event::<Report>("submit_rectification")
        .event::<Verify>("verify_rectification")
        .event::<Extend>("extend_rectification")
        .event::<ReferAccountability>("refer_accountability")
        .event::<AppealBody>("appeal")
        .event::<DecideAppeal>("decide_appeal")
        .event::<Reason>("close")
        .event::<Nothing>("waive_appeal")
        .event::<RecordTalk>("record_talk")
        .event::<Reason>("withdraw")
}

impl Event {
    /// Parses and validates the payload of `name` (the caller checked the name exists).
    pub fn parse(name: &str, body: &Value, now: DateTime<Utc>) -> Result<Event, Refusal> {
        let mut errors = Vec::new();
        let event = match name {
            "request_supplement" => {
                let p: RequestSupplement = parse_payload(body)?;
                future("due_at", &p.due_at, now, &mut errors);
                Event::RequestSupplement(p)
            }
            "supplement" => Event::Supplement(parse_payload(body)?),
            "supplement_overdue" => {
                parse_payload::<Nothing>(body).map(|_| Event::SupplementOverdue)?
            }
            "reject_intake" => Event::RejectIntake(parse_payload(body)?),
            "accept" => Event::Accept(parse_payload(body)?),
            "submit_findings" => {
                let mut p: SubmitFindings = parse_payload(body)?;
                let mut seen = Vec::new();
                p.red_lines.retain(|r| {
                    let new = !seen.contains(r);
                    seen.push(*r);
                    new
                });
                check_elements_agree(&p, &mut errors);
                if p.circumstances.as_ref().is_some_and(Vec::is_empty) {
                    errors.push(FieldError::new(
                        "circumstances",
                        "cite at least one circumstance code of the catalogue, or leave it out",
                    ));
                }
                if !p.red_lines.is_empty() && p.recommendation != DecisionOutcome::Deny {
                    errors.push(FieldError::new(
                        "recommendation",
                        format!(
                            "red line `{}` is recorded: the only possible recommendation is `deny`",
                            p.red_lines[0].code()
                        ),
                    ));
                }
                Event::SubmitFindings(p)
            }
            "return_for_investigation" => Event::ReturnForInvestigation(parse_payload(body)?),
            "decide" => {
                let p: Decide = parse_payload(body)?;
                check_outcome_carries(&p, false, now, &mut errors);
                Event::Decide(p)
            }
            "submit_rectification" => Event::SubmitRectification(parse_payload(body)?),
            "verify_rectification" => {
                let p: Verify = parse_payload(body)?;
                match (p.accepted, &p.due_at) {
                    (false, None) => errors.push(FieldError::new(
                        "due_at",
                        "a rectification not accepted needs a new due date",
                    )),
                    (false, Some(at)) => future("due_at", at, now, &mut errors),
                    (true, Some(_)) => errors.push(FieldError::new(
                        "due_at",
                        "only a rectification not accepted gets a new due date",
                    )),
                    (true, None) => {}
                }
                Event::VerifyRectification(p)
            }
            "rectification_overdue" => {
                parse_payload::<Nothing>(body).map(|_| Event::RectificationOverdue)?
            }
            "extend_rectification" => {
                let p: Extend = parse_payload(body)?;
                future("due_at", &p.due_at, now, &mut errors);
                Event::ExtendRectification(p)
            }
            "refer_accountability" => {
                let p: ReferAccountability = parse_payload(body)?;
                if p.ground == Ground::Refused && p.evidence.is_none() {
                    errors.push(FieldError::new(
                        "evidence",
                        "a refusal to rectify is referred with its evidence",
                    ));
                }
                Event::ReferAccountability(p)
            }
            "appeal" => Event::Appeal(parse_payload(body)?),
            "decide_appeal" => {
                let p: DecideAppeal = parse_payload(body)?;
                match (p.result, p.as_decision()) {
                    (AppealResult::Revise, Some(d)) => {
                        check_outcome_carries(&d, true, now, &mut errors)
                    }
                    (AppealResult::Revise, None) => errors.push(FieldError::new(
                        "outcome",
                        "a revision names the new outcome",
                    )),
                    (_, _) => {
                        let carried = [
                            ("outcome", p.outcome.is_some()),
                            ("rectification", p.rectification.is_some()),
                            ("degree", p.degree.is_some()),
                            ("sanction", p.sanction.is_some()),
                            (
                                "influence_period_months",
                                p.influence_period_months.is_some(),
                            ),
                            ("overrides", !p.overrides.is_empty()),
                        ];
                        for (field, present) in carried {
                            if present {
                                errors.push(FieldError::new(
                                    field,
                                    format!("only `revise` carries `{field}`"),
                                ));
                            }
                        }
                    }
                }
                Event::DecideAppeal(p)
            }
            "close" => Event::Close(parse_payload(body)?),
            "appeal_window_expired" => {
                parse_payload::<Nothing>(body).map(|_| Event::AppealWindowExpired)?
            }
            "waive_appeal" => parse_payload::<Nothing>(body).map(|_| Event::WaiveAppeal)?,
            "record_talk" => {
                let p: RecordTalk = parse_payload(body)?;
                if p.participants.is_empty() {
                    errors.push(FieldError::new(
                        "participants",
                        "name who took part in the talk",
                    ));
                }
                if p.held_on > now.date_naive() {
                    errors.push(FieldError::new("held_on", "must not be in the future"));
                }
                Event::RecordTalk(p)
            }
            "talk_overdue" => parse_payload::<Nothing>(body).map(|_| Event::TalkOverdue)?,
            "withdraw" => Event::Withdraw(parse_payload(body)?),
            other => {
                return Err(Refusal::invalid(
                    "event",
                    format!("unknown event `{other}`"),
                ));
            }
        };
        done(event, errors)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Event::RequestSupplement(_) => "request_supplement",
            Event::Supplement(_) => "supplement",
            Event::SupplementOverdue => "supplement_overdue",
            Event::RejectIntake(_) => "reject_intake",
            Event::Accept(_) => "accept",
            Event::SubmitFindings(_) => "submit_findings",
            Event::ReturnForInvestigation(_) => "return_for_investigation",
            Event::Decide(_) => "decide",
            Event::SubmitRectification(_) => "submit_rectification",
            Event::VerifyRectification(_) => "verify_rectification",
            Event::RectificationOverdue => "rectification_overdue",
            Event::ExtendRectification(_) => "extend_rectification",
            Event::ReferAccountability(_) => "refer_accountability",
            Event::Appeal(_) => "appeal",
            Event::DecideAppeal(_) => "decide_appeal",
            Event::Close(_) => "close",
            Event::AppealWindowExpired => "appeal_window_expired",
            Event::WaiveAppeal => "waive_appeal",
            Event::RecordTalk(_) => "record_talk",
            Event::TalkOverdue => "talk_overdue",
            Event::Withdraw(_) => "withdraw",
        }
    }

    /// The payload as recorded on the audit row (normalised: trimmed texts, known keys).
    pub fn payload(&self) -> Value {
        let v = match self {
            Event::RequestSupplement(p) => serde_json::to_value(p),
            Event::Supplement(p) => serde_json::to_value(p),
            Event::RejectIntake(p)
            | Event::ReturnForInvestigation(p)
            | Event::Close(p)
            | Event::Withdraw(p) => serde_json::to_value(p),
            Event::Accept(p) => serde_json::to_value(p),
            Event::ReferAccountability(p) => serde_json::to_value(p),
            Event::RecordTalk(p) => serde_json::to_value(p),
            Event::SubmitFindings(p) => serde_json::to_value(p),
            Event::Decide(p) => serde_json::to_value(p),
            Event::SubmitRectification(p) => serde_json::to_value(p),
            Event::VerifyRectification(p) => serde_json::to_value(p),
            Event::ExtendRectification(p) => serde_json::to_value(p),
            Event::Appeal(p) => serde_json::to_value(p),
            Event::DecideAppeal(p) => serde_json::to_value(p),
            Event::SupplementOverdue
            | Event::RectificationOverdue
            | Event::AppealWindowExpired
            | Event::WaiveAppeal
            | Event::TalkOverdue => Ok(Value::Object(Default::default())),
        };
        v.unwrap_or(Value::Null)
    }
}
