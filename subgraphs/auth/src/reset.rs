//! Password reset (RELIABILITY A10–A13). Asking gives the same answer whether or not the account
//! exists; the email leaves through an outbox event; the token is 256 random bits, stored hashed,
//! single use, valid 30 minutes, and a newer request voids older tokens. The link is built from
//! the configured app URL only. A completed reset ends every session and refresh family.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_entities::events::identity::{PasswordReset, PasswordResetRequested};
use crm_entities::global::password_reset;
use crm_platform::events::{self, Envelope};

use crm_platform::ids::UserId;
use crm_platform::password::{check_password_rules, hash_password};
use crm_platform::sessions::SessionStore;
use crm_platform::sign_out::SignOut;
use crm_platform::sql::columns;
use crm_platform::text::EmailAddress;
use crm_platform::{ApiError, ApiResult, Db, TenantId};
use rand::RngCore;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Statement, TransactionTrait};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const RESET_TTL: Duration = Duration::from_secs(30 * 60);

#[derive(FromQueryResult)]
struct Account {
    user_id: Uuid,
    tenant_id: Uuid,
    email: String,
}

/// Starts a reset for `email` in the organization `subdomain`, if such a member exists.
pub async fn request(db: &Db, app_base_url: &str, email: &str, subdomain: &str) -> ApiResult<()> {
    let Ok(email) = EmailAddress::parse("email", email) else {
        return Ok(());
    };
    let txn = db.conn().begin().await?;
    let account = Account::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT u.id AS user_id, t.id AS tenant_id, u.email
         FROM crm.users u JOIN crm.memberships m ON m.user_id = u.id JOIN crm.tenants t ON t.id = m.tenant_id
         WHERE u.email = $1 AND t.subdomain = $2 AND t.deleted_at IS NULL",
        [email.as_str().into(), subdomain.into()],
    ))
    .one(&txn)
    .await?;
    let Some(account) = account else {
        return Ok(());
    };
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "WITH voided AS (UPDATE crm.password_resets SET used_at = now() WHERE user_id = $2 AND used_at IS NULL)
         INSERT INTO crm.password_resets (token_hash, user_id, tenant_id, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        [
            Sha256::digest(token.as_bytes()).to_vec().into(),
            account.user_id.into(),
            account.tenant_id.into(),
            (RESET_TTL.as_secs() as f64).into(),
        ],
    ))
    .await?;
    let link = format!("{app_base_url}/reset-password?token={token}");
    let user = UserId(account.user_id);
    let requested = PasswordResetRequested { user_id: user, email: account.email, reset_url: link };
    // Anyone may ask for a reset: the request has no actor.
    let event = Envelope::new(TenantId(account.tenant_id), None, &requested)?;
    events::enqueue(&txn, &event).await?;
    txn.commit().await?;
    Ok(())
}

/// Completes a reset: one use of a live token sets the password and ends every session.
pub async fn complete(db: &Db, sessions: &SessionStore, token: &str, new_password: String) -> ApiResult<()> {
    check_password_rules(&new_password)?;
    let hash = hash_password(new_password).await?;
    let txn = db.conn().begin().await?;
    let claimed = password_reset::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE crm.password_resets SET used_at = now()
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
                 RETURNING {}",
                columns::<password_reset::Entity>("")
            ),
            [Sha256::digest(token.as_bytes()).to_vec().into()],
        ))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::bad_input("token", "this reset link is invalid, used or expired"))?;
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE crm.users SET password_hash = $2 WHERE id = $1",
        [claimed.user_id.into(), hash.into()],
    ))
    .await?;
    let user = UserId(claimed.user_id);
    let event = Envelope::new(TenantId(claimed.tenant_id), Some(user), &PasswordReset { user_id: user })?;
    events::enqueue(&txn, &event).await?;
    txn.commit().await?;
    SignOut::Person { user, keep: None }.apply(db, sessions).await
}
