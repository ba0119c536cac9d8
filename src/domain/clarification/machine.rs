//! Workflow B as a statig machine. Pure, like Workflow A's: handlers change the records in
//! the context and nothing else. Long for the same reason as Workflow A's: statig wants
//! the whole machine, every state with its handlers, in one `#[state_machine]` impl.

use chrono::{DateTime, Utc};
use statig::prelude::*;

use super::events::Event;
use super::records::{
    Acceptance, Accuser, Clarification, Conclusion, DismissReason, Dismissal, Finding, Inquiry,
    Records, Referral, ReferralCategory, ReferralOutcome,
};
use crate::domain::Refusal;
use crate::domain::common::{Material, Note};

#[derive(Debug)]
pub struct Ctx {
    pub actor_id: String,
    pub now: DateTime<Utc>,
    pub records: Records,
    pub investigator_id: Option<String>,
    pub overdue: bool,
    /// Set by `open_exoneration`: the engine files the linked Workflow A case.
    pub spawn_exoneration: bool,
    /// The sealed accuser `refer_false_accusation` names (sealed by the workflow).
    pub accuser: Option<Accuser>,
    pub refusal: Option<Refusal>,
    state: &'static str,
}

impl Ctx {
    pub fn new(actor_id: &str, now: DateTime<Utc>, records: Records) -> Ctx {
        Ctx {
            actor_id: actor_id.to_string(),
            now,
            records,
            investigator_id: None,
            overdue: false,
            spawn_exoneration: false,
            accuser: None,
            refusal: None,
            state: "received",
        }
    }

    fn refuse(&mut self, refusal: Refusal) -> Outcome<State> {
        if self.refusal.is_none() {
            self.refusal = Some(refusal);
        }
        Handled
    }

    fn guarded(
        &mut self,
        event: &Event,
        f: impl FnOnce(&mut Ctx) -> Outcome<State>,
    ) -> Outcome<State> {
        match precondition(event.name(), &self.records, self.now) {
            Ok(()) => f(self),
            Err(r) => self.refuse(r),
        }
    }

    /// How the referred accuser was dealt with: once; a blacklisting only for 诬告陷害.
    fn record_referral_outcome(&mut self, event: &Event) -> Outcome<State> {
        let Event::RecordReferralOutcome(p) = event else {
            return Super;
        };
        self.guarded(event, |c| {
            let (actor, now) = (c.actor_id.clone(), c.now);
            let Some(referral) = c.records.referrals.last_mut() else {
                return Handled;
            };
            if p.blacklisted && referral.category != ReferralCategory::FalseAccusation {
                return c.refuse(Refusal::invalid(
                    "blacklisted",
                    "only a false accusation (诬告陷害) puts the accuser on the 失信 blacklist",
                ));
            }
            referral.outcome = Some(ReferralOutcome {
                handling: p.handling,
                blacklisted: p.blacklisted,
                notes: p.notes.clone(),
                by: actor,
                at: now,
            });
            Handled
        })
    }
}

/// Conditions beyond the state, shared with `available_events`.
pub fn precondition(event: &str, records: &Records, now: DateTime<Utc>) -> Result<(), Refusal> {
    match event {
        "inquiry_overdue" => match &records.inquiry {
            Some(i) if i.overdue => Err(Refusal::Conflict(
                "the inquiry is already flagged overdue".into(),
            )),
            Some(i) if i.due_at <= now => Ok(()),
            Some(i) => Err(Refusal::Conflict(format!(
                "the reply is due at {}",
                i.due_at.to_rfc3339()
            ))),
            None => Err(Refusal::Conflict("no inquiry letter was sent".into())),
        },
        "refer_false_accusation" if !records.referrals.is_empty() => Err(Refusal::Conflict(
            "the accuser of this report is already referred (one referral per case)".into(),
        )),
        "refer_false_accusation"
            if records
                .dismissal
                .as_ref()
                .is_some_and(|d| d.reason_code == DismissReason::UnclearLeads) =>
        {
            Err(Refusal::Conflict(
                "a report dismissed for unclear leads names no false accuser".into(),
            ))
        }
        "record_referral_outcome" => match records.referrals.last() {
            Some(r) if r.outcome.is_none() => Ok(()),
            Some(_) => Err(Refusal::Conflict(
                "the referral's outcome is already recorded".into(),
            )),
            None => Err(Refusal::Conflict("no accuser was referred".into())),
        },
        "open_exoneration" if records.linked_case_id.is_some() => Err(Refusal::Conflict(format!(
            "an exoneration case is already linked: {}",
            records.linked_case_id.as_deref().unwrap_or_default()
        ))),
        _ => Ok(()),
    }
}

