//! Workflow introspection: `/api/v1/workflows`, `/{name}`, `/{name}/diagram`.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use crate::domain::describe;
use crate::error::AppError;

pub async fn list_workflows(state: web::Data<AppState>) -> HttpResponse {
    let items: Vec<_> = state
        .engine
        .registry
        .all()
        .map(|w| json!({"name": w.def().name, "title": w.def().title, "href": format!("/api/v1/workflows/{}", w.def().name)}))
        .collect();
    HttpResponse::Ok().json(json!({ "items": items }))
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
    Ok(HttpResponse::Ok().json(describe::to_json(wf.def(), wf.catalogues())))
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
