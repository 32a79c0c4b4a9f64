//! Database creation and migrations.

use anyhow::Context;
use crm_platform::Config;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

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
    create_database_if_missing(url).await?;
    let conn = Database::connect(url).await.context("connecting to the database")?;
    crm_migrations::migrate_global(&conn).await.context("global migrations")?;
    crm_migrations::migrate_all_tenants(&conn).await.context("tenant migrations")?;
    Ok(())
}

async fn create_database_if_missing(url: &str) -> anyhow::Result<()> {
    let (server, name) = url
        .rsplit_once('/')
        .map(|(server, rest)| (server, rest.split('?').next().unwrap_or_default()))
        .context("DATABASE_URL has no database name")?;
    anyhow::ensure!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "database name {name:?} must be letters, digits, '_' or '-'"
    );
    let admin = Database::connect(format!("{server}/postgres"))
        .await
        .context("connecting to the postgres maintenance database")?;
    let exists = admin
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await?
        .is_some();
    if !exists {
        // Two processes may race here; the loser sees duplicate_database, which is fine.
        if let Err(err) = admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await {
            if !err.to_string().contains("already exists") {
                return Err(err.into());
            }
        }
        println!("created database {name}");
    }
    Ok(())
}
