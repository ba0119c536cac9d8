//! A case's evidence files and notes: upload (the raw body, or a browser's
//! `multipart/form-data`), list, download; add and list notes.
//!
//! An upload is streamed: each piece of the body goes through the receiver (hash, size,
//! the media type checked against the first bytes) and each full chunk to the store before
//! the next piece is read, so an upload holds about one chunk in memory whatever its size.

use actix_multipart::Multipart;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use utoipa::ToSchema;

use super::WorkflowName;
use super::view::TimelineActor;
use crate::auth::Caller;
use crate::db::models::NoteRow;
use crate::domain::material::Visibility;
use crate::engine::{Attachment, NewNote, Upload};
use crate::error::{AppError, ErrorKind};
use crate::files::{self, Receiver};
use crate::http::body::json_object;
use crate::http::{AppState, query};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;
/// The longest note.
const MAX_NOTE_CHARS: usize = 10_000;

/// One file of a case.
#[derive(Serialize, ToSchema)]
pub struct AttachmentBody {
    pub id: String,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    /// SHA-256 of the bytes (hex): the download's `ETag`, and what the timeline recorded.
    pub sha256: String,
    /// `parties`, `staff` or `sealed`.
    pub visibility: String,
    pub uploaded_by: TimelineActor,
    #[serde(serialize_with = "crate::time::wire")]
    pub at: DateTime<Utc>,
    /// The timeline row that recorded the upload.
    pub seq: i64,
    /// Where the bytes are.
    pub href: String,
}

impl AttachmentBody {
    fn of(path: &str, a: &Attachment) -> AttachmentBody {
        let r = &a.row;
        AttachmentBody {
            id: r.id.clone(),
            filename: r.filename.clone(),
            media_type: r.media_type.clone(),
            size: r.size,
            sha256: r.sha256.clone(),
            visibility: r.visibility.clone(),
            uploaded_by: TimelineActor {
                id: r.uploaded_by.clone(),
                role: Some(r.uploaded_role.clone()),
            },
            at: r.at.and_utc(),
            seq: r.seq,
            href: format!("{path}/{}", r.id),
        }
    }
}

/// A page of a case's files, oldest first.
#[derive(Serialize, ToSchema)]
pub struct AttachmentPage {
    pub items: Vec<AttachmentBody>,
    pub next_cursor: Option<String>,
}

/// One note on a case.
#[derive(Serialize, ToSchema)]
pub struct NoteBody {
    /// The timeline row that recorded the note.
    pub seq: i64,
    pub body: String,
    /// `staff` or `parties`.
    pub visibility: String,
    pub author: TimelineActor,
    #[serde(serialize_with = "crate::time::wire")]
    pub at: DateTime<Utc>,
}

impl NoteBody {
    pub fn of(n: &NoteRow) -> NoteBody {
        NoteBody {
            seq: n.seq,
            body: n.body.clone(),
            visibility: n.visibility.clone(),
            author: TimelineActor {
                id: n.author_id.clone(),
                role: Some(n.author_role.clone()),
            },
            at: n.at.and_utc(),
        }
    }
}

/// A page of a case's notes, oldest first.
#[derive(Serialize, ToSchema)]
pub struct NotePage {
    pub items: Vec<NoteBody>,
    pub next_cursor: Option<String>,
}

fn visibility(field: &str, v: &str) -> Result<Visibility, AppError> {
    Visibility::parse(v).ok_or_else(|| {
        AppError::validation(field, format!("`{v}` is not one of parties, staff, sealed"))
    })
}

/// `limit` and `cursor` of a list, and nothing else.
fn page_params(req: &HttpRequest) -> Result<(i64, Option<String>), AppError> {
    let mut limit = DEFAULT_LIMIT;
    let mut cursor = None;
    for (k, v) in query::params(req)? {
        match k.as_str() {
            "limit" => {
                limit = v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        AppError::validation("limit", format!("must be 1 to {MAX_LIMIT}"))
                    })?;
            }
            "cursor" => {
                let raw = URL_SAFE_NO_PAD
                    .decode(&v)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|s| {
                        !s.is_empty()
                            && s.len() <= 64
                            && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
                    })
                    .ok_or_else(|| {
                        AppError::validation("cursor", "is not a cursor this service issued")
                    })?;
                cursor = Some(raw);
            }
            other => {
                return Err(AppError::validation(
                    other,
                    "is not a parameter of this list (limit, cursor)",
                ));
            }
        }
    }
    Ok((limit, cursor))
}

