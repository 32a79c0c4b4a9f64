//! A person as a member of one organization: the identity's public fields with the membership.
//! Auth resolves `User` from it and the tenant subgraph lists members with it; members of an
//! organization that has been deleted are nobody's.

use chrono::{DateTime, Utc};
use crm_platform::{ApiError, ApiResult, Role, TenantId};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Statement};
use uuid::Uuid;

#[derive(Clone, Debug, FromQueryResult)]
pub struct Member {
    /// The user id.
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

const MEMBERS: &str = "SELECT u.id, u.email, u.name, m.role, m.created_at AS joined_at
     FROM crm.memberships m
     JOIN crm.users u ON u.id = m.user_id
     JOIN crm.tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL
     WHERE m.tenant_id = $1";

/// Every member of `tenant`, oldest membership first.
pub async fn list(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<Member>, DbErr> {
    let sql = format!("{MEMBERS} ORDER BY m.created_at, u.id");
    Member::find_by_statement(Statement::from_sql_and_values(DbBackend::Postgres, sql, [tenant.0.into()]))
        .all(conn)
        .await
}

/// The members of `tenant` among `users`, in one statement.
pub async fn find_many(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    users: &[Uuid],
) -> Result<Vec<Member>, DbErr> {
    let sql = format!("{MEMBERS} AND u.id = ANY($2)");
    let values = [tenant.0.into(), users.to_vec().into()];
    Member::find_by_statement(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
        .all(conn)
        .await
}

/// One member of `tenant`, if `user` still is one.
pub async fn find(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: Uuid,
) -> Result<Option<Member>, DbErr> {
    Ok(find_many(conn, tenant, &[user]).await?.into_iter().next())
}

/// An owner of a record must be a member of the organization (BAD_USER_INPUT on `ownerId`).
pub async fn check_owner(conn: &impl ConnectionTrait, tenant: TenantId, owner: Uuid) -> ApiResult<()> {
    match find(conn, tenant, owner).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::bad_input("ownerId", "ownerId is not a member of this organization")),
    }
}
