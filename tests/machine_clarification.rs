//! Workflow B's machine against its table: every (state, event) pair, no database.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rongcuo::domain::Refusal;
use rongcuo::domain::clarification::DEF;
use rongcuo::domain::clarification::events::Event;
use rongcuo::domain::clarification::machine::{self, Ctx};
use rongcuo::domain::clarification::records::*;
use rongcuo::domain::workflow::SAME;
use serde_json::{Value, json};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

fn base() -> Records {
    Records {
        allegation: Allegation {
            summary: "收受礼金".into(),
            details: "举报人称…".into(),
            channel: Channel::Letter,
        },
        reporter: None,
        dismissal: None,
        rejected_dismissals: vec![],
        inquiry: None,
        acceptance: None,
        conclusion: None,
        clarification: None,
        referrals: vec![],
        closure: None,
        linked_case_id: None,
    }
}

fn proposal() -> Dismissal {
    Dismissal {
        reason_code: DismissReason::UnclearLeads,
        explanation: "线索不清".into(),
        by: "u-li".into(),
        at: now() - Duration::days(1),
        confirmed_by: None,
        confirmed_at: None,
        rejection: None,
    }
}

fn accuser() -> Accuser {
    Accuser {
        source: AccuserSource::Reporter,
        sealed: "v1.sealed".into(),
    }
}

fn referral(category: ReferralCategory) -> Referral {
    Referral {
        category,
        evidence: "证据".into(),
        by: "u-chen".into(),
        at: now() - Duration::days(1),
        accuser: Some(accuser()),
        outcome: None,
    }
}

fn records_for(event: &str) -> Records {
    let mut r = base();
    if matches!(event, "confirm_dismissal" | "reject_dismissal") {
        r.dismissal = Some(proposal());
    }
    if event == "record_referral_outcome" {
        r.referrals
            .push(referral(ReferralCategory::FalseAccusation));
    }
    if event == "inquiry_overdue" {
        r.inquiry = Some(Inquiry {
            questions: "请说明".into(),
            due_at: now() - Duration::hours(1),
            sent_by: "u-chen".into(),
            sent_at: now() - Duration::days(10),
            overdue: false,
            explanation: None,
        });
    }
    r
}

fn body_for(event: &str) -> Value {
    let mut b = match event {
        "propose_dismissal" => json!({"reason_code": "unclear_leads", "explanation": "线索不清"}),
        "reject_dismissal" => json!({"reason": "有具体线索，应予函询"}),
        "send_inquiry" => {
            json!({"questions": "请说明情况", "due_at": (now() + Duration::days(10)).to_rfc3339()})
        }
        "submit_explanation" => json!({"explanation": "情况说明"}),
        "accept_explanation" => json!({"conclusion": "予以采信"}),
        "open_investigation" => json!({"investigator_id": "u-chen"}),
        "conclude" => json!({"finding": "unfounded", "report": "查无实据"}),
        "clarify" => {
            json!({"methods": ["talk", "meeting_notice"], "scope": "本单位", "date": "2026-11-20"})
        }
        "refer_false_accusation" => {
            json!({"category": "false_accusation", "evidence": "证据", "accuser": "reporter"})
        }
        "record_referral_outcome" => {
            json!({"handling": "discipline", "blacklisted": true, "notes": "列入失信黑名单"})
        }
        "close" => json!({"reason": "办结"}),
        _ => json!({}),
    };
    b["event"] = json!(event);
    b
}

fn run(state: &str, event: &str, records: Records) -> (Result<&'static str, Refusal>, Ctx) {
    let ev =
        Event::parse(event, &body_for(event), now()).unwrap_or_else(|e| panic!("{event}: {e:?}"));
    let mut ctx = Ctx::new("u-actor", now(), records);
    // The workflow seals the accuser a referral names.
    ctx.accuser = (event == "refer_false_accusation").then(accuser);
    let r = machine::step(state, &ev, &mut ctx);
    (r, ctx)
}

