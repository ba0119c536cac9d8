//! `/openapi.json` and the interactive documentation at `/docs`: Swagger UI's files are
//! compiled into the binary (no CDN, no download at build time).

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::AppState;
use crate::error::AppError;

pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.docs.json().to_string())
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
    match utoipa_swagger_ui::serve(&file, state.docs.ui()) {
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
