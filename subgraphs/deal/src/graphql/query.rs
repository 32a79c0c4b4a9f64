use async_graphql::{Context, ID, Object};
use crm_entities::ids::{CompanyId, ContactId, DealId, PipelineId};
use crm_platform::pagination::PageRequest;
use crm_platform::{ApiError, Caller};

use super::types::{CompanyRef, ContactRef, Deal, DealConnection, Pipeline};
use crate::deals::DealLoader;
use crate::deals::filters::DealFilter;
use crate::deals::list::{DealOrder, DealQuery};
use crate::pipelines::{PipelineLoader, list_pipelines};

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// Every pipeline, the default first.
    async fn pipelines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Pipeline>> {
        let caller = Caller::of(ctx)?;
        let tx = caller.tx().await?;
        let pipelines = list_pipelines(&tx).await?;
        tx.commit().await?;
        Ok(pipelines.into_iter().map(Pipeline).collect())
    }

    /// One deal; NOT_FOUND when it does not exist in the caller's organization.
    async fn deal(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Deal>> {
        let caller = Caller::of(ctx)?;
        let id = DealId::parse(&id, "id")?;
        let found = caller.loader::<DealLoader, DealId>().load_one(id).await?;
        Ok(Some(found.map(Deal).ok_or(ApiError::NotFound("deal"))?))
    }

    /// Deals: newest first unless `orderBy` says otherwise; `trashed: true` lists the trash.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn deals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        after: Option<String>,
        filter: Option<DealFilter>,
        order_by: Option<Vec<DealOrder>>,
        #[graphql(default_with = "Some(false)")] trashed: Option<bool>,
    ) -> async_graphql::Result<DealConnection> {
        let query = DealQuery {
            filter,
            order: order_by.unwrap_or_default(),
            first: PageRequest::parse(first, None)?.size,
            after,
            trashed: trashed.unwrap_or(false),
        };
        DealConnection::load(ctx, query).await
    }

    #[graphql(entity)]
    async fn find_deal_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Deal>> {
        let caller = Caller::of(ctx)?;
        let id = DealId::parse(&id, "id")?;
        Ok(caller.loader::<DealLoader, DealId>().load_one(id).await?.map(Deal))
    }

    #[graphql(entity)]
    async fn find_pipeline_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Pipeline>> {
        let caller = Caller::of(ctx)?;
        let id = PipelineId::parse(&id, "id")?;
        Ok(caller.loader::<PipelineLoader, PipelineId>().load_one(id).await?.map(Pipeline))
    }

    /// The contact subgraph has already resolved the contact in the caller's tenant; `deals`
    /// is read in that tenant too, so a foreign id yields no deals.
    #[graphql(entity)]
    async fn find_contact_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ContactRef> {
        Caller::of(ctx)?;
        Ok(ContactRef(ContactId::parse(&id, "id")?))
    }

    #[graphql(entity)]
    async fn find_company_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<CompanyRef> {
        Caller::of(ctx)?;
        Ok(CompanyRef(CompanyId::parse(&id, "id")?))
    }
}
