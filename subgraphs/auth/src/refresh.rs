//! Refresh tokens (RELIABILITY A6–A8): opaque 256-bit random values, stored only as SHA-256
//! hashes, rotated on every use, bound to a family (one login), a session, a user and a tenant.
//! Spending a token is one atomic UPDATE, so two parallel refreshes rotate exactly once; any
//! reuse of a spent token revokes its whole family and ends the session. There is deliberately no
//! grace window: clients must not refresh in parallel.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_entities::global::refresh_token;
use crm_platform::ids::{SessionId, UserId};
use crm_platform::sessions::SessionStore;
use crm_platform::sql::columns;
use crm_platform::{ApiError, ApiResult, Db, Role, TenantId};
use rand::RngCore;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Absolute lifetime; the session's 1-hour sliding TTL ends idle logins much sooner.
const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Issues a new token of `family` for the session and returns its value (the only copy).
pub async fn issue(
    conn: &impl ConnectionTrait,
    family: Uuid,
    session: SessionId,
    user: UserId,
    tenant: TenantId,
) -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    conn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO crm.refresh_tokens (token_hash, family_id, session_id, user_id, tenant_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
        [
            hash(&token).into(),
            family.into(),
            session.0.into(),
            user.0.into(),
            tenant.0.into(),
            (REFRESH_TTL.as_secs() as f64).into(),
        ],
    ))
    .await?;
    Ok(token)
}

/// The result of a successful rotation.
pub struct Rotation {
    pub user: UserId,
    pub tenant: TenantId,
    pub session: SessionId,
    pub role: Role,
    pub refresh_token: String,
}

/// Spends `presented` and issues its successor, or refuses; a reused token revokes its family.
#[tracing::instrument(skip_all)]
pub async fn rotate(db: &Db, sessions: &SessionStore, presented: &str) -> ApiResult<Rotation> {
    let presented_hash = hash(presented);
    let txn = db.conn().begin().await?;
    let spent = refresh_token::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE crm.refresh_tokens SET used_at = now()
                 WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
                 RETURNING {}",
                columns::<refresh_token::Entity>("")
            ),
            [presented_hash.clone().into()],
        ))
        .one(&txn)
        .await?;

    let Some(spent) = spent else {
        let reused = refresh_token::Entity::find_by_id(presented_hash)
            .filter(refresh_token::Column::UsedAt.is_not_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .one(&txn)
            .await?;
        if let Some(reused) = reused {
            tracing::warn!(tenant.id = %reused.tenant_id, family = %reused.family_id, "refresh token reused; revoking its family");
            revoke_family(&txn, reused.family_id).await?;
            txn.commit().await?;
            let (tenant, user) = (TenantId(reused.tenant_id), UserId(reused.user_id));
            sessions.revoke(tenant, user, SessionId(reused.session_id)).await?;
        }
        return Err(ApiError::Unauthenticated);
    };

    let (tenant, user, session) =
        (TenantId(spent.tenant_id), UserId(spent.user_id), SessionId(spent.session_id));
    let role = txn
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT m.role FROM crm.memberships m JOIN crm.tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL
             WHERE m.tenant_id = $1 AND m.user_id = $2",
            [tenant.0.into(), user.0.into()],
        ))
        .await?
        .map(|row| row.try_get::<Role>("", "role"))
        .transpose()?;
    // A removed member or an ended session cannot be revived by a refresh.
    let alive = role.is_some() && sessions.touch(tenant, user, session).await?;
    let Some(role) = role.filter(|_| alive) else {
        revoke_family(&txn, spent.family_id).await?;
        txn.commit().await?;
        return Err(ApiError::Unauthenticated);
    };
    let refresh_token = issue(&txn, spent.family_id, session, user, tenant).await?;
    txn.commit().await?;
    Ok(Rotation { user, tenant, session, role, refresh_token })
}

async fn revoke_family(conn: &impl ConnectionTrait, family: Uuid) -> ApiResult<()> {
    conn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE crm.refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
        [family.into()],
    ))
    .await?;
    Ok(())
}
