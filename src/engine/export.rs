//! What a case file (卷宗) holds for one caller, read in one snapshot: the case, its
//! timeline, its notes and its files as they may see them. `http/` writes the archive.

use super::{Engine, Seen, Timeline};
use crate::db::models::{AttachmentRow, BlobRow, NoteRow};
use crate::db::repo;
use crate::domain::Actor;
use crate::domain::access;
use crate::error::AppError;

/// Everything one caller's case file holds.
#[derive(Clone, Debug)]
pub struct CaseFile {
    pub seen: Seen,
    pub timeline: Timeline,
    pub notes: Vec<NoteRow>,
    /// Each file with its blob, oldest first (names clear).
    pub files: Vec<(AttachmentRow, BlobRow)>,
    /// The hash of the case's newest audit row.
    pub head: String,
}

impl Engine {
    /// The case file of a case the caller may see.
    pub async fn case_file(
        &self,
        workflow: &str,
        case_id: String,
        actor: Actor,
    ) -> Result<CaseFile, AppError> {
        let name = self.workflow(workflow)?.def().name;
        let engine = self.clone();
        self.db
            .read(move |conn| {
                let (case, head, seen_kinds) =
                    engine.visible_material(conn, name, &case_id, &actor)?;
                let wf = engine.workflow(name)?;
                let mut rows = repo::transitions::list_for_case(conn, &case.id)?;
                engine.redact_material(conn, wf, &case, &actor, &mut rows)?;
                let mails = repo::outbox::list_for_case(conn, &case.id)?;
                let notes = repo::files::notes(conn, &case.id, &seen_kinds, 0, i64::MAX)?;
                let mut files = Vec::new();
                for mut row in repo::files::list(conn, &case.id, &seen_kinds, None, i64::MAX)? {
                    let blob = repo::files::blob(conn, &row.blob_id)?
                        .filter(|b| b.complete)
                        .ok_or_else(|| {
                            AppError::internal(format!("attachment {} has no blob", row.id))
                        })?;
                    engine.clear_name(&mut row);
                    files.push((row, blob));
                }
                let available = access::available_events(wf, &actor, &case, engine.clock.now());
                let timeline = Timeline {
                    case: case.clone(),
                    rows,
                    mails,
                };
                Ok(CaseFile {
                    seen: Seen { case, available },
                    timeline,
                    notes,
                    files,
                    head,
                })
            })
            .await
    }
}
