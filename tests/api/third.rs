//! A third workflow, defined here and nowhere else, runs on the one transition path: 意见建议
//! (a cadre's suggestion to their jurisdiction, answered by an intake officer, or lapsed by
//! a timer when nobody answers within seven days). It is registered with one call, its
//! mail rules are one data file beside the built-in ones, and nothing in `src/` names it:
//! routes, the document, mail, timers, numbers and state names all come from its own type.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use rongcuo::db::DbError;
use rongcuo::db::repo;
use rongcuo::domain::access::filing_subject;
use rongcuo::domain::workflow::{
    Applicant, Case, Filing, Lookup, Party, Row, Step, TimerSpec, Workflow, WorkflowApi,
    WorkflowDef, parse_payload,
};
use rongcuo::domain::{Actor, Refusal, Role};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::smtp::eventually;

crate::on_both_backends!(a_workflow_defined_in_a_test_is_filed_answered_mailed_and_lapsed);

static DEF: WorkflowDef = WorkflowDef {
    name: "suggestion",
    title: "意见建议 / suggestion",
    title_short: "意见建议",
    collection: "suggestions",
    number_prefix: "YJ",
    states_zh: &[
        ("submitted", "已提交"),
        ("answered", "已答复"),
        ("lapsed", "逾期未复"),
    ],
    deadlines: &[("lapse", "答复期限", "reply due")],
    initial: "submitted",
    states: &["submitted", "answered", "lapsed"],
    terminal: &["answered", "lapsed"],
    create_parties: &[Party::Role(Role::Cadre)],
    rows: &[
        Row {
            from: &["submitted"],
            event: "answer",
            to: &["answered"],
            parties: &[Party::Role(Role::Intake)],
            carries: "reply",
        },
        Row {
            from: &["submitted"],
            event: "lapse",
            to: &["lapsed"],
            parties: &[Party::System],
            carries: "",
        },
    ],
};

const ANSWER_WITHIN_DAYS: i64 = 7;

/// The suggestion's records.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = SuggestionRecords)]
struct Records {
    text: String,
    due_at: DateTime<Utc>,
    reply: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SuggestionFiling)]
struct FilingBody {
    text: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SuggestionAnswer)]
struct AnswerBody {
    reply: String,
}

struct Suggestion;

fn records(case: &Case) -> Result<Records, Refusal> {
    serde_json::from_value(case.records.clone()).map_err(|e| Refusal::Conflict(e.to_string()))
}

impl Workflow for Suggestion {
    fn def(&self) -> &'static WorkflowDef {
        &DEF
    }

    fn catalogues(&self) -> Value {
        json!({"answer_within_days": ANSWER_WITHIN_DAYS})
    }

    fn api(&self) -> WorkflowApi {
        WorkflowApi::new::<FilingBody, Records>().event::<AnswerBody>("answer")
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
        if b.text.trim().is_empty() {
            return Err(Refusal::invalid("text", "must not be empty"));
        }
        let (subject, role) = filing_subject(&DEF, actor, None, lookup)?;
        let records = Records {
            text: b.text.clone(),
            due_at: now + Duration::days(ANSWER_WITHIN_DAYS),
            reply: None,
        };
        let case = Case {
            id,
            workflow: DEF.name.into(),
            state: DEF.initial.into(),
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
            title: b.text.chars().take(20).collect(),
            overdue: false,
            disclosed: true,
            catalogue_version: String::new(),
            records: serde_json::to_value(&records).unwrap(),
            created_at: now,
            updated_at: now,
        };
        Ok(Filing {
            case,
            payload: json!({"text": b.text}),
        })
    }

    fn separation(&self, _: &str, _: &Actor, _: &Case) -> Result<(), Refusal> {
        Ok(())
    }

    fn precondition(&self, _: &str, _: &Case, _: DateTime<Utc>) -> Result<(), Refusal> {
        Ok(())
    }

    fn apply(
        &self,
        case: &Case,
        event: &str,
        body: &Value,
        _: &Actor,
        _: DateTime<Utc>,
        _: &mut dyn Lookup,
    ) -> Result<Step, Refusal> {
        let mut r = records(case)?;
        let (to, overdue, payload) = match event {
            "answer" => {
                let b: AnswerBody = parse_payload(body)?;
                r.reply = Some(b.reply.clone());
                ("answered", false, json!({"reply": b.reply}))
            }
            _ => ("lapsed", true, json!({})),
        };
        Ok(Step {
            to: to.into(),
            records: serde_json::to_value(&r).unwrap(),
            investigator_id: None,
            decider_id: None,
            overdue,
            payload,
            spawn: None,
        })
    }

    fn timers(&self, case: &Case) -> Vec<TimerSpec> {
        match (case.state.as_str(), records(case)) {
            ("submitted", Ok(r)) => vec![TimerSpec::event("lapse", r.due_at)],
            _ => Vec::new(),
        }
    }

    fn deadline(&self, case: &Case) -> Option<(&'static str, DateTime<Utc>)> {
        (case.state == "submitted")
            .then(|| records(case).ok())
            .flatten()
            .map(|r| ("lapse", r.due_at))
    }

    fn search_text(&self, case: &Case) -> String {
        records(case)
            .map(|r| r.text.to_lowercase())
            .unwrap_or_default()
    }
}

