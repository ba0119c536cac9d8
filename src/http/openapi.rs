//! The OpenAPI 3.1 document, built from the route table (`routes::endpoints`), the types the
//! workflows parse their bodies into, and the error kinds. Served at `/openapi.json`, browsed
//! at `/docs`. The response types below are the shapes the handlers build; the API tests
//! validate real responses against them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::openapi::path::{Operation, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, Discriminator, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, Paths,
    Ref, RefOr, Required, Response, ResponseBuilder, Tag,
};
use utoipa::{PartialSchema, ToSchema};

use super::routes::{Endpoint, endpoints};
use crate::domain::registry::Registry;
use crate::domain::workflow::Subject;
use crate::error::ErrorKind;

const PROBLEM_JSON: &str = "application/problem+json";
const JSON: &str = "application/json";
const CSV: &str = "text/csv";
const BEARER: &str = "bearer";

/// An error body (RFC 9457) with the stable `code` of API.md.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// `urn:rongcuo:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One of the codes of API.md's error table.
    pub code: String,
    /// For `validation_failed`: each offending field with what is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
}

#[derive(Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's path, such as `rectification.due_at`.
    pub field: String,
    pub message: String,
}

/// Who filed a case.
#[derive(Serialize, ToSchema)]
pub struct ApplicantView {
    pub id: String,
    pub name: String,
    pub role: crate::domain::Role,
}

/// The fields every case shows; each workflow adds its records.
#[derive(Serialize, ToSchema)]
pub struct CaseBase {
    pub id: String,
    pub workflow: String,
    /// RC-… (exoneration) or CQ-… (clarification), for people and mail subjects.
    pub number: String,
    pub state: String,
    /// Starts at 1, +1 per transition; the `ETag`.
    pub version: i64,
    pub subject: Subject,
    pub applicant: ApplicantView,
    pub investigator_id: Option<String>,
    pub decider_id: Option<String>,
    pub title: String,
    /// A deadline of the current state has passed.
    pub overdue: bool,
    /// Visible to its subject and their unit. A report against a cadre is not until the
    /// organisation turns to them (an inquiry letter) or concludes it; then for good.
    pub disclosed: bool,
    pub catalogue_version: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The events the caller may apply now.
    pub available_events: Vec<String>,
}

/// Who acted: a person with the role they acted in, or `{"id": "system"}` for timers.
#[derive(Serialize, ToSchema)]
pub struct TimelineActor {
    pub id: String,
    pub role: Option<String>,
}

/// A mail a transition sent, by the recipient's relation to the case.
#[derive(Serialize, ToSchema)]
pub struct Delivery {
    pub relation: String,
    /// `pending`, `sending`, `sent` or `dead`.
    pub state: String,
    pub attempts: i32,
    pub sent_at: Option<DateTime<Utc>>,
}

/// One audit row, hash-chained to the one before.
#[derive(Serialize, ToSchema)]
pub struct TimelineItem {
    pub seq: i64,
    /// `create` for the filing, else the event.
    pub event: String,
    pub from: Option<String>,
    pub to: String,
    pub actor: TimelineActor,
    /// The event's fields as recorded (reporter identities only for those who may see them).
    pub payload: Value,
    pub at: DateTime<Utc>,
    pub hash: String,
    pub prev_hash: String,
    pub deliveries: Vec<Delivery>,
}

