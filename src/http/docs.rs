//! `/openapi.json` and the interactive documentation at `/docs`: Swagger UI's files are
//! compiled into the binary (no CDN, no download at build time).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::Config;

use super::AppState;
use super::openapi;
use crate::domain::registry::Registry;
use crate::error::AppError;

/// The document, serialised once at start.
pub struct ApiDocs {
    json: String,
    ui: Arc<Config<'static>>,
}

impl ApiDocs {
    pub fn new(registry: &Registry) -> ApiDocs {
        ApiDocs {
            json: openapi::to_json(&openapi::document(registry)),
            ui: Arc::new(Config::new(["/openapi.json"]).try_it_out_enabled(true)),
        }
    }

    pub fn json(&self) -> &str {
        &self.json
    }
}

pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.docs.json.clone())
}

pub async fn docs_root() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

pub async fn docs_file(
    state: web::Data<AppState>,
    file: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let file = file.into_inner();
    match utoipa_swagger_ui::serve(&file, state.docs.ui.clone()) {
        Ok(Some(f)) => {
            let mut resp = HttpResponse::Ok();
            if f.gzpipped {
                resp.insert_header((header::CONTENT_ENCODING, "gzip"));
            }
            Ok(resp
                .content_type(f.content_type)
                .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
                .body(f.bytes.into_owned()))
        }
        Ok(None) => Err(AppError::not_found()),
        Err(e) => Err(AppError::internal(format!("swagger ui: {e}"))),
    }
}