#[test]
fn every_state_event_pair_matches_the_table() {
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
                    panic!("{state} --{event}: allowed by the table, refused: {e:?}")
                }
                (None, Err(Refusal::NotAllowed { .. })) => {}
                (None, other) => {
                    panic!("{state} --{event}: not in the table, machine answered {other:?}")
                }
            }
        }
    }
    assert_eq!((DEF.states.len(), DEF.events().len()), (11, 14));
}

#[test]
fn conclusions_lead_to_their_states_and_partial_counts_as_substantiated() {
    for (finding, to) in [
        ("substantiated", "substantiated"),
        ("partially_substantiated", "substantiated"),
        ("unfounded", "unfounded"),
    ] {
        let ev = Event::parse(
            "conclude",
            &json!({"finding": finding, "report": "报告"}),
            now(),
        )
        .unwrap();
        let mut ctx = Ctx::new("u-chen", now(), base());
        assert_eq!(machine::step("investigating", &ev, &mut ctx), Ok(to));
    }
}

#[test]
fn open_exoneration_asks_for_a_linked_case_once() {
    let (r, ctx) = run("substantiated", "open_exoneration", base());
    assert_eq!(r, Ok("substantiated"));
    assert!(ctx.spawn_exoneration);
    let mut linked = base();
    linked.linked_case_id = Some("x".into());
    let (r, _) = run("substantiated", "open_exoneration", linked);
    assert!(matches!(r, Err(Refusal::Conflict(_))));
}

#[test]
fn a_dismissal_is_proposed_then_confirmed_or_sent_back_to_triage() {
    let (r, ctx) = run("received", "propose_dismissal", base());
    assert_eq!(r, Ok("dismissal_proposed"));
    let proposed = ctx.records.dismissal.clone().unwrap();
    assert_eq!(
        (proposed.by.as_str(), proposed.confirmed_by),
        ("u-actor", None)
    );

    let (r, ctx) = run(
        "dismissal_proposed",
        "confirm_dismissal",
        ctx.records.clone(),
    );
    assert_eq!(r, Ok("dismissed"));
    let confirmed = ctx.records.dismissal.unwrap();
    assert_eq!(confirmed.confirmed_by.as_deref(), Some("u-actor"));
    assert_eq!(confirmed.confirmed_at, Some(now()));

    let (r, ctx) = run(
        "dismissal_proposed",
        "reject_dismissal",
        records_for("reject_dismissal"),
    );
    assert_eq!(r, Ok("received"));
    assert_eq!(ctx.records.dismissal, None, "triage starts again");
    let rejected = &ctx.records.rejected_dismissals;
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].by, "u-li");
    assert_eq!(
        rejected[0].rejection.as_ref().unwrap().reason,
        "有具体线索，应予函询"
    );
    // While proposed, nothing else happens to the report.
    for event in [
        "send_inquiry",
        "open_investigation",
        "propose_dismissal",
        "close",
    ] {
        let (r, _) = run("dismissal_proposed", event, records_for("reject_dismissal"));
        assert!(
            matches!(r, Err(Refusal::NotAllowed { .. })),
            "{event}: {r:?}"
        );
    }
}

