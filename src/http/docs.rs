//! The document `/openapi.json` serves, assembled from the route table (each operation
//! described by `openapi::ops`); `http::swagger` serves it and the interactive
//! documentation.

use std::sync::Arc;

use utoipa_swagger_ui::Config;

use serde_json::json;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, Paths, RefOr,
    Tag,
};

use super::openapi::{BEARER, Doc};
use super::routes::{Endpoint, endpoints};
use crate::domain::registry::Registry;
use crate::error::ErrorKind;

/// The document, serialised once at start.
pub struct ApiDocs {
    json: String,
    ui: Arc<Config<'static>>,
}

impl ApiDocs {
    /// `media_types`: what may be uploaded (`attachments.media_types`), which the document
    /// names as the bodies of uploads and downloads.
    pub fn new(registry: &Registry, media_types: &[String]) -> ApiDocs {
        ApiDocs {
            json: to_json(&document(registry, media_types)),
            ui: Arc::new(Config::new(["/openapi.json"]).try_it_out_enabled(true)),
        }
    }

    pub fn json(&self) -> &str {
        &self.json
    }

    /// Swagger UI's settings.
    pub fn ui(&self) -> Arc<Config<'static>> {
        self.ui.clone()
    }
}

/// An actix path (`/docs/{file:.*}`) as an OpenAPI path (`/docs/{file}`).
pub fn openapi_path(actix: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    let mut skipping = false;
    for c in actix.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push(c);
            }
            '}' if in_param => {
                in_param = false;
                skipping = false;
                out.push(c);
            }
            ':' if in_param => skipping = true,
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

fn method(m: &actix_web::http::Method) -> HttpMethod {
    match m.as_str() {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        "HEAD" => HttpMethod::Head,
        other => panic!("no OpenAPI method for {other}"),
    }
}

/// The document, from the route table.
pub fn document(registry: &Registry, media_types: &[String]) -> OpenApi {
    let mut doc = Doc::new(registry, media_types);
    let mut paths = Paths::new();
    for Endpoint {
        path,
        workflow,
        handlers,
    } in endpoints(registry)
    {
        let path = openapi_path(&path);
        for h in handlers {
            let operation = (h.describe)(&mut doc, workflow);
            let mut item = PathItem::new(method(&h.method), operation);
            if let Some(existing) = paths.paths.remove(&path) {
                let mut merged = existing;
                merged.merge_operations(item);
                item = merged;
            }
            paths.paths.insert(path.clone(), item);
        }
    }
    let mut components = ComponentsBuilder::new()
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "claims sub, name, email, roles, org, iss, aud, exp, iat; the algorithm \
                         is fixed by configuration",
                    ))
                    .build(),
            ),
        )
        .build();
    // Every code any response may carry, listed once on the shared problem schema.
    if let Some(RefOr::T(Schema::Object(problem))) = doc.schema_mut("Problem") {
        let codes: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        problem.properties.insert(
            "code".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes))
                .description(Some("stable; clients branch on it"))
                .into(),
        );
    }
    components.schemas = doc.into_schemas();
    let tags = ["operations", "workflows", "reports", "mail", "directory"]
        .into_iter()
        .chain(registry.all().map(|w| w.def().name))
        .map(Tag::new)
        .collect::<Vec<_>>();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("rongcuo")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Case management for 容错免责 (exoneration applications) and 澄清正名 \
                     (accusation clarification). Errors are application/problem+json with a \
                     stable `code`.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .tags(Some(tags))
        .build()
}

/// The document as JSON, plus the Swagger UI page's configuration.
pub fn to_json(doc: &OpenApi) -> String {
    let mut v = serde_json::to_value(doc).expect("the document serialises");
    // utoipa leaves the dialect implicit; say it (OpenAPI 3.1 defaults to the same).
    v["jsonSchemaDialect"] = json!("https://spec.openapis.org/oas/3.1/dialect/base");
    v.to_string()
}
