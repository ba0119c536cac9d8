//! `GET /api/v1/ledger?org=&limit=&cursor=`: the 台账 — per cadre of the caller's
//! jurisdiction, the outcomes of their exoneration cases, sanctions, influence periods and
//! promotion bars and when they end, effects, talks and open rectifications; a page of
//! cadres at a time (`repo::ledger`). `Accept: text/csv` streams the whole ledger as CSV
//! (UTF-8 with BOM), a batch of cadres at a time.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{AppState, query};
use crate::auth::Caller;
use crate::db::models::CaseRow;
use crate::db::{DbError, repo};
use crate::domain::workflow::Workflow;
use crate::error::AppError;

/// One ledger line: a case of a cadre.
fn line(wf: &dyn Workflow, row: &CaseRow, today: chrono::NaiveDate) -> Result<Value, AppError> {
    let case = row.clone().into_case().map_err(AppError::internal)?;
    let effect = wf.outcome(&case);
    let r = &case.records;
    let decision = r.get("decision").filter(|d| d.is_object());
    let ends = effect.influence_ends_on;
    let rect = r.get("rectification").filter(|x| x.is_object());
    let rect_open = rect.is_some_and(|x| {
        matches!(
            x["state"].as_str(),
            Some("ordered" | "submitted" | "overdue")
        )
    });
    Ok(json!({
        "case_id": case.id,
        "number": wf.def().case_number(&case.id),
        "title": case.title,
        "state": case.state,
        "outcome": effect.outcome,
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

/// The ledger's CSV columns.
const HEADERS: [&str; 19] = [
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

/// Cadres a JSON page holds unless `limit` says, and at most.
const PAGE: i64 = 100;
const MAX_PAGE: i64 = 500;
/// Cadres read at a time while streaming the CSV: its memory, whatever the ledger's size.
const CSV_BATCH: i64 = 200;

/// A page's rows (ordered by cadre, see `repo::ledger`) as cadres with their lines.
fn cadres(
    wf: &dyn Workflow,
    rows: &[CaseRow],
    today: chrono::NaiveDate,
) -> Result<Vec<(Value, Vec<Value>)>, AppError> {
    let mut out: Vec<(Value, Vec<Value>)> = Vec::new();
    for row in rows {
        let same = out.last().is_some_and(|(s, _)| {
            s["id"] == row.subject_id.as_str() && s["org"] == row.subject_org.as_str()
        });
        if !same {
            let subject = json!({"id": row.subject_id, "name": row.subject_name, "org": row.subject_org, "position": row.subject_position});
            out.push((subject, Vec::new()));
        }
        if let Some((_, lines)) = out.last_mut() {
            lines.push(line(wf, row, today)?);
        }
    }
    Ok(out)
}

/// One CSV row per case line.
fn csv_rows<'a>(
    wf: &'a dyn Workflow,
    cadres: &'a [(Value, Vec<Value>)],
) -> impl Iterator<Item = Vec<Value>> + 'a {
    cadres.iter().flat_map(move |(s, cases)| {
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
                    wf.def().state_zh(c["state"].as_str().unwrap_or_default()),
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
    })
}

fn csv_line(row: &[Value]) -> String {
    let mut out = row.iter().map(csv_field).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

pub fn encode_cursor((org, id): &repo::ledger::After) -> String {
    URL_SAFE_NO_PAD.encode(format!("{org}\n{id}"))
}

pub fn decode_cursor(s: &str) -> Result<repo::ledger::After, AppError> {
    let bad = || AppError::validation("cursor", "is not a ledger cursor this service issued");
    let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (org, id) = text.split_once('\n').ok_or_else(bad)?;
    let org = crate::domain::OrgPath::parse(org).map_err(|_| bad())?;
    if id.is_empty() || id.chars().count() > 200 {
        return Err(bad());
    }
    Ok((org.as_str().to_string(), id.to_string()))
}

/// The ledger: `limit` cadres (default 100, at most 500) after `cursor`, with
/// `next_cursor`; as `text/csv`, every cadre from `cursor` on, streamed a batch at a time.
pub async fn get_ledger(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let actor = caller.0;
    query::require_staff(&actor, "the ledger")?;
    let (mut asked, mut limit, mut after) = (None, PAGE, None);
    for (k, v) in query::params(&req)? {
        match k.as_str() {
            "org" => asked = Some(query::org("org", &v)?),
            "limit" => {
                limit = v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| {
                        AppError::validation("limit", format!("must be 1 to {MAX_PAGE}"))
                    })?
            }
            "cursor" => after = Some(decode_cursor(&v)?),
            other => {
                return Err(AppError::validation(
                    other,
                    "unknown parameter; use org, limit, cursor",
                ));
            }
        }
    }
    let org = query::staff_scope(&actor, asked)?;
    let subtree = org.as_str().to_string();
    let today = state.engine.clock.now().date_naive();
    let registry = state.engine.registry.clone();
    if registry.get("exoneration").is_none() {
        return Err(AppError::not_found());
    }
    if wants_csv(&req) {
        return Ok(csv_stream(
            state.engine.db.clone(),
            state.report_budget(),
            registry,
            subtree,
            after,
            today,
        ));
    }
    let (rows, next) = state
        .engine
        .db
        .read_within(state.report_budget(), move |c| {
            Ok::<_, DbError>(repo::ledger::page(c, &subtree, after.as_ref(), limit)?)
        })
        .await?;
    let wf = registry
        .get("exoneration")
        .ok_or_else(AppError::not_found)?;
    let items: Vec<Value> = cadres(wf, &rows, today)?
        .into_iter()
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
        .json(json!({"org": org, "as_of": today, "items": items, "next_cursor": next.as_ref().map(encode_cursor)})))
}

/// The whole ledger as CSV (UTF-8 with a BOM), `CSV_BATCH` cadres at a time: its memory
/// does not grow with the ledger.
fn csv_stream(
    db: crate::db::Db,
    budget: std::time::Duration,
    registry: crate::domain::registry::Registry,
    org: String,
    after: Option<repo::ledger::After>,
    today: chrono::NaiveDate,
) -> HttpResponse {
    enum Next {
        From(Option<repo::ledger::After>),
        Done,
    }
    let head = format!("\u{feff}{}\r\n", HEADERS.join(","));
    let first = futures_util::stream::once(async move { Ok::<_, AppError>(Bytes::from(head)) });
    let pages = futures_util::stream::unfold(Next::From(after), move |next| {
        let (db, registry, org) = (db.clone(), registry.clone(), org.clone());
        async move {
            let Next::From(after) = next else {
                return None;
            };
            let page = db
                .read_within(budget, move |c| {
                    Ok::<_, DbError>(repo::ledger::page(c, &org, after.as_ref(), CSV_BATCH)?)
                })
                .await
                .map_err(AppError::from);
            let chunk = page.and_then(|(rows, next)| {
                let wf = registry
                    .get("exoneration")
                    .ok_or_else(AppError::not_found)?;
                let text: String = csv_rows(wf, &cadres(wf, &rows, today)?)
                    .map(|r| csv_line(&r))
                    .collect();
                Ok((Bytes::from(text), next))
            });
            Some(match chunk {
                Ok((bytes, Some(after))) => (Ok(bytes), Next::From(Some(after))),
                Ok((bytes, None)) => (Ok(bytes), Next::Done),
                Err(e) => (Err(e), Next::Done),
            })
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"ledger.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(futures_util::StreamExt::chain(first, pages))
}
