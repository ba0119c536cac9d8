//! `GET /api/v1/statistics?org=&from=&to=`: per workflow, for cases of the org subtree
//! created in the period — counts per state and outcome, overdue counts, and how long cases
//! stay in each stage (median and 90th percentile, from the audit timeline).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

use super::{AppState, query};
use crate::auth::Caller;
use crate::db::models::CaseRow;
use crate::db::{DbError, repo};
use crate::error::AppError;

/// The p-quantile (0..=1) of sorted values, nearest rank.
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn summarize(rows: &[CaseRow], stages: &[(String, Option<String>, NaiveDateTime)]) -> Value {
    let mut by_state: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
    let mut overdue = 0;
    let mut talks: BTreeMap<String, usize> =
        [("due".to_string(), 0), ("overdue".to_string(), 0)].into();
    for r in rows {
        *by_state.entry(r.state.clone()).or_default() += 1;
        if r.overdue {
            overdue += 1;
        }
        let data: Value = serde_json::from_str(&r.data).unwrap_or(Value::Null);
        if let Some(o) = data["decision"]["outcome"].as_str() {
            *by_outcome.entry(o.to_string()).or_default() += 1;
        }
        if let Some(f) = data["conclusion"]["finding"].as_str() {
            *by_outcome.entry(f.to_string()).or_default() += 1;
        }
        if let Some(t @ ("due" | "overdue")) = data["talk"]["state"].as_str() {
            *talks.entry(t.to_string()).or_default() += 1;
        }
    }
    // Time in a stage: from entering a state (the previous transition) to leaving it.
    let mut spans: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut prev: Option<(&str, NaiveDateTime)> = None;
    for (case_id, from, at) in stages {
        if let (Some((pc, pat)), Some(state)) = (prev, from)
            && pc == case_id
        {
            spans
                .entry(state.clone())
                .or_default()
                .push((*at - pat).num_seconds() as f64 / 3600.0);
        }
        prev = Some((case_id.as_str(), *at));
    }
    let durations: BTreeMap<String, Value> = spans
        .into_iter()
        .map(|(stage, mut hours)| {
            hours.sort_by(|a, b| a.total_cmp(b));
            let v = json!({
                "count": hours.len(),
                "median_hours": quantile(&hours, 0.5).map(round2),
                "p90_hours": quantile(&hours, 0.9).map(round2),
            });
            (stage, v)
        })
        .collect();
    json!({
        "cases": rows.len(),
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
        .read(move |c| {
            let mut out = BTreeMap::new();
            for name in names {
                let rows = repo::cases::created_between(c, name, &subtree, from, to, &viewer)?;
                let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                let stages = repo::transitions::stage_times(c, &ids)?;
                out.insert(name.to_string(), summarize(&rows, &stages));
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

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(5.0));
        assert_eq!(quantile(&v, 0.9), Some(9.0));
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
