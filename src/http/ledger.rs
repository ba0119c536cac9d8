//! `GET /api/v1/ledger?org=`: the 台账 — per cadre of the caller's jurisdiction, the
//! outcomes of their exoneration cases, influence periods and when they end, and open
//! rectifications. `Accept: text/csv` gives the same as CSV (UTF-8 with BOM).

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{AppState, query};
use crate::auth::Caller;
use crate::db::models::CaseRow;
use crate::db::{DbError, repo};
use crate::domain::workflow::Workflow;
use crate::error::AppError;
use crate::notify::outbox::{case_number, state_zh};

/// One ledger line: a case of a cadre.
fn line(wf: &dyn Workflow, row: &CaseRow, today: chrono::NaiveDate) -> Result<Value, AppError> {
    let case = row.clone().into_case().map_err(AppError::internal)?;
    let effect = wf.outcome(&case);
    let r = &case.records;
    let decision = r.get("decision").filter(|d| d.is_object());
    let ends = decision
        .and_then(|d| d["influence_ends_on"].as_str())
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    let rect = r.get("rectification").filter(|x| x.is_object());
    let rect_open = rect.is_some_and(|x| {
        matches!(
            x["state"].as_str(),
            Some("ordered" | "submitted" | "overdue")
        )
    });
    Ok(json!({
        "case_id": case.id,
        "number": case_number(&case),
        "title": case.title,
        "state": case.state,
        "outcome": decision.map(|d| d["outcome"].clone()),
        "decided_at": decision.map(|d| d["at"].clone()),
        "influence_period_months": decision.map(|d| d["influence_period_months"].clone()),
        "influence_ends_on": ends,
        "influence_active": ends.is_some_and(|e| e > today),
        "degree": effect.degree,
        "sanction": effect.sanction,
        "promotion_bar_ends_on": effect.promotion_bar_ends_on,
        "effects": effect.effects,
        "talk": effect.talk,
        "rectification": rect.map(|x| json!({"state": x["state"], "due_at": x["due_at"]})),
        "rectification_open": rect_open,
    }))
}

fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV with a BOM, so spreadsheet software reads the UTF-8 Chinese text.
pub fn csv(headers: &[&str], rows: impl Iterator<Item = Vec<Value>>) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&headers.join(","));
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(csv_field).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"))
}

pub fn csv_response(body: String, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

pub async fn get_ledger(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let actor = caller.0;
    query::require_staff(&actor, "the ledger")?;
    let mut asked = None;
    for (k, v) in query::params(&req)? {
        match k.as_str() {
            "org" => asked = Some(query::org("org", &v)?),
            other => return Err(AppError::validation(other, "unknown parameter; use org")),
        }
    }
    let org = query::staff_scope(&actor, asked)?;
    let subtree = org.as_str().to_string();
    let rows = state
        .engine
        .db
        .read(move |c| Ok::<_, DbError>(repo::cases::in_subtree(c, "exoneration", &subtree)?))
        .await?;
    let today = state.engine.clock.now().date_naive();
    let wf = state
        .engine
        .registry
        .get("exoneration")
        .ok_or_else(AppError::not_found)?;
    let mut by_cadre: BTreeMap<String, (Value, Vec<Value>)> = BTreeMap::new();
    for row in &rows {
        let subject = json!({"id": row.subject_id, "name": row.subject_name, "org": row.subject_org, "position": row.subject_position});
        let entry = by_cadre
            .entry(row.subject_id.clone())
            .or_insert_with(|| (subject, Vec::new()));
        entry.1.push(line(wf, row, today)?);
    }
    if wants_csv(&req) {
        let headers = [
            "干部编号 cadre id",
            "姓名 name",
            "单位 org",
            "职务 position",
            "案件编号 case",
            "事项 title",
            "状态 state",
            "认定结果 outcome",
            "认定时间 decided at",
            "影响期(月) influence months",
            "影响期届满 influence ends",
            "影响期内 in influence period",
            "整改状态 rectification",
            "整改期限 due",
            "处理方式 degree",
            "处分 sanction",
            "提拔限制期届满 promotion bar ends",
            "免责效果 effects",
            "谈话 follow-up talk",
        ];
        let lines = by_cadre.values().flat_map(|(s, cases)| {
            cases.iter().map(move |c| {
                vec![
                    s["id"].clone(),
                    s["name"].clone(),
                    s["org"].clone(),
                    s["position"].clone(),
                    c["number"].clone(),
                    c["title"].clone(),
                    json!(format!(
                        "{} {}",
                        state_zh(c["state"].as_str().unwrap_or_default()),
                        c["state"].as_str().unwrap_or_default()
                    )),
                    c["outcome"].clone(),
                    c["decided_at"].clone(),
                    c["influence_period_months"].clone(),
                    c["influence_ends_on"].clone(),
                    json!(if c["influence_active"] == true {
                        "是 yes"
                    } else {
                        "否 no"
                    }),
                    c["rectification"]["state"].clone(),
                    c["rectification"]["due_at"].clone(),
                    c["degree"].clone(),
                    c["sanction"]["code"].clone(),
                    c["promotion_bar_ends_on"].clone(),
                    json!(
                        c["effects"]
                            .as_array()
                            .map(|e| e
                                .iter()
                                .filter_map(|x| x["text"].as_str())
                                .collect::<Vec<_>>()
                                .join("；"))
                            .unwrap_or_default()
                    ),
                    c["talk"]["state"].clone(),
                ]
            })
        });
        return Ok(csv_response(csv(&headers, lines), "ledger"));
    }
    let items: Vec<Value> = by_cadre
        .into_values()
        .map(|(subject, cases)| {
            let until = cases
                .iter()
                .filter(|c| c["influence_active"] == true)
                .filter_map(|c| c["influence_ends_on"].as_str().map(str::to_string))
                .max();
            let open = cases.iter().filter(|c| c["rectification_open"] == true).count();
            json!({"subject": subject, "influence_until": until, "open_rectifications": open, "cases": cases})
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"org": org, "as_of": today, "items": items})))
}