#[derive(Serialize, ToSchema)]
pub struct Timeline {
    pub items: Vec<TimelineItem>,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowLink {
    pub name: String,
    pub title: String,
    pub href: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowList {
    pub items: Vec<WorkflowLink>,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowEvent {
    pub name: String,
    /// Roles and parties (`applicant`, `assigned_investigator`, `system`…) who may apply it.
    pub who: Vec<String>,
    pub timer: bool,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowTransition {
    /// The states the event leaves.
    pub from: Vec<String>,
    pub event: String,
    /// The states it may lead to (which one depends on the fields or the records).
    pub to: Vec<String>,
    pub who: Vec<String>,
    /// What the event carries, in words.
    pub carries: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowCreate {
    pub who: Vec<String>,
    pub to: String,
}

/// The machine's table, with the workflow's catalogues (`circumstances`, `red_lines`,
/// `reason_codes`…) as further properties.
#[derive(Serialize, ToSchema)]
pub struct WorkflowDescription {
    pub name: String,
    pub title: String,
    pub roles: Vec<String>,
    pub initial: String,
    pub states: Vec<String>,
    pub terminal: Vec<String>,
    pub create: WorkflowCreate,
    pub events: Vec<WorkflowEvent>,
    pub transitions: Vec<WorkflowTransition>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerSubject {
    pub id: String,
    pub name: String,
    pub org: String,
    pub position: String,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerRectification {
    pub state: Option<String>,
    pub due_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerCase {
    pub case_id: String,
    pub number: String,
    pub title: String,
    pub state: String,
    pub outcome: Option<String>,
    pub decided_at: Option<String>,
    pub influence_period_months: Option<i64>,
    pub influence_ends_on: Option<NaiveDate>,
    pub influence_active: bool,
    pub rectification: Option<LedgerRectification>,
    pub rectification_open: bool,
    /// `lighter` (从轻) or `reduced` (减轻).
    pub degree: Option<String>,
    pub sanction: Option<crate::domain::workflow::Labelled>,
    pub promotion_bar_ends_on: Option<NaiveDate>,
    /// What an exoneration leaves unaffected.
    pub effects: Vec<crate::domain::workflow::Labelled>,
    pub talk: Option<crate::domain::workflow::TalkSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerEntry {
    pub subject: LedgerSubject,
    /// The latest end of an active influence period (影响期).
    pub influence_until: Option<NaiveDate>,
    pub open_rectifications: i64,
    pub cases: Vec<LedgerCase>,
}

/// 台账: the exoneration cases of each cadre of the org subtree, a page of cadres.
#[derive(Serialize, ToSchema)]
pub struct Ledger {
    pub org: String,
    pub as_of: NaiveDate,
    pub items: Vec<LedgerEntry>,
    /// The next page's `cursor`; null on the last page.
    pub next_cursor: Option<String>,
}

/// A mail in the transactional outbox.
#[derive(Serialize, ToSchema)]
pub struct OutboxItem {
    pub id: String,
    pub case_id: String,
    pub seq: i64,
    pub relation: String,
    pub recipient_email: String,
    pub template: String,
    pub subject: String,
    pub message_id: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxList {
    pub items: Vec<OutboxItem>,
}

#[derive(Serialize, ToSchema)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<crate::domain::Role>,
    pub org: String,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxBacklog {
    pub waiting: Option<i64>,
    pub oldest_age_seconds: Option<i64>,
    pub dead: Option<i64>,
    pub error: Option<String>,
}

/// `ready` with the mail backlog, or `not_ready` (503) with what is wrong.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: String,
    pub database: String,
    pub migrations_pending: Option<i64>,
    pub outbox: Option<OutboxBacklog>,
}

/// What the document is built from, and the schemas collected on the way.
pub struct Doc<'a> {
    registry: &'a Registry,
    schemas: BTreeMap<String, RefOr<Schema>>,
}

impl<'a> Doc<'a> {
    /// A reference to `T`, registered with what it refers to.
    fn schema<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut deps = Vec::new();
        T::schemas(&mut deps);
        self.schemas.extend(deps);
        let name = T::name().into_owned();
        self.schemas.insert(name.clone(), T::schema());
        Ref::from_schema_name(name).into()
    }

    fn named(&mut self, name: String, schema: RefOr<Schema>) -> RefOr<Schema> {
        self.schemas.insert(name.clone(), schema);
        Ref::from_schema_name(name).into()
    }

    fn workflow(&self, name: Option<&'static str>) -> &'a dyn crate::domain::workflow::Workflow {
        let registry: &'a Registry = self.registry;
        registry
            .get(name.expect("a workflow route carries its workflow"))
            .expect("the route table names registered workflows")
    }

    /// `ExonerationCase`: the common fields, the workflow's states and events, its records.
    fn case(&mut self, wf: Option<&'static str>) -> RefOr<Schema> {
        let w = self.workflow(wf);
        let def = w.def();
        let name = format!("{}Case", title_case(def.name));
        if self.schemas.contains_key(&name) {
            return Ref::from_schema_name(name).into();
        }
        let api = w.api();
        self.schemas.extend(api.components);
        let records = self.named(api.records.0, api.records.1);
        let base = self.schema::<CaseBase>();
        let narrowed = ObjectBuilder::new()
            .property(
                "workflow",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([def.name])),
            )
            .property(
                "state",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(def.states.iter().copied())),
            )
            .property(
                "available_events",
                ArrayBuilder::new().items(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(def.events())),
                ),
            );
        let schema = AllOfBuilder::new()
            .item(base)
            .item(narrowed)
            .item(records)
            .description(Some(format!(
                "A case of {} ({}): the common fields and the workflow's records as they come \
                 into being.",
                def.name, def.title
            )))
            .into();
        self.named(name, schema)
    }

    /// The transition body: one of the events, told apart by `event`.
    fn transition(&mut self, wf: Option<&'static str>) -> RefOr<Schema> {
        let w = self.workflow(wf);
        let prefix = title_case(w.def().name);
        let api = w.api();
        self.schemas.extend(api.components);
        let mut one_of = OneOfBuilder::new();
        let mut discriminator = Discriminator::new("event");
        for (event, fields) in api.events {
            let RefOr::T(Schema::Object(mut object)) = fields else {
                panic!("the fields of `{event}` are an object");
            };
            object.properties.insert(
                "event".into(),
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([event]))
                    .into(),
            );
            object.required.insert(0, "event".into());
            let name = format!("{prefix}{}", title_case(event));
            let r = self.named(name.clone(), Schema::Object(object).into());
            discriminator
                .mapping
                .insert(event.to_string(), format!("#/components/schemas/{name}"));
            one_of = one_of.item(r);
        }
        let schema = one_of
            .discriminator(Some(discriminator))
            .description(Some(
                "`{\"event\": \"<name>\", ...fields}`; the event decides the fields.",
            ))
            .into();
        self.named(format!("{prefix}Transition"), schema)
    }

    fn filing(&mut self, wf: Option<&'static str>) -> RefOr<Schema> {
        let api = self.workflow(wf).api();
        self.schemas.extend(api.components);
        self.named(api.filing.0, api.filing.1)
    }

    fn page(&mut self, wf: Option<&'static str>) -> RefOr<Schema> {
        let case = self.case(wf);
        let name = format!("{}Page", title_case(self.workflow(wf).def().name));
        let schema = ObjectBuilder::new()
            .property("items", ArrayBuilder::new().items(case))
            .required("items")
            .property(
                "next_cursor",
                ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                        Type::String,
                        Type::Null,
                    ]))
                    .description(Some("pass as `cursor` for the next page; null on the last")),
            )
            .required("next_cursor")
            .into();
        self.named(name, schema)
    }

    /// Responses for the error statuses of API.md; each names its `code`.
    fn problems(&mut self, mut op: OperationBuilder, kinds: &[ErrorKind]) -> OperationBuilder {
        let problem = self.schema::<Problem>();
        let mut by_status: BTreeMap<u16, Vec<ErrorKind>> = BTreeMap::new();
        // Every authenticated operation may also meet the caller's rate limit.
        let limited = kinds
            .contains(&ErrorKind::Unauthorized)
            .then_some(ErrorKind::TooManyRequests);
        for k in kinds.iter().chain(limited.iter()).chain(
            [
                ErrorKind::HeadersTooLarge,
                ErrorKind::Unavailable,
                ErrorKind::Internal,
            ]
            .iter(),
        ) {
            by_status.entry(k.status()).or_default().push(*k);
        }
        for (status, kinds) in by_status {
            let codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
            let titles: Vec<&str> = kinds.iter().map(|k| k.title()).collect();
            let schema = AllOfBuilder::new().item(problem.clone()).item(
                ObjectBuilder::new().property(
                    "code",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(codes)),
                ),
            );
            let mut response = ResponseBuilder::new()
                .description(titles.join("; "))
                .content(PROBLEM_JSON, Content::new(Some(schema)));
            match status {
                401 => {
                    response = response.header(
                        "WWW-Authenticate",
                        utoipa::openapi::header::Header::new(String::schema()),
                    )
                }
                429 | 503 => {
                    response = response.header(
                        "Retry-After",
                        utoipa::openapi::header::Header::new(String::schema()),
                    )
                }
                _ => {}
            }
            op = op.response(status.to_string(), response.build());
        }
        op
    }
}

