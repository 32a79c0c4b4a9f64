use async_graphql::{Context, ID, Object};
use crm_platform::{ApiError, ApiResult, Caller, Role, Services};

use super::types::{Invitation, Member, MyOrganization, Tenant, UserPreferences};
use crate::{invitations, members, preferences, settings};

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The organization the caller's token belongs to.
    async fn current_tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        let caller = Caller::of(ctx)?;
        Ok(find_tenant(ctx, caller).await?.ok_or(ApiError::NotFound("tenant"))?)
    }

    /// The organizations the caller belongs to (for `switchTenant`), by name.
    async fn my_organizations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MyOrganization>> {
        let caller = Caller::of(ctx)?;
        let rows = members::organizations_of(&Services::of(ctx)?.db, caller.user()).await?;
        Ok(rows.into_iter().map(|(tenant, role)| MyOrganization { tenant: tenant.into(), role }).collect())
    }

    /// Everyone in the organization, oldest member first.
    async fn tenant_users(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Member>> {
        let caller = Caller::of(ctx)?;
        let rows = members::list(&Services::of(ctx)?.db, caller.tenant()).await?;
        Ok(rows.into_iter().map(Member::from).collect())
    }

    /// The caller's own preferences in this organization (every role).
    async fn my_preferences(&self, ctx: &Context<'_>) -> async_graphql::Result<UserPreferences> {
        let caller = Caller::of(ctx)?;
        let tx = caller.tx().await?;
        let found = preferences::mine(&tx, caller.user()).await?;
        tx.commit().await?;
        Ok(found.into())
    }

    /// Open invitations (admins and owners).
    async fn invitations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Invitation>> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let rows = invitations::list_open(&Services::of(ctx)?.db, caller.tenant()).await?;
        Ok(rows.into_iter().map(Invitation::from).collect())
    }

    /// Entity lookups resolve only the caller's own organization.
    #[graphql(entity)]
    async fn find_tenant_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Tenant>> {
        let caller = Caller::of(ctx)?;
        if id.as_str() != caller.tenant().to_string() {
            return Ok(None);
        }
        Ok(find_tenant(ctx, caller).await?)
    }
}

async fn find_tenant(ctx: &Context<'_>, caller: &Caller) -> ApiResult<Option<Tenant>> {
    let services = Services::of(ctx)?;
    let found = settings::load(&services.db, &services.kv, caller.tenant()).await?;
    Ok(found.map(Tenant::from))
}
