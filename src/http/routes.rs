//! Every route in one place. Each resource answers methods it does not serve with 405
//! and an `Allow` header.

use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError, web};

use super::cases::{self, WorkflowName};
use super::{directory, health, ledger, outbox, statistics, workflows};
use crate::error::{AppError, ErrorKind};

fn method_not_allowed(allow: &'static str) -> actix_web::Route {
    web::to(move || async move {
        let err = AppError::new(
            ErrorKind::MethodNotAllowed,
            format!("this resource serves {allow}"),
        );
        let mut resp: HttpResponse = err.error_response();
        resp.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        resp
    })
}

/// The collections of the workflows the service runs.
pub const WORKFLOW_COLLECTIONS: &[(&str, &str)] = &[
    ("exoneration", "/api/v1/exonerations"),
    ("clarification", "/api/v1/clarifications"),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/healthz")
            .route(web::get().to(health::healthz))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/metrics")
            .route(web::get().to(health::metrics))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/readyz")
            .route(web::get().to(health::readyz))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/api/v1/workflows")
            .route(web::get().to(workflows::list_workflows))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/api/v1/workflows/{name}")
            .route(web::get().to(workflows::get_workflow))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/api/v1/workflows/{name}/diagram")
            .route(web::get().to(workflows::get_diagram))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/api/v1/statistics")
            .route(web::get().to(statistics::get_statistics))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/api/v1/ledger")
            .route(web::get().to(ledger::get_ledger))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/api/v1/outbox")
            .route(web::get().to(outbox::list_outbox))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/api/v1/outbox/{id}/retry")
            .route(web::post().to(outbox::retry_outbox))
            .default_service(method_not_allowed("POST")),
    )
    .service(
        web::resource("/api/v1/directory/{person_id}")
            .route(web::put().to(directory::put_person))
            .default_service(method_not_allowed("PUT")),
    );
    for (name, path) in WORKFLOW_COLLECTIONS {
        cfg.service(
            web::scope(path)
                .app_data(web::Data::new(WorkflowName(name)))
                .service(
                    web::resource("")
                        .route(web::post().to(cases::create_case))
                        .route(web::get().to(cases::list_cases))
                        .default_service(method_not_allowed("GET, POST")),
                )
                .service(
                    web::resource("/{id}")
                        .route(web::get().to(cases::get_case))
                        .default_service(method_not_allowed("GET")),
                )
                .service(
                    web::resource("/{id}/transitions")
                        .route(web::post().to(cases::apply_transition))
                        .route(web::get().to(cases::list_transitions))
                        .default_service(method_not_allowed("GET, POST")),
                ),
        );
    }
}
