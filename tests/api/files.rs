//! Evidence files and notes over HTTP: uploaded (raw and as a form), cited by events, listed,
//! downloaded byte for byte; refused past the limits or when the bytes are not what they
//! claim; invisible where their visibility says so; re-hashed by the verifier.

use diesel::connection::SimpleConnection;
use reqwest::{Method, StatusCode};
use rongcuo::audit;
use rongcuo::db::DbError;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;
use crate::{both_backends, on_both_backends};

both_backends!(
    a_chinese_named_pdf_is_uploaded_cited_listed_and_downloaded,
    staff_and_sealed_material_stays_away_from_the_cadre,
    a_file_changed_behind_the_services_back_is_named_by_the_verifier,
);
on_both_backends!(uploads_past_the_limits_or_of_the_wrong_kind_change_nothing);

/// An upload tried: (who, query, media type, disposition, bytes, status, code, the field
/// named or a word of the detail).
type Attempt<'a> = (
    &'a Person,
    &'a str,
    &'a str,
    &'a str,
    Vec<u8>,
    StatusCode,
    &'a str,
    &'a str,
);

const NAME: &str = "情况说明.pdf";
/// `情况说明.pdf`, percent-encoded for `filename*`.
const NAME_ENCODED: &str = "%E6%83%85%E5%86%B5%E8%AF%B4%E6%98%8E.pdf";

/// A PDF of `len` bytes (its signature, then varied filler, then its end marker).
fn pdf(len: usize, seed: u8) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut x = seed as u32 | 1;
    while out.len() < len - 6 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        out.push((x >> 16) as u8);
    }
    out.extend_from_slice(b"\n%%EOF");
    out
}

fn raw_name(name_encoded: &str) -> String {
    format!("attachment; filename=\"file.pdf\"; filename*=UTF-8''{name_encoded}")
}

