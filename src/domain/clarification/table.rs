//! Workflow B's transition table (the accusation clarification): states, events, who may apply each
//! and what it carries. Data, not code: long because the procedure has that many steps.

use crate::domain::Role;
use crate::domain::workflow::{Party, Row, SAME, WorkflowDef};

const INTAKE: Party = Party::Role(Role::Intake);
const INVESTIGATOR: Party = Party::Role(Role::Investigator);
const REVIEWER: Party = Party::Role(Role::Reviewer);
const UNIT_ADMIN: Party = Party::Role(Role::UnitAdmin);

/// Workflow B's table (docs/DOMAIN.md).
pub static DEF: WorkflowDef = WorkflowDef {
    name: "clarification",
    title: "信访举报澄清正名 / accusation clarification",
    title_short: "澄清正名",
    collection: "clarifications",
    number_prefix: "CQ",
    states_zh: &[
        ("received", "已登记"),
        ("dismissal_proposed", "拟不予调查，待审核"),
        ("dismissed", "不予调查"),
        ("inquiry", "函询中"),
        ("explained", "已说明情况"),
        ("cleared", "已采信了结"),
        ("investigating", "调查核实中"),
        ("substantiated", "反映问题属实"),
        ("unfounded", "反映问题不实"),
        ("clarified", "已澄清正名"),
        ("closed", "已办结"),
    ],
    deadlines: &[("inquiry_overdue", "函询回复期限", "inquiry reply due")],
    initial: "received",
    states: &[
        "received",
        "dismissal_proposed",
        "dismissed",
        "inquiry",
        "explained",
        "cleared",
        "investigating",
        "substantiated",
        "unfounded",
        "clarified",
        "closed",
    ],
    terminal: &["closed"],
    create_parties: &[INTAKE],
    rows: &[
        Row {
            from: &["received"],
            event: "propose_dismissal",
            to: &["dismissal_proposed"],
            parties: &[INTAKE, INVESTIGATOR],
            carries: "reason_code (subjective_speculation, labeling, unclear_leads), explanation (不予调查, decided by a reviewer)",
        },
        Row {
            from: &["dismissal_proposed"],
            event: "confirm_dismissal",
            to: &["dismissed"],
            parties: &[REVIEWER],
            carries: "— (never the proposer)",
        },
        Row {
            from: &["dismissal_proposed"],
            event: "reject_dismissal",
            to: &["received"],
            parties: &[REVIEWER],
            carries: "reason",
        },
        Row {
            from: &["received"],
            event: "send_inquiry",
            to: &["inquiry"],
            parties: &[INVESTIGATOR],
            carries: "questions, due_at (函询)",
        },
        Row {
            from: &["inquiry"],
            event: "submit_explanation",
            to: &["explained"],
            parties: &[Party::Subject, UNIT_ADMIN],
            carries: "explanation",
        },
        Row {
            from: &["inquiry"],
            event: "inquiry_overdue",
            to: &[SAME],
            parties: &[Party::System],
            carries: "— (flags the case overdue)",
        },
        Row {
            from: &["explained"],
            event: "accept_explanation",
            to: &["cleared"],
            parties: &[INVESTIGATOR],
            carries: "conclusion (采信了结)",
        },
        Row {
            from: &["received", "inquiry", "explained"],
            event: "open_investigation",
            to: &["investigating"],
            parties: &[INVESTIGATOR],
            carries: "investigator_id",
        },
        Row {
            from: &["investigating"],
            event: "conclude",
            to: &["substantiated", "unfounded"],
            parties: &[Party::AssignedInvestigator],
            carries: "finding (substantiated, partially_substantiated → substantiated; unfounded), report",
        },
        Row {
            from: &["substantiated"],
            event: "open_exoneration",
            to: &[SAME],
            parties: &[INVESTIGATOR],
            carries: "— (files a linked exoneration case ex officio, 同步考虑)",
        },
        Row {
            from: &["unfounded", "cleared"],
            event: "clarify",
            to: &["clarified"],
            parties: &[REVIEWER],
            carries: "methods (talk, meeting_notice, written_notice), scope, date (澄清正名)",
        },
        Row {
            from: &["unfounded", "cleared", "clarified", "dismissed"],
            event: "refer_false_accusation",
            to: &[SAME],
            parties: &[INVESTIGATOR],
            carries: "category (false_accusation, malicious_slander, rumour), evidence, accuser (\"reporter\" or {name, contact}, sealed); once; not after a dismissal for unclear leads",
        },
        Row {
            from: &["unfounded", "cleared", "clarified", "dismissed", "closed"],
            event: "record_referral_outcome",
            to: &[SAME],
            parties: &[REVIEWER],
            carries: "handling (none, education, discipline, criminal), blacklisted (false_accusation only), notes; once",
        },
        Row {
            from: &[
                "dismissed",
                "cleared",
                "clarified",
                "unfounded",
                "substantiated",
            ],
            event: "close",
            to: &["closed"],
            parties: &[REVIEWER],
            carries: "reason",
        },
    ],
};
