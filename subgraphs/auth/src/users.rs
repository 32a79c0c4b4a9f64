//! Users as members of the caller's tenant: a user of another organization does not exist here.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use crm_platform::auth::TenantLoader;
use crm_platform::{ApiError, Db, Role, TenantId};
use sea_orm::{DbBackend, FromQueryResult, Statement};
use uuid::Uuid;

#[derive(Clone, FromQueryResult)]
pub struct MemberRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
}

impl MemberRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Viewer)
    }
}

const MEMBERS_SQL: &str = "SELECT u.id, u.email, u.name, m.role
     FROM crm.users u JOIN crm.memberships m ON m.user_id = u.id
     JOIN crm.tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL
     WHERE m.tenant_id = $1 AND u.id = ANY($2)";

/// One member of `tenant`, if `user` still is one.
pub async fn find_member(db: &Db, tenant: TenantId, user: Uuid) -> Result<Option<MemberRow>, ApiError> {
    Ok(MemberRow::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        MEMBERS_SQL,
        [tenant.0.into(), vec![user].into()],
    ))
    .one(db.conn())
    .await?)
}

/// Loads members of one tenant by user id, one statement per batch.
pub struct MemberLoader {
    db: Db,
    tenant: TenantId,
}

impl TenantLoader for MemberLoader {
    fn new(db: Db, tenant: TenantId) -> Self {
        Self { db, tenant }
    }
}

impl Loader<Uuid> for MemberLoader {
    type Value = MemberRow;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, MemberRow>, Self::Error> {
        let rows = MemberRow::find_by_statement(Statement::from_sql_and_values(
            DbBackend::Postgres,
            MEMBERS_SQL,
            [self.tenant.0.into(), ids.to_vec().into()],
        ))
        .all(self.db.conn())
        .await
        .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}
