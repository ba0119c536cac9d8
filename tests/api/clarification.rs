//! Workflow B over HTTP: the happy paths, refusals, concurrency, and the reporter's
//! confidentiality on every endpoint, for every role.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

both_backends!(
    a_report_of_speculation_is_dismissed_and_closed,
    an_inquiry_answered_by_the_unit_is_accepted_and_the_cadre_cleared,
    an_unfounded_report_is_clarified_and_the_accuser_referred,
    a_substantiated_report_opens_a_linked_exoneration_case,
    refusals_name_their_reason_and_change_nothing,
    twenty_racing_triage_events_have_one_winner,
    the_reporter_is_seen_only_by_intake_and_investigators_of_the_jurisdiction,
    a_false_accuser_is_referred_from_a_dismissed_report_and_blacklisted_unseen,
);

const REPORTER_NAME: &str = "匿名者甲乙丙";
const REPORTER_CONTACT: &str = "13912345678";

fn report(named: bool) -> Value {
    let mut b = json!({
        "subject": {"id": ZHANG.id, "name": ZHANG.name, "email": ZHANG.email(), "org": ZHANG.org, "position": "安全监管科科长"},
        "allegation": {"summary": "反映张三在招标中收受中介好处", "details": "来信称张三先检查后招标是为中介牟利。", "channel": "letter"}
    });
    b["reporter"] = if named {
        json!({"name": REPORTER_NAME, "contact": REPORTER_CONTACT, "anonymous": false})
    } else {
        json!({"anonymous": true})
    };
    b
}

async fn register(app: &TestApp, named: bool) -> String {
    app.introduce(&[&CHEN, &ZHAO, &SUN]).await;
    let c = app.file_in(CLA, &LI, &report(named)).await;
    assert_eq!(
        (c["state"].as_str(), c["version"].as_i64()),
        (Some("received"), Some(1))
    );
    c["id"].as_str().unwrap().to_string()
}

async fn investigated(app: &TestApp, finding: &str) -> String {
    let id = register(app, true).await;
    app.act_in(
        CLA,
        &id,
        &CHEN,
        json!({"event": "open_investigation", "investigator_id": CHEN.id}),
    )
    .await;
    let c = app
        .act_in(
            CLA,
            &id,
            &CHEN,
            json!({"event": "conclude", "finding": finding, "report": "调查报告"}),
        )
        .await;
    assert_eq!(c["conclusion"]["finding"], finding);
    id
}

