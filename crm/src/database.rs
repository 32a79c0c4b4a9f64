//! Database creation and migrations.

use anyhow::Context;
use crm_platform::Config;
use sea_orm::Database;

use crate::progress;

/// Tenant schemas migrated at once: enough to use the pool, few enough to leave room for traffic.
const TENANT_CONCURRENCY: usize = 4;
/// How long one connection migrates tenants before it is replaced.
const CONNECTION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(60);

/// `crm migrate`: create the database if needed, then migrate it.
pub async fn migrate_from_env() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    crm_platform::telemetry::init(&config, "crm-cli");
    prepare(&config.database_url).await?;
    println!("database is up to date");
    Ok(())
}

/// `crm rotate-keys`: starts a new signing key now, whatever the schedule says.
pub async fn rotate_keys(now: bool) -> anyhow::Result<()> {
    use crm_auth::keys::{self, Activation};
    let config = Config::from_env()?;
    crm_platform::telemetry::init(&config, "crm-cli");
    let db =
        crm_platform::Db::connect(&config.database_url, 1).await.context("connecting to the database")?;
    let activation = if now { Activation::Immediately } else { Activation::AfterPublishing };
    let rotation = keys::rotate_if_due(&db, std::time::Duration::MAX, Some(activation))
        .await
        .map_err(|_| anyhow::anyhow!("the rotation failed; see the log above"))?;
    if let (Some(kid), Some(at)) = (rotation.new_kid, rotation.activates_at) {
        println!("new signing key {kid} published; it signs from {}", at.to_rfc3339());
    }
    println!("{} expired key(s) deleted", rotation.deleted);
    Ok(())
}

/// Creates the database named in `url` if it is missing, then applies the global migrations and
/// brings every tenant schema to the latest template.
pub async fn prepare(url: &str) -> anyhow::Result<()> {
    crm_migrations::ensure_database(url).await.context("creating the database")?;
    // Each connection is replaced after a minute: a backend keeps the catalog entries of every
    // schema it has migrated, and one connection through thousands of tenants grows to gigabytes
    // and slows every statement it runs.
    let mut options = sea_orm::ConnectOptions::new(url.to_owned());
    options.max_lifetime(CONNECTION_LIFETIME).sqlx_logging(false);
    let conn = Database::connect(options).await.context("connecting to the database")?;
    crm_migrations::migrate_global(&conn).await.context("global migrations")?;
    let bar = progress::bar("migrating tenant schemas");
    let report = crm_migrations::migrate_all_tenants(&conn, TENANT_CONCURRENCY, |finished, total| {
        bar.set_length(total as u64);
        bar.set_position(finished as u64);
    })
    .await
    .context("tenant migrations")?;
    bar.finish_and_clear();
    println!(
        "tenant schemas: {} migrated, {} already up to date, {} failed",
        report.migrated.len(),
        report.up_to_date.len(),
        report.failed.len()
    );
    for (tenant, reason) in &report.failed {
        println!("  {} failed: {reason}", tenant.schema().as_str());
    }
    anyhow::ensure!(
        report.failed.is_empty(),
        "{} tenant schema(s) failed and were rolled back; fix the cause and run `crm migrate` again",
        report.failed.len()
    );
    Ok(())
}
