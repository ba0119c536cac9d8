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
        updated_at: rongcuo::time::now_micros(),
    }
}

/// A migrated SQLite database in `dir` with `readers` reader connections.
fn migrated_sqlite(dir: &std::path::Path, readers: u32) -> Db {
    let url = DbUrl::parse(&format!("sqlite://{}/test.db", dir.display())).unwrap();
    let db = Db::connect(&url, readers).unwrap();
    migrations::run_pending(&mut db.writer_connection().unwrap()).unwrap();
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_request_in_a_group_leaves_nothing_and_spoils_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_sqlite(dir.path(), 4);
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

fn people_count(c: &mut rongcuo::db::DbConnection) -> Result<i64, DbError> {
    use diesel::dsl::count_star;
    use diesel::prelude::*;
    use rongcuo::db::schema::people;
    Ok(people::table.select(count_star()).first::<i64>(c)?)
}

/// A read on SQLite is one read transaction: its queries see one snapshot, however many
/// commits land meanwhile (a transition decides from a case and its recipients read
/// together). A read that fails or panics leaves no transaction behind on its reader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_sees_one_snapshot_and_leaves_its_reader_clean() {
    let dir = tempfile::tempdir().unwrap();
    let db = migrated_sqlite(dir.path(), 1);
    db.write(|c| repo::people::upsert(c, &person(0)).map_err(DbError::from))
        .await
        .unwrap();

    let writer = db.clone();
    let (before, after) = db
        .read(move |c| {
            let before = people_count(c)?;
            // Another request commits while this read is under way.
            writer
                .write_blocking(|w| repo::people::upsert(w, &person(1)).map_err(DbError::from))?;
            let after = people_count(c)?;
            Ok::<_, DbError>((before, after))
        })
        .await
        .unwrap();
    assert_eq!(
        (before, after),
        (1, 1),
        "both queries read the same snapshot"
    );

    // The one reader again: a failed read, then a panicking one, then a read that must
    // see the newest commit (a reader left inside a transaction would still see 1 row,
    // or fail to begin).
    let failed = db
        .read(|c| {
            people_count(c)?;
            Err::<(), _>(DbError::Migration("refused".into()))
        })
        .await;
    assert!(matches!(failed, Err(DbError::Migration(_))), "{failed:?}");
    let panicked = db
        .read(|c| -> Result<(), DbError> {
            people_count(c)?;
            panic!("a read panics mid-transaction")
        })
        .await;
    assert!(matches!(panicked, Err(DbError::Task)), "{panicked:?}");
    db.write(|c| repo::people::upsert(c, &person(2)).map_err(DbError::from))
        .await
        .unwrap();
    let now = db.read(people_count).await.unwrap();
    assert_eq!(now, 3, "a new read sees the newest commit");

    // A transaction inside a read (the list page's two steps) nests as a savepoint.
    let nested = db
        .read(|c| {
            use diesel::Connection;
            c.transaction(people_count)
        })
        .await
        .unwrap();
    assert_eq!(nested, 3);
}
