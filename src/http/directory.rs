//! `PUT /api/v1/directory/{person_id}`: an admin registers a person.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::body::json_object;
use crate::auth::Caller;
use crate::auth::caller::roles_column;
use crate::db::models::PersonRow;
use crate::db::{DbError, repo};
use crate::domain::workflow::parse_payload;
use crate::domain::{Actor, EmailAddress, OrgPath, Role};
use crate::error::{AppError, ErrorKind};

/// What an admin registers about a person.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PersonBody)]
pub struct PersonBody {
    name: crate::domain::common::Text,
    email: EmailAddress,
    #[schema(min_items = 1)]
    roles: Vec<Role>,
    org: OrgPath,
}

/// A person as the directory now has them.
#[derive(Serialize, ToSchema)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<crate::domain::Role>,
    pub org: String,
}

#[tracing::instrument(skip_all, fields(person.id = %path))]
pub async fn put_person(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let admin = caller.0;
    if !admin.has(Role::Admin) {
        return Err(AppError::new(
            ErrorKind::Forbidden,
            "only an admin registers people",
        ));
    }
    let id = path.into_inner();
    if id.is_empty()
        || id.len() > 128
        || id == "system"
        || id.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(AppError::validation(
            "person_id",
            "must be 1–128 visible characters",
        ));
    }
    let body = json_object(payload, state.settings.server.body_limit_bytes).await?;
    let p: PersonBody = parse_payload(&body)?;
    if p.roles.is_empty() || p.roles.contains(&Role::System) {
        return Err(AppError::validation(
            "roles",
            "name at least one of cadre, unit_admin, intake, investigator, reviewer, admin",
        ));
    }
    if !admin.org.covers(p.org.as_str()) {
        return Err(AppError::new(
            ErrorKind::Forbidden,
            format!("{} is outside your jurisdiction ({})", p.org, admin.org),
        ));
    }
    let person = Actor {
        id: id.clone(),
        name: p.name.0,
        email: p.email.as_str().to_string(),
        roles: p.roles,
        org: p.org,
    };
    let row = PersonRow {
        id: person.id.clone(),
        name: person.name.clone(),
        email: person.email.clone(),
        roles: roles_column(&person),
        org: person.org.as_str().to_string(),
        source: "admin".into(),
        updated_at: crate::time::now_micros(),
    };
    state
        .engine
        .db
        .write(move |conn| repo::people::upsert(conn, &row).map_err(DbError::from))
        .await?;
    Ok(HttpResponse::Ok().json(Person {
        id: person.id,
        name: person.name,
        email: person.email,
        roles: person.roles,
        org: person.org.as_str().to_string(),
    }))
}
