//! Deadlines kept by timers: fired by the scheduler through the transition path as the
//! system, cancelled when met, dropped (and recorded) when no longer allowed, and fired
//! once, in due order, when they fell due while the service was down.

use chrono::Duration;
use diesel::prelude::*;
use rongcuo::db::DbError;
use rongcuo::db::models::{OutboxRow, TimerRow};
use rongcuo::db::repo;
use rongcuo::db::schema::outbox;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::smtp::eventually;

crate::on_both_backends!(
    deadlines_fire_through_the_transition_path_as_the_system,
    a_met_deadline_cancels_its_timer_and_a_stale_one_is_dropped,
    the_end_of_an_influence_period_is_announced_to_subject_and_unit,
    timers_missed_while_down_fire_once_at_start_in_due_order,
    two_replicas_fire_each_timer_and_send_each_mail_once,
    a_timer_left_firing_by_a_dead_process_is_taken_up_after_its_lease,
    a_fast_rectification_keeps_the_appeal_window_across_a_restart,
    a_follow_up_talk_not_held_in_time_is_flagged_and_its_holders_reminded,
);

const TIMERS_ON: &[(&str, &str)] = &[
    ("RONGCUO_TIMERS_ENABLED", "true"),
    ("RONGCUO_TIMER_INTERVAL_MS", "50"),
];

async fn timers(app: &TestApp, case_id: &str) -> Vec<TimerRow> {
    let id = case_id.to_string();
    app.db()
        .read(move |c| Ok::<_, DbError>(repo::timers::list_for_case(c, &id)?))
        .await
        .unwrap()
}

fn summary(ts: &[TimerRow]) -> Vec<(String, String, String)> {
    ts.iter()
        .map(|t| (t.kind.clone(), t.name.clone(), t.state.clone()))
        .collect()
}

async fn deadline_mail(app: &TestApp, case_id: &str) -> Vec<OutboxRow> {
    let id = case_id.to_string();
    app.db()
        .read(move |c| {
            Ok::<_, DbError>(
                outbox::table
                    .filter(outbox::case_id.eq(&id))
                    .filter(outbox::seq.eq(0))
                    .load::<OutboxRow>(c)?,
            )
        })
        .await
        .unwrap()
}

