//! What case requests answer with: the types that write the bodies are the ones the
//! document shows (`http::openapi` names them), so the two cannot drift apart.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::db::models::{OutboxRow, TransitionRow};
use crate::domain::workflow::{Case, Subject, Workflow};
use crate::domain::{Actor, Role};
use crate::engine::{Request, Seen, Stored, Timeline};

/// Who filed a case.
#[derive(Serialize, ToSchema)]
pub struct ApplicantView {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// The fields every case shows; each workflow adds its records.
#[derive(Serialize, ToSchema)]
#[schema(as = CaseBase)]
pub struct CaseBody {
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
    /// The workflow's records as the caller may see them (its own part of the document).
    #[serde(flatten)]
    #[schema(ignore)]
    pub records: Map<String, Value>,
    #[serde(serialize_with = "crate::time::wire")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::wire")]
    pub updated_at: DateTime<Utc>,
    /// The events the caller may apply now.
    pub available_events: Vec<&'static str>,
}

/// The fields of [`CaseBody`] itself, which a record of the same name never overrides.
const COMMON: [&str; 16] = [
    "id",
    "workflow",
    "number",
    "state",
    "version",
    "subject",
    "applicant",
    "investigator_id",
    "decider_id",
    "title",
    "overdue",
    "disclosed",
    "catalogue_version",
    "created_at",
    "updated_at",
    "available_events",
];

impl CaseBody {
    /// A case as `actor` may see it, with the workflow's records redacted for them.
    pub fn of(wf: &dyn Workflow, seen: &Seen, actor: &Actor) -> CaseBody {
        let case: &Case = &seen.case;
        let mut records = case.records.clone();
        wf.redact_records(case, actor, &mut records);
        let records = match records {
            Value::Object(map) => map
                .into_iter()
                .filter(|(k, _)| !COMMON.contains(&k.as_str()))
                .collect(),
            _ => Map::new(),
        };
        CaseBody {
            id: case.id.clone(),
            workflow: case.workflow.clone(),
            number: wf.def().case_number(&case.id),
            state: case.state.clone(),
            version: case.version,
            subject: case.subject.clone(),
            applicant: ApplicantView {
                id: case.applicant.id.clone(),
                name: case.applicant.name.clone(),
                role: case.applicant.role,
            },
            investigator_id: case.investigator_id.clone(),
            decider_id: case.decider_id.clone(),
            title: case.title.clone(),
            overdue: case.overdue,
            disclosed: case.disclosed,
            catalogue_version: case.catalogue_version.clone(),
            records,
            created_at: case.created_at,
            updated_at: case.updated_at,
            available_events: seen.available.clone(),
        }
    }
}

/// The answer to a filing (201, with `Location`) or a step (200): the engine stores this
/// very answer under an idempotency key ([`crate::engine::Answer`]).
pub fn answer(wf: &dyn Workflow, seen: &Seen, actor: &Actor, request: Request) -> Stored {
    // Cannot fail: text keys and JSON values only.
    let body = serde_json::to_value(CaseBody::of(wf, seen, actor)).unwrap_or(Value::Null);
    let (status, location) = match request {
        Request::File => (201, Some(format!("{}/{}", wf.def().path(), seen.case.id))),
        Request::Apply => (200, None),
    };
    Stored {
        status,
        body,
        location,
    }
}

/// A page of cases.
#[derive(Serialize)]
pub struct Page {
    pub items: Vec<CaseBody>,
    pub next_cursor: Option<String>,
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
    #[serde(serialize_with = "crate::time::wire_opt")]
    pub sent_at: Option<DateTime<Utc>>,
}

impl Delivery {
    fn of(m: &OutboxRow) -> Delivery {
        Delivery {
            relation: m.relation.clone(),
            state: m.state.clone(),
            attempts: m.attempts,
            sent_at: m.sent_at.map(|t| t.and_utc()),
        }
    }
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
    #[serde(serialize_with = "crate::time::wire")]
    pub at: DateTime<Utc>,
    pub hash: String,
    pub prev_hash: String,
    pub deliveries: Vec<Delivery>,
}

impl TimelineItem {
    fn of(wf: &dyn Workflow, case: &Case, actor: &Actor, row: &TransitionRow) -> TimelineItem {
        let mut payload: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
        wf.redact_payload(case, actor, &row.event, &mut payload);
        TimelineItem {
            seq: row.seq,
            event: row.event.clone(),
            from: row.from_state.clone(),
            to: row.to_state.clone(),
            actor: TimelineActor {
                id: row.actor_id.clone(),
                role: Some(row.actor_role.clone()),
            },
            payload,
            at: row.at.and_utc(),
            hash: row.hash.clone(),
            prev_hash: row.prev_hash.clone(),
            deliveries: Vec::new(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = Timeline)]
pub struct TimelineBody {
    pub items: Vec<TimelineItem>,
}

impl TimelineBody {
    /// A case's timeline as `actor` may see it: payloads redacted for them, each row with
    /// the mails it sent.
    pub fn of(wf: &dyn Workflow, timeline: &Timeline, actor: &Actor) -> TimelineBody {
        let items = timeline
            .rows
            .iter()
            .map(|r| {
                let mut item = TimelineItem::of(wf, &timeline.case, actor, r);
                item.deliveries = timeline
                    .mails
                    .iter()
                    .filter(|m| m.seq == r.seq)
                    .map(Delivery::of)
                    .collect();
                item
            })
            .collect();
        TimelineBody { items }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `COMMON` names exactly the body's own fields: a record can never be written twice.
    #[test]
    fn common_names_every_field_of_the_body() {
        let utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(schema)) =
            <CaseBody as utoipa::PartialSchema>::schema()
        else {
            panic!("a case body is an object");
        };
        let mut fields: Vec<&str> = schema.properties.keys().map(String::as_str).collect();
        let mut common = COMMON.to_vec();
        fields.sort_unstable();
        common.sort_unstable();
        assert_eq!(fields, common);
    }
}
