//! Every route in one table: its path, methods, handler and OpenAPI operation. The router
//! and `/openapi.json` are both built from it, so neither can list a route the other lacks.
//! Each resource answers methods it does not serve with 405 and an `Allow` header.

use actix_web::http::{Method, header};
use actix_web::{HttpResponse, ResponseError, Route, web};
use std::sync::Arc;

use super::cases::{self, WorkflowName};
use super::openapi::{Doc, ops};
use super::{cadres, directory, health, ledger, outbox, statistics, swagger, workflows};
use crate::domain::registry::Registry;
use crate::error::{AppError, ErrorKind};

fn method_not_allowed(allow: String) -> Route {
    web::to(move || {
        let allow = allow.clone();
        async move {
            let err = AppError::new(
                ErrorKind::MethodNotAllowed,
                format!("this resource serves {allow}"),
            );
            let mut resp: HttpResponse = err.error_response();
            if let Ok(value) = header::HeaderValue::from_str(&allow) {
                resp.headers_mut().insert(header::ALLOW, value);
            }
            resp
        }
    })
}

/// Documents one operation; the workflow is set for a workflow's collection.
pub type Describe = fn(&mut Doc, Option<&'static str>) -> utoipa::openapi::path::Operation;

/// One method of a resource.
pub struct Handler {
    pub method: Method,
    pub route: Route,
    pub describe: Describe,
}

/// One resource: a path (actix syntax) and the methods it serves.
pub struct Endpoint {
    pub path: String,
    pub workflow: Option<&'static str>,
    pub handlers: Vec<Handler>,
}

fn handler(method: Method, route: Route, describe: Describe) -> Handler {
    Handler {
        method,
        route,
        describe,
    }
}

fn endpoint(path: &str, handlers: Vec<Handler>) -> Endpoint {
    Endpoint {
        path: path.to_string(),
        workflow: None,
        handlers,
    }
}

/// The table: the service's own resources, then each registered workflow's collection.
pub fn endpoints(registry: &Registry) -> Vec<Endpoint> {
    let mut all = vec![
        endpoint(
            "/healthz",
            vec![handler(
                Method::GET,
                web::get().to(health::healthz),
                ops::healthz,
            )],
        ),
        endpoint(
            "/readyz",
            vec![handler(
                Method::GET,
                web::get().to(health::readyz),
                ops::readyz,
            )],
        ),
        endpoint(
            "/metrics",
            vec![handler(
                Method::GET,
                web::get().to(health::metrics),
                ops::metrics,
            )],
        ),
        endpoint(
            "/openapi.json",
            vec![handler(
                Method::GET,
                web::get().to(swagger::openapi_json),
                ops::openapi_json,
            )],
        ),
        endpoint(
            "/docs",
            vec![handler(
                Method::GET,
                web::get().to(swagger::docs_root),
                ops::docs,
            )],
        ),
        endpoint(
            "/docs/{file:.*}",
            vec![handler(
                Method::GET,
                web::get().to(swagger::docs_file),
                ops::docs_file,
            )],
        ),
        endpoint(
            "/api/v1/workflows",
            vec![handler(
                Method::GET,
                web::get().to(workflows::list_workflows),
                ops::list_workflows,
            )],
        ),
        endpoint(
            "/api/v1/workflows/{name}",
            vec![handler(
                Method::GET,
                web::get().to(workflows::get_workflow),
                ops::get_workflow,
            )],
        ),
        endpoint(
            "/api/v1/workflows/{name}/diagram",
            vec![handler(
                Method::GET,
                web::get().to(workflows::get_diagram),
                ops::get_diagram,
            )],
        ),
        endpoint(
            "/api/v1/statistics",
            vec![handler(
                Method::GET,
                web::get().to(statistics::get_statistics),
                ops::statistics,
            )],
        ),
        endpoint(
            "/api/v1/ledger",
            vec![handler(
                Method::GET,
                web::get().to(ledger::get_ledger),
                ops::ledger,
            )],
        ),
        endpoint(
            "/api/v1/cadres/{id}/record",
            vec![handler(
                Method::GET,
                web::get().to(cadres::get_record),
                ops::cadre_record,
            )],
        ),
        endpoint(
            "/api/v1/outbox",
            vec![handler(
                Method::GET,
                web::get().to(outbox::list_outbox),
                ops::list_outbox,
            )],
        ),
        endpoint(
            "/api/v1/outbox/{id}/retry",
            vec![handler(
                Method::POST,
                web::post().to(outbox::retry_outbox),
                ops::retry_outbox,
            )],
        ),
        endpoint(
            "/api/v1/directory/{person_id}",
            vec![handler(
                Method::PUT,
                web::put().to(directory::put_person),
                ops::put_person,
            )],
        ),
    ];
    for def in registry.all().map(|w| w.def()) {
        let of = |suffix: &str, handlers| Endpoint {
            path: format!("{}{suffix}", def.path()),
            workflow: Some(def.name),
            handlers,
        };
        all.push(of(
            "",
            vec![
                handler(
                    Method::GET,
                    web::get().to(cases::list_cases),
                    ops::list_cases,
                ),
                handler(
                    Method::POST,
                    web::post().to(cases::create_case),
                    ops::create_case,
                ),
            ],
        ));
        all.push(of(
            "/{id}",
            vec![handler(
                Method::GET,
                web::get().to(cases::get_case),
                ops::get_case,
            )],
        ));
        all.push(of(
            "/{id}/transitions",
            vec![
                handler(
                    Method::GET,
                    web::get().to(cases::list_transitions),
                    ops::list_transitions,
                ),
                handler(
                    Method::POST,
                    web::post().to(cases::apply_transition),
                    ops::apply_transition,
                ),
            ],
        ));
        all.push(of(
            "/{id}/attachments",
            vec![
                handler(
                    Method::GET,
                    web::get().to(cases::material::list_attachments),
                    ops::list_attachments,
                ),
                handler(
                    Method::POST,
                    web::post().to(cases::material::upload),
                    ops::upload_attachment,
                ),
            ],
        ));
        all.push(of(
            "/{id}/attachments/{attachment_id}",
            vec![handler(
                Method::GET,
                web::get().to(cases::material::download),
                ops::download_attachment,
            )],
        ));
        all.push(of(
            "/{id}/export",
            vec![handler(
                Method::GET,
                web::get().to(cases::export::export_case),
                ops::export_case,
            )],
        ));
        all.push(of(
            "/{id}/notes",
            vec![
                handler(
                    Method::GET,
                    web::get().to(cases::material::list_notes),
                    ops::list_notes,
                ),
                handler(
                    Method::POST,
                    web::post().to(cases::material::add_note),
                    ops::add_note,
                ),
            ],
        ));
    }
    all
}

/// The pattern of the route a request was routed to (`/api/v1/exonerations/{id}`), for
/// metrics and logs: read from the resource's data once routed, where asking actix
/// (`match_pattern`) matches the path against every route's regex again.
#[derive(Clone, Debug)]
pub struct RoutePattern(pub Arc<str>);

/// Routes every endpoint of the table.
pub fn configure(cfg: &mut web::ServiceConfig, registry: &Registry) {
    for e in endpoints(registry) {
        let allow = e
            .handlers
            .iter()
            .map(|h| h.method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let pattern = RoutePattern(Arc::from(e.path.as_str()));
        let mut resource = web::resource(e.path).app_data(pattern);
        if let Some(name) = e.workflow {
            resource = resource.app_data(web::Data::new(WorkflowName(name)));
        }
        for h in e.handlers {
            resource = resource.route(h.route);
        }
        cfg.service(resource.default_service(method_not_allowed(allow)));
    }
}
