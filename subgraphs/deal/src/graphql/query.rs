use async_graphql::{Context, ID, Object};
use crm_entities::ids::{CompanyId, ContactId, DealId, PipelineId};
use crm_platform::date::Date;
use crm_platform::ids::UserId;
use crm_platform::pagination::PageRequest;
use crm_platform::{ApiError, Caller};

use super::analytics::{self, DealAnalytics};
use super::types::{CompanyRef, ContactRef, Deal, DealConnection, Pipeline};
use crate::analytics::Scope;
use crate::deals::DealLoader;
use crate::deals::filters::DealFilter;
use crate::deals::list::{DealOrder, DealQuery};
use crate::pipelines::manage;
use crate::pipelines::{PipelineLoader, default_pipeline, list_pipelines};

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

    /// A pipeline's deals in figures: by stage, forecast by month of expected close, win rate,
    /// sales cycle, stage conversion and time in stage from the stage history, and per owner.
    /// Amounts are per currency. The default pipeline when none is named; `from` and `to` are
    /// whole UTC days, both optional.
    async fn deal_analytics(
        &self,
        ctx: &Context<'_>,
        pipeline_id: Option<ID>,
        from: Option<Date>,
        to: Option<Date>,
        owner_id: Option<ID>,
    ) -> async_graphql::Result<DealAnalytics> {
        let caller = Caller::of(ctx)?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(ApiError::bad_input("to", "to must not come before from").into());
        }
        let owner = owner_id.as_ref().map(|id| UserId::parse(id, "ownerId")).transpose()?;
        let pipeline_id = pipeline_id.as_ref().map(|id| PipelineId::parse(id, "pipelineId")).transpose()?;
        let tx = caller.tx().await?;
        let pipeline = match pipeline_id {
            Some(id) => manage::find(&tx, id, "pipelineId").await?,
            None => default_pipeline(&tx).await?,
        };
        tx.commit().await?;
        let scope =
            Scope { pipeline: PipelineId(pipeline.id), from: from.map(|d| d.0), to: to.map(|d| d.0), owner };
        Ok(analytics::load(ctx, pipeline, scope).await?)
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
