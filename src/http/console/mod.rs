//! The web console: server-rendered pages for people without a REST client, signed in by a
//! session cookie (the API keeps bearer tokens only). Every page asks the engine, as the
//! API does, so who may see and do what is the same rule in both.
//!
//! So far: sign-in by a one-time link, the work queue or a cadre's own cases, a case page
//! (what is asked of the reader now, a form per event they may apply, files, timeline),
//! downloads, sign-out.

mod forms;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::Environment;
use serde_json::{Value, json};

use crate::auth::session::{Session, Sessions};
use crate::db::repo::cases::ListFilter;
use crate::domain::workflow::Workflow;
use crate::error::{AppError, ErrorKind};
use crate::http::AppState;

const COOKIE: &str = "rongcuo_console";
/// The most cases a list of the front page shows per workflow.
const LIST: i64 = 50;

/// The console's templates and sessions.
pub struct Console {
    env: Environment<'static>,
    pub sessions: Sessions,
    /// The OpenAPI document, whose event schemas the forms are built from.
    doc: Value,
    /// Cookies get `Secure` when the service is reached over HTTPS.
    secure: bool,
}

impl Console {
    pub fn new(sessions: Sessions, public_url: &str, doc_json: &str) -> Console {
        let mut env = Environment::new();
        for (name, source) in [
            ("layout.html", include_str!("templates/layout.html")),
            ("message.html", include_str!("templates/message.html")),
            ("index.html", include_str!("templates/index.html")),
            ("case.html", include_str!("templates/case.html")),
        ] {
            env.add_template(name, source)
                .expect("the console's templates parse");
        }
        Console {
            env,
            sessions,
            doc: serde_json::from_str(doc_json).unwrap_or(Value::Null),
            secure: public_url.starts_with("https://"),
        }
    }

    fn render(&self, status: StatusCode, name: &str, ctx: Value) -> HttpResponse {
        match self
            .env
            .get_template(name)
            .and_then(|t| t.render(minijinja::Value::from_serialize(&ctx)))
        {
            Ok(html) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .insert_header(("X-Frame-Options", "DENY"))
                .body(html),
            Err(e) => {
                tracing::error!(error = %e, template = name, "a console page did not render");
                HttpResponse::InternalServerError().finish()
            }
        }
    }

    fn cookie(&self, value: String, max_age: Option<chrono::Duration>) -> Cookie<'static> {
        let mut c = Cookie::build(COOKIE, value)
            .path("/console")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .finish();
        if let Some(age) = max_age {
            c.set_max_age(actix_web::cookie::time::Duration::seconds(
                age.num_seconds(),
            ));
        }
        c
    }
}

/// Routes the console's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/console",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, "/console/"))
                .finish()
        }),
    )
    .route("/console/", web::get().to(index))
    .route("/console/login", web::get().to(login))
    .route("/console/logout", web::post().to(logout))
    .route("/console/{collection}/{id}", web::get().to(case_page))
    .route(
        "/console/{collection}/{id}/events/{event}",
        web::post().to(apply_event),
    )
    .route(
        "/console/{collection}/{id}/files/{attachment_id}",
        web::get().to(file),
    )
    .route("/console/{collection}/{id}/files", web::post().to(upload));
}

fn who(s: &Session) -> Value {
    json!({
        "name": s.actor.name,
        "roles": s.actor.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "org": s.actor.org.as_str(),
    })
}

