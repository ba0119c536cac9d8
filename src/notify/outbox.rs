//! What a mail says: the render context for one recipient of one transition.

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Value, json};

use super::recipients::Recipient;
use super::rules::{Rule, Rules};
use crate::domain::workflow::{Case, Workflow, available_events};

/// 北京时间, the time recipients read.
fn local(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&crate::domain::calendar::beijing())
}

fn at_local(at: DateTime<Utc>) -> String {
    local(at)
        .format("%Y年%m月%d日 %H:%M（北京时间）")
        .to_string()
}

fn date_local(at: DateTime<Utc>) -> String {
    local(at).format("%Y年%m月%d日").to_string()
}

pub fn state_zh(state: &str) -> &str {
    match state {
        "filed" => "已提交申请",
        "needs_supplement" => "待补充材料",
        "investigating" => "调查核实中",
        "deliberating" => "研究认定中",
        "exonerated" => "予以免责",
        "mitigated" => "从轻/减轻处理",
        "denied" => "不予容错",
        "appealed" => "申诉复核中",
        "rejected" => "不予受理",
        "withdrawn" => "已撤回",
        "closed" => "已办结",
        "accountability" => "转入问责程序",
        "received" => "已登记",
        "dismissal_proposed" => "拟不予调查，待审核",
        "dismissed" => "不予调查",
        "inquiry" => "函询中",
        "explained" => "已说明情况",
        "cleared" => "已采信了结",
        "substantiated" => "反映问题属实",
        "unfounded" => "反映问题不实",
        "clarified" => "已澄清正名",
        other => other,
    }
}

fn outcome_zh(outcome: &str) -> &str {
    match outcome {
        "exonerate" => "予以免责（免于问责）",
        "mitigate" => "从轻或减轻处理",
        "deny" => "不予容错",
        other => other,
    }
}

/// A short, readable case number (the id's random tail).
pub fn case_number(case: &Case) -> String {
    let prefix = if case.workflow == "clarification" {
        "CQ"
    } else {
        "RC"
    };
    let tail: String = case
        .id
        .chars()
        .filter(|c| *c != '-')
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{prefix}-{}", tail.to_uppercase())
}

pub fn deadline_json(zh: &str, en: &str, at: DateTime<Utc>) -> Value {
    json!({"label_zh": zh, "label_en": en, "at": crate::view::rfc3339(at), "at_local": at_local(at), "date_local": date_local(at)})
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
    let deadline =
        t.wf.deadline(t.case)
            .map(|(zh, en, at)| deadline_json(zh, en, at));
    let decision = records.get("decision").filter(|d| d.is_object()).map(|d| {
        let mut d = d.clone();
        let outcome = d["outcome"].as_str().unwrap_or_default().to_string();
        d["outcome_zh"] = json!(outcome_zh(&outcome));
        if let Some(degree) = d["degree"].as_str() {
            d["degree_zh"] = json!(match degree {
                "lighter" => "从轻",
                "reduced" => "减轻",
                other => other,
            });
        }
        d
    });
    // A follow-up talk still to be held.
    let talk = records
        .get("talk")
        .filter(|t| matches!(t["state"].as_str(), Some("due" | "overdue")))
        .map(|t| {
            let mut t = t.clone();
            if let Some(due) = t["due_at"]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            {
                t["due_local"] = json!(at_local(due.with_timezone(&Utc)));
            }
            t
        });
    let rectification = records
        .get("rectification")
        .filter(|r| r.is_object())
        .map(|r| {
            let mut r = r.clone();
            if let Some(due) = r["due_at"]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            {
                r["due_local"] = json!(at_local(due.with_timezone(&Utc)));
            }
            r
        });
    let details = ["items", "questions", "reason"]
        .iter()
        .find_map(|k| t.payload.get(*k).and_then(Value::as_str))
        .map(str::to_string);
    let def = t.wf.def();
    json!({
        "workflow": def.name,
        "workflow_title": def.title.split(" / ").next().unwrap_or(def.title),
        "workflow_title_short": if def.name == "clarification" { "澄清正名" } else { "容错纠错" },
        "case": {
            "id": t.case.id,
            "number": case_number(t.case),
            "title": t.case.title,
            "state": t.case.state,
            "state_zh": state_zh(&t.case.state),
        },
        "event": {"name": t.event, "label_zh": rule.label_zh(), "label_en": rule.label_en(), "details": details},
        "from": t.from,
        "recipient": {"name": recipient.name, "relation": recipient.relation},
        "next": next,
        "deadline": deadline,
        "decision": decision,
        "rectification": rectification,
        "talk": talk,
        "link": t.link,
    })
}