#[allow(clippy::too_many_arguments)]
async fn upload(
    app: &TestApp,
    collection: &str,
    case_id: &str,
    who: &Person,
    query: &str,
    media_type: &str,
    disposition: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let path = format!("/api/v1/{collection}/{case_id}/attachments{query}");
    let r = app
        .send_bytes(
            Method::POST,
            &path,
            who,
            &[
                ("content-type", media_type),
                ("content-disposition", disposition),
            ],
            bytes,
        )
        .await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A browser form: `visibility` (if any), then the file.
#[allow(clippy::too_many_arguments)]
async fn upload_form(
    app: &TestApp,
    collection: &str,
    case_id: &str,
    who: &Person,
    visibility: Option<&str>,
    filename: &str,
    media_type: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let boundary = "----rongcuo-test-boundary";
    let mut body = Vec::new();
    if let Some(v) = visibility {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"visibility\"\r\n\r\n{v}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {media_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let path = format!("/api/v1/{collection}/{case_id}/attachments");
    let r = app
        .send_bytes(
            Method::POST,
            &path,
            who,
            &[(
                "content-type",
                &format!("multipart/form-data; boundary={boundary}"),
            )],
            body,
        )
        .await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn list(app: &TestApp, collection: &str, case_id: &str, who: &Person) -> (StatusCode, Value) {
    let r = app
        .get(&format!("/api/v1/{collection}/{case_id}/attachments"), who)
        .await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

async fn exec(app: &TestApp, sql: String) -> Result<(), DbError> {
    app.db()
        .write(move |c| c.batch_execute(&sql).map_err(DbError::from))
        .await
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.db()
        .read(move |c| {
            diesel::sql_query(sql)
                .get_result::<N>(c)
                .map(|n| n.n)
                .map_err(DbError::from)
        })
        .await
        .unwrap()
}

async fn a_chinese_named_pdf_is_uploaded_cited_listed_and_downloaded(app: TestApp) {
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    let version = case["version"].as_i64().unwrap();

    // Three chunks' worth, sent as the raw body with its Chinese name.
    let bytes = pdf(600 * 1024, 7);
    let (status, file) = upload(
        &app,
        EXO,
        &id,
        &ZHANG,
        "",
        "application/pdf",
        &raw_name(NAME_ENCODED),
        bytes.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["filename"], NAME);
    assert_eq!(file["media_type"], "application/pdf");
    assert_eq!(file["size"], bytes.len());
    assert_eq!(file["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(file["visibility"], "parties");
    assert_eq!(file["uploaded_by"]["id"], ZHANG.id);
    let pdf_id = file["id"].as_str().unwrap().to_string();

    // The upload is a row of the chain; the case moved on a version, nothing else.
    let after = app.case(&id, &ZHANG).await;
    assert_eq!(after["version"].as_i64().unwrap(), version + 1);
    assert_eq!(after["state"], "filed");
    assert_eq!(after["updated_at"], case["updated_at"]);
    let timeline = app.timeline(&id, &ZHANG).await;
    let attach = timeline.last().unwrap();
    assert_eq!(attach["event"], "attach");
    assert_eq!(attach["payload"]["sha256"], file["sha256"]);
    assert_eq!(attach["payload"]["filename"], NAME);
    assert_eq!(attach["payload"]["size"], bytes.len());
    assert_eq!(file["seq"], attach["seq"]);

    // Asked for more, the cadre sends a text file from a browser form and cites both.
    app.act(
        &id,
        &LI,
        json!({"event": "request_supplement", "items": "会议纪要", "due_at": due_in_days(5)}),
    )
    .await;
    let minutes = "2026年3月会议纪要：集体决策。\n".repeat(50);
    let (status, text) = upload_form(
        &app,
        EXO,
        &id,
        &ZHANG,
        Some("parties"),
        "会议纪要.txt",
        "text/plain",
        minutes.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert_eq!(text["filename"], "会议纪要.txt");
    let text_id = text["id"].as_str().unwrap().to_string();

    // Citing what is not the case's file, or from an event that cites nothing, is refused.
    let (status, body) = app
        .try_act(
            &id,
            &ZHANG,
            json!({"event": "supplement", "material": "纪要", "attachments": [pdf_id, "nope"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "attachments[1]");
    let (status, body) = app
        .try_act(
            &id,
            &ZHANG,
            json!({"event": "withdraw", "reason": "不再申请", "attachments": [pdf_id]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "attachments");

    app.act(
        &id,
        &ZHANG,
        json!({"event": "supplement", "material": "会议纪要及情况说明", "attachments": [pdf_id, text_id]}),
    )
    .await;
    let timeline = app.timeline(&id, &ZHANG).await;
    let supplement = timeline
        .iter()
        .find(|t| t["event"] == "supplement")
        .unwrap();
    assert_eq!(
        supplement["payload"]["attachments"],
        json!([pdf_id, text_id])
    );

    // Listed, oldest first, for the parties and the staff; not for another cadre.
    let (status, page) = list(&app, EXO, &id, &ZHANG).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&page), [pdf_id.clone(), text_id.clone()]);
    assert_eq!(ids(&list(&app, EXO, &id, &LI).await.1), ids(&page));
    assert_eq!(list(&app, EXO, &id, &QIAN).await.0, StatusCode::NOT_FOUND);
    let r = app
        .get(
            &format!("/api/v1/exonerations/{id}/attachments?limit=1"),
            &ZHANG,
        )
        .await;
    let first: Value = r.json().await.unwrap();
    assert_eq!(ids(&first), std::slice::from_ref(&pdf_id));
    let cursor = first["next_cursor"].as_str().unwrap();
    let r = app
        .get(
            &format!("/api/v1/exonerations/{id}/attachments?limit=1&cursor={cursor}"),
            &ZHANG,
        )
        .await;
    let second: Value = r.json().await.unwrap();
    assert_eq!(ids(&second), std::slice::from_ref(&text_id));
    assert!(second["next_cursor"].is_null());

    // Downloaded byte for byte, as an attachment that no browser sniffs.
    let r = app
        .get(
            &format!("/api/v1/exonerations/{id}/attachments/{pdf_id}"),
            &LI,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(
        h["etag"].to_str().unwrap(),
        format!("\"{}\"", file["sha256"].as_str().unwrap())
    );
    let cd = h["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment"), "{cd}");
    assert!(
        cd.contains(&format!("filename*=UTF-8''{NAME_ENCODED}")),
        "{cd}"
    );
    let got = r.bytes().await.unwrap();
    assert_eq!(got.len(), bytes.len());
    assert!(got.as_ref() == bytes.as_slice(), "the bytes differ");
    let r = app
        .get(
            &format!("/api/v1/exonerations/{id}/attachments/{text_id}"),
            &ZHANG,
        )
        .await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), minutes.as_bytes());
    let r = app
        .get(
            &format!("/api/v1/exonerations/{id}/attachments/{pdf_id}"),
            &QIAN,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The same content again is a second attachment of one stored blob.
    let (status, again) = upload(
        &app,
        EXO,
        &id,
        &LI,
        "?visibility=staff",
        "application/pdf",
        &raw_name("copy.pdf"),
        bytes.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM blobs").await, 2);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM blob_chunks").await,
        4
    );
    // ...which the cadre does not see.
    assert_eq!(ids(&list(&app, EXO, &id, &ZHANG).await.1).len(), 2);
    assert_eq!(ids(&list(&app, EXO, &id, &LI).await.1).len(), 3);

    // The chain holds, and so do the files.
    let store = app.state.engine.store();
    let report = tokio::task::spawn_blocking(move || audit::verify_everything(&store))
        .await
        .unwrap()
        .unwrap();
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);
    assert_eq!((report.files, report.bad_files.len()), (2, 0));
}

async fn uploads_past_the_limits_or_of_the_wrong_kind_change_nothing(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("RONGCUO_ATTACHMENT_MAX_FILE_BYTES", "300000"),
            ("RONGCUO_ATTACHMENT_MAX_CASE_BYTES", "500000"),
        ],
    )
    .await
    .unwrap();
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    let name = raw_name("a.pdf");
    let refused = |status: StatusCode, body: &Value, expected: StatusCode, code: &str| {
        assert_eq!(status, expected, "{body}");
        assert_eq!(body["code"], code, "{body}");
    };

    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    exe.resize(4096, 0);
    let cases: Vec<Attempt> = vec![
        (
            &ZHANG,
            "",
            "application/pdf",
            &name,
            pdf(400_000, 1),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "",
        ),
        (
            &ZHANG,
            "",
            "image/svg+xml",
            &name,
            b"<svg/>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "",
        ),
        // A PDF sent as a PNG, and an executable sent as a PDF.
        (
            &ZHANG,
            "",
            "image/png",
            &name,
            pdf(5_000, 2),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "application/pdf",
        ),
        (
            &ZHANG,
            "",
            "application/pdf",
            &name,
            exe,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "",
        ),
        // No name, a bad visibility, an empty file.
        (
            &ZHANG,
            "",
            "application/pdf",
            "inline",
            pdf(5_000, 3),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Content-Disposition",
        ),
        (
            &ZHANG,
            "?visibility=secret",
            "application/pdf",
            &name,
            pdf(5_000, 3),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "visibility",
        ),
        (
            &ZHANG,
            "",
            "text/plain",
            &name,
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "file",
        ),
        // A cadre's material is for the parties; staff material is the staff's.
        (
            &ZHANG,
            "?visibility=staff",
            "application/pdf",
            &name,
            pdf(5_000, 4),
            StatusCode::FORBIDDEN,
            "forbidden",
            "",
        ),
        // Sealed material is for what identifies a reporter: exoneration cases have none.
        (
            &LI,
            "?visibility=sealed",
            "application/pdf",
            &name,
            pdf(5_000, 4),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "visibility",
        ),
    ];
    for (who, query, media, disposition, bytes, status, code, named) in cases {
        let (s, b) = upload(&app, EXO, &id, who, query, media, disposition, bytes).await;
        refused(s, &b, status, code);
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(b["errors"][0]["field"], named, "{b}");
        } else {
            assert!(b["detail"].as_str().unwrap().contains(named), "{b}");
        }
    }
    // A form without its file.
    let (s, b) = upload_form(
        &app,
        EXO,
        &id,
        &ZHANG,
        Some("parties"),
        "",
        "application/pdf",
        b"",
    )
    .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // Nothing of those was kept.
    assert_eq!(app.case(&id, &ZHANG).await["version"], case["version"]);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM blobs").await, 0);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM blob_chunks").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM attachments").await,
        0
    );

    // The case's room: 260 000 bytes fit, 260 000 more do not (500 000 in all).
    let (s, b) = upload(
        &app,
        EXO,
        &id,
        &ZHANG,
        "",
        "application/pdf",
        &name,
        pdf(260_000, 5),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = upload(
        &app,
        EXO,
        &id,
        &ZHANG,
        "",
        "application/pdf",
        &name,
        pdf(260_000, 6),
    )
    .await;
    refused(s, &b, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    // Streamed without a length, the file is cut off at the limit all the same.
    let (s, b) = upload_form(
        &app,
        EXO,
        &id,
        &ZHANG,
        None,
        "b.pdf",
        "application/pdf",
        &pdf(260_000, 6),
    )
    .await;
    refused(s, &b, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM blobs").await, 1);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM blob_chunks").await,
        1
    );

    // While the case is with the investigators the cadre adds nothing; once it is over,
    // nobody does.
    app.introduce(&[&CHEN]).await;
    app.act(
        &id,
        &LI,
        json!({"event": "accept", "investigator_id": CHEN.id}),
    )
    .await;
    let (s, b) = upload(
        &app,
        EXO,
        &id,
        &ZHANG,
        "",
        "application/pdf",
        &name,
        pdf(5_000, 8),
    )
    .await;
    refused(s, &b, StatusCode::FORBIDDEN, "forbidden");
    app.act(&id, &ZHANG, json!({"event": "withdraw", "reason": "撤回"}))
        .await;
    let (s, b) = upload(
        &app,
        EXO,
        &id,
        &LI,
        "",
        "application/pdf",
        &name,
        pdf(5_000, 8),
    )
    .await;
    refused(s, &b, StatusCode::CONFLICT, "invalid_transition");
}

fn report() -> Value {
    json!({
        "subject": {"id": ZHANG.id, "name": ZHANG.name, "email": ZHANG.email(), "org": ZHANG.org, "position": "科长"},
        "allegation": {"summary": "来信反映收受好处", "details": "来信称其收受中介好处。", "channel": "letter"},
        "reporter": {"name": "举报人甲", "contact": "13900000000"}
    })
}

async fn staff_and_sealed_material_stays_away_from_the_cadre(app: TestApp) {
    app.introduce(&[&ZHANG, &WANG, &LI, &CHEN, &SUN]).await;
    let case = app.file_in(CLA, &LI, &report()).await;
    let id = case["id"].as_str().unwrap().to_string();
    app.act_in(CLA, &id, &CHEN, inquiry_letter()).await;

    let staff_name = "内部核查笔记.txt";
    let sealed_name = "举报人身份材料.txt";
    let staff_text = "核查笔记：尚待核实。\n";
    let sealed_text = "举报人：举报人甲，电话13900000000。\n";
    let (s, staff) = upload(
        &app,
        CLA,
        &id,
        &CHEN,
        "?visibility=staff",
        "text/plain",
        "attachment; filename*=UTF-8''%E5%86%85%E9%83%A8%E6%A0%B8%E6%9F%A5%E7%AC%94%E8%AE%B0.txt",
        staff_text.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{staff}");
    assert_eq!(staff["filename"], staff_name);
    let (s, sealed) = upload_form(
        &app,
        CLA,
        &id,
        &CHEN,
        Some("sealed"),
        sealed_name,
        "text/plain",
        sealed_text.as_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{sealed}");
    assert_eq!(sealed["visibility"], "sealed");
    let hidden = [
        staff["id"].as_str().unwrap().to_string(),
        sealed["id"].as_str().unwrap().to_string(),
        staff_name.to_string(),
        sealed_name.to_string(),
        staff["sha256"].as_str().unwrap().to_string(),
        sealed["sha256"].as_str().unwrap().to_string(),
    ];

    // The cadre answers the inquiry with a file of his own; he cannot cite theirs.
    let (s, own) = upload(
        &app,
        CLA,
        &id,
        &ZHANG,
        "",
        "text/plain",
        "attachment; filename=answer.txt",
        "情况说明：不存在收受好处。".as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{own}");
    let (s, b) = app.try_act_in(CLA, &id, &ZHANG,
        json!({"event": "submit_explanation", "explanation": "见附件", "attachments": [staff["id"]]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    app.act_in(
        CLA,
        &id,
        &ZHANG,
        json!({"event": "submit_explanation", "explanation": "见附件", "attachments": [own["id"]]}),
    )
    .await;
    // Notes: one for the staff, one for the parties.
    let note = |who: &'static Person, body: Value| {
        let app = &app;
        let id = id.clone();
        async move {
            let r = app
                .post(&format!("/api/v1/clarifications/{id}/notes"), who, &body)
                .await;
            let s = r.status();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    let (s, staff_note) = note(
        &CHEN,
        json!({"body": "内部意见：拟采信。", "visibility": "staff"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{staff_note}");
    let (s, open_note) = note(&CHEN, json!({"body": "已收到您的说明。"})).await;
    assert_eq!(s, StatusCode::CREATED, "{open_note}");
    assert_eq!(open_note["visibility"], "parties");
    let (s, b) = note(&ZHANG, json!({"body": "补充", "visibility": "sealed"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    // Everything the cadre can read about the case.
    let mut seen = String::new();
    for path in ["", "/transitions", "/attachments", "/notes"] {
        let r = app
            .get(&format!("/api/v1/clarifications/{id}{path}"), &ZHANG)
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        seen.push_str(&r.text().await.unwrap());
    }
    for h in &hidden {
        assert!(!seen.contains(h.as_str()), "the cadre sees {h}");
    }
    assert!(!seen.contains("内部意见"), "the cadre sees the staff note");
    // ...nor in his case file, which still verifies (their rows linked by hash alone).
    let r = app
        .get(&format!("/api/v1/clarifications/{id}/export"), &ZHANG)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let zip = r.bytes().await.unwrap().to_vec();
    let text = String::from_utf8_lossy(&zip).to_string();
    for h in &hidden {
        assert!(
            !text.contains(h.as_str()),
            "the cadre's case file holds {h}"
        );
    }
    assert!(!text.contains("内部意见") && !text.contains("举报人甲"));
    let summary = rongcuo::export::verify::verify(zip.as_slice()).unwrap();
    assert_eq!(summary.files, 1);
    assert!(summary.redacted >= 3, "{summary:?}");
    assert!(seen.contains("已收到您的说明"));
    assert!(seen.contains("\"withheld\":true"), "{seen}");
    for file in [&staff, &sealed] {
        let r = app
            .get(
                &format!(
                    "/api/v1/clarifications/{id}/attachments/{}",
                    file["id"].as_str().unwrap()
                ),
                &ZHANG,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = app
            .get(
                &format!(
                    "/api/v1/clarifications/{id}/attachments/{}",
                    file["id"].as_str().unwrap()
                ),
                &WANG,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    // The reviewer sees the staff file but not the sealed one; the investigator both, the
    // sealed one by its name, with its bytes.
    let (_, page) = list(&app, CLA, &id, &SUN).await;
    assert_eq!(ids(&page).len(), 2);
    let (_, page) = list(&app, CLA, &id, &CHEN).await;
    assert_eq!(ids(&page).len(), 3);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["filename"] == sealed_name)
    );
    let r = app
        .get(
            &format!(
                "/api/v1/clarifications/{id}/attachments/{}",
                sealed["id"].as_str().unwrap()
            ),
            &LI,
        )
        .await;
    assert_eq!(r.text().await.unwrap(), sealed_text);
    let timeline = app.timeline_in(CLA, &id, &CHEN).await;
    assert!(
        timeline
            .iter()
            .any(|t| t["payload"]["filename"] == sealed_name)
    );
    let notes: Value = app
        .get(&format!("/api/v1/clarifications/{id}/notes"), &SUN)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notes["items"].as_array().unwrap().len(), 2);

    // No mail about the case names them, and the staff note reached no cadre.
    let mails = {
        let id = id.clone();
        app.db()
            .read(move |c| rongcuo::db::repo::outbox::list_for_case(c, &id).map_err(DbError::from))
            .await
            .unwrap()
    };
    for m in &mails {
        for h in &hidden {
            assert!(!m.body_text.contains(h.as_str()) && !m.subject.contains(h.as_str()));
        }
    }
    let staff_seq = staff_note["seq"].as_i64().unwrap();
    let to_staff_note: Vec<&str> = mails
        .iter()
        .filter(|m| m.seq == staff_seq)
        .map(|m| m.relation.as_str())
        .collect();
    assert!(
        !to_staff_note.is_empty() && !to_staff_note.contains(&"subject"),
        "{to_staff_note:?}"
    );
    let open_seq = open_note["seq"].as_i64().unwrap();
    assert!(mails.iter().any(|m| m.seq == open_seq
        && m.relation == "subject"
        && m.body_text.contains("已收到您的说明")));
    assert!(
        !mails
            .iter()
            .any(|m| m.seq == open_seq && m.relation == "investigator"),
        "the author is not mailed their own note"
    );

    // At rest the sealed file is neither its name nor its bytes.
    let stored = {
        let sid = sealed["id"].as_str().unwrap().to_string();
        app.db()
            .read(move |c| {
                use diesel::prelude::*;
                use rongcuo::db::schema::{attachments, blob_chunks};
                let a: (String, String) = attachments::table
                    .filter(attachments::id.eq(&sid))
                    .select((attachments::filename, attachments::blob_id))
                    .first(c)?;
                let data: Vec<u8> = blob_chunks::table
                    .filter(blob_chunks::blob_id.eq(&a.1))
                    .select(blob_chunks::data)
                    .first(c)?;
                Ok::<_, DbError>((a.0, data))
            })
            .await
            .unwrap()
    };
    assert!(!stored.0.contains("举报人"), "{}", stored.0);
    let needle = "13900000000".as_bytes();
    assert!(!stored.1.windows(needle.len()).any(|w| w == needle));
    let store = app.state.engine.store();
    let report = tokio::task::spawn_blocking(move || audit::verify_everything(&store))
        .await
        .unwrap()
        .unwrap();
    assert!(
        report.breaks.is_empty() && report.bad_files.is_empty(),
        "{report:?}"
    );
}

async fn a_file_changed_behind_the_services_back_is_named_by_the_verifier(app: TestApp) {
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    let (s, file) = upload(
        &app,
        EXO,
        &id,
        &ZHANG,
        "",
        "application/pdf",
        &raw_name(NAME_ENCODED),
        pdf(300_000, 9),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{file}");
    let (s, other) = upload(
        &app,
        EXO,
        &id,
        &ZHANG,
        "",
        "application/pdf",
        &raw_name("other.pdf"),
        pdf(1_000, 10),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{other}");
    // One byte of the second chunk changes.
    let flip = match app.backend {
        Backend::Sqlite => "UPDATE blob_chunks SET data = X'00' || substr(data, 2) WHERE seq = 1",
        Backend::Postgres => {
            "UPDATE blob_chunks SET data = overlay(data placing '\\x00'::bytea from 1 for 1) WHERE seq = 1"
        }
    };
    exec(&app, flip.to_string()).await.unwrap();
    let store = app.state.engine.store();
    let report = tokio::task::spawn_blocking(move || audit::verify_everything(&store))
        .await
        .unwrap()
        .unwrap();
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);
    assert_eq!(report.files, 2);
    assert_eq!(report.bad_files.len(), 1, "{:?}", report.bad_files);
    let named = report.bad_files[0].to_string();
    assert!(
        named.contains(file["id"].as_str().unwrap()) && named.contains(NAME),
        "{named}"
    );
    assert!(named.contains("bytes changed"), "{named}");

    // The command line says the same and exits 1.
    let out = audit_verify_command(&app).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "CHANGED case {id} file {}",
            file["id"].as_str().unwrap()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("2 files, 1 changed"), "{stdout}");
}

both_backends!(a_case_file_is_exported_verified_and_a_changed_byte_is_named);

/// Runs `rongcuo verify-export` on `bytes`; (exit code, output).
fn verify_export_command(bytes: &[u8]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.zip");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rongcuo"))
        .arg("verify-export")
        .arg(&path)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

fn changed(bytes: &[u8], at: usize) -> Vec<String> {
    let mut copy = bytes.to_vec();
    copy[at] ^= 0x01;
    rongcuo::export::verify::verify(copy.as_slice()).expect_err("a changed byte is caught")
}

async fn a_case_file_is_exported_verified_and_a_changed_byte_is_named(app: TestApp) {
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    let bytes = pdf(300_000, 11);
    let (s, file) = upload(
        &app,
        EXO,
        &id,
        &ZHANG,
        "",
        "application/pdf",
        &raw_name(NAME_ENCODED),
        bytes.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{file}");
    let staff_name = "调查笔记.txt";
    let (s, staff) = upload_form(
        &app,
        EXO,
        &id,
        &LI,
        Some("staff"),
        staff_name,
        "text/plain",
        "调查笔记：待核。".as_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{staff}");
    let r = app
        .post(
            &format!("/api/v1/exonerations/{id}/notes"),
            &LI,
            &json!({"body": "内部意见：拟受理。", "visibility": "staff"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post(
            &format!("/api/v1/exonerations/{id}/notes"),
            &LI,
            &json!({"body": "已收到材料。"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // The cadre's case file: his file, the open note, the chain with the rest withheld.
    let r = app
        .get(&format!("/api/v1/exonerations/{id}/export"), &ZHANG)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let zip = r.bytes().await.unwrap().to_vec();
    let summary = rongcuo::export::verify::verify(zip.as_slice()).unwrap();
    assert_eq!(summary.case_id, id);
    assert_eq!(summary.files, 1);
    assert_eq!(summary.rows, 5);
    assert_eq!(
        summary.redacted, 2,
        "the staff file's row and the staff note's row"
    );
    let text = String::from_utf8_lossy(&zip);
    for h in [
        staff_name,
        staff["id"].as_str().unwrap(),
        staff["sha256"].as_str().unwrap(),
        "内部意见",
    ] {
        assert!(!text.contains(h), "the cadre's case file holds {h}");
    }
    assert!(text.contains("已收到材料"));
    // A standard reader opens it, each entry matching its checksum.
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.clone())).unwrap();
    let names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    let pdf_entry = format!("files/{:04}-{NAME}", file["seq"].as_i64().unwrap());
    assert_eq!(
        names,
        [
            "case.json",
            "timeline.json",
            "notes.json",
            pdf_entry.as_str(),
            "manifest.json"
        ]
    );
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_name(&pdf_entry).unwrap(), &mut got).unwrap();
    assert!(got == bytes, "the file in the case file differs");
    let (code, out) = verify_export_command(&zip);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("1 files") && out.contains("5 chain rows"),
        "{out}"
    );

    // The staff's case file holds both files and every row whole.
    let r = app
        .get(&format!("/api/v1/exonerations/{id}/export"), &LI)
        .await;
    let staff_zip = r.bytes().await.unwrap().to_vec();
    let s = rongcuo::export::verify::verify(staff_zip.as_slice()).unwrap();
    assert_eq!((s.files, s.rows, s.redacted), (2, 5, 0));
    assert_eq!(
        app.get(&format!("/api/v1/exonerations/{id}/export"), &QIAN)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // One byte changed anywhere is named: in the file, in the timeline, in a header, in
    // the manifest, in the central directory, in the end record.
    let find = |needle: &[u8]| zip.windows(needle.len()).position(|w| w == needle).unwrap();
    let in_pdf = find(&bytes[1000..1016]) + 5;
    let problems = changed(&zip, in_pdf);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&pdf_entry) && p.contains("changed")),
        "{problems:?}"
    );
    let in_timeline = find(b"\"prev_hash\"") + 3;
    let problems = changed(&zip, in_timeline);
    assert!(
        problems.iter().any(|p| p.starts_with("timeline.json")),
        "{problems:?}"
    );
    let problems = changed(&zip, 10); // the first entry's time
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("case.json") && p.contains("time")),
        "{problems:?}"
    );
    let in_manifest = find(b"\"audit_head\"") + 2;
    let problems = changed(&zip, in_manifest);
    assert!(
        problems.iter().any(|p| p.starts_with("manifest.json")),
        "{problems:?}"
    );
    let central = zip.len() - 22 - 10;
    assert!(!changed(&zip, central).is_empty());
    let problems = changed(&zip, zip.len() - 6); // the directory's offset
    assert!(
        problems.iter().any(|p| p.contains("end record")),
        "{problems:?}"
    );
    let mut copy = zip.clone();
    copy[in_pdf] ^= 0x01;
    let (code, out) = verify_export_command(&copy);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("CHANGED {pdf_entry}")), "{out}");
}

both_backends!(an_upload_abandoned_midway_is_swept_with_its_chunks);

/// An upload whose process died between chunks leaves an incomplete blob; the scheduler's
/// sweep drops it with its chunks once it is old enough, and leaves complete ones alone.
async fn an_upload_abandoned_midway_is_swept_with_its_chunks(app: TestApp) {
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    let (s, kept) = upload(
        &app,
        EXO,
        &id,
        &ZHANG,
        "",
        "application/pdf",
        &raw_name("kept.pdf"),
        pdf(5_000, 12),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{kept}");
    let engine = &app.state.engine;
    let actor = app.claims(&ZHANG).to_actor().unwrap();
    let upload = engine
        .begin_upload(
            "exoneration",
            id.clone(),
            actor,
            rongcuo::domain::material::Visibility::Parties,
            None,
        )
        .await
        .unwrap();
    engine
        .store()
        .put(&upload.blob, 0, pdf(1_000, 13), 1_000)
        .await
        .unwrap();
    assert_eq!(count(&app, "SELECT count(*) AS n FROM blobs").await, 2);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM blob_chunks").await,
        2
    );
    // Younger than the age given: kept.
    assert_eq!(
        engine
            .sweep_uploads(chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM blobs").await, 2);
    app.clock().advance(chrono::Duration::hours(2));
    assert_eq!(
        engine
            .sweep_uploads(chrono::Duration::hours(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM blobs").await, 1);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM blob_chunks").await,
        1
    );
    // A chunk arriving for the swept upload is refused, not stored.
    let late = engine
        .store()
        .put(&upload.blob, 1, pdf(1_000, 14), 2_000)
        .await;
    assert!(late.is_err());
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM blob_chunks").await,
        1
    );
    let r = app
        .get(
            &format!(
                "/api/v1/exonerations/{id}/attachments/{}",
                kept["id"].as_str().unwrap()
            ),
            &ZHANG,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}