async fn decided(app: &TestApp, outcome: &str, extra: Value) -> String {
    let id = case_in_deliberation(app, &[]).await;
    let mut body = json!({"event": "decide", "outcome": outcome, "explanation": "经研究认定"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.act(&id, &SUN, body).await;
    id
}

fn rect(days: i64) -> Value {
    json!({"rectification": {"requirements": "整改", "due_at": due_in_days(days)}})
}

async fn inquiry(app: &TestApp, days: i64) -> String {
    let report = json!({
        "subject": {"id": ZHANG.id, "name": ZHANG.name, "email": ZHANG.email(), "org": ZHANG.org, "position": "科长"},
        "allegation": {"summary": "反映问题", "details": "详情", "channel": "phone"}
    });
    let id = app.file_in(CLA, &LI, &report).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act_in(
        CLA,
        &id,
        &CHEN,
        json!({"event": "send_inquiry", "questions": "请说明", "due_at": due_in_days(days)}),
    )
    .await;
    id
}

async fn deadlines_fire_through_the_transition_path_as_the_system(backend: Backend) {
    let app = spawn_app_with(backend, TIMERS_ON).await.unwrap();
    app.introduce(&[&CHEN, &SUN, &WANG]).await;
    let a = app.file(&ZHANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(
        &a,
        &LI,
        json!({"event": "request_supplement", "items": "会议纪要", "due_at": due_in_days(2)}),
    )
    .await;
    let b = decided(&app, "exonerate", rect(10)).await;
    let c = decided(&app, "deny", json!({})).await;
    let d = inquiry(&app, 5).await;
    let ev = |n: &str| ("event".to_string(), n.to_string(), "pending".to_string());
    let rem = |n: &str| ("reminder".to_string(), n.to_string(), "pending".to_string());
    assert_eq!(
        summary(&timers(&app, &a).await),
        [ev("supplement_overdue")],
        "due in 2 days: too close for a 3-day reminder"
    );
    assert_eq!(
        summary(&timers(&app, &b).await),
        [rem("rectification_overdue"), ev("rectification_overdue")]
    );
    assert_eq!(
        summary(&timers(&app, &c).await),
        [rem("appeal_window_expired"), ev("appeal_window_expired")]
    );
    assert_eq!(
        summary(&timers(&app, &d).await),
        [rem("inquiry_overdue"), ev("inquiry_overdue")]
    );

    app.clock().advance(Duration::days(45));
    eventually(30, "every timer fired", async || {
        let mut all = Vec::new();
        for id in [&a, &b, &c, &d] {
            all.extend(timers(&app, id).await);
        }
        all.iter().all(|t| t.state == "fired")
    })
    .await;
    let case_a = app.case(&a, &LI).await;
    assert_eq!(
        (case_a["state"].as_str(), case_a["overdue"].as_bool()),
        (Some("needs_supplement"), Some(true))
    );
    assert_eq!(app.case(&b, &LI).await["rectification"]["state"], "overdue");
    assert_eq!(app.case(&c, &LI).await["state"], "closed");
    assert_eq!(app.case_in(CLA, &d, &LI).await["overdue"], true);
    for (id, coll, event) in [
        (&a, EXO, "supplement_overdue"),
        (&b, EXO, "rectification_overdue"),
        (&c, EXO, "appeal_window_expired"),
        (&d, CLA, "inquiry_overdue"),
    ] {
        let items = app.timeline_in(coll, id, &LI).await;
        let last = items.last().unwrap();
        assert_eq!(
            (last["event"].as_str(), &last["actor"]),
            (Some(event), &json!({"id": "system", "role": "system"}))
        );
        assert_eq!(
            items.iter().filter(|i| i["event"] == event).count(),
            1,
            "{event} fired once"
        );
    }
    // Reminders went to whoever had to act, before the deadline.
    let to = |rows: Vec<OutboxRow>| {
        let mut v: Vec<(String, String)> =
            rows.into_iter().map(|r| (r.template, r.relation)).collect();
        v.sort();
        v
    };
    assert_eq!(
        to(deadline_mail(&app, &b).await),
        [
            ("reminder".into(), "investigator".into()),
            ("reminder".into(), "subject".into())
        ]
    );
    assert_eq!(
        to(deadline_mail(&app, &d).await),
        [
            ("reminder".into(), "subject".into()),
            ("reminder".into(), "unit_contact".into())
        ]
    );
    let reminder = deadline_mail(&app, &b)
        .await
        .into_iter()
        .find(|r| r.relation == "subject")
        .unwrap();
    assert!(
        reminder.subject.contains("期限提醒：整改期限"),
        "{}",
        reminder.subject
    );
    assert!(
        reminder.body_text.contains("请您办理：提交整改报告"),
        "{}",
        reminder.body_text
    );
}

async fn a_met_deadline_cancels_its_timer_and_a_stale_one_is_dropped(backend: Backend) {
    let app = spawn_app_with(backend, TIMERS_ON).await.unwrap();
    let b = decided(&app, "exonerate", rect(10)).await;
    app.act(
        &b,
        &ZHANG,
        json!({"event": "submit_rectification", "report": "按期整改"}),
    )
    .await;
    let states: Vec<String> = timers(&app, &b)
        .await
        .into_iter()
        .map(|t| t.state)
        .collect();
    assert_eq!(
        states,
        ["cancelled", "cancelled"],
        "met in time: reminder and overdue timer cancelled"
    );

    // A timer whose event the case no longer allows (written behind the engine's back):
    // dropped with the reason, the case untouched.
    let filed = app.file(&ZHANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let now = app.clock().now().naive_utc();
    let stale = TimerRow {
        id: uuid::Uuid::now_v7().to_string(),
        case_id: filed.clone(),
        kind: "event".into(),
        name: "rectification_overdue".into(),
        due_at: now - Duration::seconds(1),
        state: "pending".into(),
        lease_until: None,
        outcome: None,
        created_at: now,
        fired_at: None,
    };
    app.db()
        .write(move |c| Ok::<_, DbError>(repo::timers::insert(c, &stale)?))
        .await
        .unwrap();
    eventually(20, "the stale timer dropped", async || {
        timers(&app, &filed)
            .await
            .iter()
            .any(|t| t.state == "dropped")
    })
    .await;
    let t = timers(&app, &filed)
        .await
        .into_iter()
        .find(|t| t.state == "dropped")
        .unwrap();
    assert!(
        t.outcome
            .as_deref()
            .unwrap_or_default()
            .contains("invalid_transition"),
        "{:?}",
        t.outcome
    );
    let case = app.case(&filed, &LI).await;
    assert_eq!(
        (case["state"].as_str(), case["version"].as_i64()),
        (Some("filed"), Some(1))
    );
}

async fn the_end_of_an_influence_period_is_announced_to_subject_and_unit(backend: Backend) {
    let app = spawn_app_with(backend, TIMERS_ON).await.unwrap();
    app.introduce(&[&WANG]).await;
    let mut extra = rect(5);
    extra["influence_period_months"] = json!(1);
    extra["degree"] = json!("lighter");
    extra["sanction"] = json!("criticism");
    let id = decided(&app, "mitigate", extra).await;
    assert!(summary(&timers(&app, &id).await).contains(&(
        "notice".into(),
        "influence_end".into(),
        "pending".into()
    )));
    app.clock().advance(Duration::days(40));
    eventually(30, "the notice sent", async || {
        deadline_mail(&app, &id)
            .await
            .iter()
            .any(|r| r.template == "influence_end")
    })
    .await;
    let notices: Vec<OutboxRow> = deadline_mail(&app, &id)
        .await
        .into_iter()
        .filter(|r| r.template == "influence_end")
        .collect();
    let mut who: Vec<&str> = notices.iter().map(|r| r.relation.as_str()).collect();
    who.sort();
    assert_eq!(who, ["subject", "unit_contact"]);
    // Normal use again only after an assessment (seed 001 #15), not unconditionally.
    assert!(
        notices[0]
            .body_text
            .contains("经综合分析研判其思想、工作和表现")
            && notices[0].body_text.contains("按程序予以正常使用")
            && !notices[0].body_text.contains("该同志可正常使用"),
        "{}",
        notices[0].body_text
    );
}

async fn timers_missed_while_down_fire_once_at_start_in_due_order(backend: Backend) {
    let first = spawn_app_with(backend, TIMERS_ON).await.unwrap();
    first.introduce(&[&CHEN, &SUN]).await;
    let a = first.file(&ZHANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    first
        .act(
            &a,
            &LI,
            json!({"event": "request_supplement", "items": "纪要", "due_at": due_in_days(3)}),
        )
        .await;
    let d = inquiry(&first, 1).await;
    let b = decided(&first, "exonerate", rect(2)).await;
    // Down: nothing fires while nobody runs.
    let second = first.stop_and_restart(Duration::days(10), TIMERS_ON).await;
    let events = |id: &str, coll: &'static str| {
        let (app, id) = (&second, id.to_string());
        async move {
            app.timeline_in(coll, &id, &LI)
                .await
                .iter()
                .filter(|i| i["actor"]["id"] == "system")
                .count()
        }
    };
    eventually(
        30,
        "the missed timers fired after the restart",
        async || {
            events(&a, EXO).await == 1 && events(&b, EXO).await == 1 && events(&d, CLA).await == 1
        },
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut fired: Vec<TimerRow> = Vec::new();
    for id in [&a, &b, &d] {
        assert_eq!(
            events(id, if id == &d { CLA } else { EXO }).await,
            1,
            "fired exactly once"
        );
        fired.extend(
            timers(&second, id)
                .await
                .into_iter()
                .filter(|t| t.kind == "event"),
        );
    }
    assert!(
        fired.iter().all(|t| t.state == "fired"),
        "{:?}",
        summary(&fired)
    );
    fired.sort_by_key(|t| t.due_at);
    let order: Vec<&str> = fired.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        order,
        [
            "inquiry_overdue",
            "rectification_overdue",
            "supplement_overdue"
        ]
    );
    let at: Vec<_> = fired.iter().map(|t| t.fired_at.unwrap()).collect();
    assert!(
        at.windows(2).all(|w| w[0] <= w[1]),
        "fired in due order: {at:?}"
    );
}

/// Complying fast does not cost the appeal: a rectification verified inside the window
/// leaves the case decided until the window ends (then the scheduler closes it, after a
/// restart too); one verified after an appeal was decided closes at once; a waiver closes
/// what has nothing pending.
async fn a_fast_rectification_keeps_the_appeal_window_across_a_restart(backend: Backend) {
    let first = spawn_app_with(backend, TIMERS_ON).await.unwrap();
    let verify = json!({"event": "verify_rectification", "accepted": true, "comment": "整改到位"});
    let report = json!({"event": "submit_rectification", "report": "已整改"});
    let event_timers = |ts: Vec<TimerRow>| -> Vec<(String, String)> {
        ts.into_iter()
            .filter(|t| t.kind == "event")
            .map(|t| (t.name, t.state))
            .collect()
    };
    // Verified inside the window: still exonerated, the window's timer planned.
    let fast = decided(&first, "exonerate", rect(10)).await;
    first.act(&fast, &ZHANG, report.clone()).await;
    let c = first.act(&fast, &CHEN, verify.clone()).await;
    assert_eq!(
        (c["state"].as_str(), c["rectification"]["state"].as_str()),
        (Some("exonerated"), Some("verified"))
    );
    assert_eq!(
        event_timers(timers(&first, &fast).await),
        [
            ("rectification_overdue".to_string(), "cancelled".to_string()),
            ("appeal_window_expired".to_string(), "pending".to_string()),
        ]
    );
    // Appealed and upheld before the verification: closed by the verification.
    let upheld = decided(&first, "mitigate", {
        let mut m = rect(10);
        m["degree"] = json!("lighter");
        m["sanction"] = json!("admonishment");
        m
    })
    .await;
    first
        .act(
            &upheld,
            &ZHANG,
            json!({"event": "appeal", "grounds": "从轻幅度不当"}),
        )
        .await;
    let c = first
        .act(
            &upheld,
            &ZHOU,
            json!({"event": "decide_appeal", "result": "uphold", "explanation": "维持原决定"}),
        )
        .await;
    assert_eq!(
        (c["state"].as_str(), c["rectification"]["state"].as_str()),
        (Some("mitigated"), Some("ordered"))
    );
    first.act(&upheld, &ZHANG, report.clone()).await;
    let c = first.act(&upheld, &CHEN, verify.clone()).await;
    assert_eq!(c["state"], "closed", "no appeal can be lodged any more");
    // Verified, then the appeal waived: closed at once, its timer cancelled.
    let waived = decided(&first, "exonerate", rect(10)).await;
    first.act(&waived, &ZHANG, report).await;
    first.act(&waived, &CHEN, verify).await;
    let c = first
        .act(&waived, &ZHANG, json!({"event": "waive_appeal"}))
        .await;
    assert_eq!(c["state"], "closed");
    assert!(
        event_timers(timers(&first, &waived).await)
            .iter()
            .all(|(_, state)| state == "cancelled"),
        "nothing left to fire"
    );

    // Down past the window; at start the scheduler closes the case that waited for it.
    let second = first.stop_and_restart(Duration::days(45), TIMERS_ON).await;
    eventually(30, "the appeal window closed the case", async || {
        second.case(&fast, &LI).await["state"] == "closed"
    })
    .await;
    let items = second.timeline(&fast, &ZHANG).await;
    let last = items.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), &last["actor"]),
        (
            Some("appeal_window_expired"),
            &json!({"id": "system", "role": "system"})
        )
    );
    assert_eq!(
        second.case(&fast, &LI).await["rectification"]["state"],
        "verified"
    );
    for id in [&upheld, &waived] {
        let events: Vec<String> = second
            .timeline(id, &LI)
            .await
            .iter()
            .map(|i| i["event"].as_str().unwrap().to_string())
            .collect();
        assert!(
            !events.contains(&"appeal_window_expired".to_string()),
            "{events:?}"
        );
    }
    let db = second.db().clone();
    let report = tokio::task::spawn_blocking(move || rongcuo::audit::verify_all(&db))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.cases, report.breaks.len()), (3, 0));
}

