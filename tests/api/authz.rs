//! Object-level authorisation: every operation of `/openapi.json` as every role, the
//! expected status from one table. An operation the table lacks (a new endpoint) fails the
//! test, as does a row for an operation that no longer exists.
//!
//! Each role acts on its own fresh cases, so one role's success does not change what the
//! next one meets. The cases are about 张三 (cadre, anhui/hefei/finance). A report (a
//! clarification case) is met twice: just registered, when neither 张三 nor his unit may
//! know of it, and `(disclosed)`, once an inquiry letter has been put to him.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

both_backends!(every_operation_as_every_role_gets_the_status_of_the_table);

/// Who asks, in the order of the table's columns.
const ROLES: [(&str, &Person); 8] = [
    ("cadre (the subject)", &ZHANG),
    ("another cadre", &QIAN),
    ("unit admin", &WANG),
    ("intake", &LI),
    ("investigator", &CHEN),
    ("outside the jurisdiction", &WU),
    ("reviewer", &SUN),
    ("admin", &ADMIN),
];

/// Operation → status for each role above.
#[rustfmt::skip]
const MATRIX: &[(&str, [u16; 8])] = &[
    // cadre, other cadre, unit admin, intake, investigator, outsider, reviewer, admin
    ("GET /api/v1/cadres/{id}/record",                  [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications",                      [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /api/v1/clarifications/{id}",                 [404, 404, 404, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications/{id} (disclosed)",     [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications/{id}/transitions",     [404, 404, 404, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications/{id}/transitions (disclosed)", [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/exonerations",                        [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /api/v1/exonerations/{id}",                   [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/exonerations/{id}/transitions",       [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/ledger",                              [403, 403, 200, 200, 200, 200, 200, 200]),
    ("GET /api/v1/outbox",                              [403, 403, 403, 403, 403, 403, 403, 200]),
    ("GET /api/v1/statistics",                          [403, 403, 200, 200, 200, 200, 200, 200]),
    ("GET /api/v1/workflows",                           [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /api/v1/workflows/{name}",                    [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /api/v1/workflows/{name}/diagram",            [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /docs",                                       [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /docs/{file}",                                [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /healthz",                                    [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /metrics",                                    [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /openapi.json",                               [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /readyz",                                     [200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /api/v1/clarifications",                     [403, 403, 403, 201, 403, 403, 403, 403]),
    ("POST /api/v1/clarifications/{id}/transitions",    [404, 404, 404, 200, 200, 404, 403, 403]),
    ("POST /api/v1/clarifications/{id}/transitions (disclosed)", [200, 404, 200, 403, 403, 404, 403, 403]),
    ("POST /api/v1/exonerations",                       [201, 422, 201, 403, 201, 403, 403, 403]),
    ("POST /api/v1/exonerations/{id}/transitions",      [403, 404, 403, 200, 200, 404, 403, 403]),
    ("POST /api/v1/outbox/{id}/retry",                  [403, 403, 403, 403, 403, 403, 403, 409]),
    ("PUT /api/v1/directory/{person_id}",               [403, 403, 403, 403, 403, 403, 403, 200]),
    // Files and notes: parties while the case waits for them (the cadre on a filed
    // application, and answering an inquiry letter with their unit), the staff who handle it.
    ("GET /api/v1/clarifications/{id}/attachments",     [404, 404, 404, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications/{id}/attachments (disclosed)", [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications/{id}/attachments/{attachment_id}", [404, 404, 404, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications/{id}/attachments/{attachment_id} (disclosed)", [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications/{id}/export",          [404, 404, 404, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications/{id}/export (disclosed)", [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications/{id}/notes",           [404, 404, 404, 200, 200, 404, 200, 200]),
    ("GET /api/v1/clarifications/{id}/notes (disclosed)", [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/exonerations/{id}/attachments",       [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/exonerations/{id}/attachments/{attachment_id}", [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/exonerations/{id}/export",            [200, 404, 200, 200, 200, 404, 200, 200]),
    ("GET /api/v1/exonerations/{id}/notes",             [200, 404, 200, 200, 200, 404, 200, 200]),
    ("POST /api/v1/clarifications/{id}/attachments",    [404, 404, 404, 201, 201, 404, 201, 201]),
    ("POST /api/v1/clarifications/{id}/attachments (disclosed)", [201, 404, 201, 201, 201, 404, 201, 201]),
    ("POST /api/v1/clarifications/{id}/notes",          [404, 404, 404, 201, 201, 404, 201, 201]),
    ("POST /api/v1/clarifications/{id}/notes (disclosed)", [201, 404, 201, 201, 201, 404, 201, 201]),
    ("POST /api/v1/exonerations/{id}/attachments",      [201, 404, 403, 201, 201, 404, 201, 201]),
    ("POST /api/v1/exonerations/{id}/notes",            [201, 404, 403, 201, 201, 404, 201, 201]),
];

/// The marker of an operation on a report already put to its subject.
const DISCLOSED: &str = " (disclosed)";

/// The request each operation is tried with: what the role most entitled to it would send.
fn request(op: &str, ids: &Ids) -> (Method, String, Option<Value>) {
    let disclosed = op.ends_with(DISCLOSED);
    let (method, template) = op.trim_end_matches(DISCLOSED).split_once(' ').unwrap();
    let (collection, id) = if template.contains("clarifications") {
        (CLA, &ids.clarification)
    } else {
        (EXO, &ids.exoneration)
    };
    let id = if template.starts_with("/api/v1/outbox/") {
        &ids.outbox
    } else if template.starts_with("/api/v1/cadres/") {
        &ids.cadre
    } else {
        id
    };
    let path = template
        .replace("{attachment_id}", &ids.attachment)
        .replace("{id}", id)
        .replace("{name}", "exoneration")
        .replace("{file}", "index.html")
        .replace("{person_id}", "u-newcomer");
    let body = match (method, template) {
        ("POST", "/api/v1/exonerations") => Some(filing()),
        ("POST", "/api/v1/clarifications") => Some(report()),
        ("POST", t) if t.ends_with("/transitions") && collection == EXO => {
            Some(json!({"event": "accept", "investigator_id": CHEN.id}))
        }
        ("POST", t) if t.ends_with("/transitions") && disclosed => Some(json!({
            "event": "submit_explanation", "explanation": "情况说明"
        })),
        ("POST", t) if t.ends_with("/transitions") => Some(json!({
            "event": "propose_dismissal", "reason_code": "labeling", "explanation": "无具体线索"
        })),
        ("POST", t) if t.ends_with("/notes") => Some(json!({"body": "请补充说明"})),
        ("PUT", _) => Some(json!({
            "name": "新人", "email": "newcomer@example.cn", "roles": ["cadre"],
            "org": "anhui/hefei/finance"
        })),
        _ => None,
    };
    (Method::from_bytes(method.as_bytes()).unwrap(), path, body)
}

fn report() -> Value {
    json!({
        "subject": {"id": ZHANG.id, "name": ZHANG.name, "email": ZHANG.email(),
                    "org": ZHANG.org, "position": "科长"},
        "allegation": {"summary": "来信反映", "details": "来信称张三收受好处。", "channel": "letter"},
        "reporter": {"anonymous": true}
    })
}

/// One role's own objects.
struct Ids {
    exoneration: String,
    clarification: String,
    outbox: String,
    cadre: String,
    /// A file of the case the operation is on (for operations on one file).
    attachment: String,
}

/// Uploads a small text file to a case as `who`; its id.
async fn attach(app: &TestApp, collection: &str, case_id: &str, who: &Person) -> String {
    let r = app
        .send_bytes(
            Method::POST,
            &format!("/api/v1/{collection}/{case_id}/attachments"),
            who,
            UPLOAD_HEADERS,
            UPLOAD.to_vec(),
        )
        .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

const UPLOAD: &[u8] = "情况说明：会议纪要见后。".as_bytes();
const UPLOAD_HEADERS: &[(&str, &str)] = &[
    ("content-type", "text/plain"),
    (
        "content-disposition",
        "attachment; filename*=UTF-8''%E8%AF%B4%E6%98%8E.txt",
    ),
];

async fn every_operation_as_every_role_gets_the_status_of_the_table(app: TestApp) {
    let everyone: Vec<&Person> = ROLES.iter().map(|(_, p)| *p).collect();
    app.introduce(&everyone).await;
    let doc: Value = serde_json::from_str(app.state.docs.json()).unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "patch", "delete"] {
            if item.get(m).is_some() {
                let op = format!("{} {path}", m.to_ascii_uppercase());
                if path.starts_with("/api/v1/clarifications/{id}") {
                    ops.insert(format!("{op}{DISCLOSED}"));
                }
                ops.insert(op);
            }
        }
    }
    let table: BTreeSet<String> = MATRIX.iter().map(|(op, _)| op.to_string()).collect();
    let mut actual = Vec::new();
    for op in &ops {
        let mut row = [0u16; 8];
        for (i, (_, who)) in ROLES.iter().enumerate() {
            // Fresh objects for each role: a case of each workflow and a mail.
            let exoneration = app.file(&ZHANG, &filing()).await["id"]
                .as_str()
                .unwrap()
                .to_string();
            let clarification = app.file_in(CLA, &LI, &report()).await["id"]
                .as_str()
                .unwrap()
                .to_string();
            if op.ends_with(DISCLOSED) {
                app.act_in(CLA, &clarification, &CHEN, inquiry_letter())
                    .await;
            }
            let attachment = if !op.contains("{attachment_id}") {
                String::new()
            } else if op.contains(CLA) {
                attach(&app, CLA, &clarification, &LI).await
            } else {
                attach(&app, EXO, &exoneration, &ZHANG).await
            };
            let case_id = exoneration.clone();
            let outbox = app
                .db()
                .read(move |c| {
                    rongcuo::db::repo::outbox::list_for_case(c, &case_id)
                        .map_err(rongcuo::db::DbError::from)
                })
                .await
                .unwrap()
                .first()
                .map(|row| row.id.clone())
                .expect("a filing is mailed");
            let ids = Ids {
                exoneration,
                clarification,
                outbox,
                cadre: ZHANG.id.to_string(),
                attachment,
            };
            let (method, path, body) = request(op, &ids);
            let token = app.token(who);
            let r = if method == Method::POST && path.ends_with("/attachments") {
                app.send_bytes(method, &path, who, UPLOAD_HEADERS, UPLOAD.to_vec())
                    .await
            } else {
                app.request(method, &path, Some(&token), body.as_ref(), &[])
                    .await
            };
            row[i] = r.status().as_u16();
        }
        actual.push((op.clone(), row));
    }
    let rendered: String = actual
        .iter()
        .map(|(op, row)| format!("    ({:<50} {:?}),\n", format!("\"{op}\","), row))
        .collect();
    let missing: Vec<&String> = ops.difference(&table).collect();
    let stale: Vec<&String> = table.difference(&ops).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "operations without a row: {missing:?}; rows without an operation: {stale:?}\n\
         actual:\n{rendered}"
    );
    for (op, row) in &actual {
        let expected = &MATRIX.iter().find(|(o, _)| o == op).unwrap().1;
        assert_eq!(
            row,
            expected,
            "{op}: got {row:?}, the table says {expected:?} (columns: {:?})\nactual:\n{rendered}",
            ROLES.iter().map(|(r, _)| *r).collect::<Vec<_>>()
        );
    }

    // Lists answer 200 to everyone: what matters is whose cases are in them. A role finds
    // a case in its list exactly when it may read that case.
    for (collection, filer, body, disclose) in [
        (EXO, &ZHANG, filing(), false),
        (CLA, &LI, report(), false),
        (CLA, &LI, report(), true),
    ] {
        let id = app.file_in(collection, filer, &body).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut read = format!("GET /api/v1/{collection}/{{id}}");
        if disclose {
            app.act_in(collection, &id, &CHEN, inquiry_letter()).await;
            read.push_str(DISCLOSED);
        }
        let readable = &MATRIX.iter().find(|(o, _)| *o == read).unwrap().1;
        for (i, (role, who)) in ROLES.iter().enumerate() {
            let page: Value = app
                .get(&format!("/api/v1/{collection}?limit=100"), who)
                .await
                .json()
                .await
                .unwrap();
            let listed = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == id.as_str());
            assert_eq!(
                listed,
                readable[i] == 200,
                "{read} listed as {role}: listed {listed}, may read: {}",
                readable[i]
            );
        }
    }
}