#[test]
fn a_false_accuser_is_referred_once_and_the_outcome_recorded_once() {
    // From a report dismissed as labelling, not from one dismissed for unclear leads.
    let mut dismissed = base();
    dismissed.dismissal = Some(Dismissal {
        reason_code: DismissReason::Labeling,
        ..proposal()
    });
    let (r, ctx) = run("dismissed", "refer_false_accusation", dismissed.clone());
    assert_eq!(r, Ok("dismissed"));
    let referred = ctx.records;
    assert_eq!(referred.referrals[0].accuser, Some(accuser()));
    let (r, _) = run("dismissed", "refer_false_accusation", referred.clone());
    assert!(
        matches!(r, Err(Refusal::Conflict(ref m)) if m.contains("one referral")),
        "{r:?}"
    );
    dismissed.dismissal.as_mut().unwrap().reason_code = DismissReason::UnclearLeads;
    let (r, _) = run("dismissed", "refer_false_accusation", dismissed);
    assert!(
        matches!(r, Err(Refusal::Conflict(ref m)) if m.contains("unclear")),
        "{r:?}"
    );
    // The outcome, once, closed or not; a blacklisting only for a false accusation.
    let (r, ctx) = run("closed", "record_referral_outcome", referred.clone());
    assert_eq!(r, Ok("closed"));
    let outcome = ctx.records.referrals[0].outcome.clone().unwrap();
    assert_eq!(
        (outcome.handling, outcome.blacklisted),
        (Handling::Discipline, true)
    );
    let (r, _) = run("closed", "record_referral_outcome", ctx.records);
    assert!(matches!(r, Err(Refusal::Conflict(_))), "{r:?}");
    let mut rumour = base();
    rumour.referrals.push(referral(ReferralCategory::Rumour));
    match run("clarified", "record_referral_outcome", rumour).0 {
        Err(Refusal::Invalid(e)) => assert_eq!(e[0].field, "blacklisted"),
        other => panic!("{other:?}"),
    }
    let (r, _) = run("closed", "record_referral_outcome", base());
    assert!(
        matches!(r, Err(Refusal::Conflict(_))),
        "nobody referred: {r:?}"
    );
}

#[test]
fn inquiry_overdue_only_after_the_due_date_and_once() {
    let (r, ctx) = run("inquiry", "inquiry_overdue", records_for("inquiry_overdue"));
    assert_eq!(r, Ok("inquiry"));
    assert!(ctx.overdue);
    let (r, _) = run("inquiry", "inquiry_overdue", ctx.records.clone());
    assert!(matches!(r, Err(Refusal::Conflict(_))));
    let mut early = records_for("inquiry_overdue");
    early.inquiry.as_mut().unwrap().due_at = now() + Duration::days(1);
    let (r, _) = run("inquiry", "inquiry_overdue", early);
    assert!(matches!(r, Err(Refusal::Conflict(_))));
}

#[test]
fn payload_errors_name_the_field() {
    let cases = [
        (
            "propose_dismissal",
            json!({"reason_code": "dislike", "explanation": "x"}),
            "reason_code",
        ),
        (
            "propose_dismissal",
            json!({"reason_code": "labeling"}),
            "explanation",
        ),
        ("reject_dismissal", json!({}), "reason"),
        ("confirm_dismissal", json!({"reason": "x"}), "reason"),
        (
            "dismiss",
            json!({"reason_code": "labeling", "explanation": "x"}),
            "event",
        ),
        (
            "send_inquiry",
            json!({"questions": "q", "due_at": (now() - Duration::days(1)).to_rfc3339()}),
            "due_at",
        ),
        (
            "conclude",
            json!({"finding": "maybe", "report": "r"}),
            "finding",
        ),
        (
            "clarify",
            json!({"methods": [], "scope": "s", "date": "2026-11-20"}),
            "methods",
        ),
        (
            "clarify",
            json!({"methods": ["shout"], "scope": "s", "date": "2026-11-20"}),
            "methods[0]",
        ),
        (
            "refer_false_accusation",
            json!({"category": "gossip", "evidence": "e", "accuser": "reporter"}),
            "category",
        ),
        (
            "refer_false_accusation",
            json!({"category": "rumour", "evidence": "e", "accuser": "someone"}),
            "accuser",
        ),
        (
            "refer_false_accusation",
            json!({"category": "rumour", "evidence": "e", "accuser": {"name": "某人"}}),
            "accuser",
        ),
        (
            "refer_false_accusation",
            json!({"category": "rumour", "evidence": "e"}),
            "accuser",
        ),
        (
            "record_referral_outcome",
            json!({"handling": "exile", "blacklisted": false}),
            "handling",
        ),
        ("open_exoneration", json!({"surprise": 1}), "surprise"),
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
