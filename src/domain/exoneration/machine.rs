//! Workflow A as a statig machine. Pure: handlers read the event and change the records in
//! the context; nothing here sends mail or touches the database. A restored machine
//! re-runs no side effects because there are none. Long because statig wants the whole
//! machine in one `#[state_machine]` impl: every state with its handlers, and the decision
//! rules (red lines, cited circumstances, overrides) those handlers check.

use chrono::{DateTime, Duration, Months, Utc};
use statig::prelude::*;

use super::events::{Decide, Event};
use super::records::{
    Accountability, Appeal, AppealResult, Circumstance, ConditionFinding, Decision,
    DecisionOutcome, Effect, Extension, Finding, Findings, Ground, Material, Note, Records,
    Rectification, RectificationState, Sanction, Supplement, Talk, TalkState, Verification, Waiver,
};
use crate::domain::calendar::Period;
use crate::domain::{FieldError, Refusal};

/// Days within which a sanctioned cadre's follow-up talk is due, unless the data says.
pub const DEFAULT_TALK_DAYS: u32 = 30;
/// Rejected rectification reports that make it `ineffective`, unless the data says.
pub const DEFAULT_MAX_REJECTIONS: usize = 2;

/// What one event sees and changes.
#[derive(Debug)]
pub struct Ctx {
    pub actor_id: String,
    pub now: DateTime<Utc>,
    pub appeal_window: Period,
    pub records: Records,
    pub investigator_id: Option<String>,
    pub decider_id: Option<String>,
    pub overdue: bool,
    /// The circumstances `submit_findings` cites instead, resolved from the catalogue.
    pub recited: Option<Vec<Circumstance>>,
    /// The sanction a mitigation names, resolved from the catalogue.
    pub sanction: Option<Sanction>,
    /// What an exoneration leaves unaffected, from the data.
    pub effects: Vec<Effect>,
    /// Days after a sanctioning mitigation within which the follow-up talk is due.
    pub talk_days: u32,
    /// Rejected reports since the decision that make a rectification `ineffective`.
    pub max_rejections: usize,
    pub refusal: Option<Refusal>,
    state: &'static str,
}

impl Ctx {
    pub fn new(actor_id: &str, now: DateTime<Utc>, appeal_window: Period, records: Records) -> Ctx {
        Ctx {
            actor_id: actor_id.to_string(),
            now,
            appeal_window,
            records,
            investigator_id: None,
            decider_id: None,
            overdue: false,
            recited: None,
            sanction: None,
            effects: Vec::new(),
            talk_days: DEFAULT_TALK_DAYS,
            max_rejections: DEFAULT_MAX_REJECTIONS,
            refusal: None,
            state: "filed",
        }
    }

    fn note(&self, reason: &str) -> Note {
        Note {
            reason: reason.to_string(),
            by: self.actor_id.clone(),
            at: self.now,
        }
    }

    fn material(&self, text: &str) -> Material {
        Material {
            text: text.to_string(),
            by: self.actor_id.clone(),
            at: self.now,
        }
    }

    fn refuse(&mut self, refusal: Refusal) -> Outcome<State> {
        if self.refusal.is_none() {
            self.refusal = Some(refusal);
        }
        Handled
    }

    /// Runs `f` only if the case's conditions allow `event` (see [`precondition`]).
    fn guarded(
        &mut self,
        event: &Event,
        f: impl FnOnce(&mut Ctx) -> Outcome<State>,
    ) -> Outcome<State> {
        match precondition(event.name(), &self.records, self.now, &self.appeal_window) {
            Ok(()) => f(self),
            Err(r) => self.refuse(r),
        }
    }

    /// The state a decided case is in after an event: closed when nothing is left to wait
    /// for ([`settled`]), with why, else `state`.
    fn settle(&mut self, state: State, why: &str) -> State {
        if settled(&self.records, self.now, &self.appeal_window) {
            self.records.closure = Some(self.note(why));
            State::closed()
        } else {
            state
        }
    }

