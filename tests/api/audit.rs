use diesel::connection::SimpleConnection;
use rongcuo::audit;
use rongcuo::db::DbError;
use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

both_backends!(an_edit_behind_the_services_back_is_caught);

async fn exec(app: &TestApp, sql: String) -> Result<(), DbError> {
    app.db()
        .write(move |c| c.batch_execute(&sql).map_err(DbError::from))
        .await
}

async fn an_edit_behind_the_services_back_is_caught(app: TestApp) {
    let case = app.file(&ZHANG, &filing()).await;
    let id = case["id"].as_str().unwrap().to_string();
    app.act(
        &id,
        &LI,
        json!({"event": "request_supplement", "items": "纪要", "due_at": due_in_days(5)}),
    )
    .await;
    app.act(
        &id,
        &ZHANG,
        json!({"event": "supplement", "material": "会议纪要"}),
    )
    .await;
    let other = app.file(&ZHANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let third = app.file(&ZHANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let fourth = app.file(&ZHANG, &filing()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(
        &fourth,
        &LI,
        json!({"event": "reject_intake", "reason": "重复申请"}),
    )
    .await;

    let db = app.db().clone();
    let report = tokio::task::spawn_blocking(move || audit::verify_all(&db))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.cases, report.rows, report.breaks.len()), (4, 7, 0));

    // The table refuses edits outright.
    let edit = format!(
        "UPDATE transitions SET payload = '{{\"items\":\"改过\"}}' WHERE case_id = '{id}' AND seq = 2"
    );
    let refused = exec(&app, edit.clone()).await.unwrap_err().to_string();
    assert!(refused.contains("append-only"), "{refused}");
    let delete = format!("DELETE FROM transitions WHERE case_id = '{id}' AND seq = 3");
    assert!(exec(&app, delete).await.is_err());

    // Someone with the database's keys switches the guard off and edits anyway.
    let disable = match app.backend {
        Backend::Sqlite => "DROP TRIGGER transitions_no_update".to_string(),
        Backend::Postgres => {
            "ALTER TABLE transitions DISABLE TRIGGER transitions_no_change".to_string()
        }
    };
    exec(&app, format!("{disable}; {edit}")).await.unwrap();
    exec(
        &app,
        format!("UPDATE cases SET state = 'exonerated' WHERE id = '{other}'"),
    )
    .await
    .unwrap();
    // A stage made to look shorter (outside the hash, but derived from the chain).
    exec(
        &app,
        format!("UPDATE transitions SET stage_seconds = stage_seconds + 3600 WHERE case_id = '{fourth}' AND seq = 2"),
    )
    .await
    .unwrap();
    // The head the next transition would chain to, pointed elsewhere.
    exec(
        &app,
        format!("UPDATE cases SET audit_head = 'not-the-last-hash' WHERE id = '{third}'"),
    )
    .await
    .unwrap();

    let db = app.db().clone();
    let report = tokio::task::spawn_blocking(move || audit::verify_all(&db))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.breaks.len(), 4, "{:?}", report.breaks);
    let b = report.breaks.iter().find(|b| b.case_id == id).unwrap();
    assert_eq!(b.seq, 2);
    assert!(b.reason.contains("hash"), "{b}");
    let b = report.breaks.iter().find(|b| b.case_id == other).unwrap();
    assert!(b.reason.contains("state"), "{b}");
    let b = report.breaks.iter().find(|b| b.case_id == third).unwrap();
    assert!(b.reason.contains("audit head"), "{b}");
    let b = report.breaks.iter().find(|b| b.case_id == fourth).unwrap();
    assert!(b.reason.contains("stage_seconds"), "{b}");

    // The command line says the same and exits 1.
    let out = audit_verify_command(&app).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("BROKEN case {id} row 2")),
        "{stdout}"
    );
    assert!(stdout.contains("4 broken chains"), "{stdout}");
}
