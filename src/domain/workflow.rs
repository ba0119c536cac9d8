//! What every workflow shares: the transition table type, who may act, the case as the
//! engine sees it, and the `Workflow` trait the engine drives.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, schema::Schema};

use super::{Actor, FieldError, Refusal, Role};

/// Who may apply an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// Anyone holding this staff role in the case's jurisdiction.
    Role(Role),
    /// The person who filed the case.
    Applicant,
    /// The cadre the case is about.
    Subject,
    /// The investigator assigned to the case.
    AssignedInvestigator,
    /// Timers.
    System,
}

impl Party {
    pub fn label(self) -> String {
        match self {
            Party::Role(r) => r.as_str().to_string(),
            Party::Applicant => "applicant".into(),
            Party::Subject => "subject".into(),
            Party::AssignedInvestigator => "assigned_investigator".into(),
            Party::System => "system".into(),
        }
    }
}

/// `to` value meaning "the state the case was in".
pub const SAME: &str = "(same)";

/// One row of a workflow's transition table (docs/DOMAIN.md).
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub from: &'static [&'static str],
    pub event: &'static str,
    pub to: &'static [&'static str],
    pub parties: &'static [Party],
    pub carries: &'static str,
}

/// A workflow's static shape: the one table that drives `available_events`, the
/// workflow endpoint, the docs and the diagram, and that the machine is tested against.
#[derive(Debug)]
pub struct WorkflowDef {
    pub name: &'static str,
    /// "中文 / English".
    pub title: &'static str,
    /// What mail calls the procedure in a subject line (容错纠错).
    pub title_short: &'static str,
    /// The path segment of its cases: `/api/v1/{collection}`.
    pub collection: &'static str,
    /// The letters before a case number (`RC-…`).
    pub number_prefix: &'static str,
    /// Each state's name in Chinese, as mail and the ledger print it.
    pub states_zh: &'static [(&'static str, &'static str)],
    /// Each deadline a timer watches: (timer, 中文, English), as mail names it.
    pub deadlines: &'static [(&'static str, &'static str, &'static str)],
    pub initial: &'static str,
    pub states: &'static [&'static str],
    pub terminal: &'static [&'static str],
    pub create_parties: &'static [Party],
    pub rows: &'static [Row],
}

impl WorkflowDef {
    /// The collection's path, `/api/v1/exonerations`.
    pub fn path(&self) -> String {
        format!("/api/v1/{}", self.collection)
    }

    /// `state` in Chinese (the state itself when the table has no name for it).
    pub fn state_zh<'a>(&self, state: &'a str) -> &'a str {
        self.states_zh
            .iter()
            .find(|(s, _)| *s == state)
            .map(|(_, zh)| *zh)
            .unwrap_or(state)
    }

    /// What the deadline a timer watches is called: (中文, English).
    pub fn deadline_label(&self, timer: &str) -> (&'static str, &'static str) {
        self.deadlines
            .iter()
            .find(|(t, _, _)| *t == timer)
            .map(|(_, zh, en)| (*zh, *en))
            .unwrap_or(("期限", "deadline"))
    }

    /// A short, readable case number: the prefix and the id's last eight hex digits.
    pub fn case_number(&self, id: &str) -> String {
        let digits: Vec<char> = id.chars().filter(|c| *c != '-').collect();
        let tail: String = digits[digits.len().saturating_sub(8)..].iter().collect();
        format!("{}-{}", self.number_prefix, tail.to_uppercase())
    }

    pub fn events(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for row in self.rows {
            if !out.contains(&row.event) {
                out.push(row.event);
            }
        }
        out
    }

    pub fn rows_for(&self, event: &str) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.event == event)
    }

    pub fn allows(&self, state: &str, event: &str) -> bool {
        self.rows_for(event).any(|r| r.from.contains(&state))
    }

    pub fn parties(&self, event: &str) -> &'static [Party] {
        self.rows
            .iter()
            .find(|r| r.event == event)
            .map(|r| r.parties)
            .unwrap_or(&[])
    }

    /// Events a human may send (timer-only events excluded).
    pub fn is_timer_event(&self, event: &str) -> bool {
        self.parties(event) == [Party::System]
    }
}

