//! Deleting an organization: the owner confirms by typing the subdomain; the organization stops
//! serving at once (every member's sessions and refresh tokens end, sign-in refuses it), and a
//! background job purges it after the retention period — schema, rows, events and Redis keys —
//! so nothing of it remains.

use std::time::Duration;

use crm_entities::events::tenancy::TenantDeleted;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::kv::Kv;
use crm_platform::sessions::SessionStore;
use crm_platform::sign_out::SignOut;
use crm_platform::{ApiError, ApiResult, Db, Role, Services, TenantId};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use tokio_util::sync::CancellationToken;

pub async fn delete_organization(
    db: &Db,
    sessions: &SessionStore,
    tenant: TenantId,
    actor: (UserId, Role),
    confirm_subdomain: &str,
) -> ApiResult<()> {
    if actor.1 != Role::Owner {
        return Err(ApiError::Forbidden("only an owner can delete the organization".to_owned()));
    }
    let txn = db.conn().begin().await?;
    let subdomain: String = txn
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT subdomain FROM crm.tenants WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
            [tenant.0.into()],
        ))
        .await?
        .ok_or(ApiError::NotFound("tenant"))?
        .try_get("", "subdomain")?;
    if confirm_subdomain.trim() != subdomain {
        return Err(ApiError::bad_input("confirmSubdomain", "type the organization's subdomain to confirm"));
    }
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE crm.tenants SET deleted_at = now() WHERE id = $1",
        [tenant.0.into()],
    ))
    .await?;
    let everyone = SignOut::Organization(tenant);
    everyone.revoke_refresh_tokens(&txn).await?;
    let event = Envelope::new(tenant, Some(actor.0), &TenantDeleted { tenant_id: tenant })?;
    events::enqueue(&txn, &event).await?;
    txn.commit().await?;
    everyone.end_sessions(db, sessions).await
}

/// Purges organizations deleted more than `retention` ago; returns how many.
pub async fn purge_deleted(db: &Db, kv: &Kv, retention: Duration) -> ApiResult<u64> {
    let due = db
        .conn()
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM crm.tenants WHERE deleted_at < now() - make_interval(secs => $1) ORDER BY deleted_at",
            [(retention.as_secs_f64()).into()],
        ))
        .await?;
    let mut purged = 0;
    for row in due {
        let tenant = TenantId(row.try_get("", "id")?);
        let txn = db.conn().begin().await?;
        txn.execute_unprepared(&format!("DROP SCHEMA IF EXISTS {} CASCADE", tenant.schema().quoted()))
            .await?;
        // Memberships, invitations, tokens and resets go with the row (ON DELETE CASCADE).
        txn.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH events AS (DELETE FROM crm.outbox WHERE tenant_id = $1) DELETE FROM crm.tenants WHERE id = $1",
            [tenant.0.into()],
        ))
        .await?;
        txn.commit().await?;
        drop_redis_keys(kv, tenant).await?;
        tracing::info!(tenant.id = %tenant, "deleted organization purged");
        purged += 1;
    }
    Ok(purged)
}

async fn drop_redis_keys(kv: &Kv, tenant: TenantId) -> ApiResult<()> {
    let pattern = format!("t:{tenant}:*");
    let mut cursor = 0u64;
    loop {
        let mut scan = redis::pipe();
        scan.cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(500);
        let ((next, keys),): ((u64, Vec<String>),) = kv.run(&scan).await?;
        if !keys.is_empty() {
            let mut del = redis::pipe();
            del.del(keys).ignore();
            kv.run::<()>(&del).await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// Runs [`purge_deleted`] hourly until `shutdown`.
pub async fn run_purger(services: Services, shutdown: CancellationToken) {
    let retention = services.config.tenant_retention;
    loop {
        if let Err(err) = purge_deleted(&services.db, &services.kv, retention).await {
            tracing::warn!(error = ?err, "purging deleted organizations failed; will retry");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}