#[derive(Default)]
pub struct ClarificationCase;

#[state_machine(
    initial = "State::received()",
    state(derive(Debug, Clone, Copy, PartialEq, Eq))
)]
impl ClarificationCase {
    #[superstate]
    fn any(context: &mut Ctx, event: &Event) -> Outcome<State> {
        let state = context.state.to_string();
        context.refuse(Refusal::NotAllowed {
            state,
            event: event.name().to_string(),
        })
    }

    /// Before an investigation: one may still be opened.
    #[superstate(superstate = "any")]
    fn preliminary(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::OpenInvestigation(p) => {
                context.investigator_id = Some(p.investigator_id.0.clone());
                Transition(State::investigating())
            }
            _ => Super,
        }
    }

    #[state(superstate = "preliminary")]
    fn received(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::ProposeDismissal(p) => {
                context.records.dismissal = Some(Dismissal {
                    reason_code: p.reason_code,
                    explanation: p.explanation.0.clone(),
                    by: context.actor_id.clone(),
                    at: context.now,
                    confirmed_by: None,
                    confirmed_at: None,
                    rejection: None,
                });
                Transition(State::dismissal_proposed())
            }
            Event::SendInquiry(p) => {
                context.records.inquiry = Some(Inquiry {
                    questions: p.questions.0.clone(),
                    due_at: p.due_at,
                    sent_by: context.actor_id.clone(),
                    sent_at: context.now,
                    overdue: false,
                    explanation: None,
                });
                Transition(State::inquiry())
            }
            _ => Super,
        }
    }

    /// 不予调查 proposed: a reviewer other than the proposer decides.
    #[state(superstate = "any")]
    fn dismissal_proposed(context: &mut Ctx, event: &Event) -> Outcome<State> {
        let Some(mut dismissal) = context.records.dismissal.take() else {
            return match event {
                Event::ConfirmDismissal | Event::RejectDismissal(_) => context.refuse(
                    Refusal::Conflict("no dismissal is proposed on this case".into()),
                ),
                _ => Super,
            };
        };
        match event {
            Event::ConfirmDismissal => {
                dismissal.confirmed_by = Some(context.actor_id.clone());
                dismissal.confirmed_at = Some(context.now);
                context.records.dismissal = Some(dismissal);
                Transition(State::dismissed())
            }
            Event::RejectDismissal(p) => {
                dismissal.rejection = Some(Note {
                    reason: p.reason.0.clone(),
                    by: context.actor_id.clone(),
                    at: context.now,
                });
                context.records.rejected_dismissals.push(dismissal);
                Transition(State::received())
            }
            _ => {
                context.records.dismissal = Some(dismissal);
                Super
            }
        }
    }

    #[state(superstate = "preliminary")]
    fn inquiry(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::SubmitExplanation(p) => {
                let material = Material {
                    text: p.explanation.0.clone(),
                    by: context.actor_id.clone(),
                    at: context.now,
                };
                if let Some(i) = context.records.inquiry.as_mut() {
                    i.explanation = Some(material);
                    i.overdue = false;
                }
                Transition(State::explained())
            }
            Event::InquiryOverdue => context.guarded(event, |c| {
                if let Some(i) = c.records.inquiry.as_mut() {
                    i.overdue = true;
                }
                Handled
            }),
            _ => Super,
        }
    }

    #[state(superstate = "preliminary")]
    fn explained(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::AcceptExplanation(p) => {
                context.records.acceptance = Some(Acceptance {
                    conclusion: p.conclusion.0.clone(),
                    by: context.actor_id.clone(),
                    at: context.now,
                });
                Transition(State::cleared())
            }
            _ => Super,
        }
    }

    #[state(superstate = "any")]
    fn investigating(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::Conclude(p) => {
                context.records.conclusion = Some(Conclusion {
                    finding: p.finding,
                    report: p.report.0.clone(),
                    by: context.actor_id.clone(),
                    at: context.now,
                });
                match p.finding {
                    Finding::Unfounded => Transition(State::unfounded()),
                    Finding::Substantiated | Finding::PartiallySubstantiated => {
                        Transition(State::substantiated())
                    }
                }
            }
            _ => Super,
        }
    }

    /// States from which a reviewer closes the case.
    #[superstate(superstate = "any")]
    fn closable(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::Close(p) => {
                context.records.closure = Some(Note {
                    reason: p.reason.0.clone(),
                    by: context.actor_id.clone(),
                    at: context.now,
                });
                Transition(State::closed())
            }
            _ => Super,
        }
    }

    /// The cadre was wrongly accused (or the report dismissed as labelling or speculation):
    /// the accuser may be referred, once, and the referral's outcome recorded.
    #[superstate(superstate = "closable")]
    fn referable(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::ReferFalseAccusation(p) => context.guarded(event, |c| {
                let Some(accuser) = c.accuser.take() else {
                    return c.refuse(Refusal::invalid("accuser", "name the accuser"));
                };
                c.records.referrals.push(Referral {
                    category: p.category,
                    evidence: p.evidence.0.clone(),
                    by: c.actor_id.clone(),
                    at: c.now,
                    accuser: Some(accuser),
                    outcome: None,
                });
                Handled
            }),
            Event::RecordReferralOutcome(_) => context.record_referral_outcome(event),
            _ => Super,
        }
    }

    /// Not yet publicly cleared.
    #[superstate(superstate = "referable")]
    fn clarifiable(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::Clarify(p) => {
                context.records.clarification = Some(Clarification {
                    methods: p.methods.clone(),
                    scope: p.scope.0.clone(),
                    date: p.date,
                    by: context.actor_id.clone(),
                    at: context.now,
                });
                Transition(State::clarified())
            }
            _ => Super,
        }
    }

    #[state(superstate = "referable")]
    fn dismissed(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }

    #[state(superstate = "closable")]
    fn substantiated(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::OpenExoneration => context.guarded(event, |c| {
                c.spawn_exoneration = true;
                Handled
            }),
            _ => Super,
        }
    }

    #[state(superstate = "clarifiable")]
    fn unfounded(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }

    #[state(superstate = "clarifiable")]
    fn cleared(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }

    #[state(superstate = "referable")]
    fn clarified(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }

    /// A referral made before closing is still followed up.
    #[state(superstate = "any")]
    fn closed(context: &mut Ctx, event: &Event) -> Outcome<State> {
        match event {
            Event::RecordReferralOutcome(_) => context.record_referral_outcome(event),
            _ => Super,
        }
    }
}

