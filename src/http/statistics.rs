//! `GET /api/v1/statistics?org=&from=&to=`: per workflow, for cases of the org subtree
//! created in the period — counts per state and outcome, overdue counts, follow-up talks,
//! and how long cases stay in each stage (median and 90th percentile by nearest rank, of
//! each transition's `stage_seconds`). The database counts and ranks (`repo::statistics`);
//! no case row is loaded. Identical questions of one caller share one computation, and its
//! answer for `database.statistics_cache_ms` (`computed_at` says when it was taken).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use super::{AppState, query};
use crate::auth::Caller;
use crate::db::repo::statistics::{Group, Scope, Stage};
use crate::db::{DbError, repo};
use crate::error::AppError;
use crate::memo::Memo;
use crate::settings::Settings;

#[derive(Serialize, ToSchema)]
pub struct StageDuration {
    pub count: i64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowStatistics {
    /// Cases filed in the period.
    pub cases: i64,
    pub by_state: BTreeMap<String, i64>,
    pub by_outcome: BTreeMap<String, i64>,
    pub overdue: i64,
    /// Follow-up talks (必谈) still to be held: `due` and `overdue`.
    pub talks: BTreeMap<String, i64>,
    /// Time spent in each state, by state.
    pub stage_durations: BTreeMap<String, StageDuration>,
}

fn at<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::time::rfc3339(*t))
}

#[derive(Serialize, ToSchema)]
pub struct Statistics {
    pub org: String,
    #[serde(serialize_with = "at")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "at")]
    pub to: DateTime<Utc>,
    /// When the numbers were taken: an answer is reused for the same caller and question
    /// up to `database.statistics_cache_ms` after it.
    #[serde(serialize_with = "at")]
    pub computed_at: DateTime<Utc>,
    /// By workflow name.
    pub workflows: BTreeMap<String, WorkflowStatistics>,
}

/// What an answer depends on: who asks and where they see what (staff never count hidden
/// cases about themselves; a unit admin counts disclosed cases only), the subtree and the
/// period as asked (an open end stays open, whenever it is asked).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Question {
    person_id: String,
    org_subtrees: Vec<String>,
    disclosed_subtrees: Vec<String>,
    org: String,
    from: NaiveDateTime,
    to: Option<NaiveDateTime>,
}

/// Statistics answers by question.
pub type Answers = Memo<Question, Statistics, AppError>;

/// Answers kept for `database.statistics_cache_ms`, for up to 1 024 questions at once.
pub fn answers(settings: &Settings, clock: &crate::clock::Clock) -> Answers {
    let ttl = chrono::Duration::milliseconds(settings.database.statistics_cache_ms as i64);
    Memo::new(ttl, 1024, clock.clone())
}

fn hours(seconds: Option<i64>) -> Option<f64> {
    seconds.map(|s| (s as f64 / 3600.0 * 100.0).round() / 100.0)
}

/// One workflow's statistics from what the database counted.
fn summarize(groups: &[Group], stages: &[Stage]) -> WorkflowStatistics {
    let mut by_state: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_outcome: BTreeMap<String, i64> = BTreeMap::new();
    let mut talks: BTreeMap<String, i64> =
        [("due".to_string(), 0), ("overdue".to_string(), 0)].into();
    let (mut cases, mut overdue) = (0, 0);
    for g in groups {
        cases += g.cases;
        *by_state.entry(g.state.clone()).or_default() += g.cases;
        if let Some(o) = &g.outcome {
            *by_outcome.entry(o.clone()).or_default() += g.cases;
        }
        if g.overdue {
            overdue += g.cases;
        }
        if let Some(t @ ("due" | "overdue")) = g.talk_state.as_deref() {
            *talks.entry(t.to_string()).or_default() += g.cases;
        }
    }
    let stage_durations = stages
        .iter()
        .map(|s| {
            let d = StageDuration {
                count: s.spans,
                median_hours: hours(s.median),
                p90_hours: hours(s.p90),
            };
            (s.stage.clone(), d)
        })
        .collect();
    WorkflowStatistics {
        cases,
        by_state,
        by_outcome,
        overdue,
        talks,
        stage_durations,
    }
}

pub async fn get_statistics(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let actor = caller.0;
    query::require_staff(&actor, "statistics")?;
    let mut asked = None;
    let mut from = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    let mut to_asked = None;
    for (k, v) in query::params(&req)? {
        match k.as_str() {
            "org" => asked = Some(query::org("org", &v)?),
            "from" => from = query::time_bound("from", &v)?,
            "to" => to_asked = Some(query::time_bound("to", &v)?),
            other => {
                return Err(AppError::validation(
                    other,
                    "unknown parameter; use org, from, to",
                ));
            }
        }
    }
    let now = state.engine.clock.now();
    let to = to_asked.unwrap_or_else(|| (now + chrono::Duration::days(1)).naive_utc());
    if from >= to {
        return Err(AppError::validation("to", "must be after `from`"));
    }
    let org = query::staff_scope(&actor, asked)?;
    let viewer = repo::cases::Visibility::of(&actor);
    let question = Question {
        person_id: actor.id.clone(),
        org_subtrees: viewer.org_subtrees.clone(),
        disclosed_subtrees: viewer.disclosed_subtrees.clone(),
        org: org.as_str().to_string(),
        from,
        to: to_asked,
    };
    let names: Vec<&'static str> = state.engine.registry.all().map(|w| w.def().name).collect();
    let db = state.engine.db.clone();
    let budget = state.report_budget();
    let compute = async move {
        let subtree = org.as_str().to_string();
        let workflows = db
            .read_within(budget, move |c| {
                let mut out = BTreeMap::new();
                for name in names {
                    let scope = Scope {
                        workflow: name,
                        org: &subtree,
                        from,
                        to,
                        viewer: &viewer,
                    };
                    let groups = repo::statistics::groups(c, &scope)?;
                    let stages = repo::statistics::stages(c, &scope)?;
                    out.insert(name.to_string(), summarize(&groups, &stages));
                }
                Ok::<_, DbError>(out)
            })
            .await?;
        Ok(Statistics {
            org: org.as_str().to_string(),
            from: from.and_utc(),
            to: to.and_utc(),
            computed_at: now,
            workflows,
        })
    };
    let answer = state.statistics.get(question, compute).await?;
    Ok(HttpResponse::Ok().json(&*answer.value))
}
