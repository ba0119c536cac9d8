//! Cases of any workflow: file, get, list, apply a transition, read the timeline. The
//! bodies they answer with are in `view`.

pub mod export;
pub mod material;
pub mod view;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use self::view::{CaseBody, Page, TimelineBody};
use super::body::json_object;
use super::extract::{idempotency_key, if_match};
use super::{AppState, query};
use crate::auth::Caller;
use crate::db::repo::cases::ListFilter;
use crate::domain::Actor;
use crate::domain::OrgPath;
use crate::domain::workflow::Workflow;
use crate::engine::{Idempotency, Outcome, Request, Seen, Stored};
use crate::error::AppError;
use serde_json::json;

/// Which workflow a scope serves.
#[derive(Clone, Copy, Debug)]
pub struct WorkflowName(pub &'static str);

pub const MAX_LIMIT: i64 = 100;
pub const DEFAULT_LIMIT: i64 = 20;

/// The workflow a scope serves, from the registry.
fn workflow<'a>(state: &'a AppState, wf: &WorkflowName) -> Result<&'a dyn Workflow, AppError> {
    state
        .engine
        .registry
        .get(wf.0)
        .ok_or_else(AppError::not_found)
}

/// A filing's or a step's answer: the case now, or the answer stored for the key.
fn respond(
    state: &AppState,
    wf: &WorkflowName,
    outcome: Outcome,
    actor: &Actor,
    request: Request,
) -> Result<HttpResponse, AppError> {
    let stored = match outcome {
        Outcome::Done(seen) => view::answer(workflow(state, wf)?, &seen, actor, request),
        Outcome::Replayed(stored) => stored,
    };
    Ok(send(stored))
}

fn send(answer: Stored) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(answer.status)
        .unwrap_or(actix_web::http::StatusCode::OK);
    let mut resp = HttpResponse::build(status);
    if let Some(v) = answer.version() {
        resp.insert_header((header::ETAG, format!("\"{v}\"")));
    }
    if let Some(loc) = answer.location {
        resp.insert_header((header::LOCATION, loc));
    }
    resp.insert_header((header::CACHE_CONTROL, "no-store"));
    resp.json(answer.body)
}

#[tracing::instrument(skip_all, fields(workflow = wf.0))]
pub async fn create_case(
    req: HttpRequest,
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let idem_key = idempotency_key(&req)?;
    let body = json_object(payload, state.settings.server.body_limit_bytes).await?;
    let idem = idem_key.map(|k| Idempotency::new(k, "POST", req.path(), &body));
    let outcome = state
        .engine
        .file_case(wf.0, caller.0.clone(), body, idem)
        .await?;
    respond(&state, &wf, outcome, &caller.0, Request::File)
}

#[tracing::instrument(skip_all, fields(workflow = wf.0, case.id = %path))]
pub async fn get_case(
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let seen = state
        .engine
        .get_case(wf.0, path.into_inner(), caller.0.clone())
        .await?;
    let body = CaseBody::of(workflow(&state, &wf)?, &seen, &caller.0);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", seen.case.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

#[tracing::instrument(skip_all, fields(workflow = wf.0, case.id = %path))]
pub async fn apply_transition(
    req: HttpRequest,
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let expected = if_match(&req)?;
    let idem_key = idempotency_key(&req)?;
    let body = json_object(payload, state.settings.server.body_limit_bytes).await?;
    let idem = idem_key.map(|k| Idempotency::new(k, "POST", req.path(), &body));
    let outcome = state
        .engine
        .apply(
            wf.0,
            path.into_inner(),
            caller.0.clone(),
            body,
            expected,
            idem,
        )
        .await?;
    respond(&state, &wf, outcome, &caller.0, Request::Apply)
}

#[tracing::instrument(skip_all, fields(workflow = wf.0, case.id = %path))]
pub async fn list_transitions(
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let timeline = state
        .engine
        .timeline(wf.0, path.into_inner(), caller.0.clone())
        .await?;
    let body = TimelineBody::of(workflow(&state, &wf)?, &timeline, &caller.0);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

pub fn encode_cursor(at: DateTime<Utc>, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.timestamp_micros()))
}

pub fn decode_cursor(s: &str) -> Result<(DateTime<Utc>, String), AppError> {
    let bad = || AppError::validation("cursor", "is not a cursor this service issued");
    let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (micros, id) = text.split_once('|').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(bad());
    }
    Ok((at, id.to_string()))
}

