//! Workflow A's machine against its table: every (state, event) pair, no database.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rongcuo::domain::Refusal;
use rongcuo::domain::exoneration::DEF;
use rongcuo::domain::exoneration::events::Event;
use rongcuo::domain::exoneration::machine::{self, Ctx};
use rongcuo::domain::exoneration::records::*;
use rongcuo::domain::workflow::SAME;
use serde_json::{Value, json};

const WINDOW_DAYS: i64 = 30;

fn window() -> rongcuo::domain::calendar::Period {
    use rongcuo::domain::calendar::{Calendar, DayCount, Period};
    Period::new(
        WINDOW_DAYS as u32,
        DayCount::Calendar,
        std::sync::Arc::new(Calendar::weekdays_only()),
    )
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

fn element() -> Element {
    Element {
        finding: Finding::Favourable,
        notes: "出以公心".into(),
    }
}

fn base_records() -> Records {
    Records {
        incident: Incident {
            title: "先检查后招标".into(),
            description: "事故后先组织中介机构开展安全检查".into(),
            occurred_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
        },
        circumstances: vec![Circumstance {
            code: "sanming-1".into(),
            text: "…".into(),
            source: "…".into(),
            requires: vec![],
        }],
        remedial_actions: "补办招标手续".into(),
        accountability_ref: None,
        ex_officio: false,
        supplement: None,
        rejection: None,
        findings: None,
        returns: vec![],
        decision: None,
        previous_decisions: vec![],
        rectification: None,
        appeal: None,
        previous_appeals: vec![],
        appeal_waiver: None,
        withdrawal: None,
        closure: None,
        accountability: None,
        talk: None,
        previous_talks: vec![],
        linked_case_id: None,
    }
}

fn findings(red_lines: Vec<RedLine>) -> Findings {
    Findings {
        elements: Elements {
            motive: element(),
            objective_conditions: element(),
            procedure: element(),
            nature: element(),
            consequences: element(),
            remediation: element(),
        },
        recommendation: if red_lines.is_empty() {
            DecisionOutcome::Exonerate
        } else {
            DecisionOutcome::Deny
        },
        red_lines,
        notes: String::new(),
        conditions: Default::default(),
        by: "u-chen".into(),
        at: now() - Duration::days(3),
    }
}

fn decision(outcome: DecisionOutcome, days_ago: i64) -> Decision {
    Decision {
        outcome,
        explanation: "经研究认定".into(),
        overrides: Default::default(),
        degree: None,
        sanction: None,
        influence_period_months: None,
        influence_ends_on: None,
        promotion_bar_ends_on: None,
        effects: vec![],
        by: "u-sun".into(),
        at: now() - Duration::days(days_ago),
        via_appeal: false,
    }
}

fn talk(state: TalkState, due_in_days: i64) -> Talk {
    Talk {
        state,
        due_at: now() + Duration::days(due_in_days),
        opened_at: now() - Duration::days(20),
        held_on: None,
        participants: vec![],
        summary: None,
        recorded_by: None,
        recorded_at: None,
        cancelled_at: None,
    }
}

fn sanction(code: &str, months: u32) -> Sanction {
    Sanction {
        code: code.into(),
        text: "记过".into(),
        source: "政务处分法 第8条".into(),
        influence_months: months,
        promotion_bar_months: months,
    }
}

fn rectification(state: RectificationState, due_in_days: i64) -> Rectification {
    Rectification {
        requirements: "补办招标".into(),
        due_at: now() + Duration::days(due_in_days),
        state,
        ordered_at: now() - Duration::days(5),
        reports: vec![],
        verifications: vec![],
        extensions: vec![],
    }
}

/// Records under which `event`'s non-state conditions hold, so only the state decides.
fn records_for(event: &str) -> Records {
    let mut r = base_records();
    r.findings = Some(findings(vec![]));
    match event {
        "supplement_overdue" => {
            r.supplement = Some(Supplement {
                items: "会议纪要".into(),
                due_at: now() - Duration::hours(1),
                requested_by: "u-li".into(),
                requested_at: now() - Duration::days(8),
                overdue: false,
                material: vec![],
            })
        }
        "submit_rectification" | "extend_rectification" => {
            r.decision = Some(decision(DecisionOutcome::Exonerate, 5));
            r.rectification = Some(rectification(RectificationState::Ordered, 10));
        }
        "verify_rectification" => {
            r.decision = Some(decision(DecisionOutcome::Exonerate, 5));
            r.rectification = Some(rectification(RectificationState::Submitted, 10));
        }
        "rectification_overdue" => {
            r.decision = Some(decision(DecisionOutcome::Exonerate, 40));
            r.rectification = Some(rectification(RectificationState::Ordered, -1));
        }
        "refer_accountability" => {
            r.decision = Some(decision(DecisionOutcome::Exonerate, 40));
            r.rectification = Some(rectification(RectificationState::Overdue, -1));
        }
        "record_talk" => r.talk = Some(talk(TalkState::Due, 10)),
        "talk_overdue" => r.talk = Some(talk(TalkState::Due, -1)),
        "appeal" | "waive_appeal" => r.decision = Some(decision(DecisionOutcome::Deny, 1)),
        "close" | "appeal_window_expired" => {
            r.decision = Some(decision(DecisionOutcome::Deny, WINDOW_DAYS + 10))
        }
        "decide_appeal" => {
            r.decision = Some(decision(DecisionOutcome::Deny, 2));
            r.appeal = Some(Appeal {
                grounds: "事实认定有误".into(),
                by: "u-zhang".into(),
                at: now() - Duration::days(1),
                prior_state: "denied".into(),
                result: None,
                explanation: None,
                decided_by: None,
                decided_at: None,
            });
        }
        _ => {}
    }
    r
}

fn due(days: i64) -> String {
    (now() + Duration::days(days)).to_rfc3339()
}

fn elements_json() -> Value {
    let e = json!({"finding": "favourable", "notes": ""});
    json!({"motive": e, "objective_conditions": e, "procedure": e, "nature": e, "consequences": e, "remediation": e})
}

/// A valid body for every event.
fn body_for(event: &str) -> Value {
    let mut b = match event {
        "request_supplement" => json!({"items": "会议纪要", "due_at": due(7)}),
        "supplement" => json!({"material": "补充会议纪要"}),
        "accept" => json!({"investigator_id": "u-chen"}),
        "submit_findings" => {
            json!({"elements": elements_json(), "red_lines": [], "recommendation": "exonerate", "notes": ""})
        }
        "decide" => json!({"outcome": "exonerate", "explanation": "符合容错情形",
                           "rectification": {"requirements": "补办招标", "due_at": due(30)}}),
        "submit_rectification" => json!({"report": "已补办"}),
        "verify_rectification" => json!({"accepted": true, "comment": "整改到位"}),
        "extend_rectification" => json!({"due_at": due(60), "reason": "材料审批中"}),
        "refer_accountability" => json!({"ground": "overdue", "reason": "逾期未整改"}),
        "record_talk" => {
            json!({"held_on": "2026-11-01", "participants": ["陈六", "张三"], "summary": "谈心谈话"})
        }
        "appeal" => json!({"grounds": "事实认定有误"}),
        "decide_appeal" => {
            json!({"result": "revise", "explanation": "改为免责", "outcome": "exonerate",
                                  "rectification": {"requirements": "补办", "due_at": due(30)}})
        }
        "supplement_overdue"
        | "rectification_overdue"
        | "appeal_window_expired"
        | "waive_appeal"
        | "talk_overdue" => json!({}),
        _ => json!({"reason": "理由"}),
    };
    b["event"] = json!(event);
    b
}

fn run(state: &str, event: &str, records: Records) -> (Result<&'static str, Refusal>, Ctx) {
    let ev =
        Event::parse(event, &body_for(event), now()).unwrap_or_else(|e| panic!("{event}: {e:?}"));
    let mut ctx = Ctx::new("u-actor", now(), window(), records);
    ctx.investigator_id = Some("u-chen".into());
    let result = machine::step(state, &ev, &mut ctx);
    (result, ctx)
}

#[test]
fn every_state_event_pair_matches_the_table() {
    let mut checked = 0;
    for state in DEF.states {
        for event in DEF.events() {
            let (result, _) = run(state, event, records_for(event));
            let row = DEF
                .rows
                .iter()
                .find(|r| r.event == event && r.from.contains(state));
            match (row, result) {
                (Some(row), Ok(to)) => {
                    let allowed: Vec<&str> = row
                        .to
                        .iter()
                        .map(|t| if *t == SAME { *state } else { *t })
                        .collect();
                    assert!(
                        allowed.contains(&to),
                        "{state} --{event}--> {to}, table says {allowed:?}"
                    );
                }
                (Some(_), Err(e)) => {
                    panic!("{state} --{event}: the table allows it but the machine refused: {e:?}")
                }
                (None, Err(Refusal::NotAllowed { state: s, event: e })) => {
                    assert_eq!((s.as_str(), e.as_str()), (*state, event));
                }
                (None, other) => {
                    panic!("{state} --{event}: not in the table, machine answered {other:?}")
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, DEF.states.len() * DEF.events().len());
    assert_eq!(DEF.states.len(), 12);
    assert_eq!(DEF.events().len(), 21);
}

#[test]
fn a_red_line_leaves_deny_as_the_only_outcome() {
    let mut r = records_for("decide");
    r.findings = Some(findings(vec![RedLine::PersonalGain]));
    let (result, _) = run("deliberating", "decide", r.clone());
    match result {
        Err(Refusal::Invalid(errors)) => {
            assert_eq!(errors[0].field, "outcome");
            assert!(
                errors[0].message.contains("personal_gain"),
                "{}",
                errors[0].message
            );
        }
        other => panic!("expected 422, got {other:?}"),
    }
    let ev = Event::parse(
        "decide",
        &json!({"outcome": "deny", "explanation": "触碰红线"}),
        now(),
    )
    .unwrap();
    let mut ctx = Ctx::new("u-sun", now(), window(), r);
    assert_eq!(machine::step("deliberating", &ev, &mut ctx), Ok("denied"));
    assert_eq!(ctx.decider_id.as_deref(), Some("u-sun"));
}

#[test]
fn findings_with_a_red_line_must_recommend_deny() {
    let mut b = body_for("submit_findings");
    b["red_lines"] = json!(["integrity"]);
    match Event::parse("submit_findings", &b, now()) {
        Err(Refusal::Invalid(errors)) => assert_eq!(errors[0].field, "recommendation"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn outcomes_carry_what_they_must() {
    let order = json!({"requirements": "r", "due_at": due(3)});
    let cases = [
        (
            json!({"outcome": "exonerate", "explanation": "x"}),
            "rectification",
        ),
        (
            json!({"outcome": "mitigate", "explanation": "x", "rectification": order, "sanction": "demerit"}),
            "degree",
        ),
        (
            json!({"outcome": "mitigate", "explanation": "x", "rectification": order, "degree": "reduced"}),
            "sanction",
        ),
        (
            json!({"outcome": "mitigate", "explanation": "x", "rectification": order, "degree": "harsher", "sanction": "demerit"}),
            "degree",
        ),
        (
            json!({"outcome": "deny", "explanation": "x", "rectification": order}),
            "rectification",
        ),
        (
            json!({"outcome": "exonerate", "explanation": "x", "rectification": {"requirements": "r", "due_at": due(-1)}}),
            "rectification.due_at",
        ),
        (json!({"outcome": "deny"}), "explanation"),
        (
            json!({"outcome": "deny", "explanation": "   "}),
            "explanation",
        ),
        (json!({"outcome": "pardon", "explanation": "x"}), "outcome"),
        (
            json!({"outcome": "mitigate", "explanation": "x", "influence_period_months": 61, "degree": "lighter",
                "sanction": "demerit", "rectification": order}),
            "influence_period_months",
        ),
        (
            json!({"outcome": "exonerate", "explanation": "x", "rectification": order, "sanction": "demerit"}),
            "sanction",
        ),
        (
            json!({"outcome": "deny", "explanation": "x", "degree": "lighter"}),
            "degree",
        ),
        (
            json!({"outcome": "mitigate", "explanation": "x", "degree": "lighter", "sanction": "demerit",
                "rectification": order, "overrides": {"procedure": "y"}}),
            "overrides",
        ),
        (
            json!({"outcome": "exonerate", "explanation": "x", "rectification": order,
                "overrides": {"luck": "y"}}),
            "overrides.luck",
        ),
    ];
    for (body, field) in cases {
        match Event::parse("decide", &body, now()) {
            Err(Refusal::Invalid(errors)) => {
                assert!(
                    errors.iter().any(|e| e.field == field),
                    "{body}: expected `{field}`, got {errors:?}"
                )
            }
            other => panic!("{body}: {other:?}"),
        }
    }
}

/// Runs `decide` with `body` on deliberated records, the sanction resolved as the
/// workflow would.
fn decide(
    body: Value,
    records: Records,
    sanction_named: Option<Sanction>,
) -> (Result<&'static str, Refusal>, Records) {
    let ev = Event::parse("decide", &body, now()).unwrap_or_else(|e| panic!("{body}: {e:?}"));
    let mut ctx = Ctx::new("u-sun", now(), window(), records);
    ctx.sanction = sanction_named;
    let r = machine::step("deliberating", &ev, &mut ctx);
    (r, ctx.records)
}

fn fields_of(r: &Result<&'static str, Refusal>) -> Vec<String> {
    match r {
        Err(Refusal::Invalid(errors)) => errors.iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected 422, got {other:?}"),
    }
}

#[test]
fn mitigation_records_degree_sanction_influence_promotion_bar_and_a_talk() {
    let order = json!({"requirements": "r", "due_at": due(30)});
    let body = json!({"outcome": "mitigate", "explanation": "减轻处理", "degree": "reduced",
                      "sanction": "demerit", "rectification": order});
    let (r, rec) = decide(
        body.clone(),
        records_for("decide"),
        Some(sanction("demerit", 12)),
    );
    assert_eq!(r, Ok("mitigated"));
    let d = rec.decision.unwrap();
    assert_eq!(
        (d.degree, d.influence_period_months),
        (Some(Degree::Reduced), Some(12))
    );
    assert_eq!(d.sanction.unwrap().code, "demerit");
    let in_a_year = chrono::NaiveDate::from_ymd_opt(2027, 11, 2);
    assert_eq!(
        (d.influence_ends_on, d.promotion_bar_ends_on),
        (in_a_year, in_a_year)
    );
    assert_eq!(
        rec.rectification.unwrap().state,
        RectificationState::Ordered
    );
    let talk = rec.talk.unwrap();
    assert_eq!(
        (talk.state, talk.due_at),
        (TalkState::Due, now() + Duration::days(30))
    );
    // Longer than the sanction's: kept; shorter: refused.
    let mut longer = body.clone();
    longer["influence_period_months"] = json!(24);
    let (r, rec) = decide(longer, records_for("decide"), Some(sanction("demerit", 12)));
    assert_eq!(r, Ok("mitigated"));
    let d = rec.decision.unwrap();
    assert_eq!(
        (d.influence_period_months, d.promotion_bar_ends_on),
        (Some(24), in_a_year)
    );
    let mut shorter = body.clone();
    shorter["influence_period_months"] = json!(6);
    let (r, _) = decide(
        shorter,
        records_for("decide"),
        Some(sanction("demerit", 12)),
    );
    assert_eq!(fields_of(&r), ["influence_period_months"]);
    // A sanction of 0 months: no influence period, no bar, no talk.
    let (r, rec) = decide(body, records_for("decide"), Some(sanction("criticism", 0)));
    assert_eq!(r, Ok("mitigated"));
    let d = rec.decision.unwrap();
    assert_eq!(
        (
            d.influence_period_months,
            d.influence_ends_on,
            d.promotion_bar_ends_on
        ),
        (None, None, None)
    );
    assert!(rec.talk.is_none());
}

#[test]
fn the_tests_a_decision_must_pass() {
    let order = json!({"requirements": "r", "due_at": due(30)});
    let exonerate =
        json!({"outcome": "exonerate", "explanation": "予以免责", "rectification": order});
    // An unfavourable procedure: exonerating needs a reason for it.
    let mut r = records_for("decide");
    r.findings.as_mut().unwrap().elements.procedure.finding = Finding::Unfavourable;
    let (res, _) = decide(exonerate.clone(), r.clone(), None);
    assert_eq!(fields_of(&res), ["overrides.procedure"]);
    let mut with_reason = exonerate.clone();
    with_reason["overrides"] = json!({"procedure": "事出紧急，事后已补集体研究"});
    let (res, rec) = decide(with_reason.clone(), r.clone(), None);
    assert_eq!(res, Ok("exonerated"));
    assert_eq!(
        rec.decision.unwrap().overrides["procedure"],
        "事出紧急，事后已补集体研究"
    );
    // An override of an element the findings did not mark unfavourable.
    with_reason["overrides"]["consequences"] = json!("x");
    let (res, _) = decide(with_reason, r.clone(), None);
    assert_eq!(fields_of(&res), ["overrides.consequences"]);
    // Mitigating against an unfavourable element needs no override.
    let mitigate = json!({"outcome": "mitigate", "explanation": "从轻", "degree": "lighter",
                          "sanction": "admonishment", "rectification": order});
    let (res, _) = decide(mitigate.clone(), r, Some(sanction("admonishment", 6)));
    assert_eq!(res, Ok("mitigated"));
    // Nothing cited (an ex-officio case): neither exonerate nor mitigate, only deny.
    let mut none = records_for("decide");
    none.circumstances.clear();
    let (res, _) = decide(exonerate.clone(), none.clone(), None);
    assert_eq!(fields_of(&res), ["circumstances"]);
    let (res, _) = decide(mitigate, none.clone(), Some(sanction("admonishment", 6)));
    assert_eq!(fields_of(&res), ["circumstances"]);
    let (res, _) = decide(
        json!({"outcome": "deny", "explanation": "不予容错"}),
        none,
        None,
    );
    assert_eq!(res, Ok("denied"));
    // The effects of an exoneration are recorded with it.
    let ev = Event::parse("decide", &exonerate, now()).unwrap();
    let mut ctx = Ctx::new("u-sun", now(), window(), records_for("decide"));
    ctx.effects = vec![Effect {
        code: "promotion".into(),
        text: "提拔任用不受影响".into(),
        source: "s".into(),
    }];
    assert_eq!(
        machine::step("deliberating", &ev, &mut ctx),
        Ok("exonerated")
    );
    assert_eq!(ctx.records.decision.unwrap().effects[0].code, "promotion");
}

#[test]
fn elements_and_red_lines_must_agree() {
    let with = |element: &str, red_lines: Value| {
        let mut b = body_for("submit_findings");
        b["elements"][element]["finding"] = json!("unfavourable");
        b["red_lines"] = red_lines;
        b["recommendation"] = json!("deny");
        Event::parse("submit_findings", &b, now())
    };
    for (element, red_line) in [("motive", "personal_gain"), ("nature", "law_violation")] {
        match with(element, json!([])) {
            Err(Refusal::Invalid(errors)) => {
                assert_eq!(errors[0].field, "red_lines");
                assert!(
                    errors[0].message.contains(red_line),
                    "{}",
                    errors[0].message
                );
            }
            other => panic!("{element}: {other:?}"),
        }
        assert!(
            with(element, json!([red_line])).is_ok(),
            "{element} with {red_line}"
        );
    }
    // The new red lines leave only deny, like the others.
    for red_line in ["knowing_violation", "law_violation"] {
        let mut r = records_for("decide");
        r.findings = Some(findings(vec![
            serde_json::from_value(json!(red_line)).unwrap(),
        ]));
        let body = json!({"outcome": "exonerate", "explanation": "x",
            "rectification": {"requirements": "r", "due_at": due(3)}});
        let (res, _) = decide(body, r, None);
        assert_eq!(fields_of(&res), ["outcome"], "{red_line}");
    }
}

const FIVE: [&str; 5] = [
    "policy_direction",
    "collective_decision",
    "no_major_harm",
    "no_benefit_transfer",
    "tried_to_avoid_loss",
];

fn ningbo() -> Circumstance {
    Circumstance {
        code: "ningbo-audit".into(),
        text: "审计容错纠错：同时具备“五个看”".into(),
        source: "宁波".into(),
        requires: FIVE
            .iter()
            .map(|code| Condition {
                code: code.to_string(),
                text: format!("{code} 的条件"),
            })
            .collect(),
    }
}

/// The five conditions answered, all met but `unmet`.
fn all_five(unmet: Option<&str>) -> Value {
    let mut m = serde_json::Map::new();
    for code in FIVE {
        m.insert(
            code.into(),
            json!({"met": Some(code) != unmet, "notes": "经查"}),
        );
    }
    Value::Object(m)
}

#[test]
fn an_entry_that_requires_conditions_needs_them_answered_and_met() {
    let findings_with = |conditions: Value| {
        let mut b = body_for("submit_findings");
        b["conditions"] = conditions;
        let ev = Event::parse("submit_findings", &b, now()).unwrap();
        let mut r = base_records();
        r.circumstances = vec![ningbo()];
        let mut ctx = Ctx::new("u-chen", now(), window(), r);
        let res = machine::step("investigating", &ev, &mut ctx);
        (res, ctx.records)
    };
    let mut four = all_five(None);
    four.as_object_mut().unwrap().remove("no_major_harm");
    let (res, _) = findings_with(four);
    assert_eq!(fields_of(&res), ["conditions.no_major_harm"]);
    let mut extra = all_five(None);
    extra["luck"] = json!({"met": true});
    let (res, _) = findings_with(extra);
    assert_eq!(fields_of(&res), ["conditions.luck"]);

    let exonerate = json!({"outcome": "exonerate", "explanation": "五个看均符合",
                           "rectification": {"requirements": "r", "due_at": due(30)}});
    let (res, rec) = findings_with(all_five(Some("no_benefit_transfer")));
    assert_eq!(res, Ok("deliberating"));
    let (res, _) = decide(exonerate.clone(), rec.clone(), None);
    match &res {
        Err(Refusal::Invalid(e)) => {
            assert_eq!(e[0].field, "outcome");
            assert!(
                e[0].message.contains("no_benefit_transfer"),
                "{}",
                e[0].message
            );
        }
        other => panic!("{other:?}"),
    }
    // Mitigating stays possible; and another cited entry without conditions suffices.
    let mitigate = json!({"outcome": "mitigate", "explanation": "从轻", "degree": "lighter",
                          "sanction": "criticism", "rectification": {"requirements": "r", "due_at": due(30)}});
    assert_eq!(
        decide(mitigate, rec.clone(), Some(sanction("criticism", 0))).0,
        Ok("mitigated")
    );
    let mut also = rec;
    also.circumstances
        .push(base_records().circumstances[0].clone());
    assert_eq!(decide(exonerate.clone(), also, None).0, Ok("exonerated"));
    let (_, rec) = findings_with(all_five(None));
    assert_eq!(decide(exonerate, rec, None).0, Ok("exonerated"));
}

#[test]
fn the_investigator_cites_the_circumstances_of_an_ex_officio_case() {
    let mut b = body_for("submit_findings");
    b["circumstances"] = json!(["ningbo-audit"]);
    b["conditions"] = all_five(None);
    let ev = Event::parse("submit_findings", &b, now()).unwrap();
    let mut r = base_records();
    r.circumstances.clear();
    r.ex_officio = true;
    let mut ctx = Ctx::new("u-chen", now(), window(), r);
    ctx.recited = Some(vec![ningbo()]);
    assert_eq!(
        machine::step("investigating", &ev, &mut ctx),
        Ok("deliberating")
    );
    assert_eq!(ctx.records.circumstances[0].code, "ningbo-audit");
    b["circumstances"] = json!([]);
    match Event::parse("submit_findings", &b, now()) {
        Err(Refusal::Invalid(e)) => assert_eq!(e[0].field, "circumstances"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_talk_is_held_in_any_state_flagged_when_late_and_cancelled_with_its_decision() {
    use RectificationState::*;
    let record =
        json!({"held_on": "2026-11-01", "participants": ["陈六", "张三"], "summary": "谈心谈话"});
    let mut closed = decided(DecisionOutcome::Mitigate, 40, Some(Verified));
    closed.talk = Some(talk(TalkState::Due, 5));
    let (r, rec) = step(
        "closed",
        "record_talk",
        record.clone(),
        closed.clone(),
        now(),
    );
    assert_eq!(r, Ok("closed"));
    let t = rec.talk.as_ref().unwrap();
    assert_eq!((t.state, t.participants.len()), (TalkState::Held, 2));
    let (r, _) = step("closed", "record_talk", record.clone(), rec, now());
    assert!(matches!(r, Err(Refusal::Conflict(_))), "once: {r:?}");
    let (r, _) = step("closed", "talk_overdue", json!({}), closed.clone(), now());
    assert!(matches!(r, Err(Refusal::Conflict(_))), "not yet due: {r:?}");
    let ev = Event::parse("talk_overdue", &json!({}), now()).unwrap();
    let mut ctx = Ctx::new("system", now() + Duration::days(6), window(), closed);
    assert_eq!(machine::step("closed", &ev, &mut ctx), Ok("closed"));
    assert_eq!(ctx.records.talk.as_ref().unwrap().state, TalkState::Overdue);
    assert!(ctx.overdue, "an overdue talk makes the case overdue");
    // Remanded or revised away from mitigate: cancelled.
    let mut appealed = decided(DecisionOutcome::Mitigate, 2, Some(Ordered));
    appealed.talk = Some(talk(TalkState::Due, 20));
    appealed.appeal = Some(Appeal {
        grounds: "g".into(),
        by: "u-zhang".into(),
        at: now() - Duration::days(1),
        prior_state: "mitigated".into(),
        result: None,
        explanation: None,
        decided_by: None,
        decided_at: None,
    });
    let remand = json!({"result": "remand", "explanation": "重新调查"});
    let (r, rec) = step("appealed", "decide_appeal", remand, appealed.clone(), now());
    assert_eq!(r, Ok("investigating"));
    assert!(rec.talk.is_none());
    assert_eq!(rec.previous_talks[0].state, TalkState::Cancelled);
    let revise = json!({"result": "revise", "explanation": "改为免责", "outcome": "exonerate",
                        "rectification": {"requirements": "r", "due_at": due(30)}});
    let (r, rec) = step("appealed", "decide_appeal", revise, appealed, now());
    assert_eq!(r, Ok("exonerated"));
    assert_eq!(rec.previous_talks[0].cancelled_at, Some(now()));
}

#[test]
fn accountability_is_referred_on_a_ground_that_holds() {
    use RectificationState::*;
    let refer = |ground: &str, evidence: Option<&str>, rect: Rectification| {
        let mut body = json!({"ground": ground, "reason": "整改不力"});
        if let Some(e) = evidence {
            body["evidence"] = json!(e);
        }
        let mut r = decided(DecisionOutcome::Mitigate, 20, None);
        r.rectification = Some(rect);
        step("mitigated", "refer_accountability", body, r, now())
    };
    let rejected = |n: usize| {
        let mut rect = rectification(Ordered, 10);
        for _ in 0..n {
            rect.verifications.push(Verification {
                accepted: false,
                comment: "不到位".into(),
                by: "u-chen".into(),
                at: now() - Duration::days(3),
            });
        }
        rect
    };
    let evidence = Some("拒不整改的书面答复");
    assert_eq!(
        fields_of(&refer("overdue", None, rectification(Ordered, 10)).0),
        ["ground"]
    );
    assert_eq!(
        refer("overdue", None, rectification(Overdue, -1)).0,
        Ok("accountability")
    );
    assert_eq!(
        fields_of(&refer("ineffective", None, rejected(1)).0),
        ["ground"]
    );
    let (r, rec) = refer("ineffective", None, rejected(2));
    assert_eq!(r, Ok("accountability"));
    assert_eq!(
        rec.accountability.unwrap().ground,
        Some(Ground::Ineffective)
    );
    assert_eq!(
        fields_of(&refer("refused", evidence, rectification(Submitted, 10)).0),
        ["ground"]
    );
    let (r, rec) = refer("refused", evidence, rectification(Ordered, 10));
    assert_eq!(r, Ok("accountability"));
    assert_eq!(rec.accountability.unwrap().evidence.as_deref(), evidence);
    match Event::parse(
        "refer_accountability",
        &json!({"ground": "refused", "reason": "x"}),
        now(),
    ) {
        Err(Refusal::Invalid(e)) => assert_eq!(e[0].field, "evidence"),
        other => panic!("{other:?}"),
    }
    let (r, _) = refer("overdue", None, rectification(Verified, 10));
    assert!(
        matches!(r, Err(Refusal::Conflict(_))),
        "verified: not offered: {r:?}"
    );
}

#[test]
fn appeal_only_inside_the_window_and_close_only_after_it() {
    let mut r = records_for("appeal");
    r.decision = Some(decision(DecisionOutcome::Deny, WINDOW_DAYS + 10));
    let (result, _) = run("denied", "appeal", r.clone());
    assert!(
        matches!(result, Err(Refusal::Conflict(ref m)) if m.contains("appeal window ended")),
        "{result:?}"
    );

    let (result, _) = run("denied", "close", records_for("appeal"));
    assert!(
        matches!(result, Err(Refusal::Conflict(_))),
        "close inside the window: {result:?}"
    );
    let (result, _) = run("denied", "appeal_window_expired", records_for("appeal"));
    assert!(
        matches!(result, Err(Refusal::Conflict(_))),
        "timer before expiry: {result:?}"
    );

    let (result, ctx) = run("denied", "appeal_window_expired", r);
    assert_eq!(result, Ok("closed"));
    assert!(ctx.records.closure.is_some());
}

#[test]
fn an_appeal_decision_is_final_and_uphold_returns_to_the_prior_state() {
    let (result, ctx) = run("appealed", "decide_appeal", records_for("decide_appeal"));
    assert_eq!(result, Ok("exonerated"));
    let records = ctx.records;
    assert!(records.decision.as_ref().unwrap().via_appeal);
    assert_eq!(records.previous_decisions.len(), 1);
    assert_eq!(records.previous_decisions[0].outcome, DecisionOutcome::Deny);
    assert_eq!(
        records.appeal.as_ref().unwrap().result,
        Some(AppealResult::Revise)
    );
    let ev = Event::parse("appeal", &body_for("appeal"), now()).unwrap();
    let mut ctx = Ctx::new("u-zhang", now(), window(), records);
    assert!(matches!(
        machine::step("exonerated", &ev, &mut ctx),
        Err(Refusal::Conflict(_))
    ));

    let uphold = Event::parse(
        "decide_appeal",
        &json!({"result": "uphold", "explanation": "维持"}),
        now(),
    )
    .unwrap();
    // A denial upheld on appeal leaves nothing to wait for: the case closes.
    let mut ctx = Ctx::new("u-zhou", now(), window(), records_for("decide_appeal"));
    assert_eq!(machine::step("appealed", &uphold, &mut ctx), Ok("closed"));
    assert!(ctx.records.closure.is_some());
    assert!(
        matches!(machine::appeal_open(&ctx.records, now(), &window()), Err(ref m) if m.contains("already"))
    );

    let remand = Event::parse(
        "decide_appeal",
        &json!({"result": "remand", "explanation": "重新调查"}),
        now(),
    )
    .unwrap();
    let mut ctx = Ctx::new("u-zhou", now(), window(), records_for("decide_appeal"));
    assert_eq!(
        machine::step("appealed", &remand, &mut ctx),
        Ok("investigating")
    );
    assert!(ctx.records.decision.is_none());
}

/// Records of a case decided `days_ago` with its rectification in `rect`.
fn decided(outcome: DecisionOutcome, days_ago: i64, rect: Option<RectificationState>) -> Records {
    let mut r = base_records();
    r.findings = Some(findings(vec![]));
    r.decision = Some(decision(outcome, days_ago));
    r.rectification = rect.map(|state| rectification(state, 10));
    r
}

fn step(
    state: &str,
    event: &str,
    body: Value,
    records: Records,
    at: DateTime<Utc>,
) -> (Result<&'static str, Refusal>, Records) {
    let ev = Event::parse(event, &body, at).unwrap_or_else(|e| panic!("{event}: {e:?}"));
    let mut ctx = Ctx::new("u-actor", at, window(), records);
    // The sanction a body names, as the workflow resolves it from its catalogue.
    ctx.sanction = body["sanction"].as_str().map(|code| sanction(code, 6));
    let r = machine::step(state, &ev, &mut ctx);
    (r, ctx.records)
}

#[test]
fn complying_fast_keeps_the_appeal_and_the_case_closes_when_none_can_be_lodged() {
    use DecisionOutcome::*;
    use RectificationState::*;
    let accept = json!({"accepted": true, "comment": "整改到位"});
    // Verified inside the window: the case stays decided, the rectification verified.
    let (r, rec) = step(
        "mitigated",
        "verify_rectification",
        accept.clone(),
        decided(Mitigate, 5, Some(Submitted)),
        now(),
    );
    assert_eq!(r, Ok("mitigated"));
    assert_eq!(rec.rectification.as_ref().unwrap().state, Verified);
    assert!(rec.closure.is_none());
    // …and the subject may still appeal it.
    let (r, _) = step(
        "mitigated",
        "appeal",
        json!({"grounds": "从轻幅度不当"}),
        rec.clone(),
        now(),
    );
    assert_eq!(r, Ok("appealed"));
    // When the window ends, the timer closes it.
    let (r, _) = step(
        "mitigated",
        "appeal_window_expired",
        json!({}),
        rec.clone(),
        now(),
    );
    assert!(
        matches!(r, Err(Refusal::Conflict(_))),
        "inside the window: {r:?}"
    );
    let later = now() + Duration::days(WINDOW_DAYS);
    let (r, closed) = step("mitigated", "appeal_window_expired", json!({}), rec, later);
    assert_eq!(r, Ok("closed"));
    assert!(closed.closure.is_some());
    // Verified after the window: closed in the same transition.
    let (r, rec) = step(
        "exonerated",
        "verify_rectification",
        accept.clone(),
        decided(Exonerate, WINDOW_DAYS + 10, Some(Submitted)),
        now(),
    );
    assert_eq!(r, Ok("closed"));
    assert_eq!(rec.closure.unwrap().reason, "整改到位");
    // The window passed with the rectification pending: the timer has nothing to close.
    let (r, _) = step(
        "exonerated",
        "appeal_window_expired",
        json!({}),
        decided(Exonerate, WINDOW_DAYS + 10, Some(Ordered)),
        now(),
    );
    assert!(
        matches!(r, Err(Refusal::Conflict(ref m)) if m.contains("rectification")),
        "{r:?}"
    );
    // An appeal decided before the verification: closed when it is verified.
    let mut appealed = decided(Exonerate, 5, Some(Ordered));
    appealed.appeal = Some(Appeal {
        grounds: "g".into(),
        by: "u-zhang".into(),
        at: now() - Duration::days(4),
        prior_state: "exonerated".into(),
        result: None,
        explanation: None,
        decided_by: None,
        decided_at: None,
    });
    let uphold = json!({"result": "uphold", "explanation": "维持"});
    let (r, rec) = step(
        "appealed",
        "decide_appeal",
        uphold.clone(),
        appealed.clone(),
        now(),
    );
    assert_eq!(r, Ok("exonerated"), "a rectification is still pending");
    let (_, rec) = step(
        "exonerated",
        "submit_rectification",
        json!({"report": "已整改"}),
        rec,
        now(),
    );
    let (r, _) = step("exonerated", "verify_rectification", accept, rec, now());
    assert_eq!(r, Ok("closed"));
    // Verified, then appealed and upheld: closed by the appeal decision.
    appealed.rectification = Some(rectification(Verified, 10));
    let (r, _) = step("appealed", "decide_appeal", uphold, appealed.clone(), now());
    assert_eq!(r, Ok("closed"));
    // A revision between exonerate and mitigate keeps the verified rectification.
    let revise = json!({"result": "revise", "explanation": "改为从轻", "outcome": "mitigate",
                        "degree": "lighter", "sanction": "admonishment"});
    let (r, rec) = step(
        "appealed",
        "decide_appeal",
        revise.clone(),
        appealed.clone(),
        now(),
    );
    assert_eq!(r, Ok("closed"));
    assert_eq!(rec.rectification.unwrap().state, Verified);
    assert_eq!(rec.decision.unwrap().outcome, Mitigate);
    // Without a verified one to keep, a revision must order one.
    appealed.rectification = Some(rectification(Submitted, 10));
    let (r, _) = step("appealed", "decide_appeal", revise, appealed, now());
    assert!(
        matches!(r, Err(Refusal::Invalid(ref e)) if e[0].field == "rectification"),
        "{r:?}"
    );
}

#[test]
fn a_waived_appeal_closes_what_has_nothing_pending() {
    use DecisionOutcome::*;
    use RectificationState::*;
    let waive = || json!({});
    let (r, rec) = step(
        "denied",
        "waive_appeal",
        waive(),
        decided(Deny, 1, None),
        now(),
    );
    assert_eq!(r, Ok("closed"));
    assert_eq!(rec.appeal_waiver.as_ref().unwrap().at, now());
    let (r, rec) = step(
        "exonerated",
        "waive_appeal",
        waive(),
        decided(Exonerate, 1, Some(Ordered)),
        now(),
    );
    assert_eq!(r, Ok("exonerated"), "the rectification is still pending");
    assert!(rec.appeal_waiver.is_some());
    let (r, _) = step(
        "exonerated",
        "appeal",
        json!({"grounds": "g"}),
        rec.clone(),
        now(),
    );
    assert!(
        matches!(r, Err(Refusal::Conflict(ref m)) if m.contains("waived")),
        "{r:?}"
    );
    let (r, _) = step("exonerated", "waive_appeal", waive(), rec.clone(), now());
    assert!(matches!(r, Err(Refusal::Conflict(_))), "once: {r:?}");
    let (_, rec) = step(
        "exonerated",
        "submit_rectification",
        json!({"report": "已整改"}),
        rec,
        now(),
    );
    let (r, _) = step(
        "exonerated",
        "verify_rectification",
        json!({"accepted": true, "comment": "到位"}),
        rec,
        now(),
    );
    assert_eq!(r, Ok("closed"));
    let (r, _) = step(
        "mitigated",
        "waive_appeal",
        waive(),
        decided(Mitigate, 1, Some(Verified)),
        now(),
    );
    assert_eq!(r, Ok("closed"));
    let (r, _) = step(
        "denied",
        "waive_appeal",
        waive(),
        decided(Deny, WINDOW_DAYS + 10, None),
        now(),
    );
    assert!(
        matches!(r, Err(Refusal::Conflict(ref m)) if m.contains("window")),
        "after the window: {r:?}"
    );
}

#[test]
fn rectification_goes_ordered_submitted_back_to_ordered_overdue_and_to_accountability() {
    let mut r = records_for("submit_rectification");
    let steps: [(&str, Value, &str, RectificationState); 5] = [
        (
            "submit_rectification",
            json!({"report": "已补办"}),
            "exonerated",
            RectificationState::Submitted,
        ),
        (
            "verify_rectification",
            json!({"accepted": false, "comment": "不到位", "due_at": due(3)}),
            "exonerated",
            RectificationState::Ordered,
        ),
        (
            "submit_rectification",
            json!({"report": "再次补办"}),
            "exonerated",
            RectificationState::Submitted,
        ),
        (
            "verify_rectification",
            json!({"accepted": false, "comment": "仍不到位", "due_at": due(1)}),
            "exonerated",
            RectificationState::Ordered,
        ),
        (
            "extend_rectification",
            json!({"due_at": due(20), "reason": "审批中"}),
            "exonerated",
            RectificationState::Ordered,
        ),
    ];
    for (event, body, to, rect) in steps {
        let ev = Event::parse(event, &body, now()).unwrap();
        let mut ctx = Ctx::new("u-x", now(), window(), r);
        assert_eq!(
            machine::step("exonerated", &ev, &mut ctx),
            Ok(to),
            "{event}"
        );
        assert_eq!(
            ctx.records.rectification.as_ref().unwrap().state,
            rect,
            "{event}"
        );
        r = ctx.records;
    }
    // Not due yet: the timer is refused.
    let overdue = Event::parse("rectification_overdue", &json!({}), now()).unwrap();
    let mut ctx = Ctx::new("system", now(), window(), r.clone());
    assert!(matches!(
        machine::step("exonerated", &overdue, &mut ctx),
        Err(Refusal::Conflict(_))
    ));
    // Referral for being overdue needs an overdue rectification.
    let refer = Event::parse(
        "refer_accountability",
        &json!({"ground": "overdue", "reason": "逾期未整改"}),
        now(),
    )
    .unwrap();
    let mut ctx = Ctx::new("u-sun", now(), window(), r.clone());
    assert!(matches!(
        machine::step("exonerated", &refer, &mut ctx),
        Err(Refusal::Invalid(ref e)) if e[0].field == "ground"
    ));
    // Twenty-one days later it is overdue, flagged, and referable.
    let later = now() + Duration::days(21);
    let mut ctx = Ctx::new("system", later, window(), r);
    assert_eq!(
        machine::step("exonerated", &overdue, &mut ctx),
        Ok("exonerated")
    );
    assert!(ctx.overdue);
    assert_eq!(
        ctx.records.rectification.as_ref().unwrap().state,
        RectificationState::Overdue
    );
    let mut ctx = Ctx::new("u-sun", later, window(), ctx.records);
    assert_eq!(
        machine::step("exonerated", &refer, &mut ctx),
        Ok("accountability")
    );
}

#[test]
fn an_extension_must_move_the_due_date_later() {
    let ev = Event::parse(
        "extend_rectification",
        &json!({"due_at": due(5), "reason": "x"}),
        now(),
    )
    .unwrap();
    let mut ctx = Ctx::new(
        "u-chen",
        now(),
        window(),
        records_for("extend_rectification"),
    );
    match machine::step("exonerated", &ev, &mut ctx) {
        Err(Refusal::Invalid(errors)) => assert_eq!(errors[0].field, "due_at"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn supplement_overdue_flags_and_supplement_clears() {
    let (result, ctx) = run(
        "needs_supplement",
        "supplement_overdue",
        records_for("supplement_overdue"),
    );
    assert_eq!(result, Ok("needs_supplement"));
    assert!(ctx.overdue);
    let again = Event::parse("supplement_overdue", &json!({}), now()).unwrap();
    let mut ctx2 = Ctx::new("system", now(), window(), ctx.records.clone());
    assert!(matches!(
        machine::step("needs_supplement", &again, &mut ctx2),
        Err(Refusal::Conflict(_))
    ));
    let sup = Event::parse("supplement", &json!({"material": "补充"}), now()).unwrap();
    let mut ctx3 = Ctx::new("u-zhang", now(), window(), ctx.records);
    ctx3.overdue = true;
    assert_eq!(
        machine::step("needs_supplement", &sup, &mut ctx3),
        Ok("filed")
    );
    assert!(!ctx3.overdue);
    assert_eq!(ctx3.records.supplement.unwrap().material.len(), 1);
}

#[test]
fn payload_errors_name_the_field() {
    let cases = [
        ("request_supplement", json!({"items": "x"}), "due_at"),
        (
            "request_supplement",
            json!({"items": "x", "due_at": "tomorrow"}),
            "due_at",
        ),
        (
            "request_supplement",
            json!({"items": "x", "due_at": due(-2)}),
            "due_at",
        ),
        (
            "submit_findings",
            json!({"elements": {}, "red_lines": [], "recommendation": "deny"}),
            "elements.motive",
        ),
        (
            "submit_findings",
            json!({"elements": elements_json(), "red_lines": ["jaywalking"], "recommendation": "deny"}),
            "red_lines[0]",
        ),
        ("reject_intake", json!({"reason": "x", "extra": 1}), "extra"),
        (
            "verify_rectification",
            json!({"accepted": false, "comment": "x"}),
            "due_at",
        ),
        (
            "decide_appeal",
            json!({"result": "revise", "explanation": "x"}),
            "outcome",
        ),
        (
            "decide_appeal",
            json!({"result": "uphold", "explanation": "x", "outcome": "deny"}),
            "outcome",
        ),
    ];
    for (event, body, field) in cases {
        match Event::parse(event, &body, now()) {
            Err(Refusal::Invalid(errors)) => {
                assert!(
                    errors.iter().any(|e| e.field == field),
                    "{event} {body}: expected `{field}`, got {errors:?}"
                )
            }
            other => panic!("{event} {body}: {other:?}"),
        }
    }
}

fn real_calendar() -> std::sync::Arc<rongcuo::domain::calendar::Calendar> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows/calendar");
    std::sync::Arc::new(rongcuo::domain::calendar::Calendar::load(&dir).unwrap())
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn a_working_day_appeal_window_skips_national_day() {
    use rongcuo::domain::calendar::{DayCount, Period};
    let window = Period::new(5, DayCount::Working, real_calendar());
    let mut r = base_records();
    r.decision = Some(Decision {
        at: at("2026-09-28T10:00:00+08:00"),
        ..decision(DecisionOutcome::Deny, 0)
    });
    // 29 Sep, 30 Sep, then 8, 9 and 10 Oct (a make-up Saturday): open until 11 Oct 00:00.
    assert_eq!(
        window.end(at("2026-09-28T10:00:00+08:00")),
        at("2026-10-11T00:00:00+08:00")
    );
    assert!(machine::appeal_open(&r, at("2026-10-10T23:59:59+08:00"), &window).is_ok());
    assert!(machine::appeal_open(&r, at("2026-10-11T00:00:00+08:00"), &window).is_err());
    // A calendar-day window of 3 days from 28 Sep would end on 1 Oct: it runs to 8 Oct.
    let calendar_days = Period::new(3, DayCount::Calendar, real_calendar());
    assert_eq!(
        calendar_days.end(at("2026-09-28T10:00:00+08:00")),
        at("2026-10-09T00:00:00+08:00")
    );
}

#[test]
fn an_explicit_due_date_on_a_holiday_is_kept_exactly() {
    let early = at("2026-09-01T09:00:00+08:00");
    let body = json!({"items": "纪要", "due_at": "2026-10-03T10:00:00+08:00"});
    let ev = Event::parse("request_supplement", &body, early).unwrap();
    let mut ctx = Ctx::new("u-li", early, window(), base_records());
    assert_eq!(
        machine::step("filed", &ev, &mut ctx),
        Ok("needs_supplement")
    );
    assert_eq!(
        ctx.records.supplement.unwrap().due_at,
        at("2026-10-03T10:00:00+08:00")
    );
}

#[test]
fn overdue_is_derived_so_a_remand_does_not_carry_a_stale_flag() {
    // An exonerated case whose rectification fell overdue is appealed and remanded: the
    // rectification goes with the decision, and so must the overdue flag.
    let mut r = records_for("decide_appeal");
    r.rectification = Some(rectification(RectificationState::Overdue, -1));
    let remand = Event::parse(
        "decide_appeal",
        &json!({"result": "remand", "explanation": "重新调查"}),
        now(),
    )
    .unwrap();
    let mut ctx = Ctx::new("u-zhou", now(), window(), r);
    ctx.overdue = true;
    assert_eq!(
        machine::step("appealed", &remand, &mut ctx),
        Ok("investigating")
    );
    assert!(!ctx.overdue);
    assert!(!machine::overdue("investigating", &ctx.records));
}