/// A page that says what happened, with the status it happened with.
fn message(
    state: &AppState,
    session: Option<&Session>,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> HttpResponse {
    state.console.render(
        status,
        "message.html",
        json!({
            "heading": heading,
            "message": text,
            "problem": status.is_client_error() || status.is_server_error(),
            "me": session.map(who),
            "csrf": session.map(|s| s.csrf.clone()),
        }),
    )
}

fn error_page(state: &AppState, session: Option<&Session>, e: AppError) -> HttpResponse {
    let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if e.kind == ErrorKind::Internal {
        tracing::error!(error = %e, cause = e.cause.as_deref().unwrap_or(""), "a console page failed");
    }
    let heading = match e.kind {
        ErrorKind::NotFound => "未找到 / not found",
        ErrorKind::Forbidden => "无权办理 / not permitted",
        ErrorKind::Unauthorized => "请登录 / please sign in",
        _ => "未能办理 / could not be done",
    };
    let text = if e.kind == ErrorKind::NotFound {
        "没有这个页面，或您无权查看。/ There is no such page, or it is not yours to see."
            .to_string()
    } else {
        e.detail.clone()
    };
    message(state, session, status, heading, &text)
}

/// A form without the session's CSRF token.
fn csrf_refused() -> AppError {
    AppError::new(
        ErrorKind::Forbidden,
        "the form is stale or was not sent from this site (CSRF token missing or wrong); reload the page and try again",
    )
}

/// The session of the request's cookie, or the answer that sends the reader to sign in.
async fn signed_in(req: &HttpRequest, state: &AppState) -> Result<Session, HttpResponse> {
    let secret = req.cookie(COOKIE).map(|c| c.value().to_string());
    let found = match secret {
        Some(s) => state.console.sessions.resolve(&s).await,
        None => Ok(None),
    };
    match found {
        Ok(Some(session)) => Ok(session),
        Ok(None) => {
            let next = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/console/");
            let to = format!(
                "/console/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            Err(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, to))
                .finish())
        }
        Err(e) => Err(error_page(state, None, e)),
    }
}

/// Where to go after signing in: a console page, never elsewhere.
fn safe_next(next: Option<&String>) -> String {
    next.filter(|n| n.starts_with("/console/") && !n.contains("//") && !n.contains('\\'))
        .cloned()
        .unwrap_or_else(|| "/console/".into())
}

async fn login(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let params = crate::http::query::params(&req).unwrap_or_default();
    let next = safe_next(params.get("next"));
    let Some(link) = params.get("link") else {
        return message(
            &state,
            None,
            StatusCode::OK,
            "请登录 / please sign in",
            "您尚未登录。/ You are not signed in.",
        );
    };
    match state.console.sessions.redeem(link).await {
        Ok(secret) => HttpResponse::SeeOther()
            .cookie(state.console.cookie(secret, None))
            .insert_header((header::LOCATION, next))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(e) => error_page(&state, None, e),
    }
}

async fn logout(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let form: std::collections::HashMap<String, String> =
        serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if form.get("csrf") != Some(&session.csrf) {
        return error_page(&state, Some(&session), csrf_refused());
    }
    if let Some(c) = req.cookie(COOKIE)
        && let Err(e) = state.console.sessions.revoke(c.value()).await
    {
        return error_page(&state, Some(&session), e);
    }
    HttpResponse::SeeOther()
        .cookie(
            state
                .console
                .cookie(String::new(), Some(chrono::Duration::zero())),
        )
        .insert_header((header::LOCATION, "/console/login"))
        .finish()
}

fn event_label(state: &AppState, wf: &dyn Workflow, event: &str) -> String {
    state
        .engine
        .notifier
        .rules()
        .get(wf.def().name, event)
        .map(|r| r.label_zh().to_string())
        .unwrap_or_else(|| event.to_string())
}

async fn index(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let staff = session.actor.roles.iter().any(|r| r.is_staff());
    let mut groups = Vec::new();
    for wf in state.engine.registry.all() {
        let def = wf.def();
        let filter = ListFilter::new(def.name, Default::default(), LIST);
        let (items, _) = match state.engine.list_cases(filter, session.actor.clone()).await {
            Ok(page) => page,
            Err(e) => return error_page(&state, Some(&session), e),
        };
        let cases: Vec<Value> = items
            .iter()
            .filter(|seen| !staff || !seen.available.is_empty())
            .map(|seen| {
                json!({
                    "id": seen.case.id,
                    "number": def.case_number(&seen.case.id),
                    "title": seen.case.title,
                    "state_zh": def.state_zh(&seen.case.state),
                    "asked": seen.available.iter().map(|e| event_label(&state, wf, e)).collect::<Vec<_>>(),
                    "updated": crate::time::at_local(seen.case.updated_at),
                })
            })
            .collect();
        groups.push(json!({
            "workflow": def.name,
            "collection": def.collection,
            "title": def.title.split(" / ").next().unwrap_or(def.title),
            "cases": cases,
        }));
    }
    let heading = if staff {
        "待我处理 / my work queue"
    } else {
        "我的案件 / my cases"
    };
    state.console.render(
        StatusCode::OK,
        "index.html",
        json!({"heading": heading, "groups": groups, "me": who(&session), "csrf": session.csrf}),
    )
}

fn workflow_of<'a>(state: &'a AppState, collection: &str) -> Option<&'a dyn Workflow> {
    state
        .engine
        .registry
        .all()
        .find(|w| w.def().collection == collection)
}

