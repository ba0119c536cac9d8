//! The audit chain: each transition row carries a SHA-256 over its content and the
//! previous row's hash for the same case, so an edit behind the service's back shows.

use chrono::NaiveDateTime;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::time::format_at;

use crate::db::models::{AttachmentRow, TransitionRow};
use crate::db::{Db, DbError, repo};
use crate::error::AppError;
use crate::files::Store;

/// The `prev_hash` of a case's first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of a row: SHA-256 over a JSON array of its fields (no delimiter ambiguity).
pub fn row_hash(row: &TransitionRow) -> String {
    hash_of(
        &row.case_id,
        row.seq,
        &row.event,
        row.from_state.as_deref(),
        &row.to_state,
        &row.actor_id,
        &row.actor_role,
        &row.payload,
        &format_at(row.at),
        &row.prev_hash,
    )
}

/// [`row_hash`] of a row's fields as they are shown (`at` as the wire writes it): what an
/// offline verifier recomputes from an export's timeline.
#[allow(clippy::too_many_arguments)]
pub fn hash_of(
    case_id: &str,
    seq: i64,
    event: &str,
    from_state: Option<&str>,
    to_state: &str,
    actor_id: &str,
    actor_role: &str,
    payload: &str,
    at: &str,
    prev_hash: &str,
) -> String {
    let content = json!([
        case_id, seq, event, from_state, to_state, actor_id, actor_role, payload, at, prev_hash,
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
        // Outside the hash but derived from the chain: the time since the previous step (a
        // file or a note is none, and has none).
        let annotation = crate::domain::material::is_annotation(&row.event);
        let expected = if annotation {
            None
        } else {
            prev_at.map(|at| (row.at - at).num_seconds())
        };
        if row.stage_seconds != expected {
            return brk("stage_seconds is not the time since the previous step".into());
        }
        prev = row.hash.clone();
        prev_to = Some(row.to_state.clone());
        if !annotation {
            prev_at = Some(row.at);
        }
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

/// The result of verifying every chain and every stored file.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub cases: usize,
    pub rows: usize,
    pub breaks: Vec<Break>,
    /// Stored files (blobs) re-hashed.
    pub files: usize,
    pub bad_files: Vec<FileBreak>,
}

/// A stored file whose bytes or record no longer match what the chain recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileBreak {
    pub case_id: String,
    /// The attachment (its id and name) whose file it is.
    pub attachment: String,
    pub reason: String,
}

impl std::fmt::Display for FileBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "case {} file {}: {}",
            self.case_id, self.attachment, self.reason
        )
    }
}

/// Re-hashes every stored file, chunk by chunk (sealed ones opened with `store`'s key), and
/// checks each attachment against its blob and against the `attach` row of the chain.
pub fn verify_files(store: &Store) -> Result<(usize, Vec<FileBreak>), AppError> {
    let mut bad = Vec::new();
    let mut count = 0;
    let mut after = String::new();
    loop {
        let page = store.db.read_blocking(|c| {
            repo::files::complete_blobs(c, &after, 100).map_err(AppError::from)
        })?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for blob in page {
            count += 1;
            let attachments = store
                .db
                .read_blocking(|c| repo::files::of_blob(c, &blob.id).map_err(AppError::from))?;
            let name = |a: &AttachmentRow| {
                if a.visibility == "sealed" {
                    format!("{} (sealed)", a.id)
                } else {
                    format!("{} ({})", a.id, a.filename)
                }
            };
            let every = |reason: String, bad: &mut Vec<FileBreak>| {
                let named: Vec<String> = attachments.iter().map(name).collect();
                bad.push(FileBreak {
                    case_id: blob.case_id.clone(),
                    attachment: if named.is_empty() {
                        format!("blob {}", blob.id)
                    } else {
                        named.join(", ")
                    },
                    reason,
                });
            };
            let mut sha = Sha256::new();
            let mut size = 0u64;
            let mut failed = None;
            for seq in 0..blob.chunks {
                match store.get_blocking(&blob, seq) {
                    Ok(bytes) => {
                        size += bytes.len() as u64;
                        sha.update(&bytes);
                    }
                    Err(e) => {
                        failed = Some(format!(
                            "chunk {seq} cannot be read: {}",
                            e.cause.unwrap_or(e.detail)
                        ));
                        break;
                    }
                }
            }
            if let Some(reason) = failed {
                every(reason, &mut bad);
                continue;
            }
            let sha = hex::encode(sha.finalize());
            if Some(&sha) != blob.sha256.as_ref() || size != blob.size as u64 {
                every(
                    format!(
                        "its bytes changed: they hash to {sha} ({size} bytes), recorded {} ({} bytes)",
                        blob.sha256.as_deref().unwrap_or("nothing"),
                        blob.size
                    ),
                    &mut bad,
                );
                continue;
            }
            for a in &attachments {
                let recorded = store.db.read_blocking(|c| {
                    repo::transitions::one(c, &a.case_id, a.seq).map_err(AppError::from)
                })?;
                let payload: Option<serde_json::Value> = recorded
                    .filter(|r| r.event == "attach")
                    .and_then(|r| serde_json::from_str(&r.payload).ok());
                let chained = payload.as_ref().is_some_and(|p| {
                    p["attachment_id"] == a.id.as_str()
                        && p["sha256"] == sha.as_str()
                        && p["size"] == a.size
                        && p["media_type"] == a.media_type.as_str()
                        && p["visibility"] == a.visibility.as_str()
                });
                if a.sha256 != sha || a.size as u64 != size || !chained {
                    bad.push(FileBreak {
                        case_id: a.case_id.clone(),
                        attachment: name(a),
                        reason: format!(
                            "the attachment's record does not match the timeline row {} that recorded it",
                            a.seq
                        ),
                    });
                }
            }
        }
    }
    Ok((count, bad))
}

/// Verifies every case's chain, then every stored file.
pub fn verify_everything(store: &Store) -> Result<Report, AppError> {
    let mut report = verify_all(&store.db)?;
    let (files, bad) = verify_files(store)?;
    report.files = files;
    report.bad_files = bad;
    Ok(report)
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
