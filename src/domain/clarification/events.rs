//! Events of Workflow B with their payloads, parsed once and validated.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::records::{DismissReason, Finding, Handling, Method, ReferralCategory};
use crate::domain::common::{Nothing, Reason, Text};
use crate::domain::workflow::{WorkflowApi, parse_payload};
use crate::domain::{FieldError, Refusal};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeDismissal {
    pub reason_code: DismissReason,
    pub explanation: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendInquiry {
    pub questions: Text,
    pub due_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Explanation {
    pub explanation: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptExplanation {
    pub conclusion: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenInvestigation {
    pub investigator_id: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Conclude {
    pub finding: Finding,
    pub report: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Clarify {
    pub methods: Vec<Method>,
    pub scope: Text,
    pub date: NaiveDate,
}

/// `"reporter"`: the report's reporter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TheReporter {
    Reporter,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifiedAccuser {
    pub name: Text,
    pub contact: Text,
}

/// Who made the false accusation: the report's reporter, or someone identified otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AccuserBody {
    Reporter(TheReporter),
    Identified(IdentifiedAccuser),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferFalseAccusation {
    pub category: ReferralCategory,
    pub evidence: Text,
    pub accuser: AccuserBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordReferralOutcome {
    pub handling: Handling,
    pub blacklisted: bool,
    #[serde(default)]
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    ProposeDismissal(ProposeDismissal),
    ConfirmDismissal,
    RejectDismissal(Reason),
    SendInquiry(SendInquiry),
    SubmitExplanation(Explanation),
    InquiryOverdue,
    AcceptExplanation(AcceptExplanation),
    OpenInvestigation(OpenInvestigation),
    Conclude(Conclude),
    OpenExoneration,
    Clarify(Clarify),
    ReferFalseAccusation(ReferFalseAccusation),
    RecordReferralOutcome(RecordReferralOutcome),
    Close(Reason),
}

/// The fields of every event a person may send, as `Event::parse` reads them (timer
/// events come from the service itself).
pub fn api(api: WorkflowApi) -> WorkflowApi {
    api.event::<ProposeDismissal>("propose_dismissal")
        .event::<Nothing>("confirm_dismissal")
        .event::<Reason>("reject_dismissal")
        .event::<SendInquiry>("send_inquiry")
        .event::<Explanation>("submit_explanation")
        .event::<AcceptExplanation>("accept_explanation")
        .event::<OpenInvestigation>("open_investigation")
        .event::<Conclude>("conclude")
        .event::<Nothing>("open_exoneration")
        .event::<Clarify>("clarify")
        .event::<ReferFalseAccusation>("refer_false_accusation")
        .event::<RecordReferralOutcome>("record_referral_outcome")
        .event::<Reason>("close")
}

impl Event {
    pub fn parse(name: &str, body: &Value, now: DateTime<Utc>) -> Result<Event, Refusal> {
        let mut errors = Vec::new();
        let event = match name {
            "propose_dismissal" => Event::ProposeDismissal(parse_payload(body)?),
            "confirm_dismissal" => {
                parse_payload::<Nothing>(body).map(|_| Event::ConfirmDismissal)?
            }
            "reject_dismissal" => Event::RejectDismissal(parse_payload(body)?),
            "send_inquiry" => {
                let p: SendInquiry = parse_payload(body)?;
                if p.due_at <= now {
                    errors.push(FieldError::new("due_at", "must be in the future"));
                }
                Event::SendInquiry(p)
            }
            "submit_explanation" => Event::SubmitExplanation(parse_payload(body)?),
            "inquiry_overdue" => parse_payload::<Nothing>(body).map(|_| Event::InquiryOverdue)?,
            "accept_explanation" => Event::AcceptExplanation(parse_payload(body)?),
            "open_investigation" => Event::OpenInvestigation(parse_payload(body)?),
            "conclude" => Event::Conclude(parse_payload(body)?),
            "open_exoneration" => parse_payload::<Nothing>(body).map(|_| Event::OpenExoneration)?,
            "clarify" => {
                let mut p: Clarify = parse_payload(body)?;
                p.methods.dedup();
                if p.methods.is_empty() {
                    errors.push(FieldError::new(
                        "methods",
                        "name at least one of talk, meeting_notice, written_notice",
                    ));
                }
                Event::Clarify(p)
            }
            "refer_false_accusation" => {
                if let Some(accuser) = body.get("accuser")
                    && serde_json::from_value::<AccuserBody>(accuser.clone()).is_err()
                {
                    return Err(Refusal::invalid(
                        "accuser",
                        "`\"reporter\"` (the report's reporter) or {\"name\", \"contact\"} of an accuser identified otherwise",
                    ));
                }
                Event::ReferFalseAccusation(parse_payload(body)?)
            }
            "record_referral_outcome" => {
                let mut p: RecordReferralOutcome = parse_payload(body)?;
                p.notes = p.notes.trim().to_string();
                Event::RecordReferralOutcome(p)
            }
            "close" => Event::Close(parse_payload(body)?),
            other => {
                return Err(Refusal::invalid(
                    "event",
                    format!("unknown event `{other}`"),
                ));
            }
        };
        if errors.is_empty() {
            Ok(event)
        } else {
            Err(Refusal::Invalid(errors))
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Event::ProposeDismissal(_) => "propose_dismissal",
            Event::ConfirmDismissal => "confirm_dismissal",
            Event::RejectDismissal(_) => "reject_dismissal",
            Event::SendInquiry(_) => "send_inquiry",
            Event::SubmitExplanation(_) => "submit_explanation",
            Event::InquiryOverdue => "inquiry_overdue",
            Event::AcceptExplanation(_) => "accept_explanation",
            Event::OpenInvestigation(_) => "open_investigation",
            Event::Conclude(_) => "conclude",
            Event::OpenExoneration => "open_exoneration",
            Event::Clarify(_) => "clarify",
            Event::ReferFalseAccusation(_) => "refer_false_accusation",
            Event::RecordReferralOutcome(_) => "record_referral_outcome",
            Event::Close(_) => "close",
        }
    }

    /// The payload as recorded on the audit row.
    pub fn payload(&self) -> Value {
        let v = match self {
            Event::ProposeDismissal(p) => serde_json::to_value(p),
            Event::RejectDismissal(p) => serde_json::to_value(p),
            Event::SendInquiry(p) => serde_json::to_value(p),
            Event::SubmitExplanation(p) => serde_json::to_value(p),
            Event::AcceptExplanation(p) => serde_json::to_value(p),
            Event::OpenInvestigation(p) => serde_json::to_value(p),
            Event::Conclude(p) => serde_json::to_value(p),
            Event::Clarify(p) => serde_json::to_value(p),
            // The accuser is recorded sealed by the workflow, never in clear.
            Event::ReferFalseAccusation(p) => Ok(serde_json::json!({
                "category": p.category,
                "evidence": p.evidence,
            })),
            Event::RecordReferralOutcome(p) => serde_json::to_value(p),
            Event::Close(p) => serde_json::to_value(p),
            Event::InquiryOverdue | Event::OpenExoneration | Event::ConfirmDismissal => {
                Ok(Value::Object(Default::default()))
            }
        };
        v.unwrap_or(Value::Null)
    }
}