/// The cadre a case is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Subject {
    pub id: String,
    pub name: String,
    #[schema(format = Email)]
    pub email: String,
    #[schema(value_type = crate::domain::OrgPath)]
    pub org: String,
    pub position: String,
}

/// The `subject` of a filing as sent. Who may leave out what depends on who files
/// ([`filing_subject`]): a cadre filing about themselves may omit all of it.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectBody {
    /// The cadre's id; omitted: the caller.
    #[serde(default)]
    pub id: Option<super::common::Text>,
    /// Required for a cadre the directory does not know; a cadre filing about themselves
    /// gets the token's.
    #[serde(default)]
    pub name: Option<super::common::Text>,
    #[serde(default)]
    pub email: Option<super::EmailAddress>,
    /// The cadre's org: the token's for a cadre filing about themselves, the directory's
    /// for a cadre it knows; a different one is refused (422).
    #[serde(default)]
    pub org: Option<super::OrgPath>,
    #[serde(default)]
    pub position: Option<super::common::Text>,
}

/// Who filed the case, and in which role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Applicant {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// A case as the domain sees it; `records` is the workflow's own typed data as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub id: String,
    pub workflow: String,
    pub state: String,
    pub version: i64,
    pub subject: Subject,
    pub applicant: Applicant,
    pub investigator_id: Option<String>,
    pub decider_id: Option<String>,
    pub title: String,
    pub overdue: bool,
    /// Visible to its subject and the unit admins of their org. A report against a cadre
    /// is not, until the organisation turns to them (no tip-off); once true, for good.
    pub disclosed: bool,
    pub catalogue_version: String,
    pub records: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A person as the directory knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub name: String,
    pub email: String,
    pub org: String,
}

/// What a workflow needs to look up while deciding (the directory).
pub trait Lookup {
    /// The org of a known person holding `role`, or `None` when there is no such person.
    fn org_of_person_with_role(&mut self, id: &str, role: Role) -> Result<Option<String>, String>;

    /// What the directory holds for `id`, if it knows them.
    fn person(&mut self, id: &str) -> Result<Option<DirectoryEntry>, String>;
}

/// A new case, ready to be stored with its first audit row.
#[derive(Clone, Debug)]
pub struct Filing {
    pub case: Case,
    /// The normalised create payload recorded on the audit row.
    pub payload: Value,
}

/// A schema and its name in the OpenAPI document's components.
pub type NamedSchema = (String, RefOr<Schema>);

/// What the OpenAPI document says about one workflow: the types its filing, events and
/// records are parsed into and shown from, so the document cannot drift from the parser.
pub struct WorkflowApi {
    /// The create body.
    pub filing: NamedSchema,
    /// The records a case of this workflow shows beside the common fields.
    pub records: NamedSchema,
    /// Every event a client may send, with its fields (without `event`).
    pub events: Vec<(&'static str, RefOr<Schema>)>,
    /// The schemas the ones above refer to.
    pub components: Vec<NamedSchema>,
}

impl WorkflowApi {
    pub fn new<F: ToSchema, R: ToSchema>() -> Self {
        let mut components = Vec::new();
        F::schemas(&mut components);
        R::schemas(&mut components);
        WorkflowApi {
            filing: (F::name().into_owned(), F::schema()),
            records: (R::name().into_owned(), R::schema()),
            events: Vec::new(),
            components,
        }
    }