    /// The red line that forbids any outcome but `deny`, if one is recorded.
    fn red_line_refusal(&self, outcome: DecisionOutcome) -> Option<Refusal> {
        let findings = self.records.findings.as_ref()?;
        let first = findings.red_lines.first()?;
        (outcome != DecisionOutcome::Deny).then(|| {
            Refusal::invalid(
                "outcome",
                format!(
                    "red line `{}` ({}) is recorded in the findings: the only possible outcome is `deny`",
                    first.code(),
                    first.text()
                ),
            )
        })
    }

    /// The tests a decision must pass beyond its payload's shape (docs/DOMAIN.md "The tests a
    /// decision must pass"): the red lines, a cited circumstance, the overrides of
    /// unfavourable elements and the conditions of the cited entries for an exoneration,
    /// and for a mitigation an influence period no shorter than its sanction's.
    fn decision_tests(&self, d: &Decide) -> Result<(), Refusal> {
        use DecisionOutcome::*;
        if let Some(refusal) = self.red_line_refusal(d.outcome) {
            return Err(refusal);
        }
        if d.outcome == Deny {
            return Ok(());
        }
        if self.records.circumstances.is_empty() {
            return Err(Refusal::invalid(
                "circumstances",
                "no circumstance of the catalogue is cited: the investigator cites them in `submit_findings`",
            ));
        }
        let mut errors = Vec::new();
        if d.outcome == Exonerate {
            if let Some(findings) = &self.records.findings {
                for (name, element) in findings.elements.named() {
                    let unfavourable = element.finding == Finding::Unfavourable;
                    if unfavourable && !d.overrides.contains_key(name) {
                        errors.push(FieldError::new(
                            format!("overrides.{name}"),
                            format!("the findings mark `{name}` unfavourable: say why the case is still exonerated"),
                        ));
                    }
                    if !unfavourable && d.overrides.contains_key(name) {
                        errors.push(FieldError::new(
                            format!("overrides.{name}"),
                            format!("the findings do not mark `{name}` unfavourable"),
                        ));
                    }
                }
            }
            let conditions = self.records.findings.as_ref().map(|f| &f.conditions);
            let all_met = |c: &Circumstance| {
                c.requires.iter().all(|r| {
                    conditions
                        .and_then(|found| found.get(&r.code))
                        .is_some_and(|f| f.met)
                })
            };
            if !self.records.circumstances.iter().any(all_met) {
                let unmet: Vec<String> = self
                    .records
                    .circumstances
                    .iter()
                    .flat_map(|c| c.requires.iter())
                    .filter(|r| {
                        !conditions
                            .and_then(|found| found.get(&r.code))
                            .is_some_and(|f| f.met)
                    })
                    .map(|r| format!("`{}` ({})", r.code, r.text))
                    .collect();
                errors.push(FieldError::new(
                    "outcome",
                    format!(
                        "no cited circumstance has all its conditions met (unmet: {}): the case cannot be exonerated",
                        unmet.join(", ")
                    ),
                ));
            }
        }
        if d.outcome == Mitigate {
            match (&self.sanction, d.influence_period_months) {
                (None, _) => errors.push(FieldError::new("sanction", "unknown sanction")),
                (Some(s), Some(m)) if m < s.influence_months => errors.push(FieldError::new(
                    "influence_period_months",
                    format!(
                        "never shorter than the sanction's: {} ({}) has {} months",
                        s.code, s.text, s.influence_months
                    ),
                )),
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Refusal::Invalid(errors))
        }
    }

    /// Cancels the follow-up talk still to be held (its decision was replaced or remanded).
    fn cancel_talk(&mut self) {
        if let Some(mut talk) = self.records.talk.take() {
            if talk.state.is_open() {
                talk.state = TalkState::Cancelled;
                talk.cancelled_at = Some(self.now);
            }
            self.records.previous_talks.push(talk);
        }
    }