fn cursor(last: &str) -> String {
    URL_SAFE_NO_PAD.encode(last)
}

/// The file's name from `Content-Disposition` (`filename*=UTF-8''…` wins over `filename`).
fn disposition_name(req: &HttpRequest) -> Result<String, AppError> {
    let field = "Content-Disposition";
    let value = req
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .ok_or_else(|| {
            AppError::validation(
                field,
                "is required: `attachment; filename*=UTF-8''<name>` names the file",
            )
        })?;
    let cd = ContentDisposition::from_raw(value).map_err(|_| {
        AppError::validation(field, "is not a valid Content-Disposition (RFC 6266)")
    })?;
    name_of(&cd, field)
}

fn name_of(cd: &ContentDisposition, field: &str) -> Result<String, AppError> {
    let ext = cd
        .get_filename_ext()
        .and_then(|e| String::from_utf8(e.value.clone()).ok());
    let raw = ext
        .or_else(|| cd.get_filename().map(str::to_string))
        .unwrap_or_default();
    files::clean_filename(&raw, field)
}

/// Feeds a body into the store through a receiver; what it came to.
async fn receive<S, E>(
    state: &AppState,
    upload: &Upload,
    media_type: &str,
    mut body: S,
) -> Result<files::Received, AppError>
where
    S: Stream<Item = Result<web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let store = state.engine.store();
    let mut receiver = Receiver::new(media_type, upload.limit);
    let mut size = 0u64;
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| {
            AppError::new(
                ErrorKind::Malformed,
                format!("the upload was interrupted: {e}"),
            )
        })?;
        size += piece.len() as u64;
        for (seq, chunk) in receiver.push(&piece)? {
            store.put(&upload.blob, seq, chunk, size).await?;
        }
    }
    let (last, received) = receiver.finish()?;
    if let Some((seq, chunk)) = last {
        store.put(&upload.blob, seq, chunk, size).await?;
    }
    Ok(received)
}

/// Receives and records one file; an upload that fails leaves nothing behind.
#[allow(clippy::too_many_arguments)]
async fn upload_stream<S, E>(
    state: &AppState,
    wf: &WorkflowName,
    caller: &Caller,
    case_id: String,
    visibility: Visibility,
    filename: String,
    media_type: String,
    declared: Option<u64>,
    body: S,
) -> Result<Attachment, AppError>
where
    S: Stream<Item = Result<web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    files::check_allowed(&media_type, &state.engine.files.media_types)?;
    let upload = state
        .engine
        .begin_upload(wf.0, case_id, caller.0.clone(), visibility, declared)
        .await?;
    let blob_id = upload.blob.id.clone();
    let done = match receive(state, &upload, &media_type, body).await {
        Ok(received) => {
            state
                .engine
                .finish_upload(upload, received, filename, media_type, caller.0.clone())
                .await
        }
        Err(e) => Err(e),
    };
    if done.is_err() {
        state.engine.store().discard(blob_id).await;
    }
    done
}

#[tracing::instrument(skip_all, fields(workflow = wf.0, case.id = %path))]
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let case_id = path.into_inner();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut vis = None;
    for (k, v) in query::params(&req)? {
        match k.as_str() {
            "visibility" => vis = Some(visibility("visibility", &v)?),
            other => {
                return Err(AppError::validation(
                    other,
                    "is not a parameter of an upload (visibility)",
                ));
            }
        }
    }
    let attachment = if files::essence(content_type) == "multipart/form-data" {
        upload_form(&req, &state, &wf, &caller, case_id, vis, payload, None).await?
    } else {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let media_type = files::essence(content_type);
        files::check_allowed(&media_type, &state.engine.files.media_types)?;
        let filename = disposition_name(&req)?;
        upload_stream(
            &state,
            &wf,
            &caller,
            case_id,
            vis.unwrap_or(Visibility::Parties),
            filename,
            media_type,
            declared,
            payload,
        )
        .await?
    };
    let base = format!(
        "{}/attachments",
        req.path().trim_end_matches("/attachments")
    );
    let body = AttachmentBody::of(&base, &attachment);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, body.href.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