    /// `name`'s fields are those of `T`.
    pub fn event<T: ToSchema>(mut self, name: &'static str) -> Self {
        T::schemas(&mut self.components);
        self.events.push((name, T::schema()));
        self
    }
}

/// The result of one accepted event.
#[derive(Clone, Debug)]
pub struct Step {
    pub to: String,
    pub records: Value,
    pub investigator_id: Option<String>,
    pub decider_id: Option<String>,
    pub overdue: bool,
    /// The normalised event payload recorded on the audit row.
    pub payload: Value,
    /// A workflow whose case the engine files, linked both ways, in the same transaction.
    pub spawn: Option<&'static str>,
}

/// What a timer does when it falls due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// Fires the named event as the system, through the transition path.
    Event,
    /// Mails whoever must act before the named deadline.
    Reminder,
    /// Mails a notice (the end of an influence period).
    Notice,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Event => "event",
            TimerKind::Reminder => "reminder",
            TimerKind::Notice => "notice",
        }
    }
}

/// A timer a case's state calls for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerSpec {
    pub kind: TimerKind,
    pub name: String,
    pub due_at: DateTime<Utc>,
}

impl TimerSpec {
    pub fn event(name: &str, due_at: DateTime<Utc>) -> TimerSpec {
        TimerSpec {
            kind: TimerKind::Event,
            name: name.to_string(),
            due_at,
        }
    }
}

/// A code with its text (a sanction, an effect).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Labelled {
    pub code: String,
    pub text: String,
}

/// A follow-up talk as the record and the ledger show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TalkSummary {
    /// `due`, `overdue`, `held` or `cancelled`.
    pub state: String,
    pub due_at: DateTime<Utc>,
}

/// What a case's outcome does to its cadre's record (the cadre record, the ledger).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CaseOutcome {
    /// `exonerate`, `mitigate`, `deny`; for a report its finding, `cleared` or `dismissed`.
    pub outcome: Option<String>,
    /// `lighter` (从轻) or `reduced` (减轻).
    pub degree: Option<String>,
    pub sanction: Option<Labelled>,
    pub influence_ends_on: Option<chrono::NaiveDate>,
    pub promotion_bar_ends_on: Option<chrono::NaiveDate>,
    /// What an exoneration leaves unaffected.
    pub effects: Vec<Labelled>,
    /// The follow-up talk a sanctioning mitigation opened.
    pub talk: Option<TalkSummary>,
}

/// What a workflow may read as the service starts.
pub struct Setup<'a> {
    /// The `workflows/` folder: each workflow's data file, the templates, the calendar.
    pub dir: &'a std::path::Path,
    /// The configuration's `[workflows]` section.
    pub settings: &'a crate::settings::Workflows,
    /// The working-day calendar deadlines are counted in.
    pub calendar: std::sync::Arc<super::calendar::Calendar>,
    /// Seals what identifies a reporter (the key of `security.reporter_key`).
    pub sealer: std::sync::Arc<crate::seal::Sealer>,
}

/// Builds one workflow from its data.
pub type Loader = fn(&Setup<'_>) -> Result<std::sync::Arc<dyn Workflow>, String>;

/// What the reports count a case under, kept in the case's columns so that they aggregate
/// in SQL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tallies {
    /// The outcome the statistics count (a decision's, a report's finding).
    pub outcome: Option<String>,
    /// The state of a follow-up talk the case opened.
    pub talk_state: Option<String>,
}

/// A workflow plugged into the one transition path.
pub trait Workflow: Send + Sync {
    fn def(&self) -> &'static WorkflowDef;

    /// The workflow's data for `GET /api/v1/workflows/{name}` (catalogues, reason codes).
    fn catalogues(&self) -> Value;

    /// The schemas of its bodies and records, for `/openapi.json`.
    fn api(&self) -> WorkflowApi;

    /// Validates a filing by `actor` and builds the case (the directory says where a cadre
    /// it knows belongs: [`filing_subject`]).
    fn file(
        &self,
        actor: &Actor,
        body: &Value,
        now: DateTime<Utc>,
        id: String,
        lookup: &mut dyn Lookup,
    ) -> Result<Filing, Refusal>;

    /// Identity rules beyond the table's parties (separation of duties).
    fn separation(&self, event: &str, actor: &Actor, case: &Case) -> Result<(), Refusal>;

