//! The substance of a decision over HTTP: the tests it must pass (elements and red lines
//! agreeing, overrides, Ningbo's 五个看), what a mitigation does to the cadre's record, the
//! follow-up talk, and the grounds of a referral to accountability.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

both_backends!(
    an_exoneration_must_agree_with_its_findings,
    a_ningbo_audit_case_needs_all_five_conditions,
    a_mitigation_shows_on_the_cadres_record_with_its_talk,
    a_refused_rectification_is_referred_to_accountability,
);

fn field(v: &Value) -> &str {
    v["errors"][0]["field"].as_str().unwrap_or_default()
}

/// Files a case and has CHEN investigate it.
async fn investigating(app: &TestApp, body: Value) -> String {
    app.introduce(&[&CHEN, &SUN, &ZHOU, &WANG]).await;
    let id = app.file(&ZHANG, &body).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(
        &id,
        &LI,
        json!({"event": "accept", "investigator_id": CHEN.id}),
    )
    .await;
    id
}

fn order() -> Value {
    json!({"requirements": "补办招标手续", "due_at": due_in_days(30)})
}

async fn an_exoneration_must_agree_with_its_findings(app: TestApp) {
    let id = investigating(&app, filing()).await;
    // A motive of private gain is the personal_gain red line: findings saying one without
    // the other contradict themselves.
    let mut selfish = findings("deny", &[]);
    selfish["elements"]["motive"]["finding"] = json!("unfavourable");
    let (s, v) = app.try_act(&id, &CHEN, selfish.clone()).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "red_lines"),
        "{v}"
    );
    selfish["red_lines"] = json!(["personal_gain"]);
    app.act(&id, &CHEN, selfish).await;
    let exonerate = json!({"event": "decide", "outcome": "exonerate", "explanation": "予以免责", "rectification": order()});
    let (s, v) = app.try_act(&id, &SUN, exonerate.clone()).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "outcome"),
        "only deny: {v}"
    );
    // Back to the investigator: the motive was public-spirited after all, the procedure not.
    app.act(
        &id,
        &SUN,
        json!({"event": "return_for_investigation", "reason": "动机认定证据不足"}),
    )
    .await;
    let mut hasty = findings("exonerate", &[]);
    hasty["elements"]["procedure"]["finding"] = json!("unfavourable");
    app.act(&id, &CHEN, hasty).await;
    let (s, v) = app.try_act(&id, &SUN, exonerate.clone()).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "overrides.procedure"),
        "{v}"
    );
    let mut overridden = exonerate;
    overridden["overrides"] = json!({"procedure": "事出紧急，来不及集体研究，事后已补办"});
    let c = app.act(&id, &SUN, overridden).await;
    assert_eq!(c["state"], "exonerated");
    assert_eq!(
        c["decision"]["overrides"]["procedure"],
        "事出紧急，来不及集体研究，事后已补办"
    );
    // The effects are recorded with the decision and shown on the record.
    let codes: Vec<&str> = c["decision"]["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    for code in [
        "promotion",
        "grade",
        "title",
        "representative",
        "reserve_cadre",
        "awards",
        "evaluation",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    let record: Value = app
        .get(&format!("/api/v1/cadres/{}/record", ZHANG.id), &ZHANG)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["cases"][0]["outcome"], "exonerate");
    assert_eq!(record["cases"][0]["effects"].as_array().unwrap().len(), 7);
}

