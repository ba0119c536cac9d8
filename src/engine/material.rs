//! Evidence files and notes through the engine: an upload begins (may this caller add a
//! file here, and how much room is left), its chunks go to the [`Store`](crate::files::Store)
//! as they arrive, and it ends in one transaction that records it in the case's chain
//! (an `attach` row), names it in `attachments` and completes its blob, or drops the chunks
//! when the case already holds that content. A note is one such transaction (`note`).
//! What a caller may see of either follows `domain::material`.

use serde_json::{Value, json};

use super::reads::load_case_to_move;
use super::writes::{Material, TxError, Writes};
use super::{Engine, Seen};
use crate::db::models::{AttachmentRow, BlobRow, CaseRow, NoteRow};
use crate::db::{DbConnection, repo};
use crate::domain::Actor;
use crate::domain::material::{self, Visibility};
use crate::domain::workflow::{Case, Workflow};
use crate::error::{AppError, ErrorKind};
use crate::files::Received;

/// The limits of uploads (`attachments.*` of the configuration).
#[derive(Clone, Debug)]
pub struct FileLimits {
    pub max_file: u64,
    pub max_case: u64,
    pub media_types: Vec<String>,
}

/// An upload under way: its blob (not yet complete) and how many bytes it may have.
#[derive(Clone, Debug)]
pub struct Upload {
    pub blob: BlobRow,
    pub visibility: Visibility,
    pub limit: u64,
    workflow: &'static str,
}

/// A file as its caller may see it (the name clear, the blob's facts beside it).
#[derive(Clone, Debug)]
pub struct Attachment {
    pub row: AttachmentRow,
    pub blob: Option<BlobRow>,
}

/// What the caller asked to add as a note.
#[derive(Clone, Debug)]
pub struct NewNote {
    pub body: String,
    pub visibility: Visibility,
}

fn too_large(detail: String) -> AppError {
    AppError::new(ErrorKind::TooLarge, detail)
}

impl Engine {
    /// Opens a sealed file name for whoever may read it.
    pub(super) fn clear_name(&self, row: &mut AttachmentRow) {
        if row.visibility == Visibility::Sealed.as_str() {
            row.filename = self
                .sealer
                .open(&row.case_id, &row.filename)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_else(|| "(sealed: cannot be opened with the configured key)".into());
        }
    }

    /// Checks that `actor` may add a file of `visibility` to the case now and that it has
    /// room for `declared` bytes, then starts its blob.
    pub async fn begin_upload(
        &self,
        workflow: &str,
        case_id: String,
        actor: Actor,
        visibility: Visibility,
        declared: Option<u64>,
    ) -> Result<Upload, AppError> {
        let name = self.workflow(workflow)?.def().name;
        let engine = self.clone();
        let (case, stored) = self
            .db
            .read(move |conn| {
                let (case, _, _, _) = load_case_to_move(conn, name, &case_id, &actor)?;
                let wf = engine.workflow(name)?;
                material::may_add(wf, &actor, &case, visibility, engine.clock.now(), "a file")?;
                let stored = repo::files::stored_bytes(conn, &case.id)?;
                Ok::<_, AppError>((case, stored))
            })
            .await?;
        let left = self.files.max_case.saturating_sub(stored.max(0) as u64);
        let limit = self.files.max_file.min(left);
        if let Some(n) = declared {
            if n > self.files.max_file {
                return Err(too_large(format!(
                    "the file has {n} bytes; at most {} are allowed (attachments.max_file_bytes)",
                    self.files.max_file
                )));
            }
            if n > left {
                return Err(too_large(format!(
                    "the case's files may take {} bytes in all and {left} are left; this file has {n}",
                    self.files.max_case
                )));
            }
        }
        if left == 0 {
            return Err(too_large(format!(
                "the case's files already take the {} bytes allowed (attachments.max_case_bytes)",
                self.files.max_case
            )));
        }
        let blob = BlobRow {
            id: uuid::Uuid::now_v7().to_string(),
            case_id: case.id.clone(),
            sealed: visibility == Visibility::Sealed,
            complete: false,
            sha256: None,
            crc32: None,
            size: 0,
            chunks: 0,
            created_at: crate::time::truncate_micros(self.clock.now().naive_utc()),
        };
        let row = blob.clone();
        self.db
            .write(move |conn| repo::files::insert_blob(conn, &row).map_err(AppError::from))
            .await?;
        Ok(Upload {
            blob,
            visibility,
            limit,
            workflow: name,
        })
    }

