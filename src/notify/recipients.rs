//! The people a transition concerns: the subject, the applicant, the assigned
//! investigator and the reviewers of the jurisdiction (from the directory).

use diesel::QueryResult;

use crate::db::{DbConnection, repo};
use crate::domain::OrgPath;
use crate::domain::workflow::Case;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub id: Option<String>,
    pub name: String,
    pub email: String,
    pub relation: &'static str,
}

pub fn for_case(conn: &mut DbConnection, case: &Case) -> QueryResult<Vec<Recipient>> {
    let mut out: Vec<Recipient> = Vec::new();
    let mut push = |r: Recipient| {
        let dup = out
            .iter()
            .any(|o| (o.id.is_some() && o.id == r.id) || o.email.eq_ignore_ascii_case(&r.email));
        if !dup && !r.email.is_empty() {
            out.push(r);
        }
    };
    push(Recipient {
        id: Some(case.subject.id.clone()),
        name: case.subject.name.clone(),
        email: case.subject.email.clone(),
        relation: "subject",
    });
    push(Recipient {
        id: Some(case.applicant.id.clone()),
        name: case.applicant.name.clone(),
        email: case.applicant.email.clone(),
        relation: "applicant",
    });
    if let Some(inv) = &case.investigator_id
        && let Some(p) = repo::people::find_by_id(conn, inv)?
    {
        push(Recipient {
            id: Some(p.id),
            name: p.name,
            email: p.email,
            relation: "investigator",
        });
    }
    if let Ok(org) = OrgPath::parse(&case.subject.org) {
        for p in repo::people::with_role_in_orgs(conn, "reviewer", &org.self_and_ancestors())? {
            push(Recipient {
                id: Some(p.id),
                name: p.name,
                email: p.email,
                relation: "reviewer",
            });
        }
    }
    Ok(out)
}