async fn a_ningbo_audit_case_needs_all_five_conditions(app: TestApp) {
    let mut audit = filing();
    audit["circumstances"] = json!(["ningbo-audit"]);
    let id = investigating(&app, audit).await;
    let five = |unmet: Option<&str>| {
        let mut m = serde_json::Map::new();
        for code in [
            "policy_direction",
            "collective_decision",
            "no_major_harm",
            "no_benefit_transfer",
            "tried_to_avoid_loss",
        ] {
            m.insert(
                code.into(),
                json!({"met": Some(code) != unmet, "notes": "审计查明"}),
            );
        }
        Value::Object(m)
    };
    // Findings must answer every condition of the cited entry.
    let mut partial = five(None);
    partial
        .as_object_mut()
        .unwrap()
        .remove("tried_to_avoid_loss");
    let mut f = findings("exonerate", &[]);
    f["conditions"] = partial;
    let (s, v) = app.try_act(&id, &CHEN, f.clone()).await;
    assert_eq!(
        (s, field(&v)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "conditions.tried_to_avoid_loss"
        ),
        "{v}"
    );
    // One of the five unmet: no exoneration.
    f["conditions"] = five(Some("collective_decision"));
    app.act(&id, &CHEN, f.clone()).await;
    let exonerate = json!({"event": "decide", "outcome": "exonerate", "explanation": "符合五个看", "rectification": order()});
    let (s, v) = app.try_act(&id, &SUN, exonerate.clone()).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "outcome"),
        "{v}"
    );
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("collective_decision"),
        "{v}"
    );
    // All five met, after a return: exonerated.
    app.act(
        &id,
        &SUN,
        json!({"event": "return_for_investigation", "reason": "请核实是否经集体研究"}),
    )
    .await;
    f["conditions"] = five(None);
    app.act(&id, &CHEN, f).await;
    let c = app.act(&id, &SUN, exonerate).await;
    assert_eq!(c["state"], "exonerated");
    assert_eq!(
        c["findings"]["conditions"]["collective_decision"]["met"],
        true
    );
    assert_eq!(
        c["circumstances"][0]["requires"].as_array().unwrap().len(),
        5
    );

    // An ex-officio case cites nothing until the investigator does: no mitigation before.
    let report = json!({
        "subject": {"id": ZHANG.id, "name": ZHANG.name, "email": ZHANG.email(), "org": ZHANG.org, "position": "科长"},
        "allegation": {"summary": "审计发现违规招标", "details": "先检查后招标", "channel": "letter"}
    });
    let cla = app.file_in(CLA, &LI, &report).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act_in(
        CLA,
        &cla,
        &CHEN,
        json!({"event": "open_investigation", "investigator_id": CHEN.id}),
    )
    .await;
    app.act_in(
        CLA,
        &cla,
        &CHEN,
        json!({"event": "conclude", "finding": "substantiated", "report": "属实"}),
    )
    .await;
    let linked = app
        .act_in(CLA, &cla, &CHEN, json!({"event": "open_exoneration"}))
        .await["linked_case_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(
        &linked,
        &LI,
        json!({"event": "accept", "investigator_id": CHEN.id}),
    )
    .await;
    app.act(&linked, &CHEN, findings("exonerate", &[])).await;
    let deny_only = json!({"event": "decide", "outcome": "mitigate", "explanation": "x", "degree": "lighter",
                           "sanction": "criticism", "rectification": order()});
    let (s, v) = app.try_act(&linked, &SUN, deny_only).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "circumstances"),
        "{v}"
    );
}