    /// Records a received upload: its `attach` row in the chain, its attachment, and its
    /// blob (complete, or dropped for the copy the case already holds).
    pub async fn finish_upload(
        &self,
        upload: Upload,
        received: Received,
        filename: String,
        media_type: String,
        actor: Actor,
    ) -> Result<Attachment, AppError> {
        let name = upload.workflow;
        self.with_retries(move |engine, conn| {
            let wf = engine.workflow(name)?;
            let now = engine.clock.now();
            let (case, head, timers, known) =
                load_case_to_move(conn, name, &upload.blob.case_id, &actor)?;
            let role = material::may_add(wf, &actor, &case, upload.visibility, now, "a file")?;
            let stored = repo::files::stored_bytes(conn, &case.id)?.max(0) as u64;
            if stored > engine.files.max_case {
                return Err(too_large(format!(
                    "the case's files may take {} bytes in all; with this file they would take {stored}",
                    engine.files.max_case
                ))
                .into());
            }
            let sealed = upload.blob.sealed;
            let mut writes = Writes::default();
            let existing = repo::files::find_content(conn, &case.id, &received.sha256, sealed)?;
            let blob_id = match &existing {
                Some(b) => {
                    writes.material.push(Material::Discard(upload.blob.id.clone()));
                    b.id.clone()
                }
                None => {
                    writes.material.push(Material::Complete(BlobRow {
                        complete: true,
                        sha256: Some(received.sha256.clone()),
                        crc32: Some(i64::from(received.crc32)),
                        size: received.size as i64,
                        chunks: received.chunks,
                        ..upload.blob.clone()
                    }));
                    upload.blob.id.clone()
                }
            };
            let stored_name = if sealed {
                engine
                    .sealer
                    .seal(&case.id, filename.as_bytes())
                    .map_err(AppError::internal)?
            } else {
                filename.clone()
            };
            let id = uuid::Uuid::now_v7().to_string();
            let mut payload = json!({
                "attachment_id": id,
                "media_type": media_type,
                "size": received.size,
                "sha256": received.sha256,
                "visibility": upload.visibility.as_str(),
            });
            payload[if sealed { "filename_sealed" } else { "filename" }] = json!(stored_name);
            let next = engine.annotate(conn, wf, &case, &head, &timers, &known, "attach", &actor, role, &payload, now, &mut writes)?;
            let row = AttachmentRow {
                id,
                case_id: case.id.clone(),
                blob_id,
                seq: next.version,
                filename: stored_name,
                media_type: media_type.clone(),
                size: received.size as i64,
                sha256: received.sha256.clone(),
                visibility: upload.visibility.as_str().to_string(),
                uploaded_by: actor.id.clone(),
                uploaded_role: role.as_str().to_string(),
                at: crate::time::truncate_micros(now.naive_utc()),
            };
            writes.material.push(Material::Attachment(row.clone()));
            let mut row = row;
            row.filename = filename.clone();
            Ok((Attachment { row, blob: None }, writes))
        })
        .await
    }

