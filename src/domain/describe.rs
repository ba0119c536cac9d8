//! A workflow's table rendered for people and clients: JSON, Markdown, Mermaid. All from
//! the same `WorkflowDef` that drives `available_events` and that the machine is tested
//! against, so the documents cannot drift from the code.

use serde_json::{Value, json};

use super::workflow::{Party, SAME, WorkflowDef};

fn who(parties: &[Party]) -> Vec<String> {
    parties.iter().map(|p| p.label()).collect()
}

pub fn to_json(def: &WorkflowDef, catalogues: Value) -> Value {
    let events: Vec<Value> = def
        .events()
        .into_iter()
        .map(|e| json!({"name": e, "who": who(def.parties(e)), "timer": def.is_timer_event(e)}))
        .collect();
    let transitions: Vec<Value> = def
        .rows
        .iter()
        .map(|r| json!({"from": r.from, "event": r.event, "to": r.to, "who": who(r.parties), "carries": r.carries}))
        .collect();
    // Every party that acts in this workflow, from the same rows.
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
    let mut v = json!({
        "name": def.name,
        "roles": roles,
        "title": def.title,
        "initial": def.initial,
        "states": def.states,
        "terminal": def.terminal,
        "create": {"who": who(def.create_parties), "to": def.initial},
        "events": events,
        "transitions": transitions,
    });
    if let (Value::Object(obj), Value::Object(cat)) = (&mut v, catalogues) {
        obj.extend(cat);
    }
    v
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