/// 受到组织处理必谈: a sanctioning mitigation owes the cadre a talk within `talk_days`; the
/// jurisdiction's investigators and the unit are reminded, and a talk not held in time is
/// flagged (the case shows overdue) whatever state the case is in.
async fn a_follow_up_talk_not_held_in_time_is_flagged_and_its_holders_reminded(backend: Backend) {
    let app = spawn_app_with(backend, TIMERS_ON).await.unwrap();
    app.introduce(&[&WANG, &ZHAO]).await;
    let mut extra = rect(60);
    extra["degree"] = json!("lighter");
    extra["sanction"] = json!("warning");
    let id = decided(&app, "mitigate", extra).await;
    let names: Vec<(String, String)> = timers(&app, &id)
        .await
        .into_iter()
        .filter(|t| t.name == "talk_overdue")
        .map(|t| (t.kind, t.state))
        .collect();
    assert_eq!(
        names,
        [
            ("reminder".to_string(), "pending".to_string()),
            ("event".to_string(), "pending".to_string())
        ]
    );
    app.clock().advance(Duration::days(31));
    eventually(30, "the talk flagged overdue", async || {
        app.case(&id, &LI).await["talk"]["state"] == "overdue"
    })
    .await;
    let c = app.case(&id, &LI).await;
    assert_eq!(
        (c["state"].as_str(), c["overdue"].as_bool()),
        (Some("mitigated"), Some(true))
    );
    let mut reminded: Vec<String> = deadline_mail(&app, &id)
        .await
        .into_iter()
        .filter(|r| r.subject.contains("谈话期限"))
        .map(|r| r.relation)
        .collect();
    reminded.sort();
    assert_eq!(
        reminded,
        ["investigator", "investigator", "unit_contact"],
        "CHEN, ZHAO and the unit"
    );
    let overdue_mail: Vec<String> = app
        .outbox(&id)
        .await
        .into_iter()
        .filter(|(seq, _, _)| *seq == c["version"].as_i64().unwrap())
        .map(|(_, relation, _)| relation)
        .collect();
    assert!(
        overdue_mail.contains(&"unit_contact".to_string()),
        "{overdue_mail:?}"
    );
    // Held late, it is still recorded, and the flag goes.
    let held_on = app.clock().now().date_naive().to_string();
    let c = app
        .act(&id, &WANG, json!({"event": "record_talk", "held_on": held_on, "participants": ["王五"], "summary": "谈话"}))
        .await;
    assert_eq!(
        (c["talk"]["state"].as_str(), c["overdue"].as_bool()),
        (Some("held"), Some(false))
    );
}

