//! How long tenant migrations take over many tenants, in a scratch database it creates and drops:
//! the template on fresh schemas, a run with nothing to do, and one `ADD COLUMN` step.
//!
//! `cargo run --release -p crm-migrations --example migrate_bench -- [tenants]` (default 1000).
//! `BENCH_DATABASE_URL` names the scratch database (default
//! `postgres://postgres@127.0.0.1:5432/crm_migrate_bench`); it is dropped first if it exists.

use std::time::Instant;

use crm_migrations::{TenantMigrationReport, TenantMigrator, migrate_all_tenants_with};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr};
use sea_orm_migration::prelude::*;

/// `crm migrate` runs this many tenants at a time.
const CONCURRENCY: usize = 4;

/// The template plus one more step, as a new release would bring.
struct TemplateWithNewColumn;

impl MigratorTrait for TemplateWithNewColumn {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut steps = TenantMigrator::migrations();
        steps.push(Box::new(AddColumn));
        steps
    }
}

struct AddColumn;

impl MigrationName for AddColumn {
    fn name(&self) -> &str {
        "m99991231_000001_bench_add_column"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddColumn {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = "ALTER TABLE contacts ADD COLUMN lead_score integer NOT NULL DEFAULT 0";
        manager.get_connection().execute_unprepared(sql).await.map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE contacts DROP COLUMN lead_score")
            .await
            .map(drop)
    }
}

async fn timed<M: MigratorTrait>(conn: &DatabaseConnection, label: &str) -> Result<(), DbErr> {
    let started = Instant::now();
    let report: TenantMigrationReport = migrate_all_tenants_with::<M>(conn, CONCURRENCY, |_, _| {}).await?;
    let elapsed = started.elapsed();
    println!(
        "{label:<34} {:>8.2} s   {} migrated, {} up to date, {} failed",
        elapsed.as_secs_f64(),
        report.migrated.len(),
        report.up_to_date.len(),
        report.failed.len()
    );
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), DbErr> {
    let tenants: u32 = std::env::args().nth(1).map_or(Ok(1000), |n| n.parse()).expect("tenant count");
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/crm_migrate_bench".to_owned());
    let (server, name) = url.rsplit_once('/').expect("a database URL");
    let admin = Database::connect(format!("{server}/postgres")).await?;
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await?;
    crm_migrations::ensure_database(&url).await?;
    let conn = Database::connect(&url).await?;
    crm_migrations::migrate_global(&conn).await?;
    conn.execute_unprepared(&format!(
        "INSERT INTO crm.tenants (id, name, subdomain)
         SELECT gen_random_uuid(), 'Bench ' || n, 'bench-' || n FROM generate_series(1, {tenants}) AS n"
    ))
    .await?;
    println!("{tenants} tenants, {CONCURRENCY} at a time, one transaction each");
    timed::<TenantMigrator>(&conn, "template on fresh schemas").await?;
    timed::<TenantMigrator>(&conn, "no-op").await?;
    timed::<TemplateWithNewColumn>(&conn, "one ADD COLUMN step").await?;
    timed::<TemplateWithNewColumn>(&conn, "no-op after it").await?;
    drop(conn);
    admin.execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await?;
    Ok(())
}
