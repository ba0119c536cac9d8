//! The audit chain: each transition row carries a SHA-256 over its content and the
//! previous row's hash for the same case, so an edit behind the service's back shows.

use chrono::NaiveDateTime;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::time::format_at;

use crate::db::models::TransitionRow;
use crate::db::{Db, DbError, repo};

/// The `prev_hash` of a case's first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of a row: SHA-256 over a JSON array of its fields (no delimiter ambiguity).
pub fn row_hash(row: &TransitionRow) -> String {
    let content = json!([
        row.case_id,
        row.seq,
        row.event,
        row.from_state,
        row.to_state,
        row.actor_id,
        row.actor_role,
        row.payload,
        format_at(row.at),
        row.prev_hash,
    ]);
    hex::encode(Sha256::digest(content.to_string().as_bytes()))
}

/// Where a chain breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    pub case_id: String,
    pub seq: i64,
    pub reason: String,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "case {} row {}: {}", self.case_id, self.seq, self.reason)
    }
}

/// Checks one case's rows (oldest first) against its stored state, version and head.
pub fn verify_case(
    case_id: &str,
    state: &str,
    version: i64,
    head: &str,
    rows: &[TransitionRow],
) -> Option<Break> {
    let mut prev = GENESIS.to_string();
    let mut prev_to: Option<String> = None;
    let mut prev_at: Option<NaiveDateTime> = None;
    for (i, row) in rows.iter().enumerate() {
        let brk = |reason: String| {
            Some(Break {
                case_id: case_id.to_string(),
                seq: row.seq,
                reason,
            })
        };
        if row.seq != i as i64 + 1 {
            return brk(format!("expected row {} here", i + 1));
        }
        if row.prev_hash != prev {
            return brk("prev_hash does not match the previous row's hash".into());
        }
        if row.from_state != prev_to {
            return brk("from_state does not match the previous row's to_state".into());
        }
        if row_hash(row) != row.hash {
            return brk("the row's content does not match its hash".into());
        }
        // Outside the hash but derived from the chain: the time since the previous row.
        if row.stage_seconds != prev_at.map(|at| (row.at - at).num_seconds()) {
            return brk("stage_seconds is not the time since the previous row".into());
        }
        prev = row.hash.clone();
        prev_to = Some(row.to_state.clone());
        prev_at = Some(row.at);
    }
    let last = rows.last().map(|r| r.seq).unwrap_or(0);
    if last != version {
        return Some(Break {
            case_id: case_id.into(),
            seq: last + 1,
            reason: format!("the case is at version {version} but its chain ends at row {last}"),
        });
    }
    if prev_to.as_deref() != Some(state) {
        return Some(Break {
            case_id: case_id.into(),
            seq: last,
            reason: format!("the case's state `{state}` is not where its chain ends"),
        });
    }
    if head != prev {
        return Some(Break {
            case_id: case_id.into(),
            seq: last,
            reason: "the case's audit head is not its chain's last hash".into(),
        });
    }
    None
}

/// The result of verifying every chain.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub cases: usize,
    pub rows: usize,
    pub breaks: Vec<Break>,
}

/// Verifies every case's chain.
pub fn verify_all(db: &Db) -> Result<Report, DbError> {
    db.read_blocking(|conn| {
        let mut report = Report::default();
        for (id, state, version, head) in repo::cases::all_ids(conn)? {
            let rows = repo::transitions::list_for_case(conn, &id)?;
            report.cases += 1;
            report.rows += rows.len();
            if let Some(b) = verify_case(&id, &state, version, &head, &rows) {
                report.breaks.push(b);
            }
        }
        Ok(report)
    })
}