async fn a_mitigation_shows_on_the_cadres_record_with_its_talk(app: TestApp) {
    let id = investigating(&app, filing()).await;
    app.act(&id, &CHEN, findings("mitigate", &[])).await;
    let mitigate = json!({"event": "decide", "outcome": "mitigate", "explanation": "确需追究，减轻处理",
                          "degree": "reduced", "sanction": "demerit", "rectification": order()});
    let mut unknown = mitigate.clone();
    unknown["sanction"] = json!("banishment");
    let (s, v) = app.try_act(&id, &SUN, unknown).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "sanction"),
        "{v}"
    );
    let mut short = mitigate.clone();
    short["influence_period_months"] = json!(6);
    let (s, v) = app.try_act(&id, &SUN, short).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "influence_period_months"),
        "{v}"
    );
    let c = app.act(&id, &SUN, mitigate).await;
    assert_eq!(
        (
            c["decision"]["degree"].as_str(),
            c["decision"]["influence_period_months"].as_i64()
        ),
        (Some("reduced"), Some(12))
    );
    assert_eq!(c["talk"]["state"], "due");

    let in_a_year = (app.clock().now() + Duration::days(365)).date_naive();
    let record = |who: &'static Person| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/cadres/{}/record", ZHANG.id), who)
                .await
        }
    };
    let r: Value = record(&ZHANG).await.json().await.unwrap();
    assert_eq!(
        r["cadre"],
        json!({"id": ZHANG.id, "name": ZHANG.name, "org": ZHANG.org})
    );
    let case = &r["cases"][0];
    assert_eq!(
        (
            case["outcome"].as_str(),
            case["degree"].as_str(),
            case["sanction"]["code"].as_str(),
            case["sanction"]["text"].as_str()
        ),
        (
            Some("mitigate"),
            Some("reduced"),
            Some("demerit"),
            Some("记过")
        )
    );
    let ends =
        chrono::NaiveDate::parse_from_str(r["influence_ends_on"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    assert!(
        (ends - in_a_year).num_days().abs() <= 1,
        "{ends} vs {in_a_year}"
    );
    assert_eq!(r["promotion_bar_ends_on"], r["influence_ends_on"]);
    assert_eq!(case["talk"]["state"], "due");
    // Staff of the jurisdiction see it; another cadre, an outsider and an unknown id do not.
    for who in [&WANG, &LI, &SUN, &ADMIN] {
        assert_eq!(record(who).await.status(), StatusCode::OK, "{}", who.id);
    }
    for who in [&QIAN, &WU] {
        assert_eq!(
            record(who).await.status(),
            StatusCode::NOT_FOUND,
            "{}",
            who.id
        );
    }
    assert_eq!(
        app.get("/api/v1/cadres/u-nobody/record", &SUN)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // The ledger carries the same facts, in JSON and CSV.
    let ledger: Value = app.get("/api/v1/ledger", &SUN).await.json().await.unwrap();
    let line = &ledger["items"][0]["cases"][0];
    assert_eq!(
        (line["degree"].as_str(), line["sanction"]["code"].as_str()),
        (Some("reduced"), Some("demerit"))
    );
    assert_eq!(line["promotion_bar_ends_on"], r["promotion_bar_ends_on"]);
    let csv = app
        .request(
            reqwest::Method::GET,
            "/api/v1/ledger",
            Some(&app.token(&SUN)),
            None,
            &[("Accept", "text/csv")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("处分 sanction") && csv.contains(",reduced,demerit,"),
        "{csv}"
    );
    // Statistics count the talk due; the unit holds it; then none is due.
    let due = async || {
        let v: Value = app
            .get("/api/v1/statistics", &SUN)
            .await
            .json()
            .await
            .unwrap();
        v["workflows"]["exoneration"]["talks"]["due"].as_i64()
    };
    assert_eq!(due().await, Some(1));
    let (s, v) = app
        .try_act(&id, &ZHANG, json!({"event": "record_talk", "held_on": "2026-11-01", "participants": ["王五"], "summary": "谈话"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "not the subject: {v}");
    let held_on = app.clock().now().date_naive().to_string();
    let c = app
        .act(&id, &WANG, json!({"event": "record_talk", "held_on": held_on, "participants": ["王五", "张三"], "summary": "帮助其汲取教训、改进提高"}))
        .await;
    assert_eq!(
        (c["state"].as_str(), c["talk"]["state"].as_str()),
        (Some("mitigated"), Some("held"))
    );
    assert_eq!(due().await, Some(0));
    assert!(
        app.outbox(&id)
            .await
            .iter()
            .any(|(seq, relation, _)| *seq == c["version"].as_i64().unwrap()
                && relation == "subject")
    );
}

async fn a_refused_rectification_is_referred_to_accountability(app: TestApp) {
    let id = investigating(&app, filing()).await;
    app.act(&id, &CHEN, findings("mitigate", &[])).await;
    app.act(
        &id,
        &SUN,
        json!({"event": "decide", "outcome": "mitigate", "explanation": "从轻处理",
        "degree": "lighter", "sanction": "admonishment", "rectification": order()}),
    )
    .await;
    let refer = |ground: &str| json!({"event": "refer_accountability", "ground": ground, "reason": "拒不整改"});
    let (s, v) = app.try_act(&id, &SUN, refer("refused")).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "evidence"),
        "{v}"
    );
    for ground in ["overdue", "ineffective"] {
        let (s, v) = app.try_act(&id, &SUN, refer(ground)).await;
        assert_eq!(
            (s, field(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "ground"),
            "{ground}: {v}"
        );
    }
    let mut refused = refer("refused");
    refused["evidence"] = json!("本人书面答复拒绝整改");
    let c = app.act(&id, &SUN, refused).await;
    assert_eq!(c["state"], "accountability");
    assert_eq!(
        (
            c["accountability"]["ground"].as_str(),
            c["accountability"]["evidence"].as_str()
        ),
        (Some("refused"), Some("本人书面答复拒绝整改"))
    );
    // The talk the mitigation opened is still owed, whatever the case's state.
    assert_eq!(
        app.case(&id, &WANG).await["available_events"],
        json!(["record_talk"])
    );
}
