//! Workflow B: the accusation clarification (信访举报澄清正名).

pub mod events;
pub mod machine;
pub mod records;
mod table;

pub use table::DEF;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use self::events::AccuserBody;
use self::events::Event;
use self::machine::Ctx;
use self::records::{
    Accuser, AccuserSource, Allegation, Channel, Records, Reporter, SealedReporter,
};
use super::access::{check_investigator, filing_subject};
use super::common::Text;
use super::workflow::{
    Applicant, Case, CaseOutcome, Filing, Lookup, Setup, Step, SubjectBody, Tallies, TimerSpec,
    Workflow, WorkflowApi, WorkflowDef, parse_payload,
};
use super::{Actor, FieldError, Refusal, Role};
use crate::seal::Sealer;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AllegationBody {
    summary: Text,
    details: Text,
    channel: Channel,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReporterBody {
    #[serde(default)]
    name: Option<Text>,
    #[serde(default)]
    contact: Option<Text>,
    #[serde(default)]
    anonymous: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ClarificationFiling)]
struct FilingBody {
    /// The accused cadre: `id` always; the rest as [`filing_subject`] asks.
    subject: SubjectBody,
    allegation: AllegationBody,
    #[serde(default)]
    reporter: Option<ReporterBody>,
}

const MAX_SUMMARY: usize = 200;

/// Workflow B with its sealing key.
#[derive(Debug)]
pub struct Clarification {
    sealer: Arc<Sealer>,
}

/// The registry's loader (the workflow keeps no data file of its own).
pub fn load(setup: &Setup<'_>) -> Result<Arc<dyn Workflow>, String> {
    Ok(Arc::new(Clarification::new(setup.sealer.clone())))
}

impl Clarification {
    pub fn new(sealer: Arc<Sealer>) -> Clarification {
        Clarification { sealer }
    }

    fn records(case: &Case) -> Result<Records, Refusal> {
        <Records as serde::Deserialize>::deserialize(&case.records).map_err(|e| {
            Refusal::Conflict(format!("the case's stored records cannot be read: {e}"))
        })
    }

    /// The reporter is visible to intake and investigators of the jurisdiction only — never
    /// to the subject, even one who also holds such a role.
    pub fn may_see_reporter(actor: &Actor, case: &Case) -> bool {
        actor.id != case.subject.id
            && (actor.acts_as_staff(Role::Intake, &case.subject.org)
                || actor.acts_as_staff(Role::Investigator, &case.subject.org))
    }

    /// A sealed identity (a reporter's or an accuser's) opened: `{"name", "contact"}`, or
    /// `{"sealed": true, "error"}` when the configured key cannot open it.
    fn open_identity(&self, case: &Case, sealed: &str) -> Value {
        match self
            .sealer
            .open(&case.id, sealed)
            .ok()
            .and_then(|b| serde_json::from_slice::<Reporter>(&b).ok())
        {
            Some(r) => json!({"name": r.name, "contact": r.contact}),
            None => json!({"sealed": true, "error": "cannot be opened with the configured key"}),
        }
    }