/// Parses the list query, naming any bad parameter.
fn list_filter(req: &HttpRequest, workflow: &str, states: &[&str]) -> Result<ListFilter, AppError> {
    let params = query::params(req)?;
    let mut f = ListFilter::new(workflow, Default::default(), DEFAULT_LIMIT);
    for (k, v) in params {
        match k.as_str() {
            "state" => {
                if !states.contains(&v.as_str()) {
                    return Err(AppError::validation(
                        "state",
                        format!("`{v}` is not a state of {workflow}: {}", states.join(", ")),
                    ));
                }
                f.state = Some(v);
            }
            "org" => {
                let org = OrgPath::parse(&v).map_err(|e| AppError::validation("org", e))?;
                f.org = Some(org.as_str().to_string());
            }
            "subject" => {
                if v.is_empty() || v.len() > 128 {
                    return Err(AppError::validation("subject", "must be a person id"));
                }
                f.subject = Some(v);
            }
            "q" => {
                if v.chars().count() > 200 {
                    return Err(AppError::validation("q", "must be at most 200 characters"));
                }
                if !v.trim().is_empty() {
                    f.q = Some(v.trim().to_string());
                }
            }
            "limit" => {
                let n: i64 = v
                    .parse()
                    .map_err(|_| AppError::validation("limit", "must be a whole number"))?;
                if !(1..=MAX_LIMIT).contains(&n) {
                    return Err(AppError::validation(
                        "limit",
                        format!("must be between 1 and {MAX_LIMIT}"),
                    ));
                }
                f.limit = n;
            }
            "investigator" => {
                if v.is_empty() || v.len() > 128 {
                    return Err(AppError::validation("investigator", "must be a person id"));
                }
                f.investigator = Some(v);
            }
            "created_from" => f.created_from = Some(query::time_bound("created_from", &v)?),
            "created_to" => f.created_to = Some(query::time_bound("created_to", &v)?),
            "overdue" => {
                f.overdue = Some(
                    v.parse()
                        .map_err(|_| AppError::validation("overdue", "must be true or false"))?,
                )
            }
            "cursor" => {
                let (at, id) = decode_cursor(&v)?;
                f.after = Some((at.naive_utc(), id));
            }
            other => {
                return Err(AppError::validation(
                    other,
                    "unknown parameter; use state, org, subject, investigator, created_from, created_to, overdue, q, limit, cursor",
                ));
            }
        }
    }
    Ok(f)
}

#[tracing::instrument(skip_all, fields(workflow = wf.0))]
pub async fn list_cases(
    req: HttpRequest,
    state: web::Data<AppState>,
    wf: web::Data<WorkflowName>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let w = workflow(&state, &wf)?;
    let def = w.def();
    let filter = list_filter(&req, wf.0, def.states)?;
    if let (Some(from), Some(to)) = (filter.created_from, filter.created_to)
        && from >= to
    {
        return Err(AppError::validation(
            "created_to",
            "must be after created_from",
        ));
    }
    let (seen, last) = state.engine.list_cases(filter, caller.0.clone()).await?;
    let next = last.map(|(at, id)| encode_cursor(at, &id));
    let items: Vec<CaseBody> = seen
        .iter()
        .map(|s: &Seen| CaseBody::of(w, s, &caller.0))
        .collect();
    if super::ledger::wants_csv(&req) {
        // The same page, as a spreadsheet; `Link` carries the next page's cursor.
        let headers = [
            "id",
            "number",
            "state",
            "subject_id",
            "subject_name",
            "subject_org",
            "subject_position",
            "title",
            "overdue",
            "created_at",
            "updated_at",
        ];
        let rows = items.iter().map(|i| {
            vec![
                json!(i.id),
                json!(i.number),
                json!(i.state),
                json!(i.subject.id),
                json!(i.subject.name),
                json!(i.subject.org),
                json!(i.subject.position),
                json!(i.title),
                json!(i.overdue),
                json!(crate::time::rfc3339(i.created_at)),
                json!(crate::time::rfc3339(i.updated_at)),
            ]
        });
        let mut resp =
            super::ledger::csv_response(super::ledger::csv(&headers, rows), &format!("{}s", wf.0));
        if let Some(c) = &next
            && let Ok(v) = header::HeaderValue::from_str(&format!("<?cursor={c}>; rel=\"next\""))
        {
            resp.headers_mut().insert(header::LINK, v);
        }
        return Ok(resp);
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Page {
            items,
            next_cursor: next,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_tampering() {
        let at = DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap();
        let id = "0196f3b2-7c1a-7d6e-8f00-1234567890ab";
        let c = encode_cursor(at, id);
        assert_eq!(decode_cursor(&c).unwrap(), (at, id.to_string()));
        assert!(decode_cursor("not-a-cursor").is_err());
        let forged = URL_SAFE_NO_PAD.encode("1|x' OR 1=1 --");
        assert!(decode_cursor(&forged).is_err());
    }
}