pub fn state_name(state: &State) -> &'static str {
    match state {
        State::Received {} => "received",
        State::DismissalProposed {} => "dismissal_proposed",
        State::Dismissed {} => "dismissed",
        State::Inquiry {} => "inquiry",
        State::Explained {} => "explained",
        State::Cleared {} => "cleared",
        State::Investigating {} => "investigating",
        State::Substantiated {} => "substantiated",
        State::Unfounded {} => "unfounded",
        State::Clarified {} => "clarified",
        State::Closed {} => "closed",
    }
}

pub fn state_from_name(name: &str) -> Option<State> {
    Some(match name {
        "received" => State::received(),
        "dismissal_proposed" => State::dismissal_proposed(),
        "dismissed" => State::dismissed(),
        "inquiry" => State::inquiry(),
        "explained" => State::explained(),
        "cleared" => State::cleared(),
        "investigating" => State::investigating(),
        "substantiated" => State::substantiated(),
        "unfounded" => State::unfounded(),
        "clarified" => State::clarified(),
        "closed" => State::closed(),
        _ => return None,
    })
}

pub fn step(state: &str, event: &Event, ctx: &mut Ctx) -> Result<&'static str, Refusal> {
    let Some(current) = state_from_name(state) else {
        return Err(Refusal::Conflict(format!(
            "the stored state `{state}` is unknown"
        )));
    };
    ctx.state = state_name(&current);
    let mut machine = ClarificationCase.uninitialized_state_machine();
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

/// Whether the case is behind a deadline: derived from its state and records.
pub fn overdue(state: &str, records: &Records) -> bool {
    state == "inquiry" && records.inquiry.as_ref().is_some_and(|i| i.overdue)
}