    /// Writes one annotation (`attach`, `note`): the case's version and audit head move on,
    /// nothing else of it changes. Returns the case as it will be.
    #[allow(clippy::too_many_arguments)]
    fn annotate(
        &self,
        conn: &mut DbConnection,
        wf: &dyn Workflow,
        case: &Case,
        head: &str,
        timers: &[crate::db::models::TimerRow],
        known: &super::reads::Known,
        event: &str,
        actor: &Actor,
        role: crate::domain::Role,
        payload: &Value,
        now: chrono::DateTime<chrono::Utc>,
        writes: &mut Writes,
    ) -> Result<Case, TxError> {
        let mut next = case.clone();
        next.version = case.version + 1;
        let new_head = self.record(
            conn,
            &next,
            head,
            timers,
            event,
            Some((&case.state, case.updated_at)),
            actor,
            role,
            payload,
            now,
            known,
            writes,
        )?;
        writes.update = Some((
            CaseRow::from_case(&next, &new_head, wf.tallies(&next)),
            case.version,
        ));
        Ok(next)
    }

    /// A case the caller may see, its audit head, and the visibilities of material they
    /// see on it.
    pub(super) fn visible_material(
        &self,
        conn: &mut DbConnection,
        workflow: &'static str,
        case_id: &str,
        actor: &Actor,
    ) -> Result<(Case, String, Vec<&'static str>), AppError> {
        let (case, head, _, _) = load_case_to_move(conn, workflow, case_id, actor)?;
        let wf = self.workflow(workflow)?;
        let seen = material::visible(wf, actor, &case)
            .into_iter()
            .map(Visibility::as_str)
            .collect();
        Ok((case, head, seen))
    }

    /// A page of the files of a case the caller may see, oldest first, after `after`.
    pub async fn attachments(
        &self,
        workflow: &str,
        case_id: String,
        actor: Actor,
        after: Option<String>,
        limit: i64,
    ) -> Result<(Vec<Attachment>, bool), AppError> {
        let name = self.workflow(workflow)?.def().name;
        let engine = self.clone();
        self.db
            .read(move |conn| {
                let (case, _, seen) = engine.visible_material(conn, name, &case_id, &actor)?;
                let mut rows =
                    repo::files::list(conn, &case.id, &seen, after.as_deref(), limit + 1)?;
                let more = rows.len() as i64 > limit;
                rows.truncate(limit as usize);
                let items = rows
                    .into_iter()
                    .map(|mut row| {
                        engine.clear_name(&mut row);
                        Attachment { row, blob: None }
                    })
                    .collect();
                Ok((items, more))
            })
            .await
    }

    /// One file of a case, with its blob, if the caller may see it (else 404).
    pub async fn attachment(
        &self,
        workflow: &str,
        case_id: String,
        attachment_id: String,
        actor: Actor,
    ) -> Result<Attachment, AppError> {
        let name = self.workflow(workflow)?.def().name;
        let engine = self.clone();
        self.db
            .read(move |conn| {
                let (case, _, _, _) = load_case_to_move(conn, name, &case_id, &actor)?;
                let wf = engine.workflow(name)?;
                let mut row = repo::files::attachment(conn, &case.id, &attachment_id)?
                    .filter(|r| {
                        Visibility::parse(&r.visibility)
                            .is_some_and(|v| material::sees(wf, &actor, &case, v))
                    })
                    .ok_or_else(AppError::not_found)?;
                let blob = repo::files::blob(conn, &row.blob_id)?
                    .filter(|b| b.complete)
                    .ok_or_else(|| {
                        AppError::internal(format!("attachment {} has no blob", row.id))
                    })?;
                engine.clear_name(&mut row);
                Ok(Attachment {
                    row,
                    blob: Some(blob),
                })
            })
            .await
    }