async fn a_report_of_speculation_is_dismissed_and_closed(app: TestApp) {
    let id = register(&app, false).await;
    let propose = json!({"event": "propose_dismissal", "reason_code": "subjective_speculation", "explanation": "明显属于主观臆断"});
    // `dismiss` is gone: one person no longer dismisses a report alone.
    let mut alone = propose.clone();
    alone["event"] = json!("dismiss");
    let (s, v) = app.try_act_in(CLA, &id, &LI, alone).await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("event")),
        "{v}"
    );
    // Proposed by an investigator who is also a reviewer, rejected by a reviewer: back to triage.
    let c = app.act_in(CLA, &id, &ZHAO, propose.clone()).await;
    assert_eq!(c["state"], "dismissal_proposed");
    assert_eq!(
        app.case_in(CLA, &id, &SUN).await["available_events"],
        json!(["confirm_dismissal", "reject_dismissal"])
    );
    assert_eq!(
        app.case_in(CLA, &id, &ZHAO).await["available_events"],
        json!(["reject_dismissal"])
    );
    let (s, v) = app
        .try_act_in(CLA, &id, &ZHAO, json!({"event": "confirm_dismissal"}))
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the proposer does not confirm: {v}"
    );
    let (s, _) = app
        .try_act_in(CLA, &id, &CHEN, json!({"event": "confirm_dismissal"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an investigator does not confirm");
    let c = app
        .act_in(
            CLA,
            &id,
            &SUN,
            json!({"event": "reject_dismissal", "reason": "有具体线索，先函询"}),
        )
        .await;
    assert_eq!(c["state"], "received");
    assert_eq!(c["rejected_dismissals"][0]["rejection"]["by"], SUN.id);
    assert!(c.get("dismissal").is_none());
    // Proposed again by intake, confirmed by a reviewer who did not propose it.
    app.act_in(CLA, &id, &LI, propose).await;
    let c = app
        .act_in(CLA, &id, &ZHAO, json!({"event": "confirm_dismissal"}))
        .await;
    assert_eq!(c["state"], "dismissed");
    assert_eq!(c["dismissal"]["reason_code"], "subjective_speculation");
    assert_eq!(
        (
            c["dismissal"]["by"].as_str(),
            c["dismissal"]["confirmed_by"].as_str()
        ),
        (Some(LI.id), Some(ZHAO.id))
    );
    // Who was told: reviewers of the proposal, intake and investigators of each decision.
    let mails = app.outbox(&id).await;
    let to = |seq: i64| {
        let mut v: Vec<String> = mails
            .iter()
            .filter(|m| m.0 == seq)
            .map(|m| m.1.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(to(2), ["reviewer"]);
    assert_eq!(to(3), ["intake_officer", "investigator"]);
    assert_eq!(to(5), ["intake_officer", "investigator"]);
    let c = app
        .act_in(
            CLA,
            &id,
            &SUN,
            json!({"event": "close", "reason": "不予调查，办结"}),
        )
        .await;
    assert_eq!(c["state"], "closed");
    let events: Vec<Value> = app
        .timeline_in(CLA, &id, &LI)
        .await
        .iter()
        .map(|i| i["event"].clone())
        .collect();
    assert_eq!(
        events,
        [
            "create",
            "propose_dismissal",
            "reject_dismissal",
            "propose_dismissal",
            "confirm_dismissal",
            "close"
        ]
    );
}

async fn an_inquiry_answered_by_the_unit_is_accepted_and_the_cadre_cleared(app: TestApp) {
    let id = register(&app, true).await;
    let c = app
        .act_in(CLA, &id, &CHEN, json!({"event": "send_inquiry", "questions": "请就招标问题作出书面说明", "due_at": due_in_days(15)}))
        .await;
    assert_eq!(c["state"], "inquiry");
    assert_eq!(
        app.case_in(CLA, &id, &ZHANG).await["available_events"],
        json!(["submit_explanation"])
    );
    assert_eq!(
        app.case_in(CLA, &id, &WANG).await["available_events"],
        json!(["submit_explanation"])
    );
    let c = app.act_in(CLA, &id, &WANG, json!({"event": "submit_explanation", "explanation": "单位说明：先检查后招标经集体研究"})).await;
    assert_eq!(c["state"], "explained");
    assert_eq!(c["inquiry"]["explanation"]["by"], WANG.id);
    let c = app
        .act_in(
            CLA,
            &id,
            &CHEN,
            json!({"event": "accept_explanation", "conclusion": "说明属实，予以采信了结"}),
        )
        .await;
    assert_eq!(c["state"], "cleared");
    let c = app
        .act_in(CLA, &id, &SUN, json!({"event": "clarify", "methods": ["talk", "written_notice"], "scope": "区安监局全体干部", "date": "2026-11-25"}))
        .await;
    assert_eq!(c["state"], "clarified");
    assert_eq!(
        c["clarification"]["methods"],
        json!(["talk", "written_notice"])
    );
    let c = app
        .act_in(
            CLA,
            &id,
            &SUN,
            json!({"event": "close", "reason": "澄清完毕"}),
        )
        .await;
    assert_eq!(c["state"], "closed");
}

async fn an_unfounded_report_is_clarified_and_the_accuser_referred(app: TestApp) {
    let id = investigated(&app, "unfounded").await;
    assert_eq!(app.case_in(CLA, &id, &SUN).await["state"], "unfounded");
    let c = app
        .act_in(CLA, &id, &SUN, json!({"event": "clarify", "methods": ["meeting_notice"], "scope": "全区干部大会", "date": "2026-12-01"}))
        .await;
    assert_eq!(c["state"], "clarified");
    // An investigator refers the accuser (a reviewer may not: 403).
    let refer = json!({"event": "refer_false_accusation", "category": "malicious_slander",
                       "evidence": "举报人与当事人存在经济纠纷", "accuser": "reporter"});
    let (s, _) = app.try_act_in(CLA, &id, &SUN, refer.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let c = app.act_in(CLA, &id, &CHEN, refer).await;
    assert_eq!(c["state"], "clarified");
    assert_eq!(c["referrals"][0]["category"], "malicious_slander");
    assert_eq!(c["referrals"][0]["accuser"]["name"], REPORTER_NAME);
    let seen = app.case_in(CLA, &id, &SUN).await;
    assert!(
        seen.get("reporter").is_none() && seen["referrals"][0].get("accuser").is_none(),
        "a reviewer never sees the reporter or the accuser: {seen}"
    );
    app.act_in(CLA, &id, &SUN, json!({"event": "close", "reason": "办结"}))
        .await;
    // The referral's outcome, after closing; no blacklist for slander.
    let (s, v) = app
        .try_act_in(CLA, &id, &SUN, json!({"event": "record_referral_outcome", "handling": "education", "blacklisted": true}))
        .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("blacklisted")),
        "{v}"
    );
    let c = app
        .act_in(CLA, &id, &SUN, json!({"event": "record_referral_outcome", "handling": "education", "blacklisted": false, "notes": "批评教育"}))
        .await;
    assert_eq!(
        (
            c["state"].as_str(),
            c["referrals"][0]["outcome"]["handling"].as_str()
        ),
        (Some("closed"), Some("education"))
    );
}

async fn a_substantiated_report_opens_a_linked_exoneration_case(app: TestApp) {
    let id = investigated(&app, "partially_substantiated").await;
    let c = app
        .act_in(CLA, &id, &CHEN, json!({"event": "open_exoneration"}))
        .await;
    assert_eq!(c["state"], "substantiated");
    let linked = c["linked_case_id"].as_str().unwrap().to_string();
    assert_eq!(c["version"], 4);
    let exo = app.case(&linked, &ZHANG).await;
    assert_eq!(exo["linked_case_id"], id.as_str());
    assert_eq!(
        (exo["state"].as_str(), exo["ex_officio"].as_bool()),
        (Some("filed"), Some(true))
    );
    assert_eq!(exo["applicant"]["id"], CHEN.id);
    assert_eq!(exo["subject"]["id"], ZHANG.id);
    assert!(
        !exo.to_string().contains(REPORTER_NAME),
        "the linked case carries no reporter"
    );
    assert_eq!(app.timeline(&linked, &ZHANG).await[0]["event"], "create");
    // Once only.
    let (s, b) = app
        .try_act_in(CLA, &id, &CHEN, json!({"event": "open_exoneration"}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    // The linked case runs Workflow A as usual.
    app.act(
        &linked,
        &LI,
        json!({"event": "accept", "investigator_id": CHEN.id}),
    )
    .await;
    let v: Value = app
        .get("/api/v1/exonerations", &ZHANG)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
}

async fn refusals_name_their_reason_and_change_nothing(app: TestApp) {
    // Only intake registers reports.
    for who in [&ZHANG, &CHEN, &SUN] {
        let r = app.post("/api/v1/clarifications", who, &report(true)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", who.id);
    }
    let mut bad = report(true);
    bad["reporter"] = json!({"name": REPORTER_NAME, "anonymous": false});
    let r = app.post("/api/v1/clarifications", &LI, &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["field"], "reporter.contact");
    bad["allegation"]["channel"] = json!("pigeon");
    let v: Value = app
        .post("/api/v1/clarifications", &LI, &bad)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["errors"][0]["field"], "allegation.channel");

    let id = register(&app, true).await;
    let cases = [
        (
            &SUN,
            json!({"event": "propose_dismissal", "reason_code": "labeling", "explanation": "x"}),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            &SUN,
            json!({"event": "confirm_dismissal"}),
            StatusCode::CONFLICT,
            None,
        ),
        (
            &LI,
            json!({"event": "send_inquiry", "questions": "q", "due_at": due_in_days(3)}),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            // A report not yet put to its subject is not there for them (no tip-off).
            &ZHANG,
            json!({"event": "submit_explanation", "explanation": "x"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            &SUN,
            json!({"event": "clarify", "methods": ["talk"], "scope": "s", "date": "2026-12-01"}),
            StatusCode::CONFLICT,
            None,
        ),
        (
            &LI,
            json!({"event": "propose_dismissal", "reason_code": "rumour", "explanation": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("reason_code"),
        ),
        (
            &LI,
            json!({"event": "propose_dismissal", "reason_code": "labeling"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("explanation"),
        ),
        (
            &CHEN,
            json!({"event": "send_inquiry", "questions": "q", "due_at": due_in_days(-1)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("due_at"),
        ),
        (
            &CHEN,
            json!({"event": "open_investigation", "investigator_id": WU.id}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("investigator_id"),
        ),
        (
            &SUN,
            json!({"event": "inquiry_overdue"}),
            StatusCode::FORBIDDEN,
            None,
        ),
    ];
    for (who, body, status, field) in cases {
        let (s, v) = app.try_act_in(CLA, &id, who, body.clone()).await;
        assert_eq!(s, status, "{body} by {}: {v}", who.id);
        if let Some(f) = field {
            assert_eq!(v["errors"][0]["field"], f, "{v}");
        }
    }
    // Not visible: 404 for another cadre and an investigator elsewhere.
    for who in [&QIAN, &WU] {
        let r = app.get(&format!("/api/v1/clarifications/{id}"), who).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    // 401 without a valid token, 412 on a stale version.
    let path = format!("/api/v1/clarifications/{id}/transitions");
    let body = json!({"event": "open_investigation", "investigator_id": ZHAO.id});
    let chen = app.token(&CHEN);
    let r = app
        .request(Method::POST, &path, Some("not-a-token"), Some(&body), &[])
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let stale = [("If-Match", "\"5\"")];
    let r = app
        .request(Method::POST, &path, Some(&chen), Some(&body), &stale)
        .await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(app.timeline_in(CLA, &id, &LI).await.len(), 1);
    app.act_in(
        CLA,
        &id,
        &CHEN,
        json!({"event": "open_investigation", "investigator_id": ZHAO.id}),
    )
    .await;
    let (s, _) = app
        .try_act_in(
            CLA,
            &id,
            &CHEN,
            json!({"event": "conclude", "finding": "unfounded", "report": "r"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "only the assigned investigator concludes"
    );
    let c = app.case_in(CLA, &id, &LI).await;
    assert_eq!(
        (c["state"].as_str(), c["version"].as_i64()),
        (Some("investigating"), Some(2))
    );
    assert_eq!(app.timeline_in(CLA, &id, &LI).await.len(), 2);
}

async fn twenty_racing_triage_events_have_one_winner(app: TestApp) {
    let id = register(&app, true).await;
    let requests = (0..20).map(|i| {
        let (who, body) = match i % 2 {
            0 => (LI, json!({"event": "propose_dismissal", "reason_code": "unclear_leads", "explanation": "线索不清"})),
            _ => (CHEN, inquiry_letter()),
        };
        let app = &app;
        let id = id.clone();
        async move { app.try_act_in(CLA, &id, &who, body).await.0 }
    });
    let statuses = join_all(requests).await;
    let wins = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((wins, conflicts), (1, 19), "{statuses:?}");
    assert_eq!(app.timeline_in(CLA, &id, &LI).await.len(), 2);
}

/// Every endpoint, every role: the reporter's name and contact appear exactly where allowed.
async fn the_reporter_is_seen_only_by_intake_and_investigators_of_the_jurisdiction(app: TestApp) {
    app.introduce(&[&CHEN, &SUN, &ZHOU, &WANG, &ADMIN]).await;
    let r = app.post("/api/v1/clarifications", &LI, &report(true)).await;
    let created = r.text().await.unwrap();
    assert!(
        created.contains(REPORTER_NAME) && created.contains(REPORTER_CONTACT),
        "intake sees what it filed"
    );
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let inquiry = app
        .post(
            &format!("/api/v1/clarifications/{id}/transitions"),
            &CHEN,
            &inquiry_letter(),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        inquiry.contains(REPORTER_NAME),
        "an investigator's transition response shows the reporter"
    );
    // The subject's own transition response must not.
    let explained = app
        .post(
            &format!("/api/v1/clarifications/{id}/transitions"),
            &ZHANG,
            &json!({"event": "submit_explanation", "explanation": "说明"}),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !explained.contains(REPORTER_NAME) && !explained.contains(REPORTER_CONTACT),
        "{explained}"
    );

    let sees = [
        (&LI, true),
        (&CHEN, true),
        (&ZHAO, true),
        (&ZHANG, false),
        (&WANG, false),
        (&SUN, false),
        (&ZHOU, false),
        (&ADMIN, false),
    ];
    for (who, allowed) in sees {
        for path in [
            format!("/api/v1/clarifications/{id}"),
            format!("/api/v1/clarifications/{id}/transitions"),
            "/api/v1/clarifications".to_string(),
            format!("/api/v1/clarifications?subject={}", ZHANG.id),
        ] {
            let r = app.get(&path, who).await;
            assert_eq!(r.status(), StatusCode::OK, "{path} for {}", who.id);
            let body = r.text().await.unwrap();
            assert_eq!(
                body.contains(REPORTER_NAME),
                allowed,
                "{path} for {}: {body}",
                who.id
            );
            assert_eq!(
                body.contains(REPORTER_CONTACT),
                allowed,
                "{path} for {}",
                who.id
            );
            if allowed && !path.ends_with("transitions") && path.contains(&id) {
                let v: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["reporter"]["name"], REPORTER_NAME);
            }
        }
    }
    for who in [&QIAN, &WU] {
        assert_eq!(
            app.get(&format!("/api/v1/clarifications/{id}"), who)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
    // An anonymous report shows as anonymous to those who may see reporters, and not at all to others.
    let anon = app.file_in(CLA, &LI, &report(false)).await;
    assert_eq!(anon["reporter"], json!({"anonymous": true}));
    let anon_id = anon["id"].as_str().unwrap();
    app.act_in(CLA, anon_id, &CHEN, inquiry_letter()).await;
    let seen_by_subject = app.case_in(CLA, anon_id, &ZHANG).await;
    assert!(seen_by_subject.get("reporter").is_none());

    // Carry the case through every remaining kind of mail, then scan every rendered mail
    // in the database, for every recipient, in every part.
    app.act_in(
        CLA,
        &id,
        &CHEN,
        json!({"event": "accept_explanation", "conclusion": "予以采信"}),
    )
    .await;
    let clarify =
        json!({"event": "clarify", "methods": ["talk"], "scope": "本单位", "date": "2026-12-01"});
    app.act_in(CLA, &id, &SUN, clarify).await;
    let refer = json!({"event": "refer_false_accusation", "category": "false_accusation", "evidence": "证据", "accuser": "reporter"});
    app.act_in(CLA, &id, &CHEN, refer).await;
    app.act_in(
        CLA,
        &id,
        &SUN,
        json!({"event": "record_referral_outcome", "handling": "discipline", "blacklisted": true}),
    )
    .await;
    app.act_in(CLA, &id, &SUN, json!({"event": "close", "reason": "办结"}))
        .await;
    let rows = all_mail(&app).await;
    assert!(rows.iter().any(|r| r.relation == "subject"));
    assert!(rows.iter().any(|r| r.relation == "unit_contact"));
    assert!(rows.len() > 15, "{} mails scanned", rows.len());
    for r in &rows {
        let all = format!(
            "{} {} {} {}",
            r.subject, r.body_text, r.body_html, r.recipient_email
        );
        assert!(
            !all.contains(REPORTER_NAME) && !all.contains(REPORTER_CONTACT),
            "outbox row to {}",
            r.recipient_email
        );
    }
    let raw = at_rest(&app, &id).await;
    assert!(raw.contains("\"sealed\":\"v1."), "sealed at rest");
    assert!(
        !raw.contains(REPORTER_NAME) && !raw.contains(REPORTER_CONTACT),
        "never in clear at rest"
    );

    // An idempotent filing: the stored first answer is sealed too, and replays intact.
    let key = [("Idempotency-Key", "report-2026-0042")];
    let token = app.token(&LI);
    let path = "/api/v1/clarifications";
    let first = app
        .request(Method::POST, path, Some(&token), Some(&report(true)), &key)
        .await;
    let first = first.text().await.unwrap();
    let again = app
        .request(Method::POST, path, Some(&token), Some(&report(true)), &key)
        .await;
    let again = again.text().await.unwrap();
    assert_eq!(first, again);
    assert!(again.contains(REPORTER_NAME));
    let stored = app
        .db()
        .read(|c| {
            rongcuo::db::repo::idempotency::find(c, LI.id, "report-2026-0042")
                .map_err(rongcuo::db::DbError::from)
        })
        .await
        .unwrap()
        .unwrap();
    assert!(stored.body.starts_with("v1."), "stored answer sealed");
    assert!(!stored.body.contains(REPORTER_NAME) && !stored.body.contains(REPORTER_CONTACT));
}

/// Every mail in the outbox, for every recipient.
async fn all_mail(app: &TestApp) -> Vec<rongcuo::db::models::OutboxRow> {
    app.db()
        .read(|c| {
            use diesel::prelude::*;
            Ok::<_, rongcuo::db::DbError>(rongcuo::db::schema::outbox::table.load(c)?)
        })
        .await
        .unwrap()
}

/// What case `id` keeps at rest: its data and every audit payload.
async fn at_rest(app: &TestApp, id: &str) -> String {
    let id = id.to_string();
    app.db()
        .read(move |c| {
            let case = rongcuo::db::repo::cases::find_by_id(c, &id)?.unwrap();
            let rows = rongcuo::db::repo::transitions::list_for_case(c, &id)?;
            Ok::<_, rongcuo::db::DbError>(format!(
                "{} {}",
                case.data,
                rows.iter().map(|r| r.payload.clone()).collect::<String>()
            ))
        })
        .await
        .unwrap()
}

const ACCUSER_NAME: &str = "诬告者丁戊";
const ACCUSER_CONTACT: &str = "13700001111";

/// Every view and every mail of every role: `needles` show exactly for `allowed`.
async fn shown_only_to(app: &TestApp, id: &str, needles: &[&str], allowed: &[&Person]) {
    let everyone = [
        &ZHANG, &QIAN, &WANG, &LI, &CHEN, &ZHAO, &SUN, &ZHOU, &ADMIN, &WU,
    ];
    for who in everyone {
        for path in [
            format!("/api/v1/clarifications/{id}"),
            format!("/api/v1/clarifications/{id}/transitions"),
            "/api/v1/clarifications?limit=100".to_string(),
            format!("/api/v1/cadres/{}/record", ZHANG.id),
            "/api/v1/statistics".to_string(),
        ] {
            let r = app.get(&path, who).await;
            let body = r.text().await.unwrap();
            for needle in needles {
                assert_eq!(
                    body.contains(needle),
                    allowed.iter().any(|p| p.id == who.id) && path.contains("clarifications"),
                    "`{needle}` in {path} for {}: {body}",
                    who.id
                );
            }
        }
    }
    let rows = all_mail(app).await;
    let raw = at_rest(app, id).await;
    for needle in needles {
        assert!(!raw.contains(needle), "`{needle}` in clear at rest");
        for r in &rows {
            let all = format!("{} {} {}", r.subject, r.body_text, r.body_html);
            assert!(
                !all.contains(needle),
                "`{needle}` mailed to {}",
                r.recipient_email
            );
        }
    }
}

/// Seeds 003 and 004 #12: a report dismissed as labelling, its reporter referred as a false
/// accuser and put on the 失信 blacklist; another accuser identified otherwise. Neither
/// identity reaches anyone but intake and the investigators, nor rests in clear.
async fn a_false_accuser_is_referred_from_a_dismissed_report_and_blacklisted_unseen(app: TestApp) {
    app.introduce(&[&ZHANG, &QIAN, &WANG, &CHEN, &ZHAO, &SUN, &ZHOU, &ADMIN, &WU])
        .await;
    let id = app.file_in(CLA, &LI, &report(true)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act_in(
        CLA,
        &id,
        &LI,
        json!({"event": "propose_dismissal", "reason_code": "labeling", "explanation": "乱扣帽子"}),
    )
    .await;
    app.act_in(CLA, &id, &SUN, json!({"event": "confirm_dismissal"}))
        .await;
    let refer = json!({"event": "refer_false_accusation", "category": "false_accusation",
                       "evidence": "举报内容经查纯属捏造", "accuser": "reporter"});
    let c = app.act_in(CLA, &id, &CHEN, refer.clone()).await;
    assert_eq!(c["state"], "dismissed");
    assert_eq!(
        c["referrals"][0]["accuser"],
        json!({"source": "reporter", "name": REPORTER_NAME, "contact": REPORTER_CONTACT})
    );
    let (s, _) = app.try_act_in(CLA, &id, &ZHAO, refer).await;
    assert_eq!(s, StatusCode::CONFLICT, "one referral per case");
    let c = app
        .act_in(CLA, &id, &SUN, json!({"event": "record_referral_outcome", "handling": "discipline", "blacklisted": true, "notes": "列入失信黑名单"}))
        .await;
    assert_eq!(c["referrals"][0]["outcome"]["blacklisted"], true);
    // The outcome is the jurisdiction's investigators' to know (CHEN, ZHAO), nobody else's.
    let seq = c["version"].as_i64().unwrap();
    let mut told: Vec<String> = app
        .outbox(&id)
        .await
        .into_iter()
        .filter(|(s, _, _)| *s == seq)
        .map(|(_, relation, email)| format!("{relation} {email}"))
        .collect();
    told.sort();
    assert_eq!(
        told,
        [
            format!("investigator {}", CHEN.email()),
            format!("investigator {}", ZHAO.email())
        ]
    );
    let (s, _) = app
        .try_act_in(
            CLA,
            &id,
            &SUN,
            json!({"event": "record_referral_outcome", "handling": "none", "blacklisted": false}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "once");
    app.act_in(CLA, &id, &SUN, json!({"event": "close", "reason": "办结"}))
        .await;
    shown_only_to(
        &app,
        &id,
        &[REPORTER_NAME, REPORTER_CONTACT],
        &[&LI, &CHEN, &ZHAO],
    )
    .await;

    // An anonymous report has no reporter to name: the accuser is identified otherwise.
    let anon = investigated_anonymously(&app).await;
    let (s, v) = app
        .try_act_in(CLA, &anon, &CHEN, json!({"event": "refer_false_accusation", "category": "rumour", "evidence": "e", "accuser": "reporter"}))
        .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("accuser")),
        "{v}"
    );
    let c = app
        .act_in(
            CLA,
            &anon,
            &CHEN,
            json!({"event": "refer_false_accusation", "category": "rumour", "evidence": "网帖溯源",
            "accuser": {"name": ACCUSER_NAME, "contact": ACCUSER_CONTACT}}),
        )
        .await;
    assert_eq!(c["referrals"][0]["accuser"]["source"], "identified");
    assert_eq!(c["referrals"][0]["accuser"]["name"], ACCUSER_NAME);
    shown_only_to(
        &app,
        &anon,
        &[ACCUSER_NAME, ACCUSER_CONTACT],
        &[&LI, &CHEN, &ZHAO],
    )
    .await;
}

async fn investigated_anonymously(app: &TestApp) -> String {
    let id = app.file_in(CLA, &LI, &report(false)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act_in(
        CLA,
        &id,
        &CHEN,
        json!({"event": "open_investigation", "investigator_id": CHEN.id}),
    )
    .await;
    app.act_in(
        CLA,
        &id,
        &CHEN,
        json!({"event": "conclude", "finding": "unfounded", "report": "查无实据"}),
    )
    .await;
    id
}
