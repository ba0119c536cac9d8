//! The transition table's type: who may apply an event, the rows, and a workflow's
//! definition (its states and their Chinese names, its events, deadlines, case numbers).
//! Every workflow writes one as data; `available_events`, the document, the Markdown pages
//! and the diagram are read from it.

use super::Role;

/// Who may apply an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// Anyone holding this staff role in the case's jurisdiction.
    Role(Role),
    /// The person who filed the case.
    Applicant,
    /// The cadre the case is about.
    Subject,
    /// The investigator assigned to the case.
    AssignedInvestigator,
    /// Timers.
    System,
}

impl Party {
    pub fn label(self) -> String {
        match self {
            Party::Role(r) => r.as_str().to_string(),
            Party::Applicant => "applicant".into(),
            Party::Subject => "subject".into(),
            Party::AssignedInvestigator => "assigned_investigator".into(),
            Party::System => "system".into(),
        }
    }
}

/// `to` value meaning "the state the case was in".
pub const SAME: &str = "(same)";

/// One row of a workflow's transition table (docs/DOMAIN.md).
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub from: &'static [&'static str],
    pub event: &'static str,
    pub to: &'static [&'static str],
    pub parties: &'static [Party],
    pub carries: &'static str,
}

/// A workflow's static shape: the one table that drives `available_events`, the
/// workflow endpoint, the docs and the diagram, and that the machine is tested against.
#[derive(Debug)]
pub struct WorkflowDef {
    pub name: &'static str,
    /// "中文 / English".
    pub title: &'static str,
    /// What mail calls the procedure in a subject line (容错纠错).
    pub title_short: &'static str,
    /// The path segment of its cases: `/api/v1/{collection}`.
    pub collection: &'static str,
    /// The letters before a case number (`RC-…`).
    pub number_prefix: &'static str,
    /// Each state's name in Chinese, as mail and the ledger print it.
    pub states_zh: &'static [(&'static str, &'static str)],
    /// Each deadline a timer watches: (timer, 中文, English), as mail names it.
    pub deadlines: &'static [(&'static str, &'static str, &'static str)],
    pub initial: &'static str,
    pub states: &'static [&'static str],
    pub terminal: &'static [&'static str],
    pub create_parties: &'static [Party],
    pub rows: &'static [Row],
}

impl WorkflowDef {
    /// The collection's path, `/api/v1/exonerations`.
    pub fn path(&self) -> String {
        format!("/api/v1/{}", self.collection)
    }

    /// `state` in Chinese (the state itself when the table has no name for it).
    pub fn state_zh<'a>(&self, state: &'a str) -> &'a str {
        self.states_zh
            .iter()
            .find(|(s, _)| *s == state)
            .map(|(_, zh)| *zh)
            .unwrap_or(state)
    }

    /// What the deadline a timer watches is called: (中文, English).
    pub fn deadline_label(&self, timer: &str) -> (&'static str, &'static str) {
        self.deadlines
            .iter()
            .find(|(t, _, _)| *t == timer)
            .map(|(_, zh, en)| (*zh, *en))
            .unwrap_or(("期限", "deadline"))
    }

    /// A short, readable case number: the prefix and the id's last eight hex digits.
    pub fn case_number(&self, id: &str) -> String {
        let digits: Vec<char> = id.chars().filter(|c| *c != '-').collect();
        let tail: String = digits[digits.len().saturating_sub(8)..].iter().collect();
        format!("{}-{}", self.number_prefix, tail.to_uppercase())
    }

    pub fn events(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for row in self.rows {
            if !out.contains(&row.event) {
                out.push(row.event);
            }
        }
        out
    }

    pub fn rows_for(&self, event: &str) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.event == event)
    }

    pub fn allows(&self, state: &str, event: &str) -> bool {
        self.rows_for(event).any(|r| r.from.contains(&state))
    }

    pub fn parties(&self, event: &str) -> &'static [Party] {
        self.rows
            .iter()
            .find(|r| r.event == event)
            .map(|r| r.parties)
            .unwrap_or(&[])
    }

    /// Events a human may send (timer-only events excluded).
    pub fn is_timer_event(&self, event: &str) -> bool {
        self.parties(event) == [Party::System]
    }
}