    /// Conditions of the case an event needs besides its state (no payload needed).
    fn precondition(&self, event: &str, case: &Case, now: DateTime<Utc>) -> Result<(), Refusal>;

    /// Parses the event's payload and runs the machine.
    fn apply(
        &self,
        case: &Case,
        event: &str,
        body: &Value,
        actor: &Actor,
        now: DateTime<Utc>,
        lookup: &mut dyn Lookup,
    ) -> Result<Step, Refusal>;

    /// Files a case of this workflow ex officio, linked to `source` (another workflow's case).
    fn file_linked(
        &self,
        source: &Case,
        actor: &Actor,
        now: DateTime<Utc>,
        id: String,
    ) -> Result<Filing, Refusal> {
        let _ = (source, actor, now, id);
        Err(Refusal::Conflict(format!(
            "{} cases cannot be opened from another case",
            self.def().name
        )))
    }

    /// The timers the case's current state calls for (events and notices; the engine adds
    /// reminders before each). Recomputed after every transition, in its transaction.
    fn timers(&self, case: &Case) -> Vec<TimerSpec> {
        let _ = case;
        Vec::new()
    }

    /// The deadline the case now runs against, if any: the timer that watches it (named in
    /// [`WorkflowDef::deadlines`]) and when it falls due.
    fn deadline(&self, case: &Case) -> Option<(&'static str, DateTime<Utc>)> {
        let _ = case;
        None
    }

    /// What the workflow's records add to a mail's template context beside the common
    /// fields (`records` already redacted for every reader; nothing by default).
    fn mail_records(&self, records: &Value) -> serde_json::Map<String, Value> {
        let _ = records;
        serde_json::Map::new()
    }

    /// What the reports count the case under (nothing by default).
    fn tallies(&self, case: &Case) -> Tallies {
        let _ = case;
        Tallies::default()
    }

    /// The text a list's `q` searches, lower-cased: the title by default.
    fn search_text(&self, case: &Case) -> String {
        case.title.to_lowercase()
    }

    /// What the case's outcome does to its cadre's record (nothing by default).
    fn outcome(&self, case: &Case) -> CaseOutcome {
        let _ = case;
        CaseOutcome::default()
    }

    /// Whether reaching `state` makes the case visible to its subject and their unit (see
    /// [`Case::disclosed`]). The default: every case is visible from its filing.
    fn discloses(&self, state: &str) -> bool {
        let _ = state;
        true
    }

    /// Removes or reveals confidential parts of the records for `actor` (the default keeps all).
    fn redact_records(&self, case: &Case, actor: &Actor, records: &mut Value) {
        let _ = (case, actor, records);
    }

    /// The same for an audit row's payload.
    fn redact_payload(&self, case: &Case, actor: &Actor, event: &str, payload: &mut Value) {
        let _ = (case, actor, event, payload);
    }
}

/// An `investigator_id` must name a known investigator whose jurisdiction covers the case.
pub fn check_investigator(
    lookup: &mut dyn Lookup,
    id: &str,
    subject_org: &str,
) -> Result<(), Refusal> {
    match lookup
        .org_of_person_with_role(id, Role::Investigator)
        .map_err(Refusal::Unavailable)?
    {
        None => Err(Refusal::invalid(
            "investigator_id",
            format!("`{id}` is not a known investigator"),
        )),
        Some(org) => {
            let covers = super::OrgPath::parse(&org)
                .map(|o| o.covers(subject_org))
                .unwrap_or(false);
            if covers {
                Ok(())
            } else {
                Err(Refusal::invalid(
                    "investigator_id",
                    format!("investigator `{id}` ({org}) has no jurisdiction over {subject_org}"),
                ))
            }
        }
    }
}

