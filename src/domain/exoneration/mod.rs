//! Workflow A: the exoneration application (容错免责申请): its data file, filing, timers,
//! mail records, outcomes and the glue to its machine (the table is in `table`). Long
//! because the `Workflow` trait is implemented here in one piece, which is what a reader
//! of one workflow wants to find in one place.

pub mod events;
pub mod machine;
pub mod records;
mod table;

pub use table::DEF;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use self::events::{Event, Text};
use self::machine::Ctx;
use self::records::{Circumstance, Condition, Effect, Incident, Records, RedLine, Sanction};
use super::access::{check_investigator, filing_subject};
use super::calendar::{Calendar, DayCount, Period};
use super::workflow::{
    Applicant, Case, CaseOutcome, Filing, Labelled, Lookup, Setup, Step, SubjectBody, TalkSummary,
    Tallies, TimerKind, TimerSpec, Workflow, WorkflowApi, WorkflowDef, parse_payload,
};
use super::{Actor, FieldError, Refusal, Role};

/// `workflows/exoneration.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataFile {
    deadlines: Deadlines,
    #[serde(default)]
    accountability: AccountabilityRules,
    catalogue: Catalogue,
    sanctions: Vec<Sanction>,
    effects: Vec<Effect>,
    /// Read and checked by `notify::rules`.
    #[serde(default, rename = "notifications")]
    _notifications: Vec<toml::Table>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Deadlines {
    appeal_window_days: i64,
    /// `calendar` (a period ending on a day off runs to the next working day) or `working`.
    #[serde(default = "calendar_days")]
    appeal_window_counts: DayCount,
    #[serde(default = "talk_days")]
    talk_days: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountabilityRules {
    max_rejections: usize,
}

impl Default for AccountabilityRules {
    fn default() -> Self {
        AccountabilityRules {
            max_rejections: machine::DEFAULT_MAX_REJECTIONS,
        }
    }
}

fn talk_days() -> u32 {
    machine::DEFAULT_TALK_DAYS
}

fn calendar_days() -> DayCount {
    DayCount::Calendar
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub version: String,
    pub circumstances: Vec<CatalogueEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntry {
    pub code: String,
    pub catalogue: String,
    pub text: String,
    pub source: String,
    /// Conditions that must all hold at once for the entry to support an exoneration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Condition>,
}

impl CatalogueEntry {
    /// The entry as a case keeps it once cited.
    fn cited(&self) -> Circumstance {
        Circumstance {
            code: self.code.clone(),
            text: self.text.clone(),
            source: self.source.clone(),
            requires: self.requires.clone(),
        }
    }
}

/// The instant a decision was taken (the appeal window is open then), for timer planning.
fn decided_at(r: &Records) -> DateTime<Utc> {
    r.decision.as_ref().map(|d| d.at).unwrap_or_default()
}

/// Workflow A with its data.
#[derive(Clone, Debug)]
pub struct Exoneration {
    catalogue: Catalogue,
    sanctions: Vec<Sanction>,
    effects: Vec<Effect>,
    appeal_window: Period,
    talk_days: u32,
    max_rejections: usize,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct IncidentBody {
    title: Text,
    description: Text,
    occurred_on: chrono::NaiveDate,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ExonerationFiling)]
struct FilingBody {
    /// Omitted by a cadre filing about themselves (taken from the token).
    #[serde(default)]
    subject: Option<SubjectBody>,
    incident: IncidentBody,
    #[schema(min_items = 1)]
    circumstances: Vec<String>,
    remedial_actions: Text,
    #[serde(default)]
    accountability_ref: Option<Text>,
}

const MAX_TITLE: usize = 200;

/// The registry's loader: `exoneration.toml` in the workflows folder, its appeal window
/// replaced by `workflows.appeal_window_days` when that is positive.
pub fn load(setup: &Setup<'_>) -> Result<Arc<dyn Workflow>, String> {
    let wf = Exoneration::load(
        setup.dir,
        setup.settings.appeal_window_days,
        setup.calendar.clone(),
    )?;
    Ok(Arc::new(wf))
}

impl Exoneration {
    pub fn load(
        dir: &Path,
        appeal_window_days_override: i64,
        calendar: Arc<Calendar>,
    ) -> Result<Exoneration, String> {
        let path = dir.join("exoneration.toml");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Exoneration::from_toml(&text, appeal_window_days_override, calendar)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the data file; a positive `appeal_window_days_override` replaces its window.
    pub fn from_toml(
        text: &str,
        appeal_window_days_override: i64,
        calendar: Arc<Calendar>,
    ) -> Result<Exoneration, String> {
        let data: DataFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut seen = std::collections::HashSet::new();
        for entry in &data.catalogue.circumstances {
            if !seen.insert(entry.code.clone()) {
                return Err(format!("circumstance code `{}` appears twice", entry.code));
            }
        }
        if data.catalogue.circumstances.is_empty() {
            return Err("the circumstance catalogue is empty".into());
        }
        for entry in &data.catalogue.circumstances {
            let mut conditions = std::collections::HashSet::new();
            for r in &entry.requires {
                if !conditions.insert(r.code.as_str()) {
                    return Err(format!(
                        "circumstance `{}` requires `{}` twice",
                        entry.code, r.code
                    ));
                }
            }
        }
        let mut codes = std::collections::HashSet::new();
        for sanction in &data.sanctions {
            if !codes.insert(sanction.code.as_str()) {
                return Err(format!("sanction code `{}` appears twice", sanction.code));
            }
            if sanction.influence_months > events::MAX_INFLUENCE_MONTHS {
                return Err(format!(
                    "sanction `{}`: influence_months is at most {}",
                    sanction.code,
                    events::MAX_INFLUENCE_MONTHS
                ));
            }
        }
        if data.sanctions.is_empty() {
            return Err("the sanctions catalogue is empty".into());
        }
        let mut codes = std::collections::HashSet::new();
        for effect in &data.effects {
            if !codes.insert(effect.code.as_str()) {
                return Err(format!("effect code `{}` appears twice", effect.code));
            }
        }
        if data.accountability.max_rejections == 0 {
            return Err("accountability.max_rejections must be positive".into());
        }
        if data.deadlines.talk_days == 0 {
            return Err("deadlines.talk_days must be positive".into());
        }
        let days = if appeal_window_days_override > 0 {
            appeal_window_days_override
        } else {
            data.deadlines.appeal_window_days
        };
        if days <= 0 {
            return Err("deadlines.appeal_window_days must be positive".into());
        }
        let window = Period::new(days as u32, data.deadlines.appeal_window_counts, calendar);
        Ok(Exoneration {
            catalogue: data.catalogue,
            sanctions: data.sanctions,
            effects: data.effects,
            appeal_window: window,
            talk_days: data.deadlines.talk_days,
            max_rejections: data.accountability.max_rejections,
        })
    }

    pub fn appeal_window(&self) -> &Period {
        &self.appeal_window
    }

    /// The catalogue's entries for `codes`, as a case keeps them; unknown and repeated
    /// codes are errors on `circumstances[i]`.
    fn cite(&self, codes: &[String], errors: &mut Vec<FieldError>) -> Vec<Circumstance> {
        let mut cited: Vec<Circumstance> = Vec::new();
        for (i, code) in codes.iter().enumerate() {
            match self
                .catalogue
                .circumstances
                .iter()
                .find(|c| &c.code == code)
            {
                Some(entry) if !cited.iter().any(|c| &c.code == code) => cited.push(entry.cited()),
                Some(_) => errors.push(FieldError::new(
                    format!("circumstances[{i}]"),
                    format!("`{code}` is cited twice"),
                )),
                None => errors.push(FieldError::new(
                    format!("circumstances[{i}]"),
                    format!(
                        "unknown circumstance code `{code}` (catalogue {})",
                        self.catalogue.version
                    ),
                )),
            }
        }
        cited
    }

    fn records(case: &Case) -> Result<Records, Refusal> {
        <Records as serde::Deserialize>::deserialize(&case.records).map_err(|e| {
            Refusal::Conflict(format!("the case's stored records cannot be read: {e}"))
        })
    }
}

impl Workflow for Exoneration {
    fn def(&self) -> &'static WorkflowDef {
        &DEF
    }

    fn api(&self) -> WorkflowApi {
        events::api(WorkflowApi::new::<FilingBody, records::Records>())
    }

    fn catalogues(&self) -> Value {
        json!({
            "catalogue_version": self.catalogue.version,
            "circumstances": self.catalogue.circumstances,
            "red_lines": RedLine::ALL.iter().map(|r| json!({"code": r.code(), "text": r.text()})).collect::<Vec<_>>(),
            "sanctions": self.sanctions,
            "degrees": [{"code": "lighter", "text": "从轻"}, {"code": "reduced", "text": "减轻"}],
            "effects": self.effects,
            "accountability_grounds": ["overdue", "ineffective", "refused"],
            "max_rejections": self.max_rejections,
            "talk_days": self.talk_days,
            "outcomes": ["exonerate", "mitigate", "deny"],
            "appeal_results": ["uphold", "revise", "remand"],
            "element_findings": ["favourable", "unfavourable", "neutral"],
            "appeal_window_days": self.appeal_window.days,
            "appeal_window_counts": self.appeal_window.count,
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
        let (subject, role) = filing_subject(&DEF, actor, b.subject, lookup)?;
        let mut errors = Vec::new();
        if b.incident.title.0.chars().count() > MAX_TITLE {
            errors.push(FieldError::new(
                "incident.title",
                format!("must be at most {MAX_TITLE} characters"),
            ));
        }
        if b.incident.occurred_on > now.date_naive() {
            errors.push(FieldError::new(
                "incident.occurred_on",
                "must not be in the future",
            ));
        }
        if b.circumstances.is_empty() {
            errors.push(FieldError::new(
                "circumstances",
                "cite at least one circumstance code of the catalogue",
            ));
        }
        let cited = self.cite(&b.circumstances, &mut errors);
        if !errors.is_empty() {
            return Err(Refusal::Invalid(errors));
        }
        let records = Records::filed(
            Incident {
                title: b.incident.title.0.clone(),
                description: b.incident.description.0.clone(),
                occurred_on: b.incident.occurred_on,
            },
            cited,
            b.remedial_actions.0.clone(),
            b.accountability_ref.map(Text::into_string),
            role == Role::Investigator,
        );
        let records_json =
            serde_json::to_value(&records).map_err(|e| Refusal::Unavailable(e.to_string()))?;
        let payload = json!({
            "subject": subject,
            "incident": records.incident,
            "circumstances": records.circumstances.iter().map(|c| c.code.clone()).collect::<Vec<_>>(),
            "catalogue_version": self.catalogue.version,
            "remedial_actions": records.remedial_actions,
            "accountability_ref": records.accountability_ref,
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
            title: records.incident.title.clone(),
            overdue: false,
            disclosed: true,
            catalogue_version: self.catalogue.version.clone(),
            records: records_json,
            created_at: now,
            updated_at: now,
        };
        Ok(Filing { case, payload })
    }

    fn timers(&self, case: &Case) -> Vec<TimerSpec> {
        let Ok(r) = Self::records(case) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match case.state.as_str() {
            "needs_supplement" => {
                if let Some(s) = r.supplement.as_ref().filter(|s| !s.overdue) {
                    out.push(TimerSpec::event("supplement_overdue", s.due_at));
                }
            }
            "exonerated" | "mitigated" if machine::rectification_pending(&r) => {
                if let Some(x) = r
                    .rectification
                    .as_ref()
                    .filter(|x| x.state == records::RectificationState::Ordered)
                {
                    out.push(TimerSpec::event("rectification_overdue", x.due_at));
                }
            }
            // Nothing pending but the appeal: the case closes when its window ends.
            "exonerated" | "mitigated" | "denied" => {
                if let (Ok(()), Some(d)) = (
                    machine::appeal_open(&r, decided_at(&r), &self.appeal_window),
                    &r.decision,
                ) {
                    out.push(TimerSpec::event(
                        "appeal_window_expired",
                        self.appeal_window.end(d.at),
                    ));
                }
            }
            _ => {}
        }
        // 必谈: the follow-up talk, whatever state the case is in.
        if let Some(talk) = r
            .talk
            .as_ref()
            .filter(|t| t.state == records::TalkState::Due)
        {
            out.push(TimerSpec::event("talk_overdue", talk.due_at));
        }
        // 影响期: the cadre may be used normally again when it ends (seed 002 #12).
        if let Some(ends) = r.decision.as_ref().and_then(|d| d.influence_ends_on) {
            let beijing_midnight = ends
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc() - Duration::hours(8));
            if let Some(at) = beijing_midnight {
                out.push(TimerSpec {
                    kind: TimerKind::Notice,
                    name: "influence_end".into(),
                    due_at: at,
                });
            }
        }
        out
    }

    fn deadline(&self, case: &Case) -> Option<(&'static str, DateTime<Utc>)> {
        let r = Self::records(case).ok()?;
        // While an appeal may still be lodged, its window is the deadline.
        let appeal_window = || {
            machine::appeal_open(&r, case.updated_at, &self.appeal_window)
                .ok()
                .and(r.decision.as_ref())
                .map(|d| ("appeal_window_expired", self.appeal_window.end(d.at)))
        };
        match case.state.as_str() {
            "needs_supplement" => r
                .supplement
                .as_ref()
                .map(|s| ("supplement_overdue", s.due_at)),
            "exonerated" | "mitigated" => {
                let rect = r.rectification.as_ref().filter(|x| {
                    matches!(
                        x.state,
                        records::RectificationState::Ordered | records::RectificationState::Overdue
                    )
                });
                match rect {
                    Some(x) => Some(("rectification_overdue", x.due_at)),
                    None => appeal_window(),
                }
            }
            "denied" => appeal_window(),
            _ => None,
        }
    }

    /// The decision with its outcome and degree in Chinese; the rectification ordered and a
    /// follow-up talk still to be held, with their due dates in 北京时间.
    fn mail_records(&self, records: &Value) -> serde_json::Map<String, Value> {
        let due_local = |mut v: Value| {
            if let Some(local) = v["due_at"].as_str().and_then(crate::time::at_local_of) {
                v["due_local"] = Value::String(local);
            }
            v
        };
        let decision = records.get("decision").filter(|d| d.is_object()).map(|d| {
            let mut d = d.clone();
            let outcome = match d["outcome"].as_str().unwrap_or_default() {
                "exonerate" => "予以免责（免于问责）",
                "mitigate" => "从轻或减轻处理",
                "deny" => "不予容错",
                other => other,
            };
            d["outcome_zh"] = Value::String(outcome.to_string());
            if let Some(degree) = d["degree"].as_str() {
                let zh = match degree {
                    "lighter" => "从轻",
                    "reduced" => "减轻",
                    other => other,
                };
                d["degree_zh"] = Value::String(zh.to_string());
            }
            d
        });
        let talk = records
            .get("talk")
            .filter(|t| matches!(t["state"].as_str(), Some("due" | "overdue")))
            .cloned()
            .map(due_local);
        let rectification = records
            .get("rectification")
            .filter(|r| r.is_object())
            .cloned()
            .map(due_local);
        let mut out = serde_json::Map::new();
        for (key, value) in [
            ("decision", decision),
            ("rectification", rectification),
            ("talk", talk),
        ] {
            out.insert(key.into(), value.unwrap_or(Value::Null));
        }
        out
    }

    fn tallies(&self, case: &Case) -> Tallies {
        let r = &case.records;
        let text = |v: &Value| v.as_str().map(str::to_string);
        Tallies {
            outcome: text(&r["decision"]["outcome"]),
            talk_state: text(&r["talk"]["state"]),
        }
    }

    /// The title and the incident's description.
    fn search_text(&self, case: &Case) -> String {
        let description = case.records["incident"]["description"].as_str();
        format!("{} {}", case.title, description.unwrap_or_default()).to_lowercase()
    }

    fn outcome(&self, case: &Case) -> CaseOutcome {
        let Ok(r) = Self::records(case) else {
            return CaseOutcome::default();
        };
        let Some(d) = r.decision else {
            return CaseOutcome::default();
        };
        let labelled = |code: &str, text: &str| Labelled {
            code: code.to_string(),
            text: text.to_string(),
        };
        CaseOutcome {
            outcome: Some(d.outcome.as_str().to_string()),
            degree: d.degree.map(|g| g.as_str().to_string()),
            sanction: d.sanction.as_ref().map(|s| labelled(&s.code, &s.text)),
            influence_ends_on: d.influence_ends_on,
            promotion_bar_ends_on: d.promotion_bar_ends_on,
            effects: d
                .effects
                .iter()
                .map(|e| labelled(&e.code, &e.text))
                .collect(),
            talk: r.talk.map(|t| TalkSummary {
                state: t.state.as_str().to_string(),
                due_at: t.due_at,
            }),
        }
    }

    fn separation(&self, event: &str, actor: &Actor, case: &Case) -> Result<(), Refusal> {
        match event {
            "decide" if case.investigator_id.as_deref() == Some(actor.id.as_str()) => {
                Err(Refusal::Forbidden(
                    "separation of duties: the assigned investigator may not decide the case"
                        .into(),
                ))
            }
            "decide_appeal" if case.decider_id.as_deref() == Some(actor.id.as_str()) => {
                Err(Refusal::Forbidden(
                    "separation of duties: the original decider may not review the appeal".into(),
                ))
            }
            _ => Ok(()),
        }
    }

    fn precondition(&self, event: &str, case: &Case, now: DateTime<Utc>) -> Result<(), Refusal> {
        let records = Self::records(case)?;
        machine::precondition(event, &records, now, &self.appeal_window)
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
        let records = Self::records(case)?;
        let mut ctx = Ctx::new(&actor.id, now, self.appeal_window.clone(), records);
        // What the pure machine needs from the data: resolved here, refused here (422).
        let mut errors = Vec::new();
        let sanction = match &ev {
            Event::Accept(p) => {
                check_investigator(lookup, &p.investigator_id.0, &case.subject.org)?;
                None
            }
            Event::SubmitFindings(p) => {
                if let Some(codes) = &p.circumstances {
                    ctx.recited = Some(self.cite(codes, &mut errors));
                }
                None
            }
            Event::Decide(p) => p.sanction.as_deref(),
            Event::DecideAppeal(p) => p.sanction.as_deref(),
            _ => None,
        };
        if let Some(code) = sanction {
            match self.sanctions.iter().find(|s| s.code == code) {
                Some(s) => ctx.sanction = Some(s.clone()),
                None => errors.push(FieldError::new(
                    "sanction",
                    format!(
                        "unknown sanction `{code}`; the catalogue has {}",
                        self.sanctions
                            .iter()
                            .map(|s| s.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(Refusal::Invalid(errors));
        }
        ctx.effects = self.effects.clone();
        ctx.talk_days = self.talk_days;
        ctx.max_rejections = self.max_rejections;
        ctx.investigator_id = case.investigator_id.clone();
        ctx.decider_id = case.decider_id.clone();
        ctx.overdue = case.overdue;
        let to = machine::step(&case.state, &ev, &mut ctx)?;
        Ok(Step {
            to: to.to_string(),
            records: serde_json::to_value(&ctx.records)
                .map_err(|e| Refusal::Unavailable(e.to_string()))?,
            investigator_id: ctx.investigator_id,
            decider_id: ctx.decider_id,
            overdue: ctx.overdue,
            payload: ev.payload(),
            spawn: None,
        })
    }

    /// 同步考虑: a case opened ex officio from a substantiated report (Workflow B).
    fn file_linked(
        &self,
        source: &Case,
        actor: &Actor,
        now: DateTime<Utc>,
        id: String,
    ) -> Result<Filing, Refusal> {
        let mut records = Records::filed(
            Incident {
                title: source.title.clone(),
                description: format!(
                    "依职权同步考虑容错情形：信访举报案件 {} 经调查属实。",
                    source.id
                ),
                occurred_on: source.created_at.date_naive(),
            },
            Vec::new(),
            "（待补充）".into(),
            Some(source.id.clone()),
            true,
        );
        records.linked_case_id = Some(source.id.clone());
        let payload = json!({
            "subject": source.subject,
            "incident": records.incident,
            "circumstances": [],
            "catalogue_version": self.catalogue.version,
            "ex_officio": true,
            "linked_case_id": source.id,
        });
        let case = Case {
            id,
            workflow: DEF.name.to_string(),
            state: DEF.initial.to_string(),
            version: 1,
            subject: source.subject.clone(),
            applicant: Applicant {
                id: actor.id.clone(),
                name: actor.name.clone(),
                email: actor.email.clone(),
                role: Role::Investigator,
            },
            investigator_id: None,
            decider_id: None,
            title: source.title.clone(),
            overdue: false,
            disclosed: true,
            catalogue_version: self.catalogue.version.clone(),
            records: serde_json::to_value(&records)
                .map_err(|e| Refusal::Unavailable(e.to_string()))?,
            created_at: now,
            updated_at: now,
        };
        Ok(Filing { case, payload })
    }
}