async fn two_replicas_fire_each_timer_and_send_each_mail_once(backend: Backend) {
    let sink = crate::smtp::SmtpSink::start(0, &[]);
    let url = sink.url();
    let mut env: Vec<(&str, &str)> = TIMERS_ON.to_vec();
    env.extend([
        ("RONGCUO_TIMER_INTERVAL_MS", "20"),
        ("RONGCUO_SMTP_URL", url.as_str()),
        ("RONGCUO_MAIL_POLL_MS", "20"),
    ]);
    let one = spawn_app_with(backend, &env).await.unwrap();
    let two = one.another(Duration::zero(), &env).await;
    one.introduce(&[&SUN]).await;
    let mut ids = Vec::new();
    for days in 1..=6 {
        let id = one.file(&ZHANG, &filing()).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let body =
            json!({"event": "request_supplement", "items": "纪要", "due_at": due_in_days(days)});
        one.act(&id, &LI, body).await;
        ids.push(id);
    }
    // Let the filings' mail go out first: moving both clocks ten days with mail in flight
    // would expire its leases (a resend with the same Message-ID, which the contract allows).
    eventually(30, "the filings' mail sent", async || {
        let mail: Vec<OutboxRow> = one
            .db()
            .read(|c| Ok::<_, DbError>(outbox::table.load::<OutboxRow>(c)?))
            .await
            .unwrap();
        !mail.is_empty() && mail.iter().all(|m| m.state == "sent")
    })
    .await;
    // Both replicas reach the deadlines at once and race for the same timers and mail.
    one.clock().advance(Duration::days(10));
    two.clock().advance(Duration::days(10));
    eventually(30, "every timer fired and every mail sent", async || {
        let mut done = true;
        for id in &ids {
            done &= timers(&one, id)
                .await
                .iter()
                .all(|t| t.state != "pending" && t.state != "firing");
        }
        let mail: Vec<OutboxRow> = one
            .db()
            .read(|c| Ok::<_, DbError>(outbox::table.load::<OutboxRow>(c)?))
            .await
            .unwrap();
        done && mail.iter().all(|m| m.state == "sent")
    })
    .await;
    for id in &ids {
        let fired = timers(&one, id)
            .await
            .into_iter()
            .filter(|t| t.kind == "event" && t.state == "fired")
            .count();
        assert_eq!(fired, 1, "one firing per timer");
        let items = one.timeline(id, &LI).await;
        assert_eq!(
            items
                .iter()
                .filter(|i| i["event"] == "supplement_overdue")
                .count(),
            1
        );
    }
    let mail: Vec<OutboxRow> = one
        .db()
        .read(|c| Ok::<_, DbError>(outbox::table.load::<OutboxRow>(c)?))
        .await
        .unwrap();
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for m in sink.received() {
        *counts.entry(m.message_id()).or_default() += 1;
    }
    assert_eq!(counts.len(), mail.len());
    assert!(
        counts.values().all(|n| *n == 1),
        "each mail once: {counts:?}"
    );
}

