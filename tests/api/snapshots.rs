//! Snapshots of rendered mails (insta), one per template and workflow, from real
//! transitions; ids, case numbers and times are masked.

use chrono::Duration;
use diesel::prelude::*;
use rongcuo::db::DbError;
use rongcuo::db::models::OutboxRow;
use rongcuo::db::schema::outbox;
use rongcuo::domain::Actor;
use serde_json::json;

use crate::helpers::*;

async fn mail(app: &TestApp, case_id: &str, seq: i64, relation: &str) -> String {
    let (id, rel) = (case_id.to_string(), relation.to_string());
    let row: OutboxRow = app
        .db()
        .read(move |c| {
            Ok::<_, DbError>(
                outbox::table
                    .filter(outbox::case_id.eq(&id))
                    .filter(outbox::seq.eq(seq))
                    .filter(outbox::relation.eq(&rel))
                    .first(c)?,
            )
        })
        .await
        .unwrap_or_else(|_| panic!("no {relation} mail at {seq}"));
    format!(
        "To: {} <{}> ({})\nSubject: {}\n\n{}\n----- html -----\n{}",
        row.recipient_name,
        row.recipient_email,
        row.relation,
        row.subject,
        row.body_text,
        row.body_html
    )
}

fn check(name: &str, text: &str) {
    insta::with_settings!({
        filters => vec![
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]"),
            (r"(RC|CQ)-[0-9A-F]{8}", "$1-[number]"),
            (r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}（北京时间）", "[local time]"),
            (r"\d{4}年\d{2}月\d{2}日", "[local date]"),
            (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[time]"),
            (r"\d{4}-\d{2}-\d{2}", "[date]"),
        ],
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_mails_match_their_snapshots() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.introduce(&[&CHEN, &SUN, &WANG]).await;
    // Workflow A: notice (create), deadline (request_supplement), decision (decide),
    // overdue (rectification_overdue).
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    app.act(&id, &LI, json!({"event": "request_supplement", "items": "区政府专题会议纪要", "due_at": due_in_days(7)})).await;
    app.act(
        &id,
        &ZHANG,
        json!({"event": "supplement", "material": "会议纪要"}),
    )
    .await;
    app.act(
        &id,
        &LI,
        json!({"event": "accept", "investigator_id": CHEN.id}),
    )
    .await;
    app.act(&id, &CHEN, findings("mitigate", &[])).await;
    app.act(&id, &SUN, json!({"event": "decide", "outcome": "mitigate", "explanation": "确需追究责任，依规从轻处理",
        "degree": "reduced", "sanction": "demerit",
        "rectification": {"requirements": "补办招标并建立应急采购预案", "due_at": due_in_days(10)}}))
        .await;
    app.clock().advance(Duration::days(11));
    app.state
        .engine
        .apply(
            "exoneration",
            id.clone(),
            Actor::system(),
            json!({"event": "rectification_overdue"}),
            None,
            None,
        )
        .await
        .unwrap();
    check(
        "exoneration_create_subject",
        &mail(&app, &id, 1, "subject").await,
    );
    check(
        "exoneration_request_supplement_applicant",
        &mail(&app, &id, 2, "applicant").await,
    );
    check(
        "exoneration_decide_subject",
        &mail(&app, &id, 6, "subject").await,
    );
    check(
        "exoneration_decide_unit_contact",
        &mail(&app, &id, 6, "unit_contact").await,
    );
    check(
        "exoneration_rectification_overdue_investigator",
        &mail(&app, &id, 7, "investigator").await,
    );

    // Workflow B: deadline (send_inquiry), notice (clarify).
    let report = json!({
        "subject": {"id": ZHANG.id, "name": ZHANG.name, "email": ZHANG.email(), "org": ZHANG.org, "position": "科长"},
        "allegation": {"summary": "反映张三收受中介好处", "details": "来信反映", "channel": "letter"},
        "reporter": {"name": "举报人", "contact": "13900000000", "anonymous": false}
    });
    let c = app.file_in(CLA, &LI, &report).await;
    let cid = c["id"].as_str().unwrap().to_string();
    app.act_in(
        CLA,
        &cid,
        &CHEN,
        json!({"event": "send_inquiry", "questions": "请说明招标经过", "due_at": due_in_days(15)}),
    )
    .await;
    app.act_in(
        CLA,
        &cid,
        &ZHANG,
        json!({"event": "submit_explanation", "explanation": "说明"}),
    )
    .await;
    app.act_in(
        CLA,
        &cid,
        &CHEN,
        json!({"event": "accept_explanation", "conclusion": "予以采信"}),
    )
    .await;
    app.act_in(CLA, &cid, &SUN, json!({"event": "clarify", "methods": ["talk", "meeting_notice"], "scope": "区财政局", "date": "2026-12-01"})).await;
    check(
        "clarification_send_inquiry_subject",
        &mail(&app, &cid, 2, "subject").await,
    );
    check(
        "clarification_clarify_subject",
        &mail(&app, &cid, 5, "subject").await,
    );
}
