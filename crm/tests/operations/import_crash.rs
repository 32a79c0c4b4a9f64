//! I6: the contact subgraph is killed (SIGKILL) in the middle of a 20,000-row import, in a
//! database of its own; a restarted one resumes after the last committed batch. Nothing is
//! imported twice, no row is lost or reported twice, and each imported contact has one event.
//! Then `crm import contacts` runs a file as an operator would and prints the same report.

use std::time::Duration;

use crm_testkit::{PrivateDatabase, TestStack};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::json;
use tokio::process::Command;

use crate::{CRM, start_subgraph};

const ROWS: usize = 20_000;
/// Every 500th row has a bad email.
const BAD_EVERY: usize = 500;

async fn scalar(conn: &DatabaseConnection, sql: &str) -> i64 {
    let row = conn.query_one(Statement::from_string(DbBackend::Postgres, sql)).await.expect("query");
    row.expect("row").try_get_by_index(0).expect("bigint")
}

#[tokio::test]
async fn i6_an_import_killed_mid_file_resumes_without_duplicates_or_losses() {
    let db = PrivateDatabase::create("crm_import").await;
    let stack = TestStack::subgraphs_on(&db).await;
    let org = stack.register_org("Import crash").await;
    let schema = org.schema();
    let mut file = String::from("First name,Last name,Email\n");
    for n in 0..ROWS {
        let email = if n % BAD_EVERY == 7 { format!("bad-{n}") } else { format!("p{n}@example.com") };
        file.push_str(&format!("P{n},Q,{email}\n"));
    }
    let bad = (0..ROWS).filter(|n| n % BAD_EVERY == 7).count() as i64;
    let create = "mutation { createContactImport(input: { fileName: \"big.csv\" }) { id uploadUrl } }";
    let created = stack.subgraph("contact", Some(&org.token), create, json!({})).await;
    let url = created.ok()["createContactImport"]["uploadUrl"].as_str().expect("url").to_owned();
    let status = reqwest::Client::new().put(&url).body(file).send().await.expect("upload").status();
    assert_eq!(status, 200);

    let imported =
        format!("SELECT coalesce(sum(imported + failed), 0)::bigint FROM {schema}.contact_imports");
    let mut worker = start_subgraph("contact", &db.url).await.0;
    let mut progressed = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        progressed = scalar(&db.conn, &imported).await;
        if progressed >= 2000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    worker.kill().await.expect("kill");
    assert!(progressed >= 2000 && progressed < ROWS as i64, "killed mid-file: {progressed} rows in");
    // The killed process's backends are gone once nothing else is connected but us and the stack.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let at_kill = scalar(&db.conn, &imported).await;
    let contacts = format!("SELECT count(*) FROM {schema}.contacts");
    let reported = format!("SELECT count(*) FROM {schema}.contact_import_errors");
    assert_eq!(
        scalar(&db.conn, &contacts).await + scalar(&db.conn, &reported).await,
        at_kill,
        "rows and progress are committed together"
    );

    // As if the dead worker's 30-second lease had run out.
    db.conn
        .execute_unprepared("UPDATE crm.import_jobs SET lease_until = now() - interval '1 second'")
        .await
        .expect("lapse");
    let mut worker = start_subgraph("contact", &db.url).await.0;
    let done = format!("SELECT count(*) FROM {schema}.contact_imports WHERE status = 'done'");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while tokio::time::Instant::now() < deadline && scalar(&db.conn, &done).await != 1 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.kill().await.expect("kill");
    let counts = format!("SELECT total * 1000000 + imported FROM {schema}.contact_imports");
    assert_eq!(
        scalar(&db.conn, &counts).await,
        ROWS as i64 * 1_000_000 + (ROWS as i64 - bad),
        "resumed and finished"
    );
    assert_eq!(scalar(&db.conn, &contacts).await, ROWS as i64 - bad, "no row imported twice or lost");
    let emails = format!("SELECT count(DISTINCT email) FROM {schema}.contacts");
    assert_eq!(scalar(&db.conn, &emails).await, ROWS as i64 - bad);
    assert_eq!(scalar(&db.conn, &reported).await, bad, "every bad row reported once");
    let events = format!(
        "SELECT count(*) FROM crm.outbox WHERE tenant_id = '{}' AND payload->>'type' = 'contact.created'",
        org.tenant_id
    );
    assert_eq!(scalar(&db.conn, &events).await, ROWS as i64 - bad, "one event per imported contact");
    assert_eq!(scalar(&db.conn, "SELECT count(*) FROM crm.import_jobs").await, 0);
    assert_eq!(
        scalar(&db.conn, &format!("SELECT count(*) FROM {schema}.contact_import_chunks")).await,
        0,
        "the file is dropped when done"
    );

    // An operator's import from a file, with the report on stdout.
    let path = std::env::temp_dir().join(format!("crm-import-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(
        &path,
        "Name;Email;Stage\nZoe Quinn;zoe@example.com;customer\nYan Li;nope;lead\nP1 Q;p1@example.com;\n",
    )
    .expect("write");
    let output = Command::new(CRM)
        .args(["import", "contacts"])
        .arg(&path)
        .args(["--organization", &org.subdomain])
        .env("DATABASE_URL", &db.url)
        .env("LOG_LEVEL", "error")
        .output()
        .await
        .expect("run crm import");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.contains("3 rows: 1 imported, 0 updated, 1 skipped as duplicates, 1 not taken"),
        "{stdout}"
    );
    assert!(stdout.contains("line 3 [Email]: Email is not a valid email address"), "{stdout}");
    drop(stack);
    db.drop_database().await;
}
