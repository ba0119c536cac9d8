//! Workflow A's transition table (the exoneration application): states, events, who may apply each
//! and what it carries. Data, not code: long because the procedure has that many steps.

use crate::domain::Role;
use crate::domain::workflow::{Party, Row, SAME, WorkflowDef};

use Party::{
    Applicant as APPLICANT, AssignedInvestigator as ASSIGNED, Subject as SUBJECT, System as SYSTEM,
};
const INTAKE: Party = Party::Role(Role::Intake);
const INVESTIGATOR: Party = Party::Role(Role::Investigator);
const REVIEWER: Party = Party::Role(Role::Reviewer);

/// Every state of Workflow A: the follow-up talk is tracked in each.
const ALL_STATES: &[&str] = &[
    "filed",
    "needs_supplement",
    "investigating",
    "deliberating",
    "exonerated",
    "mitigated",
    "denied",
    "appealed",
    "rejected",
    "withdrawn",
    "closed",
    "accountability",
];

/// Workflow A's table (docs/DOMAIN.md). `available_events`, `/api/v1/workflows/exoneration`,
/// `workflows/exoneration.md` and the diagram come from it; the machine is tested against it.
pub static DEF: WorkflowDef = WorkflowDef {
    name: "exoneration",
    title: "容错免责申请 / exoneration application",
    title_short: "容错纠错",
    collection: "exonerations",
    number_prefix: "RC",
    states_zh: &[
        ("filed", "已提交申请"),
        ("needs_supplement", "待补充材料"),
        ("investigating", "调查核实中"),
        ("deliberating", "研究认定中"),
        ("exonerated", "予以免责"),
        ("mitigated", "从轻/减轻处理"),
        ("denied", "不予容错"),
        ("appealed", "申诉复核中"),
        ("rejected", "不予受理"),
        ("withdrawn", "已撤回"),
        ("closed", "已办结"),
        ("accountability", "转入问责程序"),
    ],
    deadlines: &[
        ("supplement_overdue", "补充材料期限", "supplement due"),
        ("rectification_overdue", "整改期限", "rectification due"),
        ("appeal_window_expired", "申诉期限", "appeal window ends"),
        ("influence_end", "影响期", "influence period ends"),
        ("talk_overdue", "谈话期限", "follow-up talk due"),
    ],
    initial: "filed",
    states: ALL_STATES,
    terminal: &["rejected", "withdrawn", "closed", "accountability"],
    create_parties: &[
        Party::Role(Role::Cadre),
        Party::Role(Role::UnitAdmin),
        INVESTIGATOR,
    ],
    rows: &[
        Row {
            from: &["filed"],
            event: "request_supplement",
            to: &["needs_supplement"],
            parties: &[INTAKE, INVESTIGATOR],
            carries: "items, due_at",
        },
        Row {
            from: &["needs_supplement"],
            event: "supplement",
            to: &["filed"],
            parties: &[APPLICANT],
            carries: "material",
        },
        Row {
            from: &["needs_supplement"],
            event: "supplement_overdue",
            to: &[SAME],
            parties: &[SYSTEM],
            carries: "— (flags the case overdue)",
        },
        Row {
            from: &["filed", "needs_supplement"],
            event: "reject_intake",
            to: &["rejected"],
            parties: &[INTAKE, INVESTIGATOR],
            carries: "reason",
        },
        Row {
            from: &["filed"],
            event: "accept",
            to: &["investigating"],
            parties: &[INTAKE, INVESTIGATOR],
            carries: "investigator_id",
        },
        Row {
            from: &["investigating"],
            event: "submit_findings",
            to: &["deliberating"],
            parties: &[ASSIGNED],
            carries: "elements, red_lines (agreeing: an unfavourable motive is personal_gain, an unfavourable nature law_violation), recommendation, notes, circumstances (replaces the cited codes), conditions (of cited entries that require them)",
        },
        Row {
            from: &["deliberating"],
            event: "return_for_investigation",
            to: &["investigating"],
            parties: &[REVIEWER],
            carries: "reason",
        },
        Row {
            from: &["deliberating"],
            event: "decide",
            to: &["exonerated", "mitigated", "denied"],
            parties: &[REVIEWER],
            carries: "outcome, explanation, rectification (exonerate, mitigate), degree, sanction and influence_period_months (mitigate), overrides (exonerate: each unfavourable element); never the assigned investigator; a red line leaves only deny; exonerate and mitigate need a cited circumstance, exonerate one whose conditions are all met",
        },
        Row {
            from: &["exonerated", "mitigated"],
            event: "submit_rectification",
            to: &[SAME],
            parties: &[SUBJECT],
            carries: "report (rectification ordered or overdue → submitted)",
        },
        Row {
            from: &["exonerated", "mitigated"],
            event: "verify_rectification",
            to: &[SAME, "closed"],
            parties: &[INVESTIGATOR],
            carries: "accepted, comment, due_at (when not accepted: back to ordered); accepted: verified, and closed once no appeal can be lodged any more",
        },
        Row {
            from: &["exonerated", "mitigated"],
            event: "rectification_overdue",
            to: &[SAME],
            parties: &[SYSTEM],
            carries: "— (rectification ordered → overdue)",
        },
        Row {
            from: &["exonerated", "mitigated"],
            event: "extend_rectification",
            to: &[SAME],
            parties: &[INVESTIGATOR],
            carries: "due_at, reason (rectification → ordered)",
        },
        Row {
            from: &["exonerated", "mitigated"],
            event: "refer_accountability",
            to: &["accountability"],
            parties: &[REVIEWER],
            carries: "ground (overdue, ineffective: max_rejections reports rejected, refused: with evidence), reason; while the rectification is not verified",
        },
        Row {
            from: &["exonerated", "mitigated", "denied"],
            event: "appeal",
            to: &["appealed"],
            parties: &[SUBJECT],
            carries: "grounds (within the appeal window)",
        },
        Row {
            from: &["appealed"],
            event: "decide_appeal",
            to: &[
                "exonerated",
                "mitigated",
                "denied",
                "investigating",
                "closed",
            ],
            parties: &[REVIEWER],
            carries: "result (uphold → prior state, revise → new outcome, remand → investigating), explanation; never the original decider; closed when no rectification is pending",
        },
        Row {
            from: &["denied"],
            event: "close",
            to: &["closed"],
            parties: &[REVIEWER],
            carries: "reason (after the appeal window)",
        },
        Row {
            from: &["exonerated", "mitigated", "denied"],
            event: "appeal_window_expired",
            to: &["closed"],
            parties: &[SYSTEM],
            carries: "— (planned while the window is open and no rectification is pending)",
        },
        Row {
            from: &["exonerated", "mitigated", "denied"],
            event: "waive_appeal",
            to: &[SAME, "closed"],
            parties: &[SUBJECT],
            carries: "— (while an appeal can be lodged; closes the case unless a rectification is pending)",
        },
        Row {
            from: ALL_STATES,
            event: "record_talk",
            to: &[SAME],
            parties: &[INVESTIGATOR, Party::Role(Role::UnitAdmin)],
            carries: "held_on, participants, summary (the follow-up talk a sanctioning mitigation opened, in any state)",
        },
        Row {
            from: ALL_STATES,
            event: "talk_overdue",
            to: &[SAME],
            parties: &[SYSTEM],
            carries: "— (the follow-up talk was not held in time)",
        },
        Row {
            from: &["filed", "needs_supplement", "investigating", "deliberating"],
            event: "withdraw",
            to: &["withdrawn"],
            parties: &[APPLICANT],
            carries: "reason",
        },
    ],
};
