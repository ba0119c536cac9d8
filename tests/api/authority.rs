//! Jurisdiction comes from the organisation, never from the filer: a cadre files about
//! themselves in the org of their token, staff file about a cadre in the org the directory
//! holds for them. Every refusal names its field and stores nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

both_backends!(
    a_cadre_files_about_themselves_in_the_org_of_their_token,
    staff_file_in_the_org_the_directory_holds_for_the_cadre,
);

/// The number of cases of `collection` that `who` can list.
async fn listed(app: &TestApp, collection: &str, who: &Person) -> usize {
    let v: Value = app
        .get(&format!("/api/v1/{collection}?limit=100"), who)
        .await
        .json()
        .await
        .unwrap();
    v["items"].as_array().unwrap().len()
}

async fn refused(
    app: &TestApp,
    collection: &str,
    who: &Person,
    body: &Value,
) -> (StatusCode, Value) {
    let r = app.post(&format!("/api/v1/{collection}"), who, body).await;
    (r.status(), r.json().await.unwrap())
}

fn field(v: &Value) -> &str {
    v["errors"][0]["field"].as_str().unwrap_or_default()
}

async fn a_cadre_files_about_themselves_in_the_org_of_their_token(app: TestApp) {
    // Another org in the body: the case would go to an office without jurisdiction.
    let mut elsewhere = filing();
    elsewhere["subject"]["org"] = json!("beijing/xicheng");
    let (s, v) = refused(&app, EXO, &ZHANG, &elsewhere).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "subject.org"),
        "{v}"
    );
    // About another cadre: 422 on the id (it was 403).
    let mut other = filing();
    other["subject"]["id"] = json!(QIAN.id);
    let (s, v) = refused(&app, EXO, &ZHANG, &other).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "subject.id"),
        "{v}"
    );
    assert_eq!(
        listed(&app, EXO, &LI).await,
        0,
        "a refused filing stores nothing"
    );

    // The subject left out: everything from the token.
    let mut bare = filing();
    bare.as_object_mut().unwrap().remove("subject");
    let c = app.file(&ZHANG, &bare).await;
    assert_eq!(
        c["subject"],
        json!({"id": ZHANG.id, "name": ZHANG.name, "email": ZHANG.email(), "org": ZHANG.org, "position": ""})
    );
    assert_eq!(c["applicant"]["role"], "cadre");
    // A different name or e-mail is replaced by the token's; the position is kept.
    let mut renamed = filing();
    renamed["subject"]["name"] = json!("张三丰");
    renamed["subject"]["email"] = json!("someone-else@example.cn");
    let c = app.file(&ZHANG, &renamed).await;
    assert_eq!(c["subject"]["name"], ZHANG.name);
    assert_eq!(c["subject"]["email"], ZHANG.email());
    assert_eq!(c["subject"]["position"], "安全监管科科长");
    // Staff of the cadre's jurisdiction see both; staff elsewhere neither.
    assert_eq!(listed(&app, EXO, &LI).await, 2);
    assert_eq!(listed(&app, EXO, &WU).await, 0);
}

async fn staff_file_in_the_org_the_directory_holds_for_the_cadre(app: TestApp) {
    app.introduce(&[&ZHANG, &QIAN]).await;
    // The unit files for its cadre: the directory's org, name and e-mail fill what is left out.
    let mut known = filing();
    known["subject"] = json!({"id": ZHANG.id, "position": "科长"});
    let c = app.file(&WANG, &known).await;
    assert_eq!(c["subject"]["org"], ZHANG.org);
    assert_eq!(c["subject"]["email"], ZHANG.email());
    assert_eq!(c["applicant"]["role"], "unit_admin");
    // Another org than the directory's, even one inside the filer's subtree: 422.
    let mut moved = filing();
    moved["subject"]["org"] = json!("anhui/hefei/finance/budget");
    let (s, v) = refused(&app, EXO, &WANG, &moved).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "subject.org"),
        "{v}"
    );
    // A cadre the directory does not know needs an org (within the filer's subtree).
    let mut unknown = filing();
    unknown["subject"] = json!({"id": "u-newcomer", "name": "新人", "email": "newcomer@example.cn", "position": "干部"});
    let (s, v) = refused(&app, EXO, &CHEN, &unknown).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "subject.org"),
        "{v}"
    );
    unknown["subject"]["org"] = json!("anhui/hefei/finance/budget");
    let c = app.file(&CHEN, &unknown).await;
    assert_eq!(c["subject"]["org"], "anhui/hefei/finance/budget");
    unknown["subject"]["org"] = json!("fujian/xiamen");
    let (s, v) = refused(&app, EXO, &CHEN, &unknown).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "outside the investigator's subtree: {v}"
    );
    // An investigator elsewhere cannot reach a cadre the directory places here.
    let mut far = filing();
    far["subject"] = json!({"id": ZHANG.id, "org": "fujian/xiamen", "name": "张三", "email": ZHANG.email(), "position": "科长"});
    let (s, v) = refused(&app, EXO, &WU, &far).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "subject.org"),
        "{v}"
    );
    far["subject"]["org"] = json!(ZHANG.org);
    let (s, _) = refused(&app, EXO, &WU, &far).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(listed(&app, EXO, &ADMIN).await, 2);

    // Reports too: the directory's org, and never about the intake officer themselves.
    let report = |subject: Value| {
        json!({"subject": subject,
               "allegation": {"summary": "来信反映", "details": "来信称收受好处。", "channel": "letter"}})
    };
    let (s, v) = refused(
        &app,
        CLA,
        &LI,
        &report(json!({"id": QIAN.id, "org": "anhui/hefei/budget"})),
    )
    .await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "subject.org"),
        "{v}"
    );
    let (s, v) = refused(&app, CLA, &LI, &report(json!({"name": "某人"}))).await;
    assert_eq!(
        (s, field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "subject.id"),
        "{v}"
    );
    let (s, _) = refused(&app, CLA, &LI, &report(json!({"id": LI.id}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let c = app.file_in(CLA, &LI, &report(json!({"id": QIAN.id}))).await;
    assert_eq!(
        (c["subject"]["org"].as_str(), c["subject"]["name"].as_str()),
        (Some(QIAN.org), Some(QIAN.name))
    );
    assert_eq!(listed(&app, CLA, &LI).await, 1);
}
