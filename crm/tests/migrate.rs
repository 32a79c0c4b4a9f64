//! `crm migrate` over many tenants, in a database of its own: one broken tenant fails and is
//! reported while the others finish; a re-run after the fix completes; another run changes nothing.

use std::process::Command;

use sea_orm::{ConnectionTrait, Database};

const CRM: &str = env!("CARGO_BIN_EXE_crm");

fn run_migrate(url: &str) -> (bool, String) {
    let output = Command::new(CRM)
        .arg("migrate")
        .env("DATABASE_URL", url)
        .env("LOG_LEVEL", "warn")
        .output()
        .expect("run");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test]
async fn migrate_fifty_tenants_with_one_failing() {
    let base = crm_testkit::test_database();
    let name = format!("crm_migrate_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let url = format!("{}/{name}", base.rsplit_once('/').expect("url").0);
    crm_migrations::ensure_database(&url).await.expect("create");
    let conn = Database::connect(&url).await.expect("connect");
    crm_migrations::migrate_global(&conn).await.expect("global");

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

    drop(conn);
    let admin = Database::connect(format!("{}/postgres", base.rsplit_once('/').expect("url").0))
        .await
        .expect("admin");
    admin.execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await.expect("drop");
}
