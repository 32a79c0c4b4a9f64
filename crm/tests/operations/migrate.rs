//! `crm migrate` over many tenants, in a database of its own: one broken tenant fails and is
//! reported while the others finish; a re-run after the fix completes; another run changes nothing.

use std::process::Command;

use crm_testkit::stack::PrivateDatabase;
use sea_orm::ConnectionTrait;

use crate::CRM;

fn run_migrate(url: &str) -> (bool, String) {
    let output = Command::new(CRM)
        .arg("migrate")
        .env("DATABASE_URL", url)
        .env("LOG_LEVEL", "warn")
        .output()
        .expect("run");
    // Not a terminal: no progress redraws, only the summary lines.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains('\r') && !stderr.contains("tenant schemas:"),
        "progress drawn into a pipe: {stderr:?}"
    );
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test]
async fn migrate_fifty_tenants_with_one_failing() {
    let db = PrivateDatabase::create("crm_migrate").await;
    let (url, conn) = (db.url.clone(), &db.conn);

    // Fifty registered tenants whose schemas never got the template (as after a new migration).
    let mut broken = String::new();
    for n in 0..50 {
        let id = uuid::Uuid::now_v7();
        conn.execute_unprepared(&format!(
            "INSERT INTO crm.tenants (id, name, subdomain) VALUES ('{id}', 'T{n}', 'migrate-{n}')"
        ))
        .await
        .expect("tenant");
        if n == 17 {
            // A table in the way makes this tenant's template migration fail.
            broken = format!("tenant_{}", id.simple());
            conn.execute_unprepared(&format!(
                "CREATE SCHEMA {broken}; CREATE TABLE {broken}.companies (x int)"
            ))
            .await
            .expect("obstacle");
        }
    }

    let (ok, out) = run_migrate(&url);
    assert!(!ok, "a failed tenant fails the run");
    assert!(out.contains("49 migrated") && out.contains("1 failed"), "{out}");
    assert!(out.contains(&broken), "the failure names the tenant: {out}");

    conn.execute_unprepared(&format!("DROP TABLE {broken}.companies")).await.expect("fix");
    let (ok, out) = run_migrate(&url);
    assert!(ok, "{out}");
    assert!(out.contains("1 migrated, 49 already up to date, 0 failed"), "the re-run resumes: {out}");

    let (ok, out) = run_migrate(&url);
    assert!(ok && out.contains("0 migrated, 50 already up to date, 0 failed"), "idempotent: {out}");

    db.drop_database().await;
}
