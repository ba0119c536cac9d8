//! The rules every workflow applies the same way, read from its table and the caller's
//! token: who may see a case, who may apply an event to it, whose case a filing is, which
//! investigator may take a case, and what the caller may do next.

use chrono::{DateTime, Utc};

use super::workflow::{Case, Lookup, Party, Subject, SubjectBody, Workflow, WorkflowDef};
use super::{Actor, FieldError, Refusal, Role};

/// An `investigator_id` must name a known investigator whose jurisdiction covers the case.
pub fn check_investigator(
    lookup: &mut dyn Lookup,
    id: &str,
    subject_org: &str,
) -> Result<(), Refusal> {
    match lookup
        .org_of_person_with_role(id, Role::Investigator)
        .map_err(Refusal::Unavailable)?
    {
        None => Err(Refusal::invalid(
            "investigator_id",
            format!("`{id}` is not a known investigator"),
        )),
        Some(org) => {
            let covers = super::OrgPath::parse(&org)
                .map(|o| o.covers(subject_org))
                .unwrap_or(false);
            if covers {
                Ok(())
            } else {
                Err(Refusal::invalid(
                    "investigator_id",
                    format!("investigator `{id}` ({org}) has no jurisdiction over {subject_org}"),
                ))
            }
        }
    }
}

/// Whether `actor` may see `case` at all (what may not be seen answers 404). Staff see
/// the cases of their subtree, a cadre the cases about them, a filer what they filed. A case
/// not yet disclosed is seen only by those who handle it: never its subject, and no unit
/// admin who holds no other staff role there.
pub fn can_see(actor: &Actor, case: &Case) -> bool {
    if actor.has(Role::System) {
        return true;
    }
    if !case.disclosed {
        return actor.id != case.subject.id
            && (actor.id == case.applicant.id
                || actor
                    .roles
                    .iter()
                    .any(|r| r.sees_undisclosed() && actor.org.covers(&case.subject.org)));
    }
    actor.id == case.subject.id
        || actor.id == case.applicant.id
        || actor
            .roles
            .iter()
            .any(|r| r.is_staff() && actor.org.covers(&case.subject.org))
}

/// Which role `actor` may apply `event` in, or why not (403).
pub fn authorize(
    def: &WorkflowDef,
    event: &str,
    actor: &Actor,
    case: &Case,
) -> Result<Role, Refusal> {
    let parties = def.parties(event);
    for party in parties {
        let role = match *party {
            Party::Role(role) if actor.acts_as_staff(role, &case.subject.org) => Some(role),
            Party::Applicant if actor.id == case.applicant.id => Some(case.applicant.role),
            Party::Subject if actor.id == case.subject.id => Some(Role::Cadre),
            Party::AssignedInvestigator
                if case.investigator_id.as_deref() == Some(actor.id.as_str())
                    && actor.has(Role::Investigator) =>
            {
                Some(Role::Investigator)
            }
            Party::System if actor.has(Role::System) => Some(Role::System),
            _ => None,
        };
        if let Some(role) = role {
            return Ok(role);
        }
    }
    let who: Vec<String> = parties
        .iter()
        .map(|p| match p {
            Party::Role(r) => format!("a {r} of the case's jurisdiction"),
            Party::Applicant => "the applicant".into(),
            Party::Subject => "the cadre the case is about".into(),
            Party::AssignedInvestigator => "the assigned investigator".into(),
            Party::System => "the system's timers".into(),
        })
        .collect();
    Err(Refusal::Forbidden(format!(
        "`{event}` may be applied only by {}",
        who.join(" or ")
    )))
}

/// The staff role, among the workflow's filers, that `actor` holds over `org`.
fn filing_staff_role(def: &WorkflowDef, actor: &Actor, org: &str) -> Option<Role> {
    def.create_parties.iter().find_map(|party| match *party {
        Party::Role(role) if actor.acts_as_staff(role, org) => Some(role),
        _ => None,
    })
}