fn title_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn json_response(description: &str, schema: RefOr<Schema>) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content(JSON, Content::new(Some(schema)))
}

fn json_body(schema: RefOr<Schema>) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content(JSON, Content::new(Some(schema)))
        .build()
}

fn text_response(description: &str, content_type: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(content_type, Content::new(Some(String::schema())))
        .build()
}

fn etag() -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(Some(String::schema()))
        .description(Some("the case's version, quoted: `\"3\"`"))
        .build()
}

fn query(name: &str, description: &str, schema: RefOr<Schema>) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

fn header_param(name: &str, description: &str, pattern: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern)),
        ))
        .build()
}

/// `Idempotency-Key`: 1–200 visible ASCII characters.
const IDEMPOTENCY_KEY: &str = "^[!-~]{1,200}$";
/// `If-Match`: a version as an entity tag, `"3"` (or `W/"3"`).
const IF_MATCH: &str = "^(\\*|(W/)?\"?[0-9]{1,18}\"?)$";

fn string_enum<I: IntoIterator<Item = S>, S: Into<Value>>(values: I) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .into()
}

fn date_or_time() -> RefOr<Schema> {
    use utoipa::openapi::{KnownFormat, SchemaFormat};
    let of = |f: KnownFormat| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(f)))
    };
    OneOfBuilder::new()
        .item(of(KnownFormat::Date))
        .item(of(KnownFormat::DateTime))
        .description(Some("a date (YYYY-MM-DD) or an RFC 3339 time"))
        .into()
}

