//! Signing people out: the one place that ends sessions (Redis) together with the refresh tokens
//! that could open new ones (`crm.refresh_tokens`). Logout, role changes, removals, password
//! changes and organization deletion all come through here. (Refresh rotation revokes a reused
//! token's family itself: that is part of spending tokens, not of signing out.)
//!
//! Sessions end first, so access tokens stop working at once even if the database then fails;
//! a refresh token left behind by such a failure is useless, since a refresh needs a live
//! session. Deletion instead revokes inside its own transaction and ends sessions after the
//! commit.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use uuid::Uuid;

use crate::db::Db;
use crate::error::ApiResult;
use crate::ids::{SessionId, UserId};
use crate::sessions::SessionStore;
use crate::tenancy::TenantId;

/// Whose sessions end.
#[derive(Clone, Copy, Debug)]
pub enum SignOut {
    /// One session (logout).
    Session { tenant: TenantId, user: UserId, session: SessionId },
    /// Every session of a member in one organization (logout everywhere, a role change, removal).
    Member { tenant: TenantId, user: UserId },
    /// Every session of every member of an organization (deletion).
    Organization(TenantId),
    /// Every session of a person in every organization, but `keep` (password change or reset).
    Person { user: UserId, keep: Option<(TenantId, SessionId)> },
}

impl SignOut {
    /// Revokes the refresh tokens in scope, on `conn` (a transaction, or the pool).
    pub async fn revoke_refresh_tokens(&self, conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        let (condition, values): (&str, Vec<Value>) = match *self {
            Self::Session { session, .. } => ("session_id = $1", vec![session.0.into()]),
            Self::Member { tenant, user } => {
                ("tenant_id = $1 AND user_id = $2", vec![tenant.0.into(), user.0.into()])
            }
            Self::Organization(tenant) => ("tenant_id = $1", vec![tenant.0.into()]),
            Self::Person { user, keep } => (
                "user_id = $1 AND session_id IS DISTINCT FROM $2",
                vec![user.0.into(), keep.map(|(_, session)| session.0).into()],
            ),
        };
        conn.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE crm.refresh_tokens SET revoked_at = now() WHERE {condition} AND revoked_at IS NULL"
            ),
            values,
        ))
        .await?;
        Ok(())
    }

    /// Ends the sessions in scope; a kept session is reopened, so it survives.
    pub async fn end_sessions(&self, db: &Db, sessions: &SessionStore) -> ApiResult<()> {
        match *self {
            Self::Session { tenant, user, session } => sessions.revoke(tenant, user, session).await?,
            Self::Member { tenant, user } => sessions.revoke_all(tenant, user).await?,
            Self::Organization(tenant) => {
                for user in
                    ids(db, "SELECT user_id FROM crm.memberships WHERE tenant_id = $1", tenant.0).await?
                {
                    sessions.revoke_all(tenant, UserId(user)).await?;
                }
            }
            Self::Person { user, keep } => {
                for tenant in
                    ids(db, "SELECT tenant_id FROM crm.memberships WHERE user_id = $1", user.0).await?
                {
                    sessions.revoke_all(TenantId(tenant), user).await?;
                }
                if let Some((tenant, session)) = keep {
                    sessions.open(tenant, user, session).await?;
                }
            }
        }
        Ok(())
    }

    /// Both, sessions first, outside any transaction of the caller's.
    pub async fn apply(&self, db: &Db, sessions: &SessionStore) -> ApiResult<()> {
        self.end_sessions(db, sessions).await?;
        Ok(self.revoke_refresh_tokens(db.conn()).await?)
    }
}

async fn ids(db: &Db, sql: &str, key: Uuid) -> Result<Vec<Uuid>, DbErr> {
    let rows =
        db.conn().query_all(Statement::from_sql_and_values(DbBackend::Postgres, sql, [key.into()])).await?;
    rows.iter().map(|row| row.try_get_by_index::<Uuid>(0)).collect()
}