/// A small text field of a form (at most 128 bytes).
async fn small_text(field: &mut actix_multipart::Field, name: &str) -> Result<String, AppError> {
    let mut text = Vec::new();
    while let Some(piece) = field.next().await {
        let piece = piece.map_err(|e| AppError::validation(name, e.to_string()))?;
        text.extend_from_slice(&piece);
        if text.len() > 128 {
            return Err(AppError::validation(name, "is too long"));
        }
    }
    Ok(String::from_utf8_lossy(&text).trim().to_string())
}

/// A browser form: an optional `visibility` field, then one `file` part. With `csrf` (the
/// web console's forms), a `csrf` field carrying it must come before the file.
#[allow(clippy::too_many_arguments)]
pub async fn upload_form(
    req: &HttpRequest,
    state: &AppState,
    wf: &WorkflowName,
    caller: &Caller,
    case_id: String,
    mut vis: Option<Visibility>,
    payload: web::Payload,
    csrf: Option<&str>,
) -> Result<Attachment, AppError> {
    let mut form = Multipart::new(req.headers(), payload);
    let mut done: Option<Attachment> = None;
    let mut csrf_seen = false;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| {
            AppError::validation(
                "file",
                format!("the form is not valid multipart/form-data: {e}"),
            )
        })?;
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "csrf" if csrf.is_some() => {
                csrf_seen = csrf == Some(small_text(&mut field, "csrf").await?.as_str());
            }
            "visibility" => {
                if done.is_some() {
                    return Err(AppError::validation(
                        "visibility",
                        "must come before the file in the form",
                    ));
                }
                let text = small_text(&mut field, "visibility").await?;
                vis = Some(visibility("visibility", &text)?);
            }
            "file" => {
                if done.is_some() {
                    return Err(AppError::validation("file", "one file per upload"));
                }
                if csrf.is_some() && !csrf_seen {
                    return Err(AppError::new(
                        ErrorKind::Forbidden,
                        "the form is stale or was not sent from this site (CSRF token missing or wrong); reload the page and try again",
                    ));
                }
                let filename = match field.content_disposition() {
                    Some(cd) => name_of(cd, "file")?,
                    None => return Err(AppError::validation("file", "has no file name")),
                };
                let media_type = field
                    .content_type()
                    .map(|m| files::essence(m.essence_str()))
                    .unwrap_or_default();
                let attachment = upload_stream(
                    state,
                    wf,
                    caller,
                    case_id.clone(),
                    vis.unwrap_or(Visibility::Parties),
                    filename,
                    media_type,
                    None,
                    &mut field,
                )
                .await?;
                done = Some(attachment);
            }
            other => {
                return Err(AppError::validation(
                    other,
                    "is not a field of an upload form (visibility, file)",
                ));
            }
        }
    }
    done.ok_or_else(|| AppError::validation("file", "is required: the form has no `file` part"))
}

#[tracing::instrument(skip_all, fields(workflow = wf.0, case.id = %path))]
pub async fn list_attachments(
    req: HttpRequest,
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (limit, after) = page_params(&req)?;
    let (items, more) = state
        .engine
        .attachments(wf.0, path.into_inner(), caller.0.clone(), after, limit)
        .await?;
    let base = req.path().to_string();
    let next_cursor = items.last().filter(|_| more).map(|a| cursor(&a.row.id));
    let body = AttachmentPage {
        items: items.iter().map(|a| AttachmentBody::of(&base, a)).collect(),
        next_cursor,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

/// `Content-Disposition: attachment` with the name in ASCII and in UTF-8 (RFC 6266).
fn download_disposition(filename: &str) -> ContentDisposition {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: filename.as_bytes().to_vec(),
            }),
        ],
    }
}