/// A non-empty query value.
fn word() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .into()
}

fn op(id: String, tag: &str, summary: &str, authenticated: bool) -> OperationBuilder {
    let mut b = OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag)
        .summary(Some(summary));
    if authenticated {
        b = b.security(SecurityRequirement::new::<_, [&str; 0], &str>(BEARER, []));
    }
    b
}

fn wf_id(prefix: &str, wf: Option<&'static str>) -> String {
    format!("{prefix}_{}", wf.unwrap_or_default())
}

fn wf_tag(wf: Option<&'static str>) -> &'static str {
    wf.unwrap_or("cases")
}

/// One function per operation of the route table.
pub mod ops {
    use super::*;
    use ErrorKind::*;

    /// What any body-carrying request may meet.
    const WRITE_PROBLEMS: [ErrorKind; 6] = [
        Malformed,
        Unauthorized,
        Forbidden,
        TooLarge,
        UnsupportedMediaType,
        Validation,
    ];

    pub fn healthz(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        op("healthz".into(), "operations", "The process is up", false)
            .response("200", json_response("ok", d.schema::<Health>()).build())
            .build()
    }

    pub fn readyz(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let r = d.schema::<Readiness>();
        op(
            "readyz".into(),
            "operations",
            "Database reachable, migrations applied, mail backlog",
            false,
        )
        .response("200", json_response("ready", r.clone()).build())
        .response("503", json_response("not ready", r).build())
        .build()
    }

    pub fn metrics(_: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        op("metrics".into(), "operations", "Prometheus metrics", false)
            .response(
                "200",
                text_response("the Prometheus text format", "text/plain"),
            )
            .build()
    }

    pub fn openapi_json(_: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        op("openapi".into(), "operations", "This document", false)
            .response(
                "200",
                json_response("OpenAPI 3.1", ObjectBuilder::new().into()).build(),
            )
            .build()
    }

    pub fn docs(_: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        op(
            "docs".into(),
            "operations",
            "Interactive documentation (served from the binary)",
            false,
        )
        .response(
            "308",
            ResponseBuilder::new()
                .description("to `/docs/`")
                .header(
                    "Location",
                    utoipa::openapi::header::Header::new(String::schema()),
                )
                .build(),
        )
        .build()
    }

    pub fn docs_file(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let b = op(
            "docs_file".into(),
            "operations",
            "A file of the interactive documentation",
            false,
        )
        .parameter(path_param("file", "`` or `index.html` for the page"))
        .response("200", text_response("the file", "text/html"));
        d.problems(b, &[NotFound]).build()
    }

    pub fn list_workflows(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let b = op(
            "list_workflows".into(),
            "workflows",
            "The workflows the service runs",
            false,
        )
        .response(
            "200",
            json_response("the workflows", d.schema::<WorkflowList>()).build(),
        );
        d.problems(b, &[]).build()
    }

    pub fn get_workflow(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let b = op(
            "get_workflow".into(),
            "workflows",
            "States, events, transitions, roles and catalogues of a workflow",
            false,
        )
        .parameter(workflow_param(d))
        .response(
            "200",
            json_response("the workflow", d.schema::<WorkflowDescription>()).build(),
        );
        d.problems(b, &[NotFound]).build()
    }

    pub fn get_diagram(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let b = op(
            "get_workflow_diagram".into(),
            "workflows",
            "The machine as a Mermaid state diagram",
            false,
        )
        .parameter(workflow_param(d))
        .response("200", text_response("Mermaid text", "text/vnd.mermaid"));
        d.problems(b, &[NotFound]).build()
    }

    pub fn statistics(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let b = op(
            "statistics".into(),
            "reports",
            "Counts per state and outcome, stage durations, overdue counts (staff)",
            true,
        )
        .parameter(query(
            "org",
            "an org subtree inside the caller's (default: the caller's org)",
            crate::domain::OrgPath::schema(),
        ))
        .parameter(query(
            "from",
            "cases filed at or after (default: 1970)",
            date_or_time(),
        ))
        .parameter(query(
            "to",
            "cases filed before (default: now)",
            date_or_time(),
        ))
        .response(
            "200",
            json_response(
                "the numbers",
                d.schema::<crate::http::statistics::Statistics>(),
            )
            .build(),
        );
        d.problems(b, &[Unauthorized, Forbidden, Validation])
            .build()
    }

    pub fn ledger(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let ledger = d.schema::<Ledger>();
        let b = op(
            "ledger".into(),
            "reports",
            "台账: outcomes, influence periods and open rectifications per cadre (staff)",
            true,
        )
        .parameter(query(
            "org",
            "an org subtree inside the caller's (default: the caller's org)",
            crate::domain::OrgPath::schema(),
        ))
        .parameter(query(
            "limit",
            "cadres on a page: 1 to 500 (default 100)",
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::Integer)
                .minimum(Some(1))
                .maximum(Some(500))
                .into(),
        ))
        .parameter(query(
            "cursor",
            "`next_cursor` of the page before",
            String::schema(),
        ))
        .response(
            "200",
            ResponseBuilder::new()
                .description("a page of the ledger; `Accept: text/csv` for the whole ledger as a spreadsheet (UTF-8, BOM), streamed")
                .content(JSON, Content::new(Some(ledger)))
                .content(CSV, Content::new(Some(String::schema())))
                .build(),
        );
        d.problems(b, &[Unauthorized, Forbidden, Validation])
            .build()
    }

    pub fn cadre_record(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let record = d.schema::<super::super::cadres::CadreRecord>();
        let b = op(
            "cadre_record".into(),
            "reports",
            "A cadre's record: every case about them the caller may see, with its outcome, sanction, influence period, promotion bar, effects and follow-up talk (the cadre, and staff whose subtree holds the cadre's org)",
            true,
        )
        .parameter(path_param("id", "the cadre's id"))
        .response("200", json_response("the record", record).build());
        d.problems(b, &[Unauthorized, NotFound]).build()
    }

    pub fn list_outbox(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let b = op(
            "list_outbox".into(),
            "mail",
            "Mails of the admin's jurisdiction by state (default: dead)",
            true,
        )
        .parameter(query(
            "state",
            "pending, sending, sent or dead",
            string_enum(super::super::outbox::STATES),
        ))
        .parameter(query(
            "limit",
            "1 to 500 (default 100)",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(500))
                .into(),
        ))
        .response(
            "200",
            json_response("the mails", d.schema::<OutboxList>()).build(),
        );
        d.problems(b, &[Unauthorized, Forbidden, Validation])
            .build()
    }

    pub fn retry_outbox(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let b = op(
            "retry_outbox".into(),
            "mail",
            "Queue a dead mail again (admin)",
            true,
        )
        .parameter(path_param("id", "the mail's id"))
        .response(
            "200",
            json_response("the mail, pending again", d.schema::<OutboxItem>()).build(),
        );
        d.problems(b, &[Unauthorized, Forbidden, NotFound, InvalidTransition])
            .build()
    }

    pub fn put_person(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
        let body = d.schema::<super::super::directory::PersonBody>();
        let b = op(
            "put_person".into(),
            "directory",
            "Register or update a person (admin)",
            true,
        )
        .parameter(path_param(
            "person_id",
            "the person's id (the token's `sub`)",
        ))
        .request_body(Some(json_body(body)))
        .response(
            "200",
            json_response("the person", d.schema::<Person>()).build(),
        );
        d.problems(b, &WRITE_PROBLEMS).build()
    }

    pub fn create_case(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
        let body = d.filing(wf);
        let case = d.case(wf);
        let b = op(
            wf_id("create", wf),
            wf_tag(wf),
            "File a case: a cadre about themselves (subject from the token), staff about a cadre of their jurisdiction (the org the directory holds for a known cadre)",
            true,
        )
        .parameter(header_param(
            "Idempotency-Key",
            "a replay returns the first answer; the same key with another body is 422",
            IDEMPOTENCY_KEY,
        ))
        .request_body(Some(json_body(body)))
        .response(
            "201",
            json_response("the case", case)
                .header("ETag", etag())
                .header(
                    "Location",
                    utoipa::openapi::header::Header::new(String::schema()),
                )
                .build(),
        );
        d.problems(b, &WRITE_PROBLEMS).build()
    }

    pub fn list_cases(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
        let page = d.page(wf);
        let def = d.workflow(wf).def();
        let b = op(
            wf_id("list", wf),
            wf_tag(wf),
            "Visible cases, newest first, keyset-paginated",
            true,
        )
        .parameter(query(
            "state",
            "in this state",
            string_enum(def.states.iter().copied()),
        ))
        .parameter(query(
            "org",
            "subject's org in this subtree",
            crate::domain::OrgPath::schema(),
        ))
        .parameter(query("subject", "about this person", word()))
        .parameter(query(
            "investigator",
            "assigned to this investigator",
            word(),
        ))
        .parameter(query("created_from", "filed at or after", date_or_time()))
        .parameter(query("created_to", "filed before", date_or_time()))
        .parameter(query("overdue", "a deadline has passed", bool::schema()))
        .parameter(query(
            "q",
            "words in the title or description (at most 200 characters)",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(200))
                .into(),
        ))
        .parameter(query(
            "limit",
            "1 to 100 (default 20)",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(super::super::cases::MAX_LIMIT))
                .into(),
        ))
        .parameter(query(
            "cursor",
            "`next_cursor` of the previous page",
            word(),
        ))
        .response(
            "200",
            ResponseBuilder::new()
                .description("a page; `Accept: text/csv` for the page as a spreadsheet")
                .content(JSON, Content::new(Some(page)))
                .content(CSV, Content::new(Some(String::schema())))
                .build(),
        );
        d.problems(b, &[Unauthorized, Validation]).build()
    }

    pub fn get_case(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
        let case = d.case(wf);
        let b = op(wf_id("get", wf), wf_tag(wf), "One case", true)
            .parameter(path_param("id", "the case's id"))
            .response(
                "200",
                json_response("the case", case)
                    .header("ETag", etag())
                    .build(),
            );
        d.problems(b, &[Unauthorized, NotFound]).build()
    }

    pub fn apply_transition(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
        let body = d.transition(wf);
        let case = d.case(wf);
        let b = op(wf_id("transition", wf), wf_tag(wf), "Apply one event", true)
            .parameter(path_param("id", "the case's id"))
            .parameter(header_param(
                "If-Match",
                "the version the caller saw, quoted: 412 if the case moved on",
                IF_MATCH,
            ))
            .parameter(header_param(
                "Idempotency-Key",
                "a replay returns the first answer; the same key with another body is 422",
                IDEMPOTENCY_KEY,
            ))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(JSON, Content::new(Some(body)))
                    .build(),
            ))
            .response(
                "200",
                json_response("the updated case", case)
                    .header("ETag", etag())
                    .build(),
            );
        d.problems(
            b,
            &[
                Malformed,
                Unauthorized,
                Forbidden,
                NotFound,
                InvalidTransition,
                VersionConflict,
                TooLarge,
                UnsupportedMediaType,
                Validation,
            ],
        )
        .build()
    }

    pub fn list_transitions(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
        let b = op(
            wf_id("timeline", wf),
            wf_tag(wf),
            "The audit timeline, oldest first",
            true,
        )
        .parameter(path_param("id", "the case's id"))
        .response(
            "200",
            json_response("the timeline", d.schema::<Timeline>()).build(),
        );
        d.problems(b, &[Unauthorized, NotFound]).build()
    }

    fn workflow_param(d: &Doc<'_>) -> utoipa::openapi::path::Parameter {
        let names: Vec<&str> = d.registry.all().map(|w| w.def().name).collect();
        ParameterBuilder::new()
            .name("name")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .schema(Some(string_enum(names)))
            .build()
    }
}