async fn case_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let (collection, id) = path.into_inner();
    render_case(&state, &session, &collection, id, None).await
}

/// What a refused form comes back with: its event, the problem, each field's own, and
/// what was entered.
struct Refused {
    event: String,
    detail: String,
    fields: Vec<(String, String)>,
    entered: Vec<(String, String)>,
}

async fn render_case(
    state: &AppState,
    session: &Session,
    collection: &str,
    id: String,
    refused: Option<Refused>,
) -> HttpResponse {
    let Some(wf) = workflow_of(state, collection) else {
        return error_page(state, Some(session), AppError::not_found());
    };
    let def = wf.def();
    let engine = &state.engine;
    let actor = session.actor.clone();
    let loaded = async {
        let seen = engine.get_case(def.name, id.clone(), actor.clone()).await?;
        let timeline = engine.timeline(def.name, id.clone(), actor.clone()).await?;
        let (files, _) = engine
            .attachments(def.name, id.clone(), actor.clone(), None, 100)
            .await?;
        Ok::<_, AppError>((seen, timeline, files))
    };
    let (seen, timeline, files) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(state, Some(session), e),
    };
    let case = &seen.case;
    let rows: Vec<Value> = timeline
        .rows
        .iter()
        .map(|r| {
            let label = match r.event.as_str() {
                "create" => "提交 / filed".to_string(),
                "attach" => "上传材料 / file added".to_string(),
                e => event_label(state, wf, e),
            };
            json!({
                "seq": r.seq,
                "label": label,
                "state_zh": def.state_zh(&r.to_state),
                "actor": if r.actor_id == "system" { "系统 / system".to_string() } else { format!("{}（{}）", r.actor_id, r.actor_role) },
                "at": crate::time::at_local(r.at.and_utc()),
            })
        })
        .collect();
    let files: Vec<Value> = files
        .iter()
        .map(|a| {
            json!({
                "id": a.row.id,
                "filename": a.row.filename,
                "size": a.row.size,
                "at": crate::time::at_local(a.row.at.and_utc()),
            })
        })
        .collect();
    let deadline = (!seen.available.is_empty())
        .then(|| wf.deadline(case))
        .flatten()
        .map(|(_, at)| crate::time::at_local(at));
    let prefix = crate::http::openapi::title_case(def.name);
    let forms: Vec<Value> = seen
        .available
        .iter()
        .map(|event| {
            let schema = &state.console.doc["components"]["schemas"]
                [format!("{prefix}{}", crate::http::openapi::title_case(event))];
            let mine = refused.as_ref().filter(|r| r.event == *event);
            let fields: Vec<Value> = forms::fields(&state.console.doc, schema)
                .into_iter()
                .map(|f| {
                    let mut v = serde_json::to_value(&f).unwrap_or(Value::Null);
                    if let Some(r) = mine {
                        v["problem"] =
                            json!(r.fields.iter().find(|(n, _)| *n == f.name).map(|(_, m)| m));
                        v["value"] =
                            json!(r.entered.iter().find(|(n, _)| *n == f.name).map(|(_, m)| m));
                    }
                    v
                })
                .collect();
            json!({
                "event": event,
                "label": event_label(state, wf, event),
                "fields": fields,
                "open": mine.is_some(),
                "problem": mine.map(|r| r.detail.clone()),
            })
        })
        .collect();
    // A refused event no longer offered (the case moved on): its problem heads the page.
    let elsewhere = refused
        .as_ref()
        .filter(|r| !seen.available.iter().any(|e| *e == r.event))
        .map(|r| format!("{}：{}", event_label(state, wf, &r.event), r.detail));
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    state.console.render(
        status,
        "case.html",
        json!({
            "workflow_title": def.title.split(" / ").next().unwrap_or(def.title),
            "collection": collection,
            "case": {
                "id": case.id,
                "number": def.case_number(&case.id),
                "title": case.title,
                "state_zh": def.state_zh(&case.state),
                "version": case.version,
                "overdue": case.overdue,
                "subject": case.subject.name,
                "org": case.subject.org,
                "created": crate::time::at_local(case.created_at),
            },
            "asked": seen.available.iter().map(|e| event_label(state, wf, e)).collect::<Vec<_>>(),
            "deadline": deadline,
            "problem": elsewhere,
            "closed": def.terminal.contains(&case.state.as_str()),
            "staff": crate::domain::material::handles(&session.actor, case),
            "sealed": crate::domain::material::handles(&session.actor, case)
                && wf.may_see_sealed(&session.actor, case) == Some(true),
            "max_mb": state.engine.files.max_file / (1024 * 1024),
            "forms": forms,
            "files": files,
            "timeline": rows,
            "me": who(session),
            "csrf": session.csrf,
        }),
    )
}

