//! Workflow introspection: `/api/v1/workflows`, `/{name}`, `/{name}/diagram`.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::AppState;
use crate::domain::describe;
use crate::domain::workflow::Workflow;
use crate::error::AppError;

#[derive(Serialize, ToSchema)]
pub struct WorkflowLink {
    pub name: String,
    pub title: String,
    pub href: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowList {
    pub items: Vec<WorkflowLink>,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowEvent {
    pub name: String,
    /// Roles and parties (`applicant`, `assigned_investigator`, `system`…) who may apply it.
    pub who: Vec<String>,
    pub timer: bool,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowTransition {
    /// The states the event leaves.
    pub from: Vec<String>,
    pub event: String,
    /// The states it may lead to (which one depends on the fields or the records).
    pub to: Vec<String>,
    pub who: Vec<String>,
    /// What the event carries, in words.
    pub carries: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowCreate {
    pub who: Vec<String>,
    pub to: String,
}

/// The machine's table, with the workflow's catalogues (`circumstances`, `red_lines`,
/// `reason_codes`…) as further properties.
#[derive(Serialize, ToSchema)]
pub struct WorkflowDescription {
    pub name: String,
    pub title: String,
    pub roles: Vec<String>,
    pub initial: String,
    pub states: Vec<String>,
    pub terminal: Vec<String>,
    pub create: WorkflowCreate,
    pub events: Vec<WorkflowEvent>,
    pub transitions: Vec<WorkflowTransition>,
    /// The workflow's catalogues.
    #[serde(flatten)]
    #[schema(ignore)]
    pub catalogues: Map<String, Value>,
}

impl WorkflowDescription {
    pub fn of(wf: &dyn Workflow) -> WorkflowDescription {
        let def = wf.def();
        let strings = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let own = [
            "name",
            "title",
            "roles",
            "initial",
            "states",
            "terminal",
            "create",
            "events",
            "transitions",
        ];
        let catalogues = match wf.catalogues() {
            Value::Object(map) => map
                .into_iter()
                .filter(|(k, _)| !own.contains(&k.as_str()))
                .collect(),
            _ => Map::new(),
        };
        WorkflowDescription {
            name: def.name.into(),
            title: def.title.into(),
            roles: describe::roles(def),
            initial: def.initial.into(),
            states: strings(def.states),
            terminal: strings(def.terminal),
            create: WorkflowCreate {
                who: describe::who(def.create_parties),
                to: def.initial.into(),
            },
            events: def
                .events()
                .into_iter()
                .map(|e| WorkflowEvent {
                    name: e.into(),
                    who: describe::who(def.parties(e)),
                    timer: def.is_timer_event(e),
                })
                .collect(),
            transitions: def
                .rows
                .iter()
                .map(|r| WorkflowTransition {
                    from: strings(r.from),
                    event: r.event.into(),
                    to: strings(r.to),
                    who: describe::who(r.parties),
                    carries: r.carries.into(),
                })
                .collect(),
            catalogues,
        }
    }
}

pub async fn list_workflows(state: web::Data<AppState>) -> HttpResponse {
    let items: Vec<_> = state
        .engine
        .registry
        .all()
        .map(|w| WorkflowLink {
            name: w.def().name.into(),
            title: w.def().title.into(),
            href: format!("/api/v1/workflows/{}", w.def().name),
        })
        .collect();
    HttpResponse::Ok().json(WorkflowList { items })
}

pub async fn get_workflow(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let wf = state
        .engine
        .registry
        .get(&name)
        .ok_or_else(AppError::not_found)?;
    Ok(HttpResponse::Ok().json(WorkflowDescription::of(wf)))
}

pub async fn get_diagram(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let wf = state
        .engine
        .registry
        .get(&name)
        .ok_or_else(AppError::not_found)?;
    Ok(HttpResponse::Ok()
        .content_type("text/vnd.mermaid; charset=utf-8")
        .body(describe::mermaid(wf.def())))
}
