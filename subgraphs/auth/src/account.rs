//! The signed-in person's own account: profile and password. The password belongs to the
//! identity, so changing it ends every other session in every organization.

use crm_entities::global::user;
use crm_platform::ids::{SessionId, UserId};
use crm_platform::password::{check_password_rules, hash_password, verify_password};
use crm_platform::sessions::SessionStore;
use crm_platform::sign_out::SignOut;
use crm_platform::{ApiError, ApiResult, Db, TenantId, text};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};

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
    let stored = user::Entity::find_by_id(user.0).one(db.conn()).await?.map(|account| account.password_hash);
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
    SignOut::Person { user, keep: Some(keep) }.apply(db, sessions).await
}
