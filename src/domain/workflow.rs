//! What every workflow shares: the case as the engine sees it, the `Workflow` trait the
//! engine drives, and the rules every workflow applies the same way (who may see a case,
//! who may act on it, whose case a filing is). The table's type is in `def`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, schema::Schema};

pub use super::def::{Party, Row, SAME, WorkflowDef};
use super::{Actor, FieldError, Refusal, Role};

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
/// ([`super::access::filing_subject`]): a cadre filing about themselves may omit all of it.
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

    /// Whether the workflow keeps `sealed` material (what identifies a reporter or an
    /// accuser), and so whether `actor` may see it: as they may see the reporter. The
    /// default: a workflow without reporters has none.
    fn may_see_sealed(&self, actor: &Actor, case: &Case) -> Option<bool> {
        let _ = (actor, case);
        None
    }
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