#[tracing::instrument(skip_all, fields(workflow = wf.0))]
pub async fn download(
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (case_id, attachment_id) = path.into_inner();
    let a = state
        .engine
        .attachment(wf.0, case_id, attachment_id, caller.0.clone())
        .await?;
    Ok(file_response(&state, a))
}

/// A file's bytes as a download: streamed a chunk at a time, as the client takes them.
pub fn file_response(state: &AppState, a: Attachment) -> HttpResponse {
    let Some(blob) = a.blob.clone() else {
        return HttpResponse::NotFound().finish();
    };
    let store = state.engine.store();
    let chunks = blob.chunks;
    let size = blob.size as u64;
    let body = futures_util::stream::unfold(0, move |seq| {
        let store = store.clone();
        let blob = blob.clone();
        async move {
            if seq >= chunks {
                return None;
            }
            match store.get(&blob, seq).await {
                Ok(bytes) => Some((Ok(web::Bytes::from(bytes)), seq + 1)),
                Err(e) => {
                    tracing::error!(error = %e, "a stored file could not be read");
                    Some((Err(e), chunks))
                }
            }
        }
    });
    HttpResponse::Ok()
        .content_type(a.row.media_type.clone())
        .insert_header(download_disposition(&a.row.filename))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::ETAG, format!("\"{}\"", a.row.sha256)))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .no_chunking(size)
        .streaming(body)
}

#[tracing::instrument(skip_all, fields(workflow = wf.0, case.id = %path))]
pub async fn add_note(
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = json_object(payload, state.settings.server.body_limit_bytes).await?;
    let mut text = None;
    let mut vis = Visibility::Parties;
    if let serde_json::Value::Object(map) = &body {
        for (k, v) in map {
            match k.as_str() {
                "body" => {
                    let s = v
                        .as_str()
                        .ok_or_else(|| AppError::validation("body", "must be a string"))?
                        .trim();
                    if s.is_empty() || s.chars().count() > MAX_NOTE_CHARS {
                        return Err(AppError::validation(
                            "body",
                            format!("must be 1 to {MAX_NOTE_CHARS} characters"),
                        ));
                    }
                    text = Some(s.to_string());
                }
                "visibility" => {
                    let s = v
                        .as_str()
                        .ok_or_else(|| AppError::validation("visibility", "must be a string"))?;
                    vis = match Visibility::parse(s) {
                        Some(v @ (Visibility::Parties | Visibility::Staff)) => v,
                        _ => {
                            return Err(AppError::validation(
                                "visibility",
                                format!("`{s}` is not one of staff, parties"),
                            ));
                        }
                    };
                }
                other => {
                    return Err(AppError::validation(
                        other,
                        "is not a field of a note (body, visibility)",
                    ));
                }
            }
        }
    }
    let text = text.ok_or_else(|| AppError::validation("body", "is required: the note's text"))?;
    let (note, _) = state
        .engine
        .add_note(
            wf.0,
            path.into_inner(),
            caller.0.clone(),
            NewNote {
                body: text,
                visibility: vis,
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(NoteBody::of(&note)))
}

#[tracing::instrument(skip_all, fields(workflow = wf.0, case.id = %path))]
pub async fn list_notes(
    req: HttpRequest,
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (limit, after) = page_params(&req)?;
    let after = match after {
        Some(s) => s
            .parse::<i64>()
            .map_err(|_| AppError::validation("cursor", "is not a cursor this service issued"))?,
        None => 0,
    };
    let (items, more) = state
        .engine
        .notes(wf.0, path.into_inner(), caller.0.clone(), after, limit)
        .await?;
    let next_cursor = items
        .last()
        .filter(|_| more)
        .map(|n| cursor(&n.seq.to_string()));
    let body = NotePage {
        items: items.iter().map(NoteBody::of).collect(),
        next_cursor,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}