    /// Records a decision (after [`Ctx::decision_tests`]): its sanction and what follows
    /// from it, its effects, its rectification order and its follow-up talk; returns the
    /// outcome state.
    fn record_decision(&mut self, d: &Decide, via_appeal: bool) -> State {
        let today = self.now.date_naive();
        let after = |months: u32| {
            (months > 0)
                .then(|| today.checked_add_months(Months::new(months)))
                .flatten()
        };
        let sanction = (d.outcome == DecisionOutcome::Mitigate)
            .then(|| self.sanction.clone())
            .flatten();
        let influence = match &sanction {
            Some(s) => Some(d.influence_period_months.unwrap_or(s.influence_months)),
            None => d.influence_period_months,
        }
        .filter(|m| *m > 0);
        if let Some(old) = self.records.decision.take() {
            self.records.previous_decisions.push(old);
        }
        self.records.decision = Some(Decision {
            outcome: d.outcome,
            explanation: d.explanation.0.clone(),
            overrides: d
                .overrides
                .iter()
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect(),
            degree: d.degree,
            influence_period_months: influence,
            influence_ends_on: influence.and_then(after),
            promotion_bar_ends_on: sanction
                .as_ref()
                .and_then(|s| after(s.promotion_bar_months)),
            effects: if d.outcome == DecisionOutcome::Exonerate {
                self.effects.clone()
            } else {
                Vec::new()
            },
            sanction: sanction.clone(),
            by: self.actor_id.clone(),
            at: self.now,
            via_appeal,
        });
        self.records.rectification = d.rectification.as_ref().map(|o| Rectification {
            requirements: o.requirements.0.clone(),
            due_at: o.due_at,
            state: RectificationState::Ordered,
            ordered_at: self.now,
            reports: Vec::new(),
            verifications: Vec::new(),
            extensions: Vec::new(),
        });
        self.cancel_talk();
        if sanction.is_some_and(|s| s.influence_months > 0) {
            self.records.talk = Some(Talk {
                state: TalkState::Due,
                due_at: self.now + Duration::days(i64::from(self.talk_days)),
                opened_at: self.now,
                held_on: None,
                participants: Vec::new(),
                summary: None,
                recorded_by: None,
                recorded_at: None,
                cancelled_at: None,
            });
        }
        outcome_state(d.outcome)
    }
}

fn outcome_state(outcome: DecisionOutcome) -> State {
    match outcome {
        DecisionOutcome::Exonerate => State::exonerated(),
        DecisionOutcome::Mitigate => State::mitigated(),
        DecisionOutcome::Deny => State::denied(),
    }
}

/// Whether the subject may still appeal the current decision.
pub fn appeal_open(records: &Records, now: DateTime<Utc>, window: &Period) -> Result<(), String> {
    let Some(decision) = &records.decision else {
        return Err("there is no decision to appeal".into());
    };
    if decision.via_appeal {
        return Err("the decision was made on appeal and is final".into());
    }
    if records.appeal.as_ref().is_some_and(|a| a.at >= decision.at) {
        return Err("this decision has already been appealed".into());
    }
    if records
        .appeal_waiver
        .as_ref()
        .is_some_and(|w| w.at >= decision.at)
    {
        return Err("the subject waived the appeal of this decision".into());
    }
    let ends = window.end(decision.at);
    if now >= ends {
        return Err(format!("the appeal window ended at {}", ends.to_rfc3339()));
    }
    Ok(())
}

