//! What a mail says: the render context for one recipient of one transition.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::recipients::Recipient;
use super::rules::{Rule, Rules};
use crate::domain::access::available_events;
use crate::domain::workflow::{Case, Workflow};
use crate::time;

pub fn deadline_json(zh: &str, en: &str, at: DateTime<Utc>) -> Value {
    json!({"label_zh": zh, "label_en": en, "at": time::rfc3339(at), "at_local": time::at_local(at), "date_local": time::date_local(at)})
}

pub struct Transition<'a> {
    pub wf: &'a dyn Workflow,
    pub case: &'a Case,
    pub event: &'a str,
    pub from: Option<&'a str>,
    pub payload: &'a Value,
    pub at: DateTime<Utc>,
    pub link: String,
}

/// The template context for `recipient`. Records come redacted for nobody: a mail never
/// carries what only some readers may see (a reporter's identity).
pub fn context(t: &Transition<'_>, rule: &Rule, rules: &Rules, recipient: &Recipient) -> Value {
    let mut records = t.case.records.clone();
    t.wf.redact_records(t.case, &crate::domain::Actor::nobody(), &mut records);
    let next: Vec<Value> = match &recipient.actor {
        Some(actor) => available_events(t.wf, actor, t.case, t.at)
            .into_iter()
            .map(|e| {
                let r = rules.get(&t.case.workflow, e);
                json!({"event": e, "label_zh": r.map(|r| r.label_zh()).unwrap_or(e), "label_en": r.map(|r| r.label_en()).unwrap_or(e)})
            })
            .collect(),
        None => Vec::new(),
    };
    let def = t.wf.def();
    let deadline = t.wf.deadline(t.case).map(|(timer, at)| {
        let (zh, en) = def.deadline_label(timer);
        deadline_json(zh, en, at)
    });
    let details = ["items", "questions", "reason"]
        .iter()
        .find_map(|k| t.payload.get(*k).and_then(Value::as_str))
        .map(str::to_string);
    let mut ctx = json!({
        "workflow": def.name,
        "workflow_title": def.title.split(" / ").next().unwrap_or(def.title),
        "workflow_title_short": def.title_short,
        "case": {
            "id": t.case.id,
            "number": def.case_number(&t.case.id),
            "title": t.case.title,
            "state": t.case.state,
            "state_zh": def.state_zh(&t.case.state),
        },
        "event": {"name": t.event, "label_zh": rule.label_zh(), "label_en": rule.label_en(), "details": details},
        "from": t.from,
        "recipient": {"name": recipient.name, "relation": recipient.relation},
        "next": next,
        "deadline": deadline,
        "link": t.link,
        // A note's text (only notes carry one).
        "note": (t.event == "note").then(|| t.payload.get("body").cloned()).flatten(),
    });
    // What the workflow's own records add (a decision's outcome in Chinese, say).
    if let Value::Object(map) = &mut ctx {
        map.extend(t.wf.mail_records(&records));
    }
    ctx
}
