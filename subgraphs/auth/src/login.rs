//! `login`: one answer for every failure, and the same work whether or not the account exists.

use chrono::{DateTime, Utc};
use crm_platform::password::{MAX_PASSWORD_BYTES, hash_password, needs_rehash, verify_password};
use crm_platform::text::EmailAddress;
use crm_platform::{ApiError, ApiResult, Db, Role, TenantId};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};
use uuid::Uuid;

use crm_entities::global::member::Member;

pub struct Membership {
    pub member: Member,
    pub tenant: TenantId,
    pub role: Role,
}

#[derive(FromQueryResult)]
struct LoginRow {
    user_id: Uuid,
    email: String,
    name: String,
    tenant_id: Uuid,
    role: Role,
    joined_at: DateTime<Utc>,
    password_hash: String,
}

#[tracing::instrument(skip_all)]
pub async fn login(db: &Db, email: &str, password: String, subdomain: &str) -> ApiResult<Membership> {
    let bad_credentials = || ApiError::Unauthenticated;
    // Malformed input fails like a wrong password: login reveals nothing about accounts.
    let email = EmailAddress::parse("email", email).ok();
    let row = match &email {
        Some(email) if password.len() <= MAX_PASSWORD_BYTES => {
            LoginRow::find_by_statement(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT u.id AS user_id, u.email, u.name, t.id AS tenant_id, m.role, m.created_at AS joined_at,
                        u.password_hash
                 FROM crm.users u
                 JOIN crm.memberships m ON m.user_id = u.id
                 JOIN crm.tenants t ON t.id = m.tenant_id
                 WHERE u.email = $1 AND t.subdomain = $2 AND t.deleted_at IS NULL",
                [email.as_str().into(), subdomain.into()],
            ))
            .one(db.conn())
            .await?
        }
        _ => None,
    };
    let password = if password.len() <= MAX_PASSWORD_BYTES { password } else { String::new() };
    let verified = verify_password(password.clone(), row.as_ref().map(|r| r.password_hash.clone())).await;
    let row = row.filter(|_| verified).ok_or_else(bad_credentials)?;
    if needs_rehash(&row.password_hash) {
        // Parameters rose since this hash was made: store one at today's strength.
        let fresh = hash_password(password).await?;
        db.conn()
            .execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE crm.users SET password_hash = $2 WHERE id = $1",
                [row.user_id.into(), fresh.into()],
            ))
            .await?;
    }
    let member = Member {
        id: row.user_id,
        email: row.email,
        name: row.name,
        role: row.role,
        joined_at: row.joined_at,
    };
    Ok(Membership { member, tenant: TenantId(row.tenant_id), role: row.role })
}
