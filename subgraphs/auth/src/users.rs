//! Users as members of the caller's tenant: a user of another organization does not exist here.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use crm_entities::global::member::{self, Member};
use crm_platform::auth::TenantLoader;
use crm_platform::{ApiError, Caller, Db, TenantId};
use uuid::Uuid;

/// Loads members of one tenant by user id, one statement per batch.
pub struct MemberLoader {
    db: Db,
    tenant: TenantId,
}

impl TenantLoader for MemberLoader {
    fn new(caller: &Caller) -> Self {
        Self { db: caller.db().clone(), tenant: caller.tenant() }
    }
}

impl Loader<Uuid> for MemberLoader {
    type Value = Member;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Member>, Self::Error> {
        let rows = member::find_many(self.db.conn(), self.tenant, ids).await.map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}
