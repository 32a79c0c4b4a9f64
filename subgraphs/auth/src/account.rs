//! The signed-in person's own account: profile and password. The password belongs to the
//! identity, so changing it ends every other session in every organization.

use crm_platform::ids::{SessionId, UserId};
use crm_platform::password::{check_password_rules, hash_password, verify_password};
use crm_platform::sessions::SessionStore;
use crm_platform::{ApiError, ApiResult, Db, TenantId, text};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

pub async fn update_name(db: &Db, user: UserId, name: &str) -> ApiResult<()> {
    let name = text::required("name", name, 200)?;
    db.conn()
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE crm.users SET name = $2 WHERE id = $1",
            [user.0.into(), name.into()],
        ))
        .await?;
    Ok(())
}

/// Checks `current`, stores `new`, and ends every session of the identity but `keep`.
pub async fn change_password(
    db: &Db,
    sessions: &SessionStore,
    user: UserId,
    keep: (TenantId, SessionId),
    current: String,
    new: String,
) -> ApiResult<()> {
    check_password_rules(&new)?;
    let stored = db
        .conn()
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT password_hash FROM crm.users WHERE id = $1",
            [user.0.into()],
        ))
        .await?
        .and_then(|row| row.try_get::<String>("", "password_hash").ok());
    if !verify_password(current, stored).await {
        return Err(ApiError::bad_input("currentPassword", "the current password is not correct"));
    }
    let hash = hash_password(new).await?;
    db.conn()
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE crm.users SET password_hash = $2 WHERE id = $1",
            [user.0.into(), hash.into()],
        ))
        .await?;
    end_sessions_everywhere(db, sessions, user, Some(keep)).await
}

/// Ends every session and refresh family of `user` in every organization, except `keep`.
pub async fn end_sessions_everywhere(
    db: &Db,
    sessions: &SessionStore,
    user: UserId,
    keep: Option<(TenantId, SessionId)>,
) -> ApiResult<()> {
    let kept = keep.map(|(_, sid)| sid.0);
    let tenants = db
        .conn()
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH revoked AS (
                 UPDATE crm.refresh_tokens SET revoked_at = now()
                 WHERE user_id = $1 AND session_id IS DISTINCT FROM $2 AND revoked_at IS NULL)
             SELECT tenant_id FROM crm.memberships WHERE user_id = $1",
            [user.0.into(), kept.into()],
        ))
        .await?;
    for row in tenants {
        let tenant: Uuid = row.try_get("", "tenant_id")?;
        sessions.revoke_all(TenantId(tenant), user).await?;
    }
    if let Some((tenant, sid)) = keep {
        sessions.open(tenant, user, sid).await?;
    }
    Ok(())
}