/// Its mail rules, beside the built-in workflows' data in a copy of `workflows/`.
const RULES: &str = r#"
[[notifications]]
event = "create"
label = "提交意见建议 / suggestion submitted"
template = "notice"
recipients = ["intake_officers"]

[[notifications]]
event = "answer"
label = "答复意见建议 / suggestion answered"
template = "notice"
recipients = ["applicant"]

[[notifications]]
event = "lapse"
label = "逾期未答复 / not answered in time"
template = "notice"
recipients = ["applicant", "intake_officers"]

[[notifications]]
event = "note"
label = "案件留言 / note added"
template = "note"
recipients = ["applicant", "intake_officers"]
"#;

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

async fn mails(app: &TestApp, case_id: &str) -> Vec<(i64, String, String, String)> {
    let id = case_id.to_string();
    app.db()
        .read(move |c| Ok::<_, DbError>(repo::outbox::list_for_case(c, &id)?))
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            (
                m.seq,
                m.recipient_id.unwrap_or_default(),
                m.subject,
                m.body_text,
            )
        })
        .collect()
}

async fn a_workflow_defined_in_a_test_is_filed_answered_mailed_and_lapsed(backend: Backend) {
    let data = tempfile::tempdir().unwrap();
    copy_dir(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/workflows")),
        data.path(),
    );
    std::fs::write(data.path().join("suggestion.toml"), RULES).unwrap();
    let dir = data.path().display().to_string();
    let Some(app) = spawn_app_running(
        backend,
        &[
            ("RONGCUO_WORKFLOWS_DIR", &dir),
            ("RONGCUO_TIMERS_ENABLED", "true"),
            ("RONGCUO_TIMER_INTERVAL_MS", "50"),
        ],
        vec![Arc::new(Suggestion)],
    )
    .await
    else {
        return;
    };
    app.introduce(&[&LI]).await;

    // Bad input names its field and files nothing.
    let r = app
        .post("/api/v1/suggestions", &ZHANG, &json!({"text": " "}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["field"], "text", "{v}");
    let r = app
        .post("/api/v1/suggestions", &LI, &json!({"text": "由办公室代提"}))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "only a cadre files");

    // Filed by the cadre: its own collection, number and state names.
    let r = app
        .post(
            "/api/v1/suggestions",
            &ZHANG,
            &json!({"text": "建议简化差旅报销流程"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let a: Value = r.json().await.unwrap();
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/suggestions/{id}"));
    assert_eq!(a["workflow"], "suggestion");
    assert_eq!(a["state"], "submitted");
    assert_eq!(
        a["text"], "建议简化差旅报销流程",
        "its records beside the common fields"
    );
    let number = a["number"].as_str().unwrap();
    assert!(number.starts_with("YJ-") && number.len() == 11, "{number}");
    assert_eq!(a["available_events"], json!([]));
    let seen = app.case_in("suggestions", &id, &LI).await;
    assert_eq!(seen["available_events"], json!(["answer"]));
    assert_eq!(
        app.get(&format!("/api/v1/exonerations/{id}"), &LI)
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "a suggestion is not an exoneration case"
    );

    // Its rule mailed the intake officer, in its own words.
    let filed = mails(&app, &id).await;
    let (_, to, subject, body) = &filed[0];
    assert_eq!((filed.len(), to.as_str()), (1, LI.id), "{filed:?}");
    assert_eq!(
        subject,
        &format!("【意见建议】{number} 提交意见建议 / suggestion submitted")
    );
    assert!(body.contains("当前状态：已提交"), "{body}");
    assert!(
        body.contains(&format!("http://rongcuo.test/console/suggestions/{id}")),
        "{body}"
    );

    // Answered by the intake officer: the event's fields are parsed by its own type.
    let (status, v) = app
        .try_act_in(
            "suggestions",
            &id,
            &LI,
            json!({"event": "answer", "answer": "?"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (status, _) = app
        .try_act_in(
            "suggestions",
            &id,
            &ZHANG,
            json!({"event": "answer", "reply": "自己答复"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let done = app
        .act_in(
            "suggestions",
            &id,
            &LI,
            json!({"event": "answer", "reply": "已采纳，下月起施行"}),
        )
        .await;
    assert_eq!(
        (done["state"].as_str(), done["version"].as_i64()),
        (Some("answered"), Some(2))
    );
    assert_eq!(done["reply"], "已采纳，下月起施行");
    let timeline = app.timeline_in("suggestions", &id, &ZHANG).await;
    let events: Vec<&str> = timeline
        .iter()
        .map(|t| t["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["create", "answer"]);
    assert_eq!(
        timeline[1]["prev_hash"], timeline[0]["hash"],
        "one audit chain"
    );
    let answered = mails(&app, &id).await;
    assert!(
        answered.iter().any(|(seq, to, _, body)| *seq == 2
            && to == ZHANG.id
            && body.contains("当前状态：已答复")),
        "{answered:?}"
    );

    // Another, left unanswered: its timer fires through the same path as the system.
    let b = app
        .file_in(
            "suggestions",
            &ZHANG,
            &json!({"text": "建议增设夜间办事窗口"}),
        )
        .await;
    let b = b["id"].as_str().unwrap().to_string();
    app.clock().advance(Duration::days(ANSWER_WITHIN_DAYS + 1));
    eventually(30, "the suggestion lapsed", async || {
        app.case_in("suggestions", &b, &LI).await["state"] == "lapsed"
    })
    .await;
    let lapsed = app.case_in("suggestions", &b, &ZHANG).await;
    assert_eq!(lapsed["overdue"], true);
    let timeline = app.timeline_in("suggestions", &b, &LI).await;
    assert_eq!(
        (
            timeline[1]["event"].as_str(),
            timeline[1]["actor"]["role"].as_str()
        ),
        (Some("lapse"), Some("system"))
    );
    let sent = mails(&app, &b).await;
    assert!(
        sent.iter().any(|(seq, to, _, body)| *seq == 2
            && to == ZHANG.id
            && body.contains("当前状态：逾期未复")),
        "{sent:?}"
    );

    // Described and documented like the built-in ones, which still run beside it.
    let r = app.get("/api/v1/workflows/suggestion", &LI).await;
    assert_eq!(r.status(), StatusCode::OK);
    let wf: Value = r.json().await.unwrap();
    assert_eq!(wf["states"], json!(DEF.states));
    let doc: Value = serde_json::from_str(app.state.docs.json()).unwrap();
    for path in [
        "/api/v1/suggestions",
        "/api/v1/suggestions/{id}",
        "/api/v1/suggestions/{id}/transitions",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert_eq!(
        app.get("/api/v1/exonerations", &LI).await.status(),
        StatusCode::OK
    );

    // Names and collections stay unique.
    let again = app.state.engine.registry.clone().with(Arc::new(Suggestion));
    assert!(again.is_err_and(|e| e.contains("clashes")));
}
