//! Database creation and migrations.

use anyhow::Context;
use crm_platform::Config;
use sea_orm::Database;

/// `crm migrate`: create the database if needed, then migrate it.
pub async fn migrate_from_env() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    crm_platform::telemetry::init(&config);
    prepare(&config.database_url).await?;
    println!("database is up to date");
    Ok(())
}

/// Creates the database named in `url` if it is missing, then applies the global migrations and
/// brings every tenant schema to the latest template.
pub async fn prepare(url: &str) -> anyhow::Result<()> {
    crm_migrations::ensure_database(url).await.context("creating the database")?;
    let conn = Database::connect(url).await.context("connecting to the database")?;
    crm_migrations::migrate_global(&conn).await.context("global migrations")?;
    crm_migrations::migrate_all_tenants(&conn).await.context("tenant migrations")?;
    Ok(())
}
