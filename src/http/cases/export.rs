//! `GET …/{id}/export`: the case file (卷宗) as one ZIP, streamed. The JSON entries are
//! written from what the caller may see; each file follows its header chunk by chunk; the
//! manifest comes last (the format is `export`'s).

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::WorkflowName;
use super::material::NoteBody;
use super::view::{CaseBody, TimelineBody};
use crate::auth::Caller;
use crate::engine::CaseFile;
use crate::error::{AppError, ErrorKind};
use crate::export::{self, Entry, Link, Manifest, ZipWriter};
use crate::http::AppState;

type Piece = Result<web::Bytes, AppError>;
/// An entry written whole: its name and bytes.
type Whole = (String, Vec<u8>);

fn write_error(e: export::WriteError) -> AppError {
    AppError::new(ErrorKind::TooLarge, e.to_string())
}

/// The JSON entries and the manifest's chain, from the case file.
fn json_entries(
    state: &AppState,
    wf: &WorkflowName,
    file: &CaseFile,
    caller: &Caller,
) -> Result<(Vec<Whole>, Vec<Link>), AppError> {
    let workflow = state
        .engine
        .registry
        .get(wf.0)
        .ok_or_else(AppError::not_found)?;
    let case = serde_json::to_value(CaseBody::of(workflow, &file.seen, &caller.0))
        .map_err(|e| AppError::internal(e.to_string()))?;
    let mut timeline = serde_json::to_value(TimelineBody::of(workflow, &file.timeline, &caller.0))
        .map_err(|e| AppError::internal(e.to_string()))?;
    let mut chain = Vec::new();
    if let Some(items) = timeline["items"].as_array_mut() {
        for item in items {
            let hash = item["hash"].as_str().unwrap_or("").to_string();
            let redacted = export::item_hash(&file.seen.case.id, item) != hash;
            item["redacted"] = json!(redacted);
            chain.push(Link {
                seq: item["seq"].as_i64().unwrap_or(0),
                event: item["event"].as_str().unwrap_or("").to_string(),
                prev_hash: item["prev_hash"].as_str().unwrap_or("").to_string(),
                hash,
                redacted,
            });
        }
    }
    let notes: Vec<NoteBody> = file.notes.iter().map(NoteBody::of).collect();
    let pretty = |v: &Value| serde_json::to_vec_pretty(v).unwrap_or_default();
    let entries = vec![
        ("case.json".to_string(), pretty(&case)),
        ("timeline.json".to_string(), pretty(&timeline)),
        ("notes.json".to_string(), pretty(&json!({ "items": notes }))),
    ];
    Ok((entries, chain))
}

#[tracing::instrument(skip_all, fields(workflow = wf.0, case.id = %path))]
pub async fn export_case(
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let file = state
        .engine
        .case_file(wf.0, path.into_inner(), caller.0.clone())
        .await?;
    let (json_entries, chain) = json_entries(&state, &wf, &file, &caller)?;
    let def = state
        .engine
        .registry
        .get(wf.0)
        .ok_or_else(AppError::not_found)?
        .def();
    let number = def.case_number(&file.seen.case.id);
    let mut manifest = Manifest {
        format: export::FORMAT.into(),
        case_id: file.seen.case.id.clone(),
        case_number: number.clone(),
        workflow: def.name.into(),
        audit_head: file.head.clone(),
        exported_at: crate::time::rfc3339(state.engine.clock.now()),
        exported_by: caller.0.id.clone(),
        entries: Vec::new(),
        chain,
    };
    // Headers are planned up front, so a case too large for the format is refused before
    // a byte is sent.
    let mut zip = ZipWriter::default();
    let mut heads = Vec::new();
    for (name, bytes) in &json_entries {
        heads.push(zip.entry(name, bytes).map_err(write_error)?);
        manifest.entries.push(Entry {
            path: name.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        });
    }
    let mut file_heads = Vec::new();
    for (a, blob) in &file.files {
        let path = export::file_path(a.seq, &a.filename);
        let crc = blob.crc32.unwrap_or_default() as u32;
        file_heads.push(
            zip.header(&path, blob.size as u64, crc)
                .map_err(write_error)?,
        );
        manifest.entries.push(Entry {
            path,
            size: a.size as u64,
            sha256: a.sha256.clone(),
        });
    }
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let manifest_entry = zip
        .entry(export::MANIFEST, &manifest_bytes)
        .map_err(write_error)?;
    let tail = zip.finish().map_err(write_error)?;

    // Written by a task of its own, a piece at a time, as the client takes them.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Piece>(4);
    let store = state.engine.store();
    let files = file.files.clone();
    tokio::spawn(async move {
        let send = |p: Piece| {
            let tx = tx.clone();
            async move { tx.send(p).await.is_ok() }
        };
        for head in heads {
            if !send(Ok(head.into())).await {
                return;
            }
        }
        for ((_, blob), head) in files.iter().zip(file_heads) {
            if !send(Ok(head.into())).await {
                return;
            }
            for seq in 0..blob.chunks {
                let piece = store.get(blob, seq).await.map(web::Bytes::from);
                let failed = piece.is_err();
                if let Err(e) = &piece {
                    tracing::error!(error = %e, "a stored file could not be read for an export");
                }
                if !send(piece).await || failed {
                    return;
                }
            }
        }
        let _ = send(Ok(manifest_entry.into())).await && send(Ok(tail.into())).await;
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(format!("{number}.zip"))],
    };
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(disposition)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .streaming(body))
}
