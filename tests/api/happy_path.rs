use chrono::Duration;
use reqwest::StatusCode;
use rongcuo::domain::Actor;
use rongcuo::engine::Outcome;
use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

both_backends!(
    inspection_before_tender_is_exonerated_rectified_and_closed,
    a_denial_is_appealed_and_revised_by_another_reviewer,
    mitigation_records_influence_period_and_appeal_window_closes_a_denial,
    overdue_rectification_is_referred_for_accountability,
    withdraw_and_reject_end_cases,
    lists_filter_and_paginate_visible_cases,
    workflow_endpoint_serves_the_table_and_catalogues,
);

/// Seed 003: inspection before tender, exonerated, rectification verified inside the
/// appeal window (the case stays open for an appeal), the appeal waived, closed.
async fn inspection_before_tender_is_exonerated_rectified_and_closed(app: TestApp) {
    app.introduce(&[&CHEN, &SUN, &ZHOU]).await;
    let r = app.post("/api/v1/exonerations", &ZHANG, &filing()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["etag"], "\"1\"");
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let case: serde_json::Value = r.json().await.unwrap();
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/exonerations/{id}"));
    assert_eq!(case["state"], "filed");
    assert_eq!(case["version"], 1);
    assert_eq!(case["catalogue_version"], "2026.2");
    assert_eq!(case["circumstances"][0]["code"], "sanming-1");
    assert!(
        case["circumstances"][0]["text"]
            .as_str()
            .unwrap()
            .contains("重点工作")
    );
    assert_eq!(case["available_events"], json!(["withdraw"]));

    let c = app.act(&id, &LI, json!({"event": "request_supplement", "items": "区政府专题会议纪要", "due_at": due_in_days(7)})).await;
    assert_eq!(c["state"], "needs_supplement");
    assert_eq!(
        app.case(&id, &ZHANG).await["available_events"],
        json!(["supplement", "withdraw"])
    );
    let c = app
        .act(
            &id,
            &ZHANG,
            json!({"event": "supplement", "material": "附：区政府2026年第5次专题会议纪要"}),
        )
        .await;
    assert_eq!(c["state"], "filed");
    assert_eq!(c["supplement"]["material"][0]["by"], ZHANG.id);

    let c = app
        .act(
            &id,
            &LI,
            json!({"event": "accept", "investigator_id": CHEN.id}),
        )
        .await;
    assert_eq!(
        (c["state"].as_str(), c["investigator_id"].as_str()),
        (Some("investigating"), Some(CHEN.id))
    );
    assert_eq!(
        app.case(&id, &CHEN).await["available_events"],
        json!(["submit_findings"])
    );
    app.act(&id, &CHEN, findings("exonerate", &[])).await;
    let c = app
        .act(
            &id,
            &SUN,
            json!({"event": "return_for_investigation", "reason": "请补充决策程序的证据"}),
        )
        .await;
    assert_eq!(c["state"], "investigating");
    let c = app.act(&id, &CHEN, findings("exonerate", &[])).await;
    assert_eq!(c["state"], "deliberating");
    assert_eq!(
        app.case(&id, &SUN).await["available_events"],
        json!(["return_for_investigation", "decide"])
    );

    let c = app
        .act(&id, &SUN, json!({"event": "decide", "outcome": "exonerate",
            "explanation": "主观上勤勉尽责，属于主动采取措施阻止更大危害，予以容错免责",
            "rectification": {"requirements": "补办招标并建立应急采购预案", "due_at": due_in_days(30)}}))
        .await;
    assert_eq!(c["state"], "exonerated");
    assert_eq!(c["decision"]["outcome"], "exonerate");
    assert_eq!(c["decider_id"], SUN.id);
    assert_eq!(c["rectification"]["state"], "ordered");

    let c = app
        .act(
            &id,
            &ZHANG,
            json!({"event": "submit_rectification", "report": "已补办招标"}),
        )
        .await;
    assert_eq!(c["rectification"]["state"], "submitted");
    let c = app.act(&id, &CHEN, json!({"event": "verify_rectification", "accepted": false, "comment": "预案未建立", "due_at": due_in_days(10)})).await;
    assert_eq!(
        (c["state"].as_str(), c["rectification"]["state"].as_str()),
        (Some("exonerated"), Some("ordered"))
    );
    app.act(
        &id,
        &ZHANG,
        json!({"event": "submit_rectification", "report": "预案已印发"}),
    )
    .await;
    let c = app
        .act(
            &id,
            &CHEN,
            json!({"event": "verify_rectification", "accepted": true, "comment": "整改到位"}),
        )
        .await;
    // Complying fast does not cost the appeal: the case stays exonerated.
    assert_eq!(c["state"], "exonerated");
    assert_eq!(c["rectification"]["state"], "verified");
    assert_eq!(c["version"], 12);
    assert_eq!(
        app.case(&id, &ZHANG).await["available_events"],
        json!(["appeal", "waive_appeal"])
    );
    let (s, b) = app
        .try_act(&id, &CHEN, json!({"event": "waive_appeal"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "only the subject waives: {b}");
    let c = app.act(&id, &ZHANG, json!({"event": "waive_appeal"})).await;
    assert_eq!(c["state"], "closed");
    assert_eq!(c["appeal_waiver"]["by"], ZHANG.id);
    assert_eq!(c["version"], 13);
    assert_eq!(c["available_events"], json!([]));

    // The timeline: every step, in order, chained.
    let items = app.timeline(&id, &ZHANG).await;
    let events: Vec<&str> = items.iter().map(|i| i["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        [
            "create",
            "request_supplement",
            "supplement",
            "accept",
            "submit_findings",
            "return_for_investigation",
            "submit_findings",
            "decide",
            "submit_rectification",
            "verify_rectification",
            "submit_rectification",
            "verify_rectification",
            "waive_appeal",
        ]
    );
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["seq"], i as i64 + 1);
        if i > 0 {
            assert_eq!(item["prev_hash"], items[i - 1]["hash"]);
            assert_eq!(item["from"], items[i - 1]["to"]);
        }
    }
    assert_eq!(items[0]["actor"], json!({"id": ZHANG.id, "role": "cadre"}));
    assert_eq!(items[7]["actor"], json!({"id": SUN.id, "role": "reviewer"}));
    assert_eq!(items[7]["payload"]["outcome"], "exonerate");

    // One outbox row per recipient per transition, as workflows/exoneration.toml says: the
    // subject (here also the applicant: one mail), the assigned investigator, the reviewers
    // of every level above the subject.
    let rows = app.outbox(&id).await;
    let at = |seq: i64| {
        let mut r: Vec<String> = rows
            .iter()
            .filter(|(s, _, _)| *s == seq)
            .map(|(_, rel, _)| rel.clone())
            .collect();
        r.sort();
        r
    };
    assert_eq!(at(1), ["reviewer", "reviewer", "subject"]);
    assert_eq!(at(4), ["applicant", "investigator"]);
    assert_eq!(at(8), ["investigator", "reviewer", "reviewer", "subject"]);
    assert_eq!(at(12), ["investigator", "subject"]);
    assert_eq!(at(13), ["investigator", "reviewer", "reviewer"]);
    assert_eq!(at(14), Vec::<String>::new());
    assert!(rows.iter().any(|(_, _, e)| *e == ZHOU.email()));
}