/// Whether `actor` may see `case` at all (what may not be seen answers 404). Staff see
/// the cases of their subtree, a cadre the cases about them, a filer what they filed. A case
/// not yet disclosed is seen only by those who handle it: never its subject, and no unit
/// admin who holds no other staff role there.
pub fn can_see(actor: &Actor, case: &Case) -> bool {
    if actor.has(Role::System) {
        return true;
    }
    if !case.disclosed {
        return actor.id != case.subject.id
            && (actor.id == case.applicant.id
                || actor
                    .roles
                    .iter()
                    .any(|r| r.sees_undisclosed() && actor.org.covers(&case.subject.org)));
    }
    actor.id == case.subject.id
        || actor.id == case.applicant.id
        || actor
            .roles
            .iter()
            .any(|r| r.is_staff() && actor.org.covers(&case.subject.org))
}

/// Which role `actor` may apply `event` in, or why not (403).
pub fn authorize(
    def: &WorkflowDef,
    event: &str,
    actor: &Actor,
    case: &Case,
) -> Result<Role, Refusal> {
    let parties = def.parties(event);
    for party in parties {
        let role = match *party {
            Party::Role(role) if actor.acts_as_staff(role, &case.subject.org) => Some(role),
            Party::Applicant if actor.id == case.applicant.id => Some(case.applicant.role),
            Party::Subject if actor.id == case.subject.id => Some(Role::Cadre),
            Party::AssignedInvestigator
                if case.investigator_id.as_deref() == Some(actor.id.as_str())
                    && actor.has(Role::Investigator) =>
            {
                Some(Role::Investigator)
            }
            Party::System if actor.has(Role::System) => Some(Role::System),
            _ => None,
        };
        if let Some(role) = role {
            return Ok(role);
        }
    }
    let who: Vec<String> = parties
        .iter()
        .map(|p| match p {
            Party::Role(r) => format!("a {r} of the case's jurisdiction"),
            Party::Applicant => "the applicant".into(),
            Party::Subject => "the cadre the case is about".into(),
            Party::AssignedInvestigator => "the assigned investigator".into(),
            Party::System => "the system's timers".into(),
        })
        .collect();
    Err(Refusal::Forbidden(format!(
        "`{event}` may be applied only by {}",
        who.join(" or ")
    )))
}

/// The staff role, among the workflow's filers, that `actor` holds over `org`.
fn filing_staff_role(def: &WorkflowDef, actor: &Actor, org: &str) -> Option<Role> {
    def.create_parties.iter().find_map(|party| match *party {
        Party::Role(role) if actor.acts_as_staff(role, org) => Some(role),
        _ => None,
    })
}

