//! `GET /api/v1/ledger?org=&limit=&cursor=`: the 台账 — per cadre of the caller's
//! jurisdiction, the outcomes of their exoneration cases, sanctions, influence periods and
//! promotion bars and when they end, effects, talks and open rectifications; a page of
//! cadres at a time (`repo::ledger`). `Accept: text/csv` streams the whole ledger as CSV
//! (UTF-8 with BOM), a batch of cadres at a time. Its body types, the JSON page, the CSV
//! columns and the stream are one concern, read together when a column changes.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{AppState, query};
use crate::auth::Caller;
use crate::db::models::CaseRow;
use crate::db::{DbError, repo};
use crate::domain::workflow::{Labelled, TalkSummary, Workflow};
use crate::error::AppError;

#[derive(Serialize, ToSchema)]
pub struct LedgerSubject {
    pub id: String,
    pub name: String,
    pub org: String,
    pub position: String,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerRectification {
    pub state: Option<String>,
    pub due_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerCase {
    pub case_id: String,
    pub number: String,
    pub title: String,
    pub state: String,
    pub outcome: Option<String>,
    pub decided_at: Option<String>,
    pub influence_period_months: Option<i64>,
    pub influence_ends_on: Option<NaiveDate>,
    pub influence_active: bool,
    pub rectification: Option<LedgerRectification>,
    pub rectification_open: bool,
    /// `lighter` (从轻) or `reduced` (减轻).
    pub degree: Option<String>,
    pub sanction: Option<Labelled>,
    pub promotion_bar_ends_on: Option<NaiveDate>,
    /// What an exoneration leaves unaffected.
    pub effects: Vec<Labelled>,
    pub talk: Option<TalkSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerEntry {
    pub subject: LedgerSubject,
    /// The latest end of an active influence period (影响期).
    pub influence_until: Option<NaiveDate>,
    pub open_rectifications: i64,
    pub cases: Vec<LedgerCase>,
}

/// 台账: the exoneration cases of each cadre of the org subtree, a page of cadres.
#[derive(Serialize, ToSchema)]
pub struct Ledger {
    pub org: String,
    pub as_of: NaiveDate,
    pub items: Vec<LedgerEntry>,
    /// The next page's `cursor`; null on the last page.
    pub next_cursor: Option<String>,
}

/// One ledger line: a case of a cadre.
fn line(wf: &dyn Workflow, row: &CaseRow, today: NaiveDate) -> Result<LedgerCase, AppError> {
    let case = row.clone().into_case().map_err(AppError::internal)?;
    let effect = wf.outcome(&case);
    let r = &case.records;
    let decision = r.get("decision").filter(|d| d.is_object());
    let ends = effect.influence_ends_on;
    let rect = r.get("rectification").filter(|x| x.is_object());
    let text = |v: &Value, key: &str| v[key].as_str().map(str::to_string);
    let rectification = rect.map(|x| LedgerRectification {
        state: text(x, "state"),
        due_at: text(x, "due_at"),
    });
    let rectification_open = rectification.as_ref().is_some_and(|x| {
        matches!(
            x.state.as_deref(),
            Some("ordered" | "submitted" | "overdue")
        )
    });
    Ok(LedgerCase {
        number: wf.def().case_number(&case.id),
        case_id: case.id,
        title: case.title,
        state: case.state,
        outcome: effect.outcome,
        decided_at: decision.and_then(|d| text(d, "at")),
        influence_period_months: decision.and_then(|d| d["influence_period_months"].as_i64()),
        influence_ends_on: ends,
        influence_active: ends.is_some_and(|e| e > today),
        rectification,
        rectification_open,
        degree: effect.degree,
        sanction: effect.sanction,
        promotion_bar_ends_on: effect.promotion_bar_ends_on,
        effects: effect.effects,
        talk: effect.talk,
    })
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
    today: NaiveDate,
) -> Result<Vec<(LedgerSubject, Vec<LedgerCase>)>, AppError> {
    let mut out: Vec<(LedgerSubject, Vec<LedgerCase>)> = Vec::new();
    for row in rows {
        let same = out
            .last()
            .is_some_and(|(s, _)| s.id == row.subject_id && s.org == row.subject_org);
        if !same {
            let subject = LedgerSubject {
                id: row.subject_id.clone(),
                name: row.subject_name.clone(),
                org: row.subject_org.clone(),
                position: row.subject_position.clone(),
            };
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
    cadres: &'a [(LedgerSubject, Vec<LedgerCase>)],
) -> impl Iterator<Item = Vec<Value>> + 'a {
    cadres.iter().flat_map(move |(s, cases)| {
        cases.iter().map(move |c| {
            let rect = c.rectification.as_ref();
            vec![
                json!(s.id),
                json!(s.name),
                json!(s.org),
                json!(s.position),
                json!(c.number),
                json!(c.title),
                json!(format!("{} {}", wf.def().state_zh(&c.state), c.state)),
                json!(c.outcome),
                json!(c.decided_at),
                json!(c.influence_period_months),
                json!(c.influence_ends_on),
                json!(if c.influence_active {
                    "是 yes"
                } else {
                    "否 no"
                }),
                json!(rect.and_then(|r| r.state.as_deref())),
                json!(rect.and_then(|r| r.due_at.as_deref())),
                json!(c.degree),
                json!(c.sanction.as_ref().map(|l| &l.code)),
                json!(c.promotion_bar_ends_on),
                json!(
                    c.effects
                        .iter()
                        .map(|x| x.text.as_str())
                        .collect::<Vec<_>>()
                        .join("；")
                ),
                json!(c.talk.as_ref().map(|t| &t.state)),
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
    let items = cadres(wf, &rows, today)?
        .into_iter()
        .map(|(subject, cases)| LedgerEntry {
            subject,
            influence_until: cases
                .iter()
                .filter(|c| c.influence_active)
                .filter_map(|c| c.influence_ends_on)
                .max(),
            open_rectifications: cases.iter().filter(|c| c.rectification_open).count() as i64,
            cases,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Ledger {
            org: org.as_str().to_string(),
            as_of: today,
            items,
            next_cursor: next.as_ref().map(encode_cursor),
        }))
}

/// The whole ledger as CSV (UTF-8 with a BOM), `CSV_BATCH` cadres at a time: its memory
/// does not grow with the ledger.
fn csv_stream(
    db: crate::db::Db,
    budget: std::time::Duration,
    registry: crate::domain::registry::Registry,
    org: String,
    after: Option<repo::ledger::After>,
    today: NaiveDate,
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