async fn a_denial_is_appealed_and_revised_by_another_reviewer(app: TestApp) {
    let id = case_in_deliberation(&app, &[]).await;
    let c = app
        .act(
            &id,
            &SUN,
            json!({"event": "decide", "outcome": "deny", "explanation": "程序瑕疵较大"}),
        )
        .await;
    assert_eq!(c["state"], "denied");
    assert!(c["rectification"].is_null());
    assert_eq!(
        app.case(&id, &ZHANG).await["available_events"],
        json!(["appeal", "waive_appeal"])
    );
    let c = app
        .act(
            &id,
            &ZHANG,
            json!({"event": "appeal", "grounds": "先检查后招标系为排除重大安全隐患"}),
        )
        .await;
    assert_eq!(c["state"], "appealed");
    assert_eq!(c["appeal"]["prior_state"], "denied");

    // The original decider may not review the appeal; he does not even see the event.
    assert_eq!(app.case(&id, &SUN).await["available_events"], json!([]));
    let (status, body) = app
        .try_act(
            &id,
            &SUN,
            json!({"event": "decide_appeal", "result": "uphold", "explanation": "维持"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "forbidden");

    let c = app
        .act(&id, &ZHOU, json!({"event": "decide_appeal", "result": "revise", "explanation": "申诉理由成立，改为免责",
            "outcome": "exonerate", "rectification": {"requirements": "补办招标", "due_at": due_in_days(20)}}))
        .await;
    assert_eq!(c["state"], "exonerated");
    assert_eq!(c["decision"]["via_appeal"], true);
    assert_eq!(c["previous_decisions"][0]["outcome"], "deny");
    assert_eq!(c["appeal"]["result"], "revise");
    assert_eq!(c["appeal"]["decided_by"], ZHOU.id);
    // A decision made on appeal is final.
    let (status, body) = app
        .try_act(
            &id,
            &ZHANG,
            json!({"event": "appeal", "grounds": "再次申诉"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("final"), "{body}");
}

async fn mitigation_records_influence_period_and_appeal_window_closes_a_denial(app: TestApp) {
    let id = case_in_deliberation(&app, &[]).await;
    let c = app
        .act(&id, &SUN, json!({"event": "decide", "outcome": "mitigate", "explanation": "确需追究责任，从轻处理",
            "degree": "lighter", "sanction": "admonishment",
            "rectification": {"requirements": "整改", "due_at": due_in_days(30)}}))
        .await;
    assert_eq!(c["state"], "mitigated");
    assert_eq!(c["decision"]["influence_period_months"], 6);
    assert_eq!(c["decision"]["sanction"]["text"], "诫勉");
    let ends = chrono::NaiveDate::parse_from_str(
        c["decision"]["influence_ends_on"].as_str().unwrap(),
        "%Y-%m-%d",
    )
    .unwrap();
    assert!(ends > chrono::Utc::now().date_naive() + Duration::days(170));

    // A red line leaves only deny, and the 422 names it.
    let id2 = case_in_deliberation(&app, &["personal_gain"]).await;
    let (status, body) = app
        .try_act(
            &id2,
            &SUN,
            json!({"event": "decide", "outcome": "exonerate", "explanation": "x",
            "rectification": {"requirements": "r", "due_at": due_in_days(3)}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "outcome");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("personal_gain"),
        "{body}"
    );
    app.act(
        &id2,
        &SUN,
        json!({"event": "decide", "outcome": "deny", "explanation": "为他人谋取不当利益"}),
    )
    .await;
    // Closing inside the appeal window is refused; after it, appeal is refused and the
    // window's timer event closes the case through the same path as a REST call.
    let (status, _) = app
        .try_act(&id2, &SUN, json!({"event": "close", "reason": "结案"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Past the window, even if its last day falls in a long holiday.
    app.clock().advance(Duration::days(45));
    let (status, body) = app
        .try_act(
            &id2,
            &ZHANG,
            json!({"event": "appeal", "grounds": "迟到的申诉"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("appeal window ended")
    );
    // REST callers cannot fire timer events.
    let (status, _) = app
        .try_act(&id2, &SUN, json!({"event": "appeal_window_expired"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let reply = app
        .state
        .engine
        .apply(
            "exoneration",
            id2.clone(),
            Actor::system(),
            json!({"event": "appeal_window_expired"}),
            None,
            None,
        )
        .await
        .unwrap();
    let Outcome::Done(seen) = reply else {
        panic!("a timer's step is never a replay")
    };
    assert_eq!(seen.case.state, "closed");
    let items = app.timeline(&id2, &SUN).await;
    assert_eq!(
        items.last().unwrap()["actor"],
        json!({"id": "system", "role": "system"})
    );
}

async fn overdue_rectification_is_referred_for_accountability(app: TestApp) {
    let id = case_in_deliberation(&app, &[]).await;
    app.act(
        &id,
        &SUN,
        json!({"event": "decide", "outcome": "exonerate", "explanation": "免责",
        "rectification": {"requirements": "整改", "due_at": due_in_days(5)}}),
    )
    .await;
    let (status, body) = app
        .try_act(
            &id,
            &SUN,
            json!({"event": "refer_accountability", "ground": "overdue", "reason": "x"}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("ground")),
        "not overdue yet: {body}"
    );
    app.clock().advance(Duration::days(6));
    let r = app
        .state
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
    let Outcome::Done(seen) = r else {
        panic!("a timer's step is never a replay")
    };
    assert_eq!(
        (
            seen.case.records["rectification"]["state"].as_str(),
            seen.case.overdue
        ),
        (Some("overdue"), true)
    );
    assert!(
        app.case(&id, &SUN).await["available_events"]
            .as_array()
            .unwrap()
            .contains(&json!("refer_accountability"))
    );
    let c = app
        .act(
            &id,
            &SUN,
            json!({"event": "refer_accountability", "ground": "overdue", "reason": "逾期未整改"}),
        )
        .await;
    assert_eq!(c["state"], "accountability");
    assert_eq!(c["accountability"]["by"], SUN.id);
    assert_eq!(c["accountability"]["ground"], "overdue");
}

async fn withdraw_and_reject_end_cases(app: TestApp) {
    let case = app.file(&WANG, &filing()).await;
    let id = case["id"].as_str().unwrap();
    assert_eq!(case["applicant"]["role"], "unit_admin");
    // Only the applicant withdraws: the subject did not file this one.
    let (status, _) = app
        .try_act(id, &ZHANG, json!({"event": "withdraw", "reason": "x"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let c = app
        .act(
            id,
            &WANG,
            json!({"event": "withdraw", "reason": "单位决定撤回"}),
        )
        .await;
    assert_eq!(c["state"], "withdrawn");
    let (status, body) = app
        .try_act(id, &WANG, json!({"event": "withdraw", "reason": "again"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "invalid_transition");

    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap();
    let c = app
        .act(
            id,
            &LI,
            json!({"event": "reject_intake", "reason": "不属于本级管理权限"}),
        )
        .await;
    assert_eq!(c["state"], "rejected");
    assert_eq!(c["rejection"]["reason"], "不属于本级管理权限");

    // Ex officio: an investigator raises it during an accountability procedure (同步考虑).
    let mut body = filing();
    body["accountability_ref"] = json!("合纪审〔2026〕12号");
    let c = app.file(&CHEN, &body).await;
    assert_eq!(
        (c["ex_officio"].as_bool(), c["applicant"]["role"].as_str()),
        (Some(true), Some("investigator"))
    );
}

async fn lists_filter_and_paginate_visible_cases(app: TestApp) {
    app.introduce(&[&CHEN]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut body = filing();
        body["incident"]["title"] = json!(format!("案件{i} 先检查后招标"));
        ids.push(
            app.file(&ZHANG, &body).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut other = filing();
    other["subject"] = json!({"id": QIAN.id, "name": QIAN.name, "email": QIAN.email(), "org": "anhui/hefei/finance", "position": "干部"});
    app.file(&QIAN, &other).await;
    app.act(
        &ids[0],
        &LI,
        json!({"event": "accept", "investigator_id": CHEN.id}),
    )
    .await;

    // Staff see all six, newest first, in pages of two.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/exonerations?limit=2&cursor={c}"),
            None => "/api/v1/exonerations?limit=2".into(),
        };
        let v: serde_json::Value = app.get(&path, &LI).await.json().await.unwrap();
        for item in v["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");

    let list = |q: &'static str, who: &'static Person| {
        let app = &app;
        async move {
            let v: serde_json::Value = app
                .get(&format!("/api/v1/exonerations?{q}"), who)
                .await
                .json()
                .await
                .unwrap();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("state=investigating", &LI).await, vec![ids[0].clone()]);
    assert_eq!(list("subject=u-qian", &LI).await.len(), 1);
    assert_eq!(list("org=anhui/hefei", &LI).await.len(), 6);
    assert_eq!(list("org=anhui/hefei/fin", &LI).await.len(), 0);
    assert_eq!(list("q=案件3", &LI).await.len(), 1);
    // Free text also searches the description (only the filings' descriptions say 隐患).
    assert_eq!(list("q=隐患", &LI).await.len(), 6);
    assert_eq!(
        list("q=%", &LI).await.len(),
        0,
        "LIKE wildcards are literal"
    );
    assert_eq!(list("investigator=u-chen", &LI).await, vec![ids[0].clone()]);
    assert_eq!(list("overdue=false", &LI).await.len(), 6);
    assert_eq!(list("overdue=true", &LI).await.len(), 0);
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let from_tomorrow = format!("created_from={tomorrow}");
    let to_tomorrow = format!("created_to={tomorrow}");
    for (q, n) in [(from_tomorrow.as_str(), 0), (to_tomorrow.as_str(), 6)] {
        let v: serde_json::Value = app
            .get(&format!("/api/v1/exonerations?{q}"), &LI)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), n, "{q}");
    }
    for (q, field) in [
        ("overdue=maybe", "overdue"),
        ("created_from=soon", "created_from"),
        (
            "created_from=2026-02-01&created_to=2026-01-01",
            "created_to",
        ),
    ] {
        let v: serde_json::Value = app
            .get(&format!("/api/v1/exonerations?{q}"), &LI)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["errors"][0]["field"], field, "{q}: {v}");
    }
    // A cadre sees only the cases about them; an investigator elsewhere sees none.
    assert_eq!(list("", &ZHANG).await.len(), 5);
    assert_eq!(list("", &QIAN).await.len(), 1);
    assert_eq!(list("", &WU).await.len(), 0);
}

async fn workflow_endpoint_serves_the_table_and_catalogues(app: TestApp) {
    let v: serde_json::Value = app
        .get("/api/v1/workflows/exoneration", &ZHANG)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["name"], "exoneration");
    let roles: Vec<&str> = v["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for r in [
        "cadre",
        "unit_admin",
        "investigator",
        "intake",
        "reviewer",
        "applicant",
        "subject",
        "assigned_investigator",
        "system",
    ] {
        assert!(roles.contains(&r), "{r} in {roles:?}");
    }
    assert_eq!(
        v["transitions"].as_array().unwrap().len(),
        rongcuo::domain::exoneration::DEF.rows.len()
    );
    let codes: Vec<&str> = v["circumstances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"sanming-8") && codes.contains(&"general-1"));
    assert!(
        v["circumstances"][0]["source"]
            .as_str()
            .unwrap()
            .contains("三明")
    );
    // Ningbo's audit rule, with its five conditions (五个看).
    let ningbo = v["circumstances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "ningbo-audit")
        .unwrap();
    assert_eq!(ningbo["requires"].as_array().unwrap().len(), 5);
    assert_eq!(ningbo["requires"][0]["code"], "policy_direction");
    // The sanctions, as data, with their influence periods and promotion bars.
    let sanction = |code: &str| {
        v["sanctions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("sanction {code}"))
    };
    assert_eq!(v["sanctions"].as_array().unwrap().len(), 13);
    let demerit = sanction("demerit");
    assert_eq!(
        (
            demerit["text"].as_str(),
            demerit["influence_months"].as_i64(),
            demerit["promotion_bar_months"].as_i64()
        ),
        (Some("记过"), Some(12), Some(12))
    );
    assert_eq!(sanction("criticism")["influence_months"], 0);
    assert_eq!(sanction("admonishment")["promotion_bar_months"], 6);
    let red_lines: Vec<&str> = v["red_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(red_lines.contains(&"knowing_violation") && red_lines.contains(&"law_violation"));
    let list: serde_json::Value = app
        .get("/api/v1/workflows", &ZHANG)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["name"], "exoneration");
    let r = app
        .get("/api/v1/workflows/exoneration/diagram", &ZHANG)
        .await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/vnd.mermaid")
    );
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("deliberating --> exonerated: decide")
    );
    assert_eq!(
        app.get("/api/v1/workflows/nope", &ZHANG).await.status(),
        StatusCode::NOT_FOUND
    );
}