/// Findings answer every condition of every cited entry that declares `requires`, and no
/// other (422 naming `conditions.<code>`).
pub fn check_conditions(
    cited: &[Circumstance],
    conditions: &std::collections::BTreeMap<String, ConditionFinding>,
) -> Result<(), Refusal> {
    let mut errors = Vec::new();
    for c in cited {
        for r in &c.requires {
            if !conditions.contains_key(&r.code) {
                errors.push(FieldError::new(
                    format!("conditions.{}", r.code),
                    format!(
                        "`{}` requires it: say whether {} ({{\"met\": bool, \"notes\"}})",
                        c.code, r.text
                    ),
                ));
            }
        }
    }
    for code in conditions.keys() {
        if !cited
            .iter()
            .flat_map(|c| &c.requires)
            .any(|r| &r.code == code)
        {
            errors.push(FieldError::new(
                format!("conditions.{code}"),
                "not a condition of any cited circumstance",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Invalid(errors))
    }
}

/// Whether the ground named for a referral to accountability holds (422 on `ground`).
pub fn ground_holds(
    ground: Ground,
    records: &Records,
    max_rejections: usize,
) -> Result<(), Refusal> {
    let Some(r) = &records.rectification else {
        return Err(Refusal::Conflict("no rectification was ordered".into()));
    };
    let rejected = r.verifications.iter().filter(|v| !v.accepted).count();
    let why = match ground {
        Ground::Overdue if r.state == RectificationState::Overdue => return Ok(()),
        Ground::Overdue => format!(
            "the rectification is `{}`, due at {}: not overdue",
            r.state.as_str(),
            r.due_at.to_rfc3339()
        ),
        Ground::Ineffective if rejected >= max_rejections => return Ok(()),
        Ground::Ineffective => format!(
            "{rejected} report(s) rejected since the decision; `ineffective` needs {max_rejections}"
        ),
        Ground::Refused
            if matches!(
                r.state,
                RectificationState::Ordered | RectificationState::Overdue
            ) =>
        {
            return Ok(());
        }
        Ground::Refused => format!(
            "the rectification is `{}`: a report awaits verification",
            r.state.as_str()
        ),
    };
    Err(Refusal::invalid("ground", why))
}

/// A rectification ordered and not yet verified.
pub fn rectification_pending(records: &Records) -> bool {
    records
        .rectification
        .as_ref()
        .is_some_and(|r| r.state != RectificationState::Verified)
}

/// Whether a decided case has nothing left to wait for: no appeal can be lodged any more
/// (the window passed, an appeal was decided, or the subject waived it) and no
/// rectification is pending. Such a case closes. Complying fast never costs the appeal.
pub fn settled(records: &Records, now: DateTime<Utc>, window: &Period) -> bool {
    appeal_open(records, now, window).is_err() && !rectification_pending(records)
}

/// Conditions of the case, beyond its state, that an event needs. Shared by the machine
/// and `available_events`, so the two never disagree.
pub fn precondition(
    event: &str,
    records: &Records,
    now: DateTime<Utc>,
    window: &Period,
) -> Result<(), Refusal> {
    let rect = records.rectification.as_ref();
    let rect_state = rect.map(|r| r.state);
    let conflict = |m: String| Err(Refusal::Conflict(m));
    let rect_msg = |wanted: &str| {
        format!(
            "the rectification is `{}`; `{event}` needs it {wanted}",
            rect_state.map(|s| s.as_str()).unwrap_or("absent")
        )
    };
    match event {
        "supplement_overdue" => match &records.supplement {
            Some(s) if s.overdue => conflict("the supplement is already flagged overdue".into()),
            Some(s) if s.due_at <= now => Ok(()),
            Some(s) => conflict(format!(
                "the supplement is due at {}",
                s.due_at.to_rfc3339()
            )),
            None => conflict("no supplement was requested".into()),
        },
        "submit_rectification" | "extend_rectification" => match rect_state {
            Some(RectificationState::Ordered | RectificationState::Overdue) => Ok(()),
            _ => conflict(rect_msg("`ordered` or `overdue`")),
        },
        "verify_rectification" => match rect_state {
            Some(RectificationState::Submitted) => Ok(()),
            _ => conflict(rect_msg("`submitted`")),
        },
        "rectification_overdue" => match rect {
            Some(r) if r.state == RectificationState::Ordered && r.due_at <= now => Ok(()),
            Some(r) if r.state == RectificationState::Ordered => conflict(format!(
                "the rectification is due at {}",
                r.due_at.to_rfc3339()
            )),
            _ => conflict(rect_msg("`ordered`")),
        },
        "refer_accountability" => match rect_state {
            Some(RectificationState::Verified) | None => {
                conflict(rect_msg("ordered and not yet verified"))
            }
            Some(_) => Ok(()),
        },
        "record_talk" => match &records.talk {
            Some(t) if t.state.is_open() => Ok(()),
            Some(t) => conflict(format!("the follow-up talk is `{}`", t.state.as_str())),
            None => conflict("no follow-up talk is due on this case".into()),
        },
        "talk_overdue" => match &records.talk {
            Some(t) if t.state == TalkState::Due && t.due_at <= now => Ok(()),
            Some(t) if t.state == TalkState::Due => {
                conflict(format!("the talk is due at {}", t.due_at.to_rfc3339()))
            }
            _ => conflict("no follow-up talk is due on this case".into()),
        },
        "appeal" | "waive_appeal" => appeal_open(records, now, window).map_err(Refusal::Conflict),
        "appeal_window_expired" if rectification_pending(records) => conflict(format!(
            "the rectification is `{}`: the case closes when it is verified",
            rect_state.map(|s| s.as_str()).unwrap_or("absent")
        )),
        "close" | "appeal_window_expired" => match appeal_open(records, now, window) {
            Ok(()) => conflict(format!(
                "the subject may still appeal until {}; the case closes when the window ends",
                records
                    .decision
                    .as_ref()
                    .map(|d| window.end(d.at).to_rfc3339())
                    .unwrap_or_default()
            )),
            Err(_) => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The machine. States mirror `cases.state`; see `DEF` for the table.
#[derive(Default)]
pub struct ExonerationCase;

#[state_machine(
    initial = "State::filed()",
    state(derive(Debug, Clone, Copy, PartialEq, Eq))
)]
impl ExonerationCase {
    /// Top superstate: the follow-up talk, tracked in every state; any other event nobody
    /// handled is not allowed in this state.
    #[superstate]
    fn any(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::RecordTalk(p) => context.guarded(event, |c| {
                if let Some(talk) = c.records.talk.as_mut() {
                    talk.state = TalkState::Held;
                    talk.held_on = Some(p.held_on);
                    talk.participants = p.participants.iter().map(|t| t.0.clone()).collect();
                    talk.summary = Some(p.summary.0.clone());
                    talk.recorded_by = Some(c.actor_id.clone());
                    talk.recorded_at = Some(c.now);
                }
                Handled
            }),
            Event::TalkOverdue => context.guarded(event, |c| {
                if let Some(talk) = c.records.talk.as_mut() {
                    talk.state = TalkState::Overdue;
                }
                Handled
            }),
            _ => {
                let state = context.state.to_string();
                context.refuse(Refusal::NotAllowed {
                    state,
                    event: event.name().to_string(),
                })
            }
        }
    }

    /// Before a decision the applicant may withdraw.
    #[superstate(superstate = "any")]
    fn open(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::Withdraw(p) => {
                context.records.withdrawal = Some(context.note(&p.reason.0));
                Transition(State::withdrawn())
            }
            _ => Super,
        }
    }

    #[state(superstate = "open")]
    fn filed(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::RequestSupplement(p) => {
                context.records.supplement = Some(Supplement {
                    items: p.items.0.clone(),
                    due_at: p.due_at,
                    requested_by: context.actor_id.clone(),
                    requested_at: context.now,
                    overdue: false,
                    material: context
                        .records
                        .supplement
                        .take()
                        .map(|s| s.material)
                        .unwrap_or_default(),
                });
                Transition(State::needs_supplement())
            }
            Event::RejectIntake(p) => {
                context.records.rejection = Some(context.note(&p.reason.0));
                Transition(State::rejected())
            }
            Event::Accept(p) => {
                context.investigator_id = Some(p.investigator_id.0.clone());
                Transition(State::investigating())
            }
            _ => Super,
        }
    }

    #[state(superstate = "open")]
    fn needs_supplement(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::Supplement(p) => {
                let material = context.material(&p.material.0);
                if let Some(s) = context.records.supplement.as_mut() {
                    s.material.push(material);
                    s.overdue = false;
                }
                Transition(State::filed())
            }
            Event::SupplementOverdue => context.guarded(event, |c| {
                if let Some(s) = c.records.supplement.as_mut() {
                    s.overdue = true;
                }
                Handled
            }),
            Event::RejectIntake(p) => {
                context.records.rejection = Some(context.note(&p.reason.0));
                Transition(State::rejected())
            }
            _ => Super,
        }
    }

    #[state(superstate = "open")]
    fn investigating(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::SubmitFindings(p) => {
                if let Some(cited) = context.recited.take() {
                    context.records.circumstances = cited;
                }
                if let Err(refusal) =
                    check_conditions(&context.records.circumstances, &p.conditions)
                {
                    return context.refuse(refusal);
                }
                context.records.findings = Some(Findings {
                    elements: p.elements.clone(),
                    red_lines: p.red_lines.clone(),
                    recommendation: p.recommendation,
                    notes: p.notes.trim().to_string(),
                    conditions: p.conditions.clone(),
                    by: context.actor_id.clone(),
                    at: context.now,
                });
                Transition(State::deliberating())
            }
            _ => Super,
        }
    }

    #[state(superstate = "open")]
    fn deliberating(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::ReturnForInvestigation(p) => {
                let note = context.note(&p.reason.0);
                context.records.returns.push(note);
                Transition(State::investigating())
            }
            Event::Decide(p) => {
                if let Err(refusal) = context.decision_tests(p) {
                    return context.refuse(refusal);
                }
                context.decider_id = Some(context.actor_id.clone());
                let to = context.record_decision(p, false);
                Transition(to)
            }
            _ => Super,
        }
    }

    /// Decided cases the subject may appeal.
    #[superstate(superstate = "any")]
    fn appealable(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::Appeal(p) => context.guarded(event, |c| {
                let prior_state = c.state.to_string();
                if let Some(old) = c.records.appeal.take() {
                    c.records.previous_appeals.push(old);
                }
                c.records.appeal = Some(Appeal {
                    grounds: p.grounds.0.clone(),
                    by: c.actor_id.clone(),
                    at: c.now,
                    prior_state,
                    result: None,
                    explanation: None,
                    decided_by: None,
                    decided_at: None,
                });
                Transition(State::appealed())
            }),
            Event::WaiveAppeal => context.guarded(event, |c| {
                c.records.appeal_waiver = Some(Waiver {
                    by: c.actor_id.clone(),
                    at: c.now,
                });
                let here = state_from_name(c.state).unwrap_or(State::closed());
                Transition(c.settle(here, "appeal waived / 放弃申诉"))
            }),
            Event::AppealWindowExpired => context.guarded(event, |c| {
                let here = state_from_name(c.state).unwrap_or(State::closed());
                Transition(c.settle(here, "appeal window expired / 申诉期届满"))
            }),
            _ => Super,
        }
    }

    /// Exonerated or mitigated: the rectification order is tracked (纠错).
    #[superstate(superstate = "appealable")]
    fn in_rectification(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::SubmitRectification(p) => context.guarded(event, |c| {
                let report = c.material(&p.report.0);
                if let Some(r) = c.records.rectification.as_mut() {
                    r.reports.push(report);
                    r.state = RectificationState::Submitted;
                }
                Handled
            }),
            Event::VerifyRectification(p) => context.guarded(event, |c| {
                let verification = Verification {
                    accepted: p.accepted,
                    comment: p.comment.0.clone(),
                    by: c.actor_id.clone(),
                    at: c.now,
                };
                let Some(r) = c.records.rectification.as_mut() else {
                    return Handled;
                };
                r.verifications.push(verification);
                if p.accepted {
                    r.state = RectificationState::Verified;
                    let here = state_from_name(c.state).unwrap_or(State::closed());
                    Transition(c.settle(here, &p.comment.0))
                } else {
                    r.state = RectificationState::Ordered;
                    if let Some(due) = p.due_at {
                        r.due_at = due;
                    }
                    Handled
                }
            }),
            Event::RectificationOverdue => context.guarded(event, |c| {
                if let Some(r) = c.records.rectification.as_mut() {
                    r.state = RectificationState::Overdue;
                }
                Handled
            }),
            Event::ExtendRectification(p) => context.guarded(event, |c| {
                let ext = Extension {
                    due_at: p.due_at,
                    reason: p.reason.0.clone(),
                    by: c.actor_id.clone(),
                    at: c.now,
                };
                if let Some(r) = c.records.rectification.as_mut() {
                    if p.due_at <= r.due_at {
                        let current = r.due_at.to_rfc3339();
                        return c.refuse(Refusal::invalid(
                            "due_at",
                            format!(
                                "an extension must be later than the current due date {current}"
                            ),
                        ));
                    }
                    r.due_at = p.due_at;
                    r.state = RectificationState::Ordered;
                    r.extensions.push(ext);
                }
                Handled
            }),
            Event::ReferAccountability(p) => context.guarded(event, |c| {
                if let Err(refusal) = ground_holds(p.ground, &c.records, c.max_rejections) {
                    return c.refuse(refusal);
                }
                c.records.accountability = Some(Accountability {
                    ground: Some(p.ground),
                    reason: p.reason.0.clone(),
                    evidence: p.evidence.as_ref().map(|e| e.0.clone()),
                    by: c.actor_id.clone(),
                    at: c.now,
                });
                Transition(State::accountability())
            }),
            _ => Super,
        }
    }

    #[state(superstate = "in_rectification")]
    fn exonerated(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }

    #[state(superstate = "in_rectification")]
    fn mitigated(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }

    #[state(superstate = "appealable")]
    fn denied(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::Close(p) => context.guarded(event, |c| {
                c.records.closure = Some(c.note(&p.reason.0));
                Transition(State::closed())
            }),
            _ => Super,
        }
    }

    #[state(superstate = "any")]
    fn appealed(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::DecideAppeal(p) => {
                let Some(appeal) = context.records.appeal.clone() else {
                    return context
                        .refuse(Refusal::Conflict("the case has no appeal on record".into()));
                };
                let to = match p.result {
                    AppealResult::Uphold => match state_from_name(&appeal.prior_state) {
                        Some(prior) => prior,
                        None => {
                            return context.refuse(Refusal::Conflict(format!(
                                "the appeal's prior state `{}` is unknown",
                                appeal.prior_state
                            )));
                        }
                    },
                    AppealResult::Revise => {
                        let Some(d) = p.as_decision() else {
                            return context.refuse(Refusal::invalid(
                                "outcome",
                                "a revision names the new outcome",
                            ));
                        };
                        if context
                            .records
                            .decision
                            .as_ref()
                            .is_some_and(|old| old.outcome == d.outcome)
                        {
                            return context.refuse(Refusal::invalid(
                                "outcome",
                                format!(
                                    "the decision already is `{}`: use `uphold`",
                                    d.outcome.as_str()
                                ),
                            ));
                        }
                        if let Err(refusal) = context.decision_tests(&d) {
                            return context.refuse(refusal);
                        }
                        // Between exonerate and mitigate a verified rectification stands;
                        // otherwise exonerate and mitigate order one.
                        let keeps = d.outcome != DecisionOutcome::Deny && d.rectification.is_none();
                        let verified = context
                            .records
                            .rectification
                            .as_ref()
                            .is_some_and(|r| r.state == RectificationState::Verified);
                        if keeps && !verified {
                            return context.refuse(Refusal::invalid(
                                "rectification",
                                "exonerate and mitigate carry a rectification order (it may be left out only to keep one already verified)",
                            ));
                        }
                        let kept = if keeps {
                            context.records.rectification.take()
                        } else {
                            None
                        };
                        let to = context.record_decision(&d, true);
                        if kept.is_some() {
                            context.records.rectification = kept;
                        }
                        to
                    }
                    AppealResult::Remand => {
                        if let Some(old) = context.records.decision.take() {
                            context.records.previous_decisions.push(old);
                        }
                        context.records.rectification = None;
                        context.cancel_talk();
                        State::investigating()
                    }
                };
                if let Some(a) = context.records.appeal.as_mut() {
                    a.result = Some(p.result);
                    a.explanation = Some(p.explanation.0.clone());
                    a.decided_by = Some(context.actor_id.clone());
                    a.decided_at = Some(context.now);
                }
                if p.result == AppealResult::Remand {
                    return Transition(to);
                }
                // The appeal is decided: nothing more can be appealed.
                Transition(context.settle(to, "appeal decided / 申诉已复核"))
            }
            _ => Super,
        }
    }

    #[state(superstate = "any")]
    fn rejected(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }

    #[state(superstate = "any")]
    fn withdrawn(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }

    #[state(superstate = "any")]
    fn closed(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }

    #[state(superstate = "any")]
    fn accountability(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }
}

