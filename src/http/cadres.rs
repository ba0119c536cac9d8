//! `GET /api/v1/cadres/{id}/record`: what every case about a cadre did to their record
//! (outcome, degree, sanction, influence period, promotion bar, effects, follow-up talk),
//! for the cadre themselves and for staff whose subtree holds the cadre's org. Each case
//! shows only if the caller may see it (a report not yet put to the cadre does not).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::auth::Caller;
use crate::db::repo;
use crate::domain::access::can_see;
use crate::domain::workflow::CaseOutcome;
use crate::error::AppError;

/// The newest cases a record shows: a cadre has a handful; this bounds what one request
/// reads.
pub const RECORD_CASES: i64 = 500;

/// The cadre, as the directory (or, for a cadre it does not know, their newest case) has them.
#[derive(Serialize, ToSchema)]
pub struct CadreRef {
    pub id: String,
    pub name: String,
    pub org: String,
}

/// One case about the cadre and what its outcome does to their record.
#[derive(Serialize, ToSchema)]
pub struct RecordCase {
    pub id: String,
    pub workflow: String,
    pub number: String,
    pub state: String,
    #[serde(flatten)]
    pub outcome: CaseOutcome,
}

/// 干部档案: every case about a cadre the caller may see, newest first.
#[derive(Serialize, ToSchema)]
pub struct CadreRecord {
    pub cadre: CadreRef,
    pub cases: Vec<RecordCase>,
    /// The latest end of an influence period on record, or null.
    pub influence_ends_on: Option<NaiveDate>,
    /// The latest end of a promotion bar on record, or null.
    pub promotion_bar_ends_on: Option<NaiveDate>,
}

pub async fn get_record(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let actor = caller.0;
    let id = path.into_inner();
    let engine = state.engine.clone();
    let record = state
        .engine
        .db
        .read(move |c| {
            let person = repo::people::find_by_id(c, &id)?;
            let rows = repo::cases::about_subject(c, &id, RECORD_CASES)?;
            let cadre = match (person, rows.first()) {
                (Some(p), _) => CadreRef {
                    id: p.id,
                    name: p.name,
                    org: p.org,
                },
                (None, Some(r)) => CadreRef {
                    id: r.subject_id.clone(),
                    name: r.subject_name.clone(),
                    org: r.subject_org.clone(),
                },
                (None, None) => return Ok(None),
            };
            let covers = actor
                .roles
                .iter()
                .any(|r| r.is_staff() && actor.org.covers(&cadre.org));
            if actor.id != cadre.id && !covers {
                return Ok(None);
            }
            let mut cases = Vec::new();
            for row in rows {
                let case = row.into_case().map_err(AppError::internal)?;
                let Some(wf) = engine.registry.get(&case.workflow) else {
                    continue;
                };
                if !can_see(&actor, &case) {
                    continue;
                }
                cases.push(RecordCase {
                    number: wf.def().case_number(&case.id),
                    outcome: wf.outcome(&case),
                    id: case.id,
                    workflow: case.workflow,
                    state: case.state,
                });
            }
            Ok::<_, AppError>(Some(CadreRecord {
                influence_ends_on: cases
                    .iter()
                    .filter_map(|c| c.outcome.influence_ends_on)
                    .max(),
                promotion_bar_ends_on: cases
                    .iter()
                    .filter_map(|c| c.outcome.promotion_bar_ends_on)
                    .max(),
                cadre,
                cases,
            }))
        })
        .await?;
    match record {
        Some(record) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(record)),
        None => Err(AppError::not_found()),
    }
}