async fn a_timer_left_firing_by_a_dead_process_is_taken_up_after_its_lease(backend: Backend) {
    let app = spawn_app_with(backend, TIMERS_ON).await.unwrap();
    let filed = app.file(&ZHANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let now = app.clock().now().naive_utc();
    let orphan = TimerRow {
        id: uuid::Uuid::now_v7().to_string(),
        case_id: filed.clone(),
        kind: "event".into(),
        name: "supplement_overdue".into(),
        due_at: now - Duration::hours(1),
        state: "firing".into(),
        lease_until: Some(now - Duration::seconds(1)),
        outcome: None,
        created_at: now - Duration::hours(1),
        fired_at: None,
    };
    let id = orphan.id.clone();
    app.db()
        .write(move |c| Ok::<_, DbError>(repo::timers::insert(c, &orphan)?))
        .await
        .unwrap();
    eventually(20, "the orphaned timer finished", async || {
        timers(&app, &filed)
            .await
            .iter()
            .any(|t| t.id == id && t.fired_at.is_some())
    })
    .await;
    let t = timers(&app, &filed)
        .await
        .into_iter()
        .find(|t| t.id == id)
        .unwrap();
    assert_eq!(
        t.state, "dropped",
        "taken up again, and refused by the case (it is `filed`)"
    );
}

fn insert_case(id: &str) -> String {
    insert_case_sql(id, "filed", 1)
}

/// A transition plans timers against the case's timers read with it in one query: every
/// timer not cancelled, none of another case's, and a case without timers or no case at all.
/// The same query brings the directory's rows of the people the case names, once each
/// however many timers the case has, and says which of them the directory lacks.
fn a_case_is_read_with_exactly_its_live_timers(url: &str) {
    use diesel::connection::SimpleConnection;
    let db = rongcuo::db::Db::connect(&rongcuo::db::DbUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    rongcuo::db::migrations::run_pending(&mut conn).unwrap();
    let mut sql = String::new();
    for case in ["c1", "c2", "c3"] {
        sql.push_str(&insert_case(case));
    }
    for (id, case, state) in [
        ("t1", "c1", "pending"),
        ("t2", "c1", "fired"),
        ("t3", "c1", "cancelled"),
        ("t4", "c1", "firing"),
        ("t5", "c2", "pending"),
    ] {
        sql.push_str(&format!(
            "INSERT INTO timers (id, case_id, kind, name, due_at, state, created_at)
             VALUES ('{id}', '{case}', 'event', 'x', '2026-02-01 00:00:00', '{state}',
                '2026-01-01 00:00:00');"
        ));
    }
    // The subject `s` is in the directory; c2's applicant and investigator are set apart:
    // `a2` is not in the directory, `i2` is.
    sql.push_str(
        "INSERT INTO people (id, name, email, roles, org, source, updated_at) VALUES
            ('s', '目录中的名字', 'dir-s@x.cn', ',cadre,', 'p1', 'admin', '2026-01-01 00:00:00'),
            ('i2', '调查员', 'dir-i2@x.cn', ',investigator,', 'p1', 'admin',
             '2026-01-01 00:00:00');
         UPDATE cases SET applicant_id = 'a2', investigator_id = 'i2' WHERE id = 'c2';",
    );
    conn.batch_execute(&sql).unwrap();
    type Seen = (String, Vec<String>, Vec<(String, Option<String>)>);
    let mut live = |id: &str| -> Option<Seen> {
        repo::cases::find_with_live_timers(&mut conn, id)
            .unwrap()
            .map(|found| {
                let mut ids: Vec<String> = found.timers.into_iter().map(|t| t.id).collect();
                ids.sort();
                let people = found
                    .people
                    .into_iter()
                    .map(|(id, p)| (id, p.map(|p| p.email)))
                    .collect();
                (found.case.id, ids, people)
            })
    };
    let s = || ("s".to_string(), Some("dir-s@x.cn".to_string()));
    assert_eq!(
        live("c1"),
        Some((
            "c1".into(),
            vec!["t1".into(), "t2".into(), "t4".into()],
            vec![s(), s()]
        ))
    );
    assert_eq!(
        live("c2"),
        Some((
            "c2".into(),
            vec!["t5".into()],
            vec![
                s(),
                ("a2".into(), None),
                ("i2".into(), Some("dir-i2@x.cn".into()))
            ]
        ))
    );
    assert_eq!(live("c3"), Some(("c3".into(), vec![], vec![s(), s()])));
    assert_eq!(live("c4"), None);
}

#[test]
fn a_case_is_read_with_exactly_its_live_timers_on_both_backends() {
    with_each_database_url(a_case_is_read_with_exactly_its_live_timers);
}

/// The scheduler claims exactly the live timers that are due (pending past their time,
/// firing past their lease), oldest due first, and finds them through the partial index of
/// live timers: however many timers history holds, it reads only open deadlines.
fn due_timers_are_claimed_through_the_live_index(url: &str) {
    use diesel::connection::{Connection, InstrumentationEvent, SimpleConnection};
    use std::sync::{Arc, Mutex};
    let db = rongcuo::db::Db::connect(&rongcuo::db::DbUrl::parse(url).unwrap(), 2).unwrap();
    let mut conn = db.writer_connection().unwrap();
    rongcuo::db::migrations::run_pending(&mut conn).unwrap();
    let mut sql = insert_case("c1");
    // Now is 2026-03-01; the lease of a timer claimed now runs to 2026-03-01 00:05.
    for (id, due, state, lease) in [
        ("pending-due-late", "2026-02-20", "pending", None),
        ("pending-due-early", "2026-02-01", "pending", None),
        ("pending-not-due", "2026-04-01", "pending", None),
        (
            "firing-lease-over",
            "2026-02-10",
            "firing",
            Some("2026-02-28"),
        ),
        ("firing-leased", "2026-02-05", "firing", Some("2026-03-02")),
        ("fired", "2026-01-15", "fired", None),
        ("dropped", "2026-01-16", "dropped", None),
        ("cancelled", "2026-01-17", "cancelled", None),
    ] {
        let lease = lease.map_or("NULL".to_string(), |l| format!("'{l} 00:00:00'"));
        sql.push_str(&format!(
            "INSERT INTO timers (id, case_id, kind, name, due_at, state, lease_until, created_at)
             VALUES ('{id}', 'c1', 'event', 'x', '{due} 00:00:00', '{state}', {lease},
                '2026-01-01 00:00:00');"
        ));
    }
    conn.batch_execute(&sql).unwrap();
    let captured = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = captured.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            sink.lock().unwrap().push(query.to_string());
        }
    });
    let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    let (now, lease_until) = (at("2026-03-01 00:00"), at("2026-03-01 00:05"));
    let claimed = repo::timers::claim_due(&mut conn, now, lease_until, 10).unwrap();
    let ids: Vec<&str> = claimed.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        ["pending-due-early", "firing-lease-over", "pending-due-late"]
    );
    assert!(
        claimed
            .iter()
            .all(|t| t.state == "firing" && t.lease_until == Some(lease_until))
    );
    // The claimed timers are leased now: a second pass finds none of them.
    assert!(
        repo::timers::claim_due(&mut conn, now, lease_until, 10)
            .unwrap()
            .is_empty()
    );

    let select = captured
        .lock()
        .unwrap()
        .iter()
        .find(|q| q.starts_with("SELECT"))
        .cloned()
        .expect("the claim's SELECT was captured");
    let (text, _) = select
        .split_once(" -- binds: ")
        .expect("diesel's debug form");
    #[derive(QueryableByName)]
    struct Sqlite {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    #[derive(QueryableByName)]
    struct Pg {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let plan: Vec<String> = match &mut **conn {
        rongcuo::db::DbConnection::Sqlite(c) => {
            diesel::sql_query(format!("EXPLAIN QUERY PLAN {text}"))
                .load::<Sqlite>(c)
                .unwrap()
                .into_iter()
                .map(|l| l.detail)
                .collect()
        }
        rongcuo::db::DbConnection::Pg(c) => {
            // A table this small is read whole whatever its indexes: forbid that, so the
            // plan shows which index the query can use. A generic plan, as a statement
            // prepared by a pool is planned after five runs.
            c.batch_execute("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan;")
                .unwrap();
            c.batch_execute(&format!("PREPARE claim AS {text}"))
                .unwrap();
            diesel::sql_query(
                "EXPLAIN EXECUTE claim('2026-03-01 00:00:00', '2026-03-01 00:00:00', 10)",
            )
            .load::<Pg>(c)
            .unwrap()
            .into_iter()
            .map(|l| l.line)
            .collect()
        }
    };
    let plan = plan.join("\n");
    assert!(
        plan.contains("timers_live") && !plan.contains("timers_case"),
        "the claim searches the live timers' index\n{text}\n{plan}"
    );
}

#[test]
fn due_timers_are_claimed_through_the_live_index_on_both_backends() {
    with_each_database_url(due_timers_are_claimed_through_the_live_index);
}