/// The stored state name of a machine state (the same text in DB, JSON, logs and docs).
pub fn state_name(state: &State) -> &'static str {
    match state {
        State::Filed {} => "filed",
        State::NeedsSupplement {} => "needs_supplement",
        State::Investigating {} => "investigating",
        State::Deliberating {} => "deliberating",
        State::Exonerated {} => "exonerated",
        State::Mitigated {} => "mitigated",
        State::Denied {} => "denied",
        State::Appealed {} => "appealed",
        State::Rejected {} => "rejected",
        State::Withdrawn {} => "withdrawn",
        State::Closed {} => "closed",
        State::Accountability {} => "accountability",
    }
}

pub fn state_from_name(name: &str) -> Option<State> {
    Some(match name {
        "filed" => State::filed(),
        "needs_supplement" => State::needs_supplement(),
        "investigating" => State::investigating(),
        "deliberating" => State::deliberating(),
        "exonerated" => State::exonerated(),
        "mitigated" => State::mitigated(),
        "denied" => State::denied(),
        "appealed" => State::appealed(),
        "rejected" => State::rejected(),
        "withdrawn" => State::withdrawn(),
        "closed" => State::closed(),
        "accountability" => State::accountability(),
        _ => return None,
    })
}

/// Runs one event through the machine restored at `state`. On success the context holds
/// the new records; on refusal nothing in the context is to be used.
pub fn step(state: &str, event: &Event, ctx: &mut Ctx) -> Result<&'static str, Refusal> {
    let Some(current) = state_from_name(state) else {
        return Err(Refusal::Conflict(format!(
            "the stored state `{state}` is unknown"
        )));
    };
    ctx.state = state_name(&current);
    let mut machine = ExonerationCase.uninitialized_state_machine();
    *machine.state_mut() = current;
    let mut machine = machine.init_with_context(ctx);
    machine.handle_with_context(event, ctx);
    match ctx.refusal.take() {
        Some(refusal) => Err(refusal),
        None => {
            let to = state_name(machine.state());
            ctx.overdue = overdue(to, &ctx.records);
            Ok(to)
        }
    }
}

/// Whether the case is behind a deadline: derived from its state and records, never kept
/// by hand.
pub fn overdue(state: &str, records: &Records) -> bool {
    let talk = records
        .talk
        .as_ref()
        .is_some_and(|t| t.state == TalkState::Overdue);
    talk || match state {
        "needs_supplement" => records.supplement.as_ref().is_some_and(|s| s.overdue),
        "exonerated" | "mitigated" | "appealed" => records
            .rectification
            .as_ref()
            .is_some_and(|r| r.state == RectificationState::Overdue),
        _ => false,
    }
}
