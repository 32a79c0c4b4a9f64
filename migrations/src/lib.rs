//! Schema migrations: the global schema (`crm`) and the tenant template applied to every
//! `tenant_<id>` schema. Each schema records what it has applied in its own `seaql_migrations`
//! table, which the transaction-local search_path selects.

/// Implements `MigrationTrait` for a `Migration` whose steps are the SQL constants given.
macro_rules! sql_migration {
    ($up:expr, $down:expr) => {
        #[async_trait::async_trait]
        impl MigrationTrait for Migration {
            async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                manager.get_connection().execute_unprepared($up).await.map(drop)
            }

            async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                manager.get_connection().execute_unprepared($down).await.map(drop)
            }
        }
    };
}

mod global;
mod tenant;

use crm_platform::TenantId;
use crm_platform::tenancy::{SchemaName, scope_to_schema};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

pub use global::GlobalMigrator;
pub use tenant::TenantMigrator;

/// Serializes concurrent migrators (several processes starting at once) on one advisory lock.
const GLOBAL_MIGRATION_LOCK: i64 = 0x0063_726d_676c_6f62; // "crmglob"

/// Brings the global schema up to date, in one transaction.
pub async fn migrate_global(conn: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = conn.begin().await?;
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [GLOBAL_MIGRATION_LOCK.into()],
    ))
    .await?;
    txn.execute_unprepared("CREATE SCHEMA IF NOT EXISTS crm").await?;
    txn.execute_unprepared("SELECT set_config('search_path', 'crm', true)").await?;
    GlobalMigrator::up(&txn, None).await?;
    txn.commit().await
}

/// Creates `schema` if needed and applies the tenant template inside the caller's transaction,
/// so provisioning commits the schema together with everything else or not at all.
pub async fn migrate_tenant_schema(txn: &DatabaseTransaction, schema: &SchemaName) -> Result<(), DbErr> {
    txn.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS {}", schema.quoted())).await?;
    scope_to_schema(txn, schema).await?;
    TenantMigrator::up(txn, None).await
}

/// What a run over the tenant schemas did.
#[derive(Debug, Default)]
pub struct TenantMigrationReport {
    /// Tenants whose schema received migrations.
    pub migrated: Vec<TenantId>,
    /// Tenants already up to date.
    pub up_to_date: Vec<TenantId>,
    /// Tenants whose migration failed, rolled back, with the reason.
    pub failed: Vec<(TenantId, String)>,
}

enum Outcome {
    Migrated,
    UpToDate,
}

/// Brings every tenant schema to the latest template, `concurrency` tenants at a time, one
/// transaction each: a failure rolls that tenant back and the others go on, so a re-run resumes
/// where this one stopped. `progress(finished, total)` is called as tenants finish.
pub async fn migrate_all_tenants(
    conn: &DatabaseConnection,
    concurrency: usize,
    progress: impl Fn(usize, usize),
) -> Result<TenantMigrationReport, DbErr> {
    migrate_all_tenants_with::<TenantMigrator>(conn, concurrency, progress).await
}

/// [`migrate_all_tenants`] with another template (the migration benchmark adds a step).
pub async fn migrate_all_tenants_with<M: MigratorTrait>(
    conn: &DatabaseConnection,
    concurrency: usize,
    progress: impl Fn(usize, usize),
) -> Result<TenantMigrationReport, DbErr> {
    use futures::StreamExt;
    let rows = conn
        .query_all(Statement::from_string(DbBackend::Postgres, "SELECT id FROM crm.tenants ORDER BY id"))
        .await?;
    let tenants = rows
        .iter()
        .map(|row| row.try_get::<uuid::Uuid>("", "id").map(TenantId))
        .collect::<Result<Vec<_>, _>>()?;
    let total = tenants.len();
    let mut report = TenantMigrationReport::default();
    let mut runs = futures::stream::iter(tenants)
        .map(|tenant| async move { (tenant, migrate_one::<M>(conn, tenant).await) })
        .buffer_unordered(concurrency.max(1));
    let mut finished = 0;
    while let Some((tenant, outcome)) = runs.next().await {
        match outcome {
            Ok(Outcome::Migrated) => report.migrated.push(tenant),
            Ok(Outcome::UpToDate) => report.up_to_date.push(tenant),
            Err(err) => report.failed.push((tenant, err.to_string())),
        }
        finished += 1;
        progress(finished, total);
    }
    Ok(report)
}

async fn migrate_one<M: MigratorTrait>(
    conn: &DatabaseConnection,
    tenant: TenantId,
) -> Result<Outcome, DbErr> {
    let schema = tenant.schema();
    let txn = conn.begin().await?;
    txn.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS {}", schema.quoted())).await?;
    scope_to_schema(&txn, &schema).await?;
    let pending = M::get_pending_migrations(&txn).await?;
    if pending.is_empty() {
        return Ok(Outcome::UpToDate);
    }
    M::up(&txn, None).await?;
    txn.commit().await?;
    Ok(Outcome::Migrated)
}

/// Creates the database named in `url` if it does not exist yet.
pub async fn ensure_database(url: &str) -> Result<(), DbErr> {
    let invalid =
        || DbErr::Custom("DATABASE_URL must end in a database name of letters, digits, '_' or '-'".into());
    let (server, name) = url
        .rsplit_once('/')
        .map(|(server, rest)| (server, rest.split('?').next().unwrap_or_default()))
        .ok_or_else(invalid)?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(invalid());
    }
    let admin = sea_orm::Database::connect(format!("{server}/postgres")).await?;
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
        if let Err(err) = admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await
            && !err.to_string().contains("already exists")
        {
            return Err(err);
        }
    }
    Ok(())
}