    /// Replaces a sealed reporter by its clear form for those who may see it, and removes it
    /// for everyone else.
    fn reveal_or_remove(&self, case: &Case, actor: &Actor, holder: &mut Value) {
        let Value::Object(map) = holder else { return };
        if !Self::may_see_reporter(actor, case) {
            map.remove("reporter");
            return;
        }
        let sealed = map
            .get("reporter")
            .and_then(|r| r.get("sealed"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let clear = match sealed {
            None => json!({"anonymous": true}),
            Some(s) => {
                let mut clear = self.open_identity(case, &s);
                if clear.get("name").is_some() {
                    clear["anonymous"] = json!(false);
                }
                clear
            }
        };
        map.insert("reporter".into(), clear);
    }

    /// The same for a referral's accuser (`{"source", "sealed"}`), seen as the reporter is.
    fn reveal_or_remove_accuser(&self, case: &Case, actor: &Actor, holder: &mut Value) {
        let Value::Object(map) = holder else { return };
        if !Self::may_see_reporter(actor, case) {
            map.remove("accuser");
            return;
        }
        let Some(accuser) = map.get("accuser") else {
            return;
        };
        let source = accuser.get("source").cloned().unwrap_or(Value::Null);
        let sealed = accuser
            .get("sealed")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut clear = self.open_identity(case, sealed);
        clear["source"] = source;
        map.insert("accuser".into(), clear);
    }

    /// The accuser a referral names, sealed: the report's own sealed reporter, or the
    /// identity given, sealed like it (422 on `accuser` for an anonymous report's reporter).
    fn seal_accuser(&self, case: &Case, accuser: &AccuserBody) -> Result<Accuser, Refusal> {
        match accuser {
            AccuserBody::Reporter(_) => match Self::records(case)?.reporter {
                Some(r) => Ok(Accuser {
                    source: AccuserSource::Reporter,
                    sealed: r.sealed,
                }),
                None => Err(Refusal::invalid(
                    "accuser",
                    "the report is anonymous: identify the accuser as {\"name\", \"contact\"}",
                )),
            },
            AccuserBody::Identified(who) => {
                let clear = serde_json::to_vec(&Reporter {
                    name: who.name.0.clone(),
                    contact: who.contact.0.clone(),
                })
                .map_err(|e| Refusal::Unavailable(e.to_string()))?;
                Ok(Accuser {
                    source: AccuserSource::Identified,
                    sealed: self
                        .sealer
                        .seal(&case.id, &clear)
                        .map_err(Refusal::Unavailable)?,
                })
            }
        }
    }
}

impl Workflow for Clarification {
    fn def(&self) -> &'static WorkflowDef {
        &DEF
    }

    fn api(&self) -> WorkflowApi {
        events::api(WorkflowApi::new::<FilingBody, records::Records>())
    }

    fn catalogues(&self) -> Value {
        json!({
            "reason_codes": [
                {"code": "subjective_speculation", "text": "主观臆断", "source": "宁强县措施 第12条"},
                {"code": "labeling", "text": "乱扣帽子", "source": "宁强县措施 第12条"},
                {"code": "unclear_leads", "text": "线索不清", "source": "宁强县措施 第12条"},
            ],
            "channels": ["letter", "phone", "online", "visit"],
            "findings": ["substantiated", "partially_substantiated", "unfounded"],
            "clarification_methods": [
                {"code": "talk", "text": "谈话澄清"},
                {"code": "meeting_notice", "text": "会议通报"},
                {"code": "written_notice", "text": "书面通知"},
            ],
            "referral_handling": ["none", "education", "discipline", "criminal"],
            "referral_categories": [
                {"code": "false_accusation", "text": "诬告陷害"},
                {"code": "malicious_slander", "text": "恶意中伤"},
                {"code": "rumour", "text": "散布谣言"},
            ],
        })
    }

    fn file(
        &self,
        actor: &Actor,
        body: &Value,
        now: DateTime<Utc>,
        id: String,
        lookup: &mut dyn Lookup,
    ) -> Result<Filing, Refusal> {
        let b: FilingBody = parse_payload(body)?;
        if b.subject.id.is_none() {
            return Err(Refusal::invalid(
                "subject.id",
                "name the cadre the report is about",
            ));
        }
        let (subject, role) = filing_subject(&DEF, actor, Some(b.subject), lookup)?;
        if subject.id == actor.id {
            return Err(Refusal::Forbidden(
                "a report about yourself is registered by another intake officer".into(),
            ));
        }
        let mut errors = Vec::new();
        if b.allegation.summary.0.chars().count() > MAX_SUMMARY {
            errors.push(FieldError::new(
                "allegation.summary",
                format!("must be at most {MAX_SUMMARY} characters"),
            ));
        }
        let reporter = match b.reporter {
            None => None,
            Some(r) if r.anonymous => {
                if r.name.is_some() || r.contact.is_some() {
                    errors.push(FieldError::new(
                        "reporter",
                        "an anonymous report carries no name or contact",
                    ));
                }
                None
            }
            Some(r) => match (r.name, r.contact) {
                (Some(name), Some(contact)) => Some(Reporter {
                    name: name.0,
                    contact: contact.0,
                }),
                (None, _) => {
                    errors.push(FieldError::new(
                        "reporter.name",
                        "a named report needs the reporter's name",
                    ));
                    None
                }
                (_, None) => {
                    errors.push(FieldError::new(
                        "reporter.contact",
                        "a named report needs the reporter's contact",
                    ));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(Refusal::Invalid(errors));
        }
        let sealed = match reporter {
            Some(r) => {
                let clear =
                    serde_json::to_vec(&r).map_err(|e| Refusal::Unavailable(e.to_string()))?;
                Some(SealedReporter {
                    sealed: self
                        .sealer
                        .seal(&id, &clear)
                        .map_err(Refusal::Unavailable)?,
                })
            }
            None => None,
        };
        let records = Records {
            allegation: Allegation {
                summary: b.allegation.summary.0.clone(),
                details: b.allegation.details.0,
                channel: b.allegation.channel,
            },
            reporter: sealed,
            dismissal: None,
            rejected_dismissals: Vec::new(),
            inquiry: None,
            acceptance: None,
            conclusion: None,
            clarification: None,
            referrals: Vec::new(),
            closure: None,
            linked_case_id: None,
        };
        let payload = json!({
            "subject": subject,
            "allegation": records.allegation,
            "reporter": records.reporter,
        });
        let case = Case {
            id,
            workflow: DEF.name.to_string(),
            state: DEF.initial.to_string(),
            version: 1,
            subject,
            applicant: Applicant {
                id: actor.id.clone(),
                name: actor.name.clone(),
                email: actor.email.clone(),
                role,
            },
            investigator_id: None,
            decider_id: None,
            title: b.allegation.summary.0,
            overdue: false,
            disclosed: false,
            catalogue_version: "-".into(),
            records: serde_json::to_value(&records)
                .map_err(|e| Refusal::Unavailable(e.to_string()))?,
            created_at: now,
            updated_at: now,
        };
        Ok(Filing { case, payload })
    }

    fn timers(&self, case: &Case) -> Vec<TimerSpec> {
        if case.state != "inquiry" {
            return Vec::new();
        }
        match Self::records(case).ok().and_then(|r| r.inquiry) {
            Some(i) if !i.overdue => vec![TimerSpec::event("inquiry_overdue", i.due_at)],
            _ => Vec::new(),
        }
    }

    fn deadline(&self, case: &Case) -> Option<(&'static str, DateTime<Utc>)> {
        if case.state != "inquiry" {
            return None;
        }
        Self::records(case)
            .ok()?
            .inquiry
            .map(|i| ("inquiry_overdue", i.due_at))
    }

    /// Dismissing a report is decided by two people: the reviewer who confirms it did not
    /// propose it.
    fn separation(&self, event: &str, actor: &Actor, case: &Case) -> Result<(), Refusal> {
        if event != "confirm_dismissal" {
            return Ok(());
        }
        let proposer = Self::records(case)?.dismissal.map(|d| d.by);
        if proposer.as_deref() == Some(actor.id.as_str()) {
            return Err(Refusal::Forbidden(
                "separation of duties: a dismissal is confirmed by a reviewer who did not propose it"
                    .into(),
            ));
        }
        Ok(())
    }

    fn precondition(&self, event: &str, case: &Case, now: DateTime<Utc>) -> Result<(), Refusal> {
        machine::precondition(event, &Self::records(case)?, now)
    }

    fn apply(
        &self,
        case: &Case,
        event: &str,
        body: &Value,
        actor: &Actor,
        now: DateTime<Utc>,
        lookup: &mut dyn Lookup,
    ) -> Result<Step, Refusal> {
        let ev = Event::parse(event, body, now)?;
        if let Event::OpenInvestigation(p) = &ev {
            check_investigator(lookup, &p.investigator_id.0, &case.subject.org)?;
        }
        let mut ctx = Ctx::new(&actor.id, now, Self::records(case)?);
        ctx.investigator_id = case.investigator_id.clone();
        ctx.overdue = case.overdue;
        let mut payload = ev.payload();
        if let Event::ReferFalseAccusation(p) = &ev {
            let accuser = self.seal_accuser(case, &p.accuser)?;
            payload["accuser"] =
                serde_json::to_value(&accuser).map_err(|e| Refusal::Unavailable(e.to_string()))?;
            ctx.accuser = Some(accuser);
        }
        let to = machine::step(&case.state, &ev, &mut ctx)?;
        Ok(Step {
            to: to.to_string(),
            records: serde_json::to_value(&ctx.records)
                .map_err(|e| Refusal::Unavailable(e.to_string()))?,
            investigator_id: ctx.investigator_id,
            decider_id: case.decider_id.clone(),
            overdue: ctx.overdue,
            payload,
            spawn: ctx.spawn_exoneration.then_some("exoneration"),
        })
    }

    /// The statistics count a report under its finding.
    fn tallies(&self, case: &Case) -> Tallies {
        Tallies {
            outcome: case.records["conclusion"]["finding"]
                .as_str()
                .map(str::to_string),
            talk_state: None,
        }
    }

    /// The title and the allegation's details.
    fn search_text(&self, case: &Case) -> String {
        let details = case.records["allegation"]["details"].as_str();
        format!("{} {}", case.title, details.unwrap_or_default()).to_lowercase()
    }

    /// A report's outcome is its finding (or `cleared`, `dismissed`); it sanctions nobody.
    fn outcome(&self, case: &Case) -> CaseOutcome {
        let Ok(r) = Self::records(case) else {
            return CaseOutcome::default();
        };
        let outcome = match (&r.conclusion, &r.acceptance, &r.dismissal) {
            (Some(c), _, _) => serde_json::to_value(c.finding)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string)),
            (None, Some(_), _) => Some("cleared".to_string()),
            (None, None, Some(_)) if case.state != "dismissal_proposed" => {
                Some("dismissed".to_string())
            }
            _ => None,
        };
        CaseOutcome {
            outcome,
            ..CaseOutcome::default()
        }
    }

    /// The cadre learns of a report when the organisation turns to them (an inquiry letter)
    /// or it is concluded; one dismissed without that stays unknown to them.
    fn discloses(&self, state: &str) -> bool {
        matches!(
            state,
            "inquiry" | "unfounded" | "substantiated" | "cleared" | "clarified"
        )
    }

    fn redact_records(&self, case: &Case, actor: &Actor, records: &mut Value) {
        self.reveal_or_remove(case, actor, records);
        if let Some(Value::Array(referrals)) = records.get_mut("referrals") {
            for referral in referrals {
                self.reveal_or_remove_accuser(case, actor, referral);
            }
        }
    }

    fn may_see_sealed(&self, actor: &Actor, case: &Case) -> Option<bool> {
        Some(Self::may_see_reporter(actor, case))
    }

    fn redact_payload(&self, case: &Case, actor: &Actor, event: &str, payload: &mut Value) {
        match event {
            "create" => self.reveal_or_remove(case, actor, payload),
            "refer_false_accusation" => self.reveal_or_remove_accuser(case, actor, payload),
            _ => {}
        }
    }
}
