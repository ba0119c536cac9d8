//! Outbox rows for one transition, one per recipient, each with a stable Message-ID.

use chrono::{DateTime, Utc};

use super::recipients::Recipient;
use crate::db::models::OutboxRow;
use crate::domain::workflow::Case;

pub struct Notice<'a> {
    pub case: &'a Case,
    pub seq: i64,
    pub event: &'a str,
    pub from: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub case_url: String,
}

fn state_zh(state: &str) -> &str {
    match state {
        "filed" => "已受理申请",
        "needs_supplement" => "待补充材料",
        "investigating" => "调查核实中",
        "deliberating" => "研究认定中",
        "exonerated" => "予以免责",
        "mitigated" => "从轻/减轻处理",
        "denied" => "不予容错",
        "appealed" => "申诉中",
        "rejected" => "不予受理",
        "withdrawn" => "已撤回",
        "closed" => "已办结",
        "accountability" => "转入问责程序",
        other => other,
    }
}

/// One pending outbox row per recipient. The text is a plain bilingual notice; rich
/// templates replace it without changing the rows' shape.
pub fn rows(n: &Notice<'_>, recipients: &[Recipient]) -> Vec<OutboxRow> {
    let case = n.case;
    let short = &case.id[..case.id.len().min(8)];
    let subject = format!(
        "[容错纠错] 案件 {short}：{} / Case {short}: {}",
        state_zh(&case.state),
        n.event
    );
    let at = n.at.naive_utc();
    recipients
        .iter()
        .map(|r| {
            let id = uuid::Uuid::now_v7().to_string();
            let body = format!(
                "{name}，您好：\n\n案件 {short}（{title}）发生变更：{event}，当前状态：{state_zh}。\n详情：{url}\n\n\
                 Dear {name},\n\ncase {short} ({title}) changed by `{event}`: {from} -> {state}.\nDetails: {url}\n",
                name = r.name,
                title = case.title,
                event = n.event,
                state_zh = state_zh(&case.state),
                from = n.from.unwrap_or("-"),
                state = case.state,
                url = n.case_url,
            );
            OutboxRow {
                message_id: format!("<{id}@rongcuo>"),
                id,
                case_id: case.id.clone(),
                seq: n.seq,
                recipient_id: r.id.clone(),
                recipient_name: r.name.clone(),
                recipient_email: r.email.clone(),
                relation: r.relation.to_string(),
                template: n.event.to_string(),
                subject: subject.clone(),
                body_text: body,
                state: "pending".into(),
                attempts: 0,
                next_attempt_at: at,
                last_error: None,
                created_at: at,
                sent_at: None,
            }
        })
        .collect()
}
