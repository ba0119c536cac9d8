//! Events of Workflow A with their payloads, parsed once and validated (422 names the field).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::records::{AppealResult, DecisionOutcome, Elements, RedLine};
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub influence_period_months: Option<u32>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectification: Option<RectificationOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub influence_period_months: Option<u32>,
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
    ReferAccountability(Reason),
    Appeal(AppealBody),
    DecideAppeal(DecideAppeal),
    Close(Reason),
    AppealWindowExpired,
    WaiveAppeal,
    Withdraw(Reason),
}

/// Longest influence period (影响期) a mitigation may set, in months.
pub const MAX_INFLUENCE_MONTHS: u32 = 60;

fn future(field: &str, at: &DateTime<Utc>, now: DateTime<Utc>, errors: &mut Vec<FieldError>) {
    if *at <= now {
        errors.push(FieldError::new(field, "must be in the future"));
    }
}

/// Checks what an outcome must carry: exonerate and mitigate a rectification order,
/// mitigate an influence period, deny neither. A revision on appeal may leave the order out
/// (`revising`): the machine keeps a verified one or refuses.
fn check_outcome_carries(
    outcome: DecisionOutcome,
    rectification: &Option<RectificationOrder>,
    influence: Option<u32>,
    revising: bool,
    now: DateTime<Utc>,
    errors: &mut Vec<FieldError>,
) {
    match (outcome, rectification) {
        (DecisionOutcome::Deny, Some(_)) => {
            errors.push(FieldError::new("rectification", "a denial carries no rectification order"))
        }
        (DecisionOutcome::Exonerate | DecisionOutcome::Mitigate, None) if revising => {}
        (DecisionOutcome::Exonerate | DecisionOutcome::Mitigate, None) => errors.push(FieldError::new(
            "rectification",
            "exonerate and mitigate carry a rectification order: {\"requirements\", \"due_at\"}",
        )),
        (_, Some(order)) => future("rectification.due_at", &order.due_at, now, errors),
        _ => {}
    }
    match (outcome, influence) {
        (DecisionOutcome::Mitigate, None) => errors.push(FieldError::new(
            "influence_period_months",
            "mitigate carries the influence period",
        )),
        (DecisionOutcome::Mitigate, Some(m)) if m == 0 || m > MAX_INFLUENCE_MONTHS => {
            errors.push(FieldError::new(
                "influence_period_months",
                format!("must be between 1 and {MAX_INFLUENCE_MONTHS}"),
            ))
        }
        (DecisionOutcome::Exonerate | DecisionOutcome::Deny, Some(_)) => {
            errors.push(FieldError::new(
                "influence_period_months",
                "only a mitigation carries an influence period",
            ))
        }
        _ => {}
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
        .event::<Reason>("refer_accountability")
        .event::<AppealBody>("appeal")
        .event::<DecideAppeal>("decide_appeal")
        .event::<Reason>("close")
        .event::<Nothing>("waive_appeal")
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
                check_outcome_carries(
                    p.outcome,
                    &p.rectification,
                    p.influence_period_months,
                    false,
                    now,
                    &mut errors,
                );
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
            "refer_accountability" => Event::ReferAccountability(parse_payload(body)?),
            "appeal" => Event::Appeal(parse_payload(body)?),
            "decide_appeal" => {
                let p: DecideAppeal = parse_payload(body)?;
                match (p.result, p.outcome) {
                    (AppealResult::Revise, Some(outcome)) => check_outcome_carries(
                        outcome,
                        &p.rectification,
                        p.influence_period_months,
                        true,
                        now,
                        &mut errors,
                    ),
                    (AppealResult::Revise, None) => errors.push(FieldError::new(
                        "outcome",
                        "a revision names the new outcome",
                    )),
                    (_, _) => {
                        if p.outcome.is_some() {
                            errors.push(FieldError::new(
                                "outcome",
                                "only `revise` carries an outcome",
                            ));
                        }
                        if p.rectification.is_some() {
                            errors.push(FieldError::new(
                                "rectification",
                                "only `revise` carries a rectification order",
                            ));
                        }
                        if p.influence_period_months.is_some() {
                            errors.push(FieldError::new(
                                "influence_period_months",
                                "only `revise` carries an influence period",
                            ));
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
            | Event::ReferAccountability(p)
            | Event::Close(p)
            | Event::Withdraw(p) => serde_json::to_value(p),
            Event::Accept(p) => serde_json::to_value(p),
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
            | Event::WaiveAppeal => Ok(Value::Object(Default::default())),
        };
        v.unwrap_or(Value::Null)
    }
}
