//! SQLite's writer thread commits queued requests' writes in groups: each request's writes
//! stay atomic (one that fails leaves nothing, the others of its group are kept), and each
//! is answered after its group's COMMIT.

use diesel::connection::SimpleConnection;
use rongcuo::db::models::PersonRow;
use rongcuo::db::{Db, DbError, DbUrl, migrations, repo};

fn person(i: usize) -> PersonRow {
    PersonRow {
        id: format!("p-{i}"),
        name: format!("人{i}"),
        email: format!("p{i}@example.cn"),
        roles: ",cadre,".into(),
        org: "anhui".into(),
        source: "test".into(),
        updated_at: rongcuo::db::now_micros(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_request_in_a_group_leaves_nothing_and_spoils_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(
        &DbUrl::parse(&format!("sqlite://{}/w.db", dir.path().display())).unwrap(),
        4,
    )
    .unwrap();
    migrations::run_pending(&mut db.writer_connection().unwrap()).unwrap();
    let mut tasks = Vec::new();
    for i in 0..300 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.write(move |c| {
                // Every request writes; every third then fails (after writing), every
                // 50th panics: neither may leave its row.
                repo::people::upsert(c, &person(i))?;
                if i % 50 == 7 {
                    panic!("request {i} panics after writing");
                }
                if i % 3 == 0 {
                    return Err(DbError::Migration(format!("request {i} refused")));
                }
                Ok::<_, DbError>(i)
            })
            .await
        }));
    }
    let mut answered_ok = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(n) => {
                assert_eq!(n, i);
                answered_ok.push(format!("p-{i}"));
            }
            Err(DbError::Migration(m)) => assert!(i % 3 == 0, "{i}: {m}"),
            Err(DbError::Task) => assert_eq!(i % 50, 7, "{i}: only the panicking fail so"),
            Err(e) => panic!("{i}: {e}"),
        }
    }
    let mut expected_sorted: Vec<String> = (0..300)
        .filter(|i| i % 3 != 0 && i % 50 != 7)
        .map(|i| format!("p-{i}"))
        .collect();
    answered_ok.sort();
    expected_sorted.sort();
    assert_eq!(
        answered_ok, expected_sorted,
        "exactly the good requests succeed"
    );
    let mut stored: Vec<String> = db
        .read_blocking(|c| {
            use diesel::prelude::*;
            use rongcuo::db::schema::people;
            Ok::<_, DbError>(people::table.select(people::id).load::<String>(c)?)
        })
        .unwrap();
    stored.sort();
    assert_eq!(
        stored, expected_sorted,
        "the stored rows are the acknowledged ones"
    );
    let (groups, requests) = db.write_groups();
    assert_eq!(requests, 300, "every write went through the writer");
    assert!(
        groups < requests,
        "concurrent requests shared commits: {groups} groups for {requests} requests"
    );
    // The writer connection is left clean: no transaction open, no savepoint.
    db.writer_connection()
        .unwrap()
        .batch_execute("BEGIN IMMEDIATE; ROLLBACK")
        .unwrap();
}
