//! The trash is emptied after `TRASH_RETENTION_DAYS`: contacts and companies deleted longer ago
//! are removed for good, with what hangs on them (deal links, activities of purged contacts).
//! Until then `restoreContact` / `restoreCompany` bring them back.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crm_entities::ids::ContactId;
use crm_platform::kv::Kv;
use crm_platform::sql::Sql;
use crm_platform::{Db, Services, TenantId, TenantTx};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::cache;

const EVERY: Duration = Duration::from_secs(3600);

/// What one purge removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub contacts: u64,
    pub companies: u64,
}

/// Purges every live organization's trash once an hour until `shutdown`.
pub async fn run(services: Services, shutdown: CancellationToken) {
    loop {
        if let Err(err) = purge_all(&services.db, &services.kv, services.config.trash_retention).await {
            tracing::warn!(error = %err, "emptying the trash failed; will retry");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

async fn purge_all(db: &Db, kv: &Arc<Kv>, retention: Duration) -> Result<(), DbErr> {
    let rows = db
        .conn()
        .query_all(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id FROM crm.tenants WHERE deleted_at IS NULL",
        ))
        .await?;
    for row in rows {
        let tenant = TenantId(row.try_get::<Uuid>("", "id")?);
        purge(db, Some(kv), tenant, retention).await?;
    }
    Ok(())
}

/// Drops the names (kept for typo-tolerant search) that no contact bears any more. The lock
/// waits for writers whose triggers added or relied on a name and holds new ones back, so no
/// name is removed under a contact that is being written.
async fn forget_unused_names(tx: &TenantTx) -> Result<(), DbErr> {
    tx.execute_unprepared("LOCK TABLE contact_name_parts IN SHARE ROW EXCLUSIVE MODE").await?;
    tx.execute_unprepared(
        "DELETE FROM contact_name_parts p
         WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE lower(c.first_name) = p.part)
           AND NOT EXISTS (SELECT 1 FROM contacts c WHERE lower(c.last_name) = p.part)",
    )
    .await
    .map(drop)
}

/// Removes `tenant`'s contacts and companies trashed more than `retention` ago, in one
/// transaction, and the purged contacts from the cache in `kv`. Children of a purged company
/// lose their parent; contacts and deals their company.
pub async fn purge(
    db: &Db,
    kv: Option<&Arc<Kv>>,
    tenant: TenantId,
    retention: Duration,
) -> Result<Purged, DbErr> {
    let before = Utc::now() - chrono::Duration::from_std(retention).unwrap_or_default();
    let tx = TenantTx::begin(db, tenant).await?;
    let mut sql = Sql::new("DELETE FROM contacts WHERE deleted_at < ");
    sql.bind(before).push(" RETURNING id");
    let purged: Vec<ContactId> = tx
        .query_all(sql.statement())
        .await?
        .iter()
        .map(|row| row.try_get("", "id").map(ContactId))
        .collect::<Result<_, _>>()?;
    let contacts = purged.len() as u64;
    if contacts > 0 {
        forget_unused_names(&tx).await?;
    }
    let mut sql = Sql::new(
        "UPDATE companies SET parent_id = NULL WHERE parent_id IN (SELECT id FROM companies WHERE deleted_at < ",
    );
    sql.bind(before).push(")");
    tx.execute(sql.statement()).await?;
    let mut sql = Sql::new("DELETE FROM companies WHERE deleted_at < ");
    sql.bind(before);
    let companies = tx.execute(sql.statement()).await?.rows_affected();
    tx.commit().await.map_err(|_| DbErr::Custom("commit failed".to_owned()))?;
    if let Some(kv) = kv {
        cache::forget(kv, tenant, &purged).await;
    }
    if contacts + companies > 0 {
        tracing::info!(tenant.id = %tenant, contacts, companies, "trash emptied");
    }
    Ok(Purged { contacts, companies })
}
