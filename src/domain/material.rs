//! Evidence files and notes: who may add them to a case and who may see them, the same for
//! every workflow. Parties add material while the case waits for them, staff of the
//! jurisdiction while it is open, nobody once it is over; what each one sees follows from
//! the material's visibility.

use chrono::{DateTime, Utc};

use super::access::{available_events, can_see};
use super::workflow::{Case, Workflow};
use super::{Actor, Refusal, Role};

/// Who sees a file or a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Everyone who may see the case (the default).
    Parties,
    /// The staff who handle the case: investigation material the cadre does not see.
    Staff,
    /// What identifies a reporter or an accuser: encrypted at rest with the reporter key,
    /// seen as the reporter is.
    Sealed,
}

impl Visibility {
    pub const ALL: [Visibility; 3] = [Visibility::Parties, Visibility::Staff, Visibility::Sealed];

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Parties => "parties",
            Visibility::Staff => "staff",
            Visibility::Sealed => "sealed",
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        Visibility::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The events that cite material (`attachments: [ids]`).
pub const CITING_EVENTS: [&str; 7] = [
    "supplement",
    "submit_rectification",
    "appeal",
    "submit_explanation",
    "submit_findings",
    "refer_accountability",
    "refer_false_accusation",
];

/// The timeline rows that record material, not a step of the procedure: they leave the
/// state, its deadlines and the time spent in it alone (`stage_seconds` is none).
pub const ANNOTATIONS: [&str; 2] = ["attach", "note"];

pub fn is_annotation(event: &str) -> bool {
    ANNOTATIONS.contains(&event)
}

/// Whether `actor` handles the case as staff: a staff role of its jurisdiction other than
/// the subject's unit, and never the subject themselves.
pub fn handles(actor: &Actor, case: &Case) -> bool {
    actor.id != case.subject.id
        && actor
            .roles
            .iter()
            .any(|r| r.sees_undisclosed() && actor.org.covers(&case.subject.org))
}

/// Whether `actor` (who may see the case) sees material of this visibility.
pub fn sees(wf: &dyn Workflow, actor: &Actor, case: &Case, visibility: Visibility) -> bool {
    if !can_see(actor, case) {
        return false;
    }
    match visibility {
        Visibility::Parties => true,
        Visibility::Staff => actor.has(Role::System) || handles(actor, case),
        Visibility::Sealed => {
            actor.has(Role::System) || wf.may_see_sealed(actor, case).unwrap_or(false)
        }
    }
}

/// The visibilities `actor` sees on `case`.
pub fn visible(wf: &dyn Workflow, actor: &Actor, case: &Case) -> Vec<Visibility> {
    Visibility::ALL
        .into_iter()
        .filter(|v| sees(wf, actor, case, *v))
        .collect()
}

/// In which role `actor` may add material of `visibility` to `case` now, or why not.
/// `what` names the material in refusals ("a file", "a note").
pub fn may_add(
    wf: &dyn Workflow,
    actor: &Actor,
    case: &Case,
    visibility: Visibility,
    now: DateTime<Utc>,
    what: &str,
) -> Result<Role, Refusal> {
    let def = wf.def();
    if def.terminal.contains(&case.state.as_str()) {
        return Err(Refusal::Conflict(format!(
            "the case is {} ({}): nothing more may be added to it",
            case.state,
            def.state_zh(&case.state)
        )));
    }
    if visibility == Visibility::Sealed && wf.may_see_sealed(actor, case).is_none() {
        return Err(Refusal::invalid(
            "visibility",
            format!(
                "`sealed` is for what identifies a reporter or an accuser; {} cases have none",
                def.name
            ),
        ));
    }
    if handles(actor, case) {
        if !sees(wf, actor, case, visibility) {
            return Err(Refusal::Forbidden(format!(
                "you may not see `{}` material of this case, so you may not add any",
                visibility.as_str()
            )));
        }
        let role = actor
            .roles
            .iter()
            .copied()
            .find(|r| r.sees_undisclosed() && actor.org.covers(&case.subject.org))
            .unwrap_or(Role::Admin);
        return Ok(role);
    }
    // A party: the applicant while the case is just filed, or whoever may now apply an
    // event that cites material (a supplement, an appeal, a rectification report, the
    // answer to an inquiry letter).
    let filing = actor.id == case.applicant.id && case.state == def.initial;
    let waits = available_events(wf, actor, case, now)
        .iter()
        .any(|e| CITING_EVENTS.contains(e));
    if !filing && !waits {
        return Err(Refusal::Forbidden(format!(
            "you may add {what} to this case only while it waits for you (in {}, nothing does)",
            case.state
        )));
    }
    if visibility != Visibility::Parties {
        return Err(Refusal::Forbidden(format!(
            "`{}` material is added by the staff who handle the case; yours is `parties`",
            visibility.as_str()
        )));
    }
    let role = if actor.id == case.applicant.id {
        case.applicant.role
    } else if actor.id == case.subject.id {
        Role::Cadre
    } else {
        actor.roles.first().copied().unwrap_or(Role::Cadre)
    };
    Ok(role)
}