    /// Adds a note to a case: its `note` row in the chain (mailed by the `note` rule).
    pub async fn add_note(
        &self,
        workflow: &str,
        case_id: String,
        actor: Actor,
        note: NewNote,
    ) -> Result<(NoteRow, Seen), AppError> {
        let name = self.workflow(workflow)?.def().name;
        self.with_retries(move |engine, conn| {
            let wf = engine.workflow(name)?;
            let now = engine.clock.now();
            let (case, head, timers, known) = load_case_to_move(conn, name, &case_id, &actor)?;
            let role = material::may_add(wf, &actor, &case, note.visibility, now, "a note")?;
            let payload = json!({"body": note.body, "visibility": note.visibility.as_str()});
            let mut writes = Writes::default();
            let next = engine.annotate(
                conn,
                wf,
                &case,
                &head,
                &timers,
                &known,
                "note",
                &actor,
                role,
                &payload,
                now,
                &mut writes,
            )?;
            let row = NoteRow {
                case_id: case.id.clone(),
                seq: next.version,
                body: note.body.clone(),
                visibility: note.visibility.as_str().to_string(),
                author_id: actor.id.clone(),
                author_role: role.as_str().to_string(),
                at: crate::time::truncate_micros(now.naive_utc()),
            };
            writes.material.push(Material::Note(row.clone()));
            let seen = Seen {
                available: crate::domain::access::available_events(wf, &actor, &next, now),
                case: next,
            };
            Ok(((row, seen), writes))
        })
        .await
    }

    /// A page of the notes of a case the caller may see, after timeline row `after`.
    pub async fn notes(
        &self,
        workflow: &str,
        case_id: String,
        actor: Actor,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<NoteRow>, bool), AppError> {
        let name = self.workflow(workflow)?.def().name;
        let engine = self.clone();
        self.db
            .read(move |conn| {
                let (case, _, seen) = engine.visible_material(conn, name, &case_id, &actor)?;
                let mut rows = repo::files::notes(conn, &case.id, &seen, after, limit + 1)?;
                let more = rows.len() as i64 > limit;
                rows.truncate(limit as usize);
                Ok((rows, more))
            })
            .await
    }

    /// Checks the files an event cites (`attachments: [ids]`): each must be one of the case's
    /// files that the caller may see. Returns them in the order cited, without repeats.
    pub(super) fn cited(
        &self,
        conn: &mut DbConnection,
        wf: &dyn Workflow,
        case: &Case,
        actor: &Actor,
        event: &str,
        value: &Value,
    ) -> Result<Vec<String>, AppError> {
        if !material::CITING_EVENTS.contains(&event) {
            return Err(AppError::validation(
                "attachments",
                format!(
                    "`{event}` cites no material; the events that do: {}",
                    material::CITING_EVENTS.join(", ")
                ),
            ));
        }
        let Some(items) = value.as_array() else {
            return Err(AppError::validation(
                "attachments",
                "must be an array of attachment ids",
            ));
        };
        let mut ids: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(id) = item.as_str() else {
                return Err(AppError::validation(
                    format!("attachments[{i}]"),
                    "must be an attachment id (a string)",
                ));
            };
            if !ids.iter().any(|x| x == id) {
                ids.push(id.to_string());
            }
        }
        if ids.len() > 100 {
            return Err(AppError::validation(
                "attachments",
                "may cite at most 100 files",
            ));
        }
        let found = repo::files::by_ids(conn, &case.id, &ids)?;
        for (i, id) in ids.iter().enumerate() {
            let ok = found.iter().any(|r| {
                &r.id == id
                    && Visibility::parse(&r.visibility)
                        .is_some_and(|v| material::sees(wf, actor, case, v))
            });
            if !ok {
                return Err(AppError::validation(
                    format!("attachments[{i}]"),
                    format!("`{id}` is not a file of this case that you may see"),
                ));
            }
        }
        Ok(ids)
    }
}

impl Engine {
    /// Forgets uploads begun longer than `age` ago that never completed (their process
    /// died, or the client went away mid-way); a few at a time. How many it dropped.
    pub async fn sweep_uploads(&self, age: chrono::Duration) -> Result<usize, AppError> {
        let before = (self.clock.now() - age).naive_utc();
        let stale = self
            .db
            .read(move |c| repo::files::stale_uploads(c, before, 20).map_err(AppError::from))
            .await?;
        let n = stale.len();
        for id in stale {
            tracing::info!(blob.id = %id, "an abandoned upload swept");
            self.store().discard(id).await;
        }
        Ok(n)
    }

    /// Where files' bytes are kept.
    pub fn store(&self) -> crate::files::Store {
        crate::files::Store {
            db: self.db.clone(),
            sealer: self.sealer.clone(),
        }
    }
}
