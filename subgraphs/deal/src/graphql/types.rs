use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::ids::{CompanyId, ContactId, DealId, PipelineId, StageId};
use crm_entities::tenant::pipeline_stage::{self, StageKind};
use crm_entities::tenant::{deal, pipeline};
use crm_platform::{ApiError, Caller};
use rust_decimal::Decimal;

use crate::deals::{ContactsOfDealLoader, DealsOfCompanyLoader, DealsOfContactLoader};
use crate::pipelines::{PipelineLoader, StageLoader, StagesOfPipelineLoader};

/// A sales pipeline: an ordered list of stages deals move through.
pub struct Pipeline(pub pipeline::Model);

#[Object]
impl Pipeline {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
    /// 1-based place in the organization's list of pipelines.
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Stages in pipeline order.
    async fn stages(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Stage>> {
        let caller = Caller::of(ctx)?;
        let stages =
            caller.loader::<StagesOfPipelineLoader, PipelineId>().load_one(PipelineId(self.0.id)).await?;
        Ok(stages.unwrap_or_default().into_iter().map(Stage).collect())
    }
}

/// One step of a pipeline.
pub struct Stage(pub pipeline_stage::Model);

#[Object]
impl Stage {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// 1-based position within the pipeline.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// Win probability in percent.
    async fn probability(&self) -> i32 {
        self.0.probability
    }
    async fn kind(&self) -> StageKind {
        self.0.kind
    }
    /// A deal with no change for this many days is flagged rotten.
    async fn rotten_days(&self) -> Option<i32> {
        self.0.rotten_days
    }
}

/// A sales opportunity.
pub struct Deal(pub deal::Model);

#[Object]
impl Deal {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn amount(&self) -> Option<Decimal> {
        self.0.amount
    }
    /// ISO 4217 currency code.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn stage(&self, ctx: &Context<'_>) -> async_graphql::Result<Stage> {
        let caller = Caller::of(ctx)?;
        let stage = caller.loader::<StageLoader, StageId>().load_one(StageId(self.0.stage_id)).await?;
        Ok(stage.map(Stage).ok_or_else(|| ApiError::internal(missing_reference("stage")))?)
    }
    async fn pipeline(&self, ctx: &Context<'_>) -> async_graphql::Result<Pipeline> {
        let caller = Caller::of(ctx)?;
        let pipeline =
            caller.loader::<PipelineLoader, PipelineId>().load_one(PipelineId(self.0.pipeline_id)).await?;
        Ok(pipeline.map(Pipeline).ok_or_else(|| ApiError::internal(missing_reference("pipeline")))?)
    }
    async fn contacts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ContactRef>> {
        let caller = Caller::of(ctx)?;
        let ids = caller.loader::<ContactsOfDealLoader, DealId>().load_one(DealId(self.0.id)).await?;
        Ok(ids.unwrap_or_default().into_iter().map(ContactRef).collect())
    }
    async fn company(&self) -> Option<CompanyRef> {
        self.0.company_id.map(|id| CompanyRef(CompanyId(id)))
    }
}

fn missing_reference(what: &'static str) -> std::io::Error {
    std::io::Error::other(format!("deal references a missing {what}"))
}

/// The contact subgraph's `Contact`, extended with its deals.
pub struct ContactRef(pub ContactId);

#[Object(name = "Contact")]
impl ContactRef {
    async fn id(&self) -> ID {
        self.0.into()
    }
    /// Deals this contact takes part in, newest first.
    async fn deals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Deal>> {
        let caller = Caller::of(ctx)?;
        let deals = caller.loader::<DealsOfContactLoader, ContactId>().load_one(self.0).await?;
        Ok(deals.unwrap_or_default().into_iter().map(Deal).collect())
    }
}

/// The contact subgraph's `Company`, extended with its deals.
pub struct CompanyRef(pub CompanyId);

#[Object(name = "Company")]
impl CompanyRef {
    async fn id(&self) -> ID {
        self.0.into()
    }
    /// Deals with this company, newest first.
    async fn deals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Deal>> {
        let caller = Caller::of(ctx)?;
        let deals = caller.loader::<DealsOfCompanyLoader, CompanyId>().load_one(self.0).await?;
        Ok(deals.unwrap_or_default().into_iter().map(Deal).collect())
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DealEventKind {
    StageChanged,
}

/// A change to a deal, as streamed by `dealChanged`.
#[derive(SimpleObject)]
pub struct DealEvent {
    pub kind: DealEventKind,
    pub deal: Deal,
    pub from_stage: Option<Stage>,
    pub to_stage: Option<Stage>,
    pub occurred_at: DateTime<Utc>,
}

crm_platform::connection!(DealConnection, DealEdge, Deal);
