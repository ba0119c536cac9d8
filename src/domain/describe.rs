//! A workflow's table rendered for people and clients: Markdown, Mermaid (and the parts of
//! `GET /api/v1/workflows/{name}` that are not the table itself). All from
//! the same `WorkflowDef` that drives `available_events` and that the machine is tested
//! against, so the documents cannot drift from the code.

use super::workflow::{Party, SAME, WorkflowDef};

/// The parties' labels (`applicant`, `assigned_investigator`, `system`…).
pub fn who(parties: &[Party]) -> Vec<String> {
    parties.iter().map(|p| p.label()).collect()
}

/// Every party that acts in the workflow, in the order the table first names them.
pub fn roles(def: &WorkflowDef) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for party in def
        .create_parties
        .iter()
        .chain(def.rows.iter().flat_map(|r| r.parties.iter()))
    {
        let label = party.label();
        if !roles.contains(&label) {
            roles.push(label);
        }
    }
    roles
}

/// `stateDiagram-v2` text.
pub fn mermaid(def: &WorkflowDef) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    out.push_str(&format!("    [*] --> {}: create\n", def.initial));
    for row in def.rows {
        for from in row.from {
            for to in row.to {
                let to = if *to == SAME { from } else { to };
                out.push_str(&format!("    {from} --> {to}: {}\n", row.event));
            }
        }
    }
    for t in def.terminal {
        out.push_str(&format!("    {t} --> [*]\n"));
    }
    out
}

/// The Markdown page kept in `workflows/<name>.md` (a test compares the two).
pub fn markdown(def: &WorkflowDef) -> String {
    let mut out = format!(
        "# Workflow: {}\n\n<!-- Generated from the code's transition table by `rongcuo workflows markdown {}`; \
         a test fails when this file and the code disagree. -->\n\n",
        def.title, def.name
    );
    out.push_str(&format!(
        "Initial state `{}` (filed by: {}). Terminal states: {}.\n\n",
        def.initial,
        who(def.create_parties).join(", "),
        def.terminal
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str("| from | event | to | who | carries |\n|---|---|---|---|---|\n");
    for r in def.rows {
        let list = |xs: &[&str]| {
            xs.iter()
                .map(|x| {
                    if *x == SAME {
                        "(same)".to_string()
                    } else {
                        format!("`{x}`")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            list(r.from),
            r.event,
            list(r.to),
            who(r.parties).join(", "),
            r.carries.replace('|', "\\|")
        ));
    }
    out.push_str("\n`system` events are fired by timers, never by REST callers.\n\n```mermaid\n");
    out.push_str(&mermaid(def));
    out.push_str("```\n");
    out
}
