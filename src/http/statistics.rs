//! `GET /api/v1/statistics?org=&from=&to=`: per workflow, for cases of the org subtree
//! created in the period — counts per state and outcome, overdue counts, follow-up talks,
//! and how long cases stay in each stage (median and 90th percentile by nearest rank, of
//! each transition's `stage_seconds`). The database counts and ranks (`repo::statistics`);
//! no case row is loaded.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::{AppState, query};
use crate::auth::Caller;
use crate::db::repo::statistics::{Group, Scope, Stage};
use crate::db::{DbError, repo};
use crate::error::AppError;

fn hours(seconds: Option<i64>) -> Option<f64> {
    seconds.map(|s| (s as f64 / 3600.0 * 100.0).round() / 100.0)
}

/// One workflow's statistics from what the database counted.
fn summarize(groups: &[Group], stages: &[Stage]) -> Value {
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
    let durations: BTreeMap<String, Value> = stages
        .iter()
        .map(|s| {
            let v = json!({
                "count": s.spans,
                "median_hours": hours(s.median),
                "p90_hours": hours(s.p90),
            });
            (s.stage.clone(), v)
        })
        .collect();
    json!({
        "cases": cases,
        "by_state": by_state,
        "by_outcome": by_outcome,
        "overdue": overdue,
        "talks": talks,
        "stage_durations": durations,
    })
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
    let mut to = (state.engine.clock.now() + chrono::Duration::days(1)).naive_utc();
    for (k, v) in query::params(&req)? {
        match k.as_str() {
            "org" => asked = Some(query::org("org", &v)?),
            "from" => from = query::time_bound("from", &v)?,
            "to" => to = query::time_bound("to", &v)?,
            other => {
                return Err(AppError::validation(
                    other,
                    "unknown parameter; use org, from, to",
                ));
            }
        }
    }
    if from >= to {
        return Err(AppError::validation("to", "must be after `from`"));
    }
    let org = query::staff_scope(&actor, asked)?;
    let names: Vec<&'static str> = state.engine.registry.all().map(|w| w.def().name).collect();
    let subtree = org.as_str().to_string();
    let viewer = repo::cases::Visibility::of(&actor);
    let result = state
        .engine
        .db
        .read_within(state.report_budget(), move |c| {
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
    Ok(HttpResponse::Ok().json(json!({
        "org": org,
        "from": crate::view::rfc3339(from.and_utc()),
        "to": crate::view::rfc3339(to.and_utc()),
        "workflows": result,
    })))
}