/// Who a filing is about and in which role `actor` files it. Jurisdiction comes from the
/// organisation, never from the filer: a cadre files about themselves, with the id, name,
/// e-mail and org of their token; staff file about a cadre in the org the directory holds
/// for them (a cadre it does not know: the org sent, within the filer's subtree).
pub fn filing_subject(
    def: &WorkflowDef,
    actor: &Actor,
    body: Option<SubjectBody>,
    lookup: &mut dyn Lookup,
) -> Result<(Subject, Role), Refusal> {
    let body = body.unwrap_or_default();
    let as_cadre = def.create_parties.contains(&Party::Role(Role::Cadre)) && actor.has(Role::Cadre);
    let files_as_staff = def.create_parties.iter().any(|p| match *p {
        Party::Role(role) => role.is_staff() && actor.has(role),
        _ => false,
    });
    if !as_cadre && !files_as_staff {
        return Err(Refusal::Forbidden(format!(
            "filing a {} case needs one of: {} (a cadre files only about themselves; staff within their jurisdiction)",
            def.name,
            def.create_parties
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let position = body
        .position
        .map(super::common::Text::into_string)
        .unwrap_or_default();
    let about_self = body.id.as_ref().is_none_or(|id| id.0 == actor.id);
    if about_self && as_cadre {
        if let Some(org) = body
            .org
            .as_ref()
            .filter(|o| o.as_str() != actor.org.as_str())
        {
            return Err(Refusal::invalid(
                "subject.org",
                format!(
                    "a cadre files in their own org, `{}` (from the token), not `{org}`: the case goes to the office with jurisdiction over them",
                    actor.org
                ),
            ));
        }
        let subject = Subject {
            id: actor.id.clone(),
            name: actor.name.clone(),
            email: actor.email.clone(),
            org: actor.org.as_str().to_string(),
            position,
        };
        return Ok((subject, Role::Cadre));
    }
    let id = body
        .id
        .map(super::common::Text::into_string)
        .unwrap_or_else(|| actor.id.clone());
    let known = lookup.person(&id).map_err(Refusal::Unavailable)?;
    let org = match (&known, &body.org) {
        (Some(k), Some(sent)) if k.org != sent.as_str() => {
            return Err(Refusal::invalid(
                "subject.org",
                format!(
                    "the directory places `{id}` in `{}`, not `{sent}`: a case is filed in the cadre's own org",
                    k.org
                ),
            ));
        }
        (Some(k), _) => k.org.clone(),
        (None, Some(sent)) => sent.as_str().to_string(),
        (None, None) => {
            return Err(Refusal::invalid(
                "subject.org",
                format!("is required: the directory does not know `{id}`"),
            ));
        }
    };
    let Some(role) = filing_staff_role(def, actor, &org) else {
        if as_cadre {
            return Err(Refusal::invalid(
                "subject.id",
                format!(
                    "a cadre files only about themselves (`{}`); filing about `{id}` needs a filing role over `{org}`",
                    actor.id
                ),
            ));
        }
        return Err(Refusal::Forbidden(format!(
            "`{org}` is outside your jurisdiction ({}): you may not file a {} case about `{id}`",
            actor.org, def.name
        )));
    };
    let mut errors = Vec::new();
    let name = body
        .name
        .map(super::common::Text::into_string)
        .or_else(|| known.as_ref().map(|k| k.name.clone()));
    let email = body
        .email
        .map(|e| e.as_str().to_string())
        .or_else(|| known.as_ref().map(|k| k.email.clone()));
    if name.is_none() {
        errors.push(FieldError::new(
            "subject.name",
            format!("is required: the directory does not know `{id}`"),
        ));
    }
    if email.is_none() {
        errors.push(FieldError::new(
            "subject.email",
            format!("is required: the directory does not know `{id}`"),
        ));
    }
    if !errors.is_empty() {
        return Err(Refusal::Invalid(errors));
    }
    let subject = Subject {
        id,
        name: name.unwrap_or_default(),
        email: email.unwrap_or_default(),
        org,
        position,
    };
    Ok((subject, role))
}

/// The events `actor` could apply to `case` now.
pub fn available_events(
    wf: &dyn Workflow,
    actor: &Actor,
    case: &Case,
    now: DateTime<Utc>,
) -> Vec<&'static str> {
    let def = wf.def();
    def.events()
        .into_iter()
        .filter(|e| !def.is_timer_event(e))
        .filter(|e| def.allows(&case.state, e))
        .filter(|e| authorize(def, e, actor, case).is_ok())
        .filter(|e| wf.separation(e, actor, case).is_ok())
        .filter(|e| wf.precondition(e, case, now).is_ok())
        .collect()
}

/// Turns a serde error into a field error: `path` from serde_path_to_error, plus the
/// field named in "missing field `x`" messages.
pub fn serde_field_error(path: &str, message: &str) -> FieldError {
    let path = if path == "." { "" } else { path };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let field = match (path, missing) {
        ("", Some(m)) => m.to_string(),
        (p, Some(m)) => format!("{p}.{m}"),
        ("", None) => {
            // "unknown field `x`, expected …": name the unknown field.
            message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
                .unwrap_or("body")
                .to_string()
        }
        (p, None) => p.to_string(),
    };
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_string();
    FieldError::new(field, message)
}

/// Parses `body` (an object) into `T`, naming the offending field on error.
pub fn parse_payload<T: serde::de::DeserializeOwned>(body: &Value) -> Result<T, Refusal> {
    let mut body = body.clone();
    if let Value::Object(map) = &mut body {
        map.remove("event");
    }
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        Refusal::Invalid(vec![serde_field_error(&path, &message)])
    })
}