/// A posted event form: checked for its CSRF token, turned into the event's JSON, applied
/// through the engine (at the version the page showed); back to the case page, or the page
/// again with the problem next to the field it names.
async fn apply_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let (collection, id, event) = path.into_inner();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    if field("csrf").as_ref() != Some(&session.csrf) {
        return error_page(&state, Some(&session), csrf_refused());
    }
    let Some(wf) = workflow_of(&state, &collection) else {
        return error_page(&state, Some(&session), AppError::not_found());
    };
    let name = wf.def().name;
    let prefix = crate::http::openapi::title_case(name);
    let schema = &state.console.doc["components"]["schemas"]
        [format!("{prefix}{}", crate::http::openapi::title_case(&event))];
    let fields = forms::fields(&state.console.doc, schema);
    let refused = |detail: String, fields: Vec<(String, String)>| Refused {
        event: event.clone(),
        detail,
        fields,
        entered: form.clone(),
    };
    let json = match forms::to_json(&event, &fields, &form) {
        Ok(j) => j,
        Err(problems) => {
            let r = refused(
                "请检查标出的项目 / check the fields marked".into(),
                problems,
            );
            return render_case(&state, &session, &collection, id, Some(r)).await;
        }
    };
    let version = field("version").and_then(|v| v.parse::<i64>().ok());
    match state
        .engine
        .apply(name, id.clone(), session.actor.clone(), json, version, None)
        .await
    {
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/console/{collection}/{id}")))
            .finish(),
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Unauthorized) => {
            error_page(&state, Some(&session), e)
        }
        Err(e) => {
            let fields = e
                .errors
                .iter()
                .map(|f| (f.field.clone(), f.message.clone()))
                .collect();
            let r = refused(e.detail.clone(), fields);
            render_case(&state, &session, &collection, id, Some(r)).await
        }
    }
}

async fn file(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let (collection, id, attachment_id) = path.into_inner();
    let Some(wf) = workflow_of(&state, &collection) else {
        return error_page(&state, Some(&session), AppError::not_found());
    };
    match state
        .engine
        .attachment(wf.def().name, id, attachment_id, session.actor.clone())
        .await
    {
        Ok(a) => super::cases::material::file_response(&state, a),
        Err(e) => error_page(&state, Some(&session), e),
    }
}

/// A file from the case page's upload form (`multipart/form-data`: `csrf`, then
/// `visibility` if any, then `file`), streamed as the API streams uploads.
async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let (collection, id) = path.into_inner();
    let Some(wf) = workflow_of(&state, &collection) else {
        return error_page(&state, Some(&session), AppError::not_found());
    };
    let name = crate::http::cases::WorkflowName(wf.def().name);
    let caller = crate::auth::Caller(session.actor.clone());
    let done = super::cases::material::upload_form(
        &req,
        &state,
        &name,
        &caller,
        id.clone(),
        None,
        payload,
        Some(&session.csrf),
    )
    .await;
    match done {
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/console/{collection}/{id}")))
            .finish(),
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Forbidden) => {
            error_page(&state, Some(&session), e)
        }
        Err(e) => {
            let r = Refused {
                event: "attach".into(),
                detail: e.detail.clone(),
                fields: Vec::new(),
                entered: Vec::new(),
            };
            render_case(&state, &session, &collection, id, Some(r)).await
        }
    }
}
