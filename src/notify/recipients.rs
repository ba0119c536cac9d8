//! The people a rule names for a case, from the case and the directory.

use diesel::QueryResult;

use super::rules::RecipientKind;
use crate::db::{DbConnection, repo};
use crate::domain::access::can_see;
use crate::domain::workflow::Case;
use crate::domain::{Actor, OrgPath, Role};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub id: Option<String>,
    pub name: String,
    pub email: String,
    pub relation: &'static str,
    /// As the recipient would act (roles and org), to tell them what they may do next.
    pub actor: Option<Actor>,
}

fn from_row(p: crate::db::models::PersonRow, relation: &'static str) -> Recipient {
    let roles = p.roles.split(',').filter_map(Role::parse).collect();
    let actor = OrgPath::parse(&p.org).ok().map(|org| Actor {
        id: p.id.clone(),
        name: p.name.clone(),
        email: p.email.clone(),
        roles,
        org,
    });
    Recipient {
        id: Some(p.id),
        name: p.name,
        email: p.email,
        relation,
        actor,
    }
}

/// The recipients of `kinds` for `case`. `known` is what the directory was already seen to
/// hold for some ids (read with the case, in the same query): those are not asked again.
pub fn for_case(
    conn: &mut DbConnection,
    case: &Case,
    kinds: &[RecipientKind],
    known: &[(String, Option<crate::db::models::PersonRow>)],
) -> QueryResult<Vec<Recipient>> {
    let mut found: Vec<Recipient> = Vec::new();
    let subject_org = OrgPath::parse(&case.subject.org).ok();
    // The subject and the applicant are often one person: look each id up once.
    let mut people: Vec<(String, Option<crate::db::models::PersonRow>)> = known.to_vec();
    let mut person =
        |conn: &mut DbConnection, id: &str| -> QueryResult<Option<crate::db::models::PersonRow>> {
            if let Some((_, p)) = people.iter().find(|(i, _)| i == id) {
                return Ok(p.clone());
            }
            let p = repo::people::find_by_id(conn, id)?;
            people.push((id.to_string(), p.clone()));
            Ok(p)
        };
    for kind in kinds {
        match kind {
            RecipientKind::Subject => {
                let mut r = match person(conn, &case.subject.id)? {
                    Some(p) => from_row(p, "subject"),
                    None => Recipient {
                        id: Some(case.subject.id.clone()),
                        name: case.subject.name.clone(),
                        email: String::new(),
                        relation: "subject",
                        actor: subject_org.clone().map(|org| Actor {
                            id: case.subject.id.clone(),
                            name: case.subject.name.clone(),
                            email: case.subject.email.clone(),
                            roles: vec![Role::Cadre],
                            org,
                        }),
                    },
                };
                // The case's address for its subject wins over the directory's.
                r.email = case.subject.email.clone();
                r.name = case.subject.name.clone();
                found.push(r);
            }
            RecipientKind::Applicant => match person(conn, &case.applicant.id)? {
                Some(p) => found.push(from_row(p, "applicant")),
                None => found.push(Recipient {
                    id: Some(case.applicant.id.clone()),
                    name: case.applicant.name.clone(),
                    email: case.applicant.email.clone(),
                    relation: "applicant",
                    actor: None,
                }),
            },
            RecipientKind::Investigator => {
                if let Some(id) = &case.investigator_id
                    && let Some(p) = person(conn, id)?
                {
                    found.push(from_row(p, "investigator"));
                }
            }
            RecipientKind::Reviewers
            | RecipientKind::IntakeOfficers
            | RecipientKind::Investigators => {
                let (role, relation) = match kind {
                    RecipientKind::Reviewers => ("reviewer", "reviewer"),
                    RecipientKind::IntakeOfficers => ("intake", "intake_officer"),
                    _ => ("investigator", "investigator"),
                };
                if let Some(org) = &subject_org {
                    for p in repo::people::with_role_in_orgs(conn, role, &org.self_and_ancestors())?
                    {
                        found.push(from_row(p, relation));
                    }
                }
            }
            RecipientKind::UnitContact => {
                for p in repo::people::with_role_in_orgs(
                    conn,
                    "unit_admin",
                    std::slice::from_ref(&case.subject.org),
                )? {
                    found.push(from_row(p, "unit_contact"));
                }
            }
        }
    }
    // Nobody is mailed about a case they may not see (a report not yet disclosed to its
    // subject reaches neither them nor their unit, whatever a rule says).
    found.retain(|r| r.actor.as_ref().is_none_or(|a| can_see(a, case)));
    let mut out: Vec<Recipient> = Vec::new();
    for r in found {
        let dup = out
            .iter()
            .any(|o| (o.id.is_some() && o.id == r.id) || o.email.eq_ignore_ascii_case(&r.email));
        if !dup && !r.email.is_empty() {
            out.push(r);
        }
    }
    Ok(out)
}
