use async_graphql::{Context, ID, MergedObject, Object};
use crm_entities::ids::{ActivityId, CompanyId, ContactId, DealId};
use crm_platform::Caller;

use super::templates::TemplateQuery;
use super::types::{Activity, CompanyRef, ContactRef, DealRef};
use crate::activities::ActivityLoader;

#[derive(Default)]
pub struct EntityQuery;

/// Entities, timelines and email templates, one `Query` type.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(EntityQuery, TemplateQuery);

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn find_activity_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Activity>> {
        let caller = Caller::of(ctx)?;
        let id = ActivityId::parse(&id, "id")?;
        Ok(caller.loader::<ActivityLoader, ActivityId>().load_one(id).await?.map(Activity))
    }

    /// Timelines are read in the caller's tenant, so a foreign id has an empty timeline.
    #[graphql(entity)]
    async fn find_deal_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<DealRef> {
        Caller::of(ctx)?;
        Ok(DealRef(DealId::parse(&id, "id")?))
    }

    #[graphql(entity)]
    async fn find_company_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<CompanyRef> {
        Caller::of(ctx)?;
        Ok(CompanyRef(CompanyId::parse(&id, "id")?))
    }

    #[graphql(entity)]
    async fn find_contact_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ContactRef> {
        Caller::of(ctx)?;
        Ok(ContactRef(ContactId::parse(&id, "id")?))
    }
}