/// Who a filing is about and in which role `actor` files it. Jurisdiction comes from the
/// organisation, never from the filer: a cadre files about themselves, with the id, name,
/// e-mail and org of their token; staff file about a cadre in the org the directory holds
/// for them (a cadre it does not know: the org sent, within the filer's subtree).
pub fn filing_subject(
    def: &WorkflowDef,
    actor: &Actor,
    body: Option<SubjectBody>,
    lookup: &mut dyn Lookup,
) -> Result<(Subject, Role), Refusal> {
    let body = body.unwrap_or_default();
    let as_cadre = def.create_parties.contains(&Party::Role(Role::Cadre)) && actor.has(Role::Cadre);
    let files_as_staff = def.create_parties.iter().any(|p| match *p {
        Party::Role(role) => role.is_staff() && actor.has(role),
        _ => false,
    });
    if !as_cadre && !files_as_staff {
        return Err(Refusal::Forbidden(format!(
            "filing a {} case needs one of: {} (a cadre files only about themselves; staff within their jurisdiction)",
            def.name,
            def.create_parties
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let position = body
        .position
        .map(super::common::Text::into_string)
        .unwrap_or_default();
    let about_self = body.id.as_ref().is_none_or(|id| id.0 == actor.id);
    if about_self && as_cadre {
        if let Some(org) = body
            .org
            .as_ref()
            .filter(|o| o.as_str() != actor.org.as_str())
        {
            return Err(Refusal::invalid(
                "subject.org",
                format!(
                    "a cadre files in their own org, `{}` (from the token), not `{org}`: the case goes to the office with jurisdiction over them",
                    actor.org
                ),
            ));
        }
        let subject = Subject {
            id: actor.id.clone(),
            name: actor.name.clone(),
            email: actor.email.clone(),
            org: actor.org.as_str().to_string(),
            position,
        };
        return Ok((subject, Role::Cadre));
    }
    let id = body
        .id
        .map(super::common::Text::into_string)
        .unwrap_or_else(|| actor.id.clone());
    let known = lookup.person(&id).map_err(Refusal::Unavailable)?;
    let org = match (&known, &body.org) {
        (Some(k), Some(sent)) if k.org != sent.as_str() => {
            return Err(Refusal::invalid(
                "subject.org",
                format!(
                    "the directory places `{id}` in `{}`, not `{sent}`: a case is filed in the cadre's own org",
                    k.org
                ),
            ));
        }
        (Some(k), _) => k.org.clone(),
        (None, Some(sent)) => sent.as_str().to_string(),
        (None, None) => {
            return Err(Refusal::invalid(
                "subject.org",
                format!("is required: the directory does not know `{id}`"),
            ));
        }
    };
    let Some(role) = filing_staff_role(def, actor, &org) else {
        if as_cadre {
            return Err(Refusal::invalid(
                "subject.id",
                format!(
                    "a cadre files only about themselves (`{}`); filing about `{id}` needs a filing role over `{org}`",
                    actor.id
                ),
            ));
        }
        return Err(Refusal::Forbidden(format!(
            "`{org}` is outside your jurisdiction ({}): you may not file a {} case about `{id}`",
            actor.org, def.name
        )));
    };
    let mut errors = Vec::new();
    let name = body
        .name
        .map(super::common::Text::into_string)
        .or_else(|| known.as_ref().map(|k| k.name.clone()));
    let email = body
        .email
        .map(|e| e.as_str().to_string())
        .or_else(|| known.as_ref().map(|k| k.email.clone()));
    if name.is_none() {
        errors.push(FieldError::new(
            "subject.name",
            format!("is required: the directory does not know `{id}`"),
        ));
    }
    if email.is_none() {
        errors.push(FieldError::new(
            "subject.email",
            format!("is required: the directory does not know `{id}`"),
        ));
    }
    if !errors.is_empty() {
        return Err(Refusal::Invalid(errors));
    }
    let subject = Subject {
        id,
        name: name.unwrap_or_default(),
        email: email.unwrap_or_default(),
        org,
        position,
    };
    Ok((subject, role))
}

/// The events `actor` could apply to `case` now.
pub fn available_events(
    wf: &dyn Workflow,
    actor: &Actor,
    case: &Case,
    now: DateTime<Utc>,
) -> Vec<&'static str> {
    let def = wf.def();
    def.events()
        .into_iter()
        .filter(|e| !def.is_timer_event(e))
        .filter(|e| def.allows(&case.state, e))
        .filter(|e| authorize(def, e, actor, case).is_ok())
        .filter(|e| wf.separation(e, actor, case).is_ok())
        .filter(|e| wf.precondition(e, case, now).is_ok())
        .collect()
}
