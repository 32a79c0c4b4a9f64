use async_graphql::{Context, ID, InputObject, Object};
use crm_entities::ids::{CompanyId, ContactId, DealId, PipelineId, StageId};
use crm_platform::pagination::PageRequest;
use crm_platform::{ApiError, Caller};

use super::types::{CompanyRef, ContactRef, Deal, DealConnection, Pipeline};
use crate::deals::{DealFilter, DealLoader, list_deals};
use crate::pipelines::{PipelineLoader, list_pipelines};

#[derive(InputObject, Default)]
pub struct DealFilterInput {
    pub pipeline_id: Option<ID>,
    pub stage_id: Option<ID>,
}

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

    /// Deals, newest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn deals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<DealFilterInput>,
    ) -> async_graphql::Result<DealConnection> {
        let caller = Caller::of(ctx)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let filter = DealFilter {
            pipeline: filter
                .pipeline_id
                .as_ref()
                .map(|id| PipelineId::parse(id, "filter.pipelineId"))
                .transpose()?,
            stage: filter.stage_id.as_ref().map(|id| StageId::parse(id, "filter.stageId")).transpose()?,
        };
        let tx = caller.tx().await?;
        let (rows, has_next) = list_deals(&tx, &filter, &page).await?;
        tx.commit().await?;
        Ok(DealConnection::new(rows.into_iter().map(|row| (row.id, Deal(row))).collect(), has_next))
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
