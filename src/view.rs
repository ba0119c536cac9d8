//! JSON views of cases and timelines (what REST clients see).

use serde_json::{Map, Value, json};

use crate::db::models::TransitionRow;
use crate::domain::Actor;
use crate::domain::workflow::{Case, Workflow};
use crate::time::{format_at, rfc3339};

/// A case as `actor` may see it, with their `available_events` and the workflow's records.
pub fn case_json(
    wf: &dyn Workflow,
    case: &Case,
    actor: &Actor,
    available_events: &[&str],
) -> Value {
    let mut records = case.records.clone();
    wf.redact_records(case, actor, &mut records);
    let mut obj = Map::new();
    obj.insert("id".into(), json!(case.id));
    obj.insert("workflow".into(), json!(case.workflow));
    obj.insert("number".into(), json!(wf.def().case_number(&case.id)));
    obj.insert("state".into(), json!(case.state));
    obj.insert("version".into(), json!(case.version));
    obj.insert("subject".into(), json!(case.subject));
    obj.insert(
        "applicant".into(),
        json!({"id": case.applicant.id, "name": case.applicant.name, "role": case.applicant.role}),
    );
    obj.insert("investigator_id".into(), json!(case.investigator_id));
    obj.insert("decider_id".into(), json!(case.decider_id));
    obj.insert("title".into(), json!(case.title));
    obj.insert("overdue".into(), json!(case.overdue));
    obj.insert("disclosed".into(), json!(case.disclosed));
    obj.insert("catalogue_version".into(), json!(case.catalogue_version));
    if let Value::Object(records) = records {
        for (k, v) in records {
            obj.entry(k).or_insert(v);
        }
    }
    obj.insert("created_at".into(), json!(rfc3339(case.created_at)));
    obj.insert("updated_at".into(), json!(rfc3339(case.updated_at)));
    obj.insert("available_events".into(), json!(available_events));
    Value::Object(obj)
}

/// Delivery status of a transition's mails: to whom (by relation), state, attempts.
pub fn deliveries<'a>(rows: impl Iterator<Item = &'a crate::db::models::OutboxRow>) -> Value {
    Value::Array(
        rows.map(|m| {
            json!({
                "relation": m.relation,
                "state": m.state,
                "attempts": m.attempts,
                "sent_at": m.sent_at.map(format_at),
            })
        })
        .collect(),
    )
}

pub fn timeline_item(wf: &dyn Workflow, case: &Case, actor: &Actor, row: &TransitionRow) -> Value {
    let mut payload: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
    wf.redact_payload(case, actor, &row.event, &mut payload);
    json!({
        "seq": row.seq,
        "event": row.event,
        "from": row.from_state,
        "to": row.to_state,
        "actor": {"id": row.actor_id, "role": row.actor_role},
        "payload": payload,
        "at": format_at(row.at),
        "hash": row.hash,
        "prev_hash": row.prev_hash,
    })
}