fn path_param(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(String::schema()))
        .build()
}

/// An actix path (`/docs/{file:.*}`) as an OpenAPI path (`/docs/{file}`).
pub fn openapi_path(actix: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    let mut skipping = false;
    for c in actix.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push(c);
            }
            '}' if in_param => {
                in_param = false;
                skipping = false;
                out.push(c);
            }
            ':' if in_param => skipping = true,
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

fn method(m: &actix_web::http::Method) -> HttpMethod {
    match m.as_str() {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        "HEAD" => HttpMethod::Head,
        other => panic!("no OpenAPI method for {other}"),
    }
}

/// The document, from the route table.
pub fn document(registry: &Registry) -> OpenApi {
    let mut doc = Doc {
        registry,
        schemas: BTreeMap::new(),
    };
    let mut paths = Paths::new();
    for Endpoint {
        path,
        workflow,
        handlers,
    } in endpoints()
    {
        let path = openapi_path(&path);
        for h in handlers {
            let operation = (h.describe)(&mut doc, workflow);
            let mut item = PathItem::new(method(&h.method), operation);
            if let Some(existing) = paths.paths.remove(&path) {
                let mut merged = existing;
                merged.merge_operations(item);
                item = merged;
            }
            paths.paths.insert(path.clone(), item);
        }
    }
    let mut components = ComponentsBuilder::new()
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "claims sub, name, email, roles, org, iss, aud, exp, iat; the algorithm \
                         is fixed by configuration",
                    ))
                    .build(),
            ),
        )
        .build();
    // Every code any response may carry, listed once on the shared problem schema.
    if let Some(RefOr::T(Schema::Object(problem))) = doc.schemas.get_mut("Problem") {
        let codes: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        problem.properties.insert(
            "code".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes))
                .description(Some("stable; clients branch on it"))
                .into(),
        );
    }
    components.schemas = doc.schemas;
    let tags = ["operations", "workflows", "reports", "mail", "directory"]
        .into_iter()
        .chain(registry.all().map(|w| w.def().name))
        .map(Tag::new)
        .collect::<Vec<_>>();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("rongcuo")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Case management for 容错免责 (exoneration applications) and 澄清正名 \
                     (accusation clarification). Errors are application/problem+json with a \
                     stable `code`.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .tags(Some(tags))
        .build()
}

/// The document as JSON, plus the Swagger UI page's configuration.
pub fn to_json(doc: &OpenApi) -> String {
    let mut v = serde_json::to_value(doc).expect("the document serialises");
    // utoipa leaves the dialect implicit; say it (OpenAPI 3.1 defaults to the same).
    v["jsonSchemaDialect"] = json!("https://spec.openapis.org/oas/3.1/dialect/base");
    v.to_string()
}
