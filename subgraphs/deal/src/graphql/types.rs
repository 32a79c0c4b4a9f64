use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::ids::{CompanyId, ContactId, DealId, PipelineId, StageId};
use crm_entities::tenant::deal::DealStatus;
use crm_entities::tenant::pipeline_stage::{self, StageKind};
use crm_entities::tenant::{deal, deal_contact, deal_stage_change, pipeline};
use crm_platform::date::Date;
use crm_platform::user_ref::UserRef;
use crm_platform::{ApiError, Caller};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::deals::list::{DealQuery, count_deals, list_deals};
use crate::deals::{ContactsOfDealLoader, DealsOfCompanyLoader, DealsOfContactLoader, StageHistoryLoader};
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
#[derive(Clone)]
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
#[derive(Clone)]
pub struct Deal(pub deal::Model);

impl Deal {
    async fn stage_model(&self, ctx: &Context<'_>) -> async_graphql::Result<pipeline_stage::Model> {
        let caller = Caller::of(ctx)?;
        let stage = caller.loader::<StageLoader, StageId>().load_one(StageId(self.0.stage_id)).await?;
        Ok(stage.ok_or_else(|| ApiError::internal(missing_reference("stage")))?)
    }
}

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
    async fn expected_close_date(&self) -> Option<Date> {
        self.0.expected_close_date.map(Date)
    }
    /// Win probability in percent: the deal's own, else its stage's default.
    async fn probability(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        match self.0.probability {
            Some(own) => Ok(own),
            None => Ok(self.stage_model(ctx).await?.probability),
        }
    }
    /// Whether `probability` is the deal's own rather than its stage's default.
    async fn has_own_probability(&self) -> bool {
        self.0.probability.is_some()
    }
    async fn status(&self) -> DealStatus {
        self.0.status
    }
    async fn lost_reason(&self) -> Option<&str> {
        self.0.lost_reason.as_deref()
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// Order on the board within its stage, ascending.
    async fn position(&self) -> f64 {
        self.0.position
    }
    /// When the deal entered its current stage.
    async fn stage_entered_at(&self) -> DateTime<Utc> {
        self.0.stage_entered_at
    }
    /// An open deal with no change for longer than its stage's `rottenDays`.
    async fn is_rotten(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        if self.0.status != DealStatus::Open {
            return Ok(false);
        }
        let days = self.stage_model(ctx).await?.rotten_days;
        Ok(days.is_some_and(|days| Utc::now() - self.0.updated_at > chrono::Duration::days(days.into())))
    }
    /// Raised by every change; events about the deal carry it.
    async fn version(&self) -> i64 {
        self.0.version
    }
    async fn owner(&self) -> Option<UserRef> {
        UserRef::of(self.0.owner_id)
    }
    /// Values by custom field key.
    async fn custom_fields(&self) -> Json<Value> {
        Json(self.0.custom_fields.clone())
    }
    async fn created_by(&self) -> Option<UserRef> {
        UserRef::of(self.0.created_by)
    }
    async fn updated_by(&self) -> Option<UserRef> {
        UserRef::of(self.0.updated_by)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set while the deal is in the trash.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
    async fn stage(&self, ctx: &Context<'_>) -> async_graphql::Result<Stage> {
        Ok(Stage(self.stage_model(ctx).await?))
    }
    async fn pipeline(&self, ctx: &Context<'_>) -> async_graphql::Result<Pipeline> {
        let caller = Caller::of(ctx)?;
        let pipeline =
            caller.loader::<PipelineLoader, PipelineId>().load_one(PipelineId(self.0.pipeline_id)).await?;
        Ok(pipeline.map(Pipeline).ok_or_else(|| ApiError::internal(missing_reference("pipeline")))?)
    }
    /// The deal's contacts with their roles, in the order they were linked.
    async fn contacts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DealContact>> {
        let caller = Caller::of(ctx)?;
        let links = caller.loader::<ContactsOfDealLoader, DealId>().load_one(DealId(self.0.id)).await?;
        Ok(links.unwrap_or_default().into_iter().map(DealContact).collect())
    }
    async fn company(&self) -> Option<CompanyRef> {
        self.0.company_id.map(|id| CompanyRef(CompanyId(id)))
    }
    /// Every stage the deal entered, from its creation on, oldest first.
    async fn stage_history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StageChange>> {
        let caller = Caller::of(ctx)?;
        let changes = caller.loader::<StageHistoryLoader, DealId>().load_one(DealId(self.0.id)).await?;
        Ok(changes.unwrap_or_default().into_iter().map(StageChange).collect())
    }
}

/// A contact of a deal and what they are to it.
pub struct DealContact(pub deal_contact::Model);

#[Object]
impl DealContact {
    async fn contact(&self) -> ContactRef {
        ContactRef(ContactId(self.0.contact_id))
    }
    /// Decision maker, champion, …
    async fn role(&self) -> Option<&str> {
        self.0.role.as_deref()
    }
}

/// A stage a deal entered: when, by whom, from which stage, and how long it had spent there.
pub struct StageChange(pub deal_stage_change::Model);

#[Object]
impl StageChange {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
    async fn changed_by(&self) -> Option<UserRef> {
        UserRef::of(self.0.changed_by)
    }
    /// The stage left; none when the deal was created. Null too once that stage is deleted:
    /// `fromStageName` keeps its name.
    #[graphql(name = "fromStage")]
    async fn stage_left(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Stage>> {
        let Some(id) = self.0.from_stage_id else { return Ok(None) };
        let caller = Caller::of(ctx)?;
        Ok(caller.loader::<StageLoader, StageId>().load_one(StageId(id)).await?.map(Stage))
    }
    #[graphql(name = "fromStageName")]
    async fn stage_left_name(&self) -> Option<&str> {
        self.0.from_stage_name.as_deref()
    }
    /// The stage entered; null once that stage is deleted (`toStageName` keeps its name).
    async fn to_stage(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Stage>> {
        let caller = Caller::of(ctx)?;
        Ok(caller.loader::<StageLoader, StageId>().load_one(StageId(self.0.to_stage_id)).await?.map(Stage))
    }
    async fn to_stage_name(&self) -> &str {
        &self.0.to_stage_name
    }
    /// Seconds spent in the stage left; none when the deal was created.
    async fn seconds_in_previous_stage(&self) -> Option<i64> {
        self.0.from_entered_at.map(|entered| (self.0.changed_at - entered).num_seconds())
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
    /// Deals this contact takes part in, newest first. Null only when the deals could not be
    /// read (an error with a code says why), so an outage of deals never costs the rest of a
    /// response.
    async fn deals(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Deal>>> {
        let caller = Caller::of(ctx)?;
        let deals = caller.loader::<DealsOfContactLoader, ContactId>().load_one(self.0).await?;
        Ok(Some(deals.unwrap_or_default().into_iter().map(Deal).collect()))
    }
}

/// The contact subgraph's `Company`, extended with its deals.
pub struct CompanyRef(pub CompanyId);

#[Object(name = "Company")]
impl CompanyRef {
    async fn id(&self) -> ID {
        self.0.into()
    }
    /// Deals with this company, newest first. Null only when the deals could not be read (an
    /// error with a code says why), so an outage of deals never costs the rest of a response.
    async fn deals(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Deal>>> {
        let caller = Caller::of(ctx)?;
        let deals = caller.loader::<DealsOfCompanyLoader, CompanyId>().load_one(self.0).await?;
        Ok(Some(deals.unwrap_or_default().into_iter().map(Deal).collect()))
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DealEventKind {
    Created,
    Updated,
    /// Moved to another stage (a move into a WON or LOST stage is then also WON or LOST, and a
    /// move out of one REOPENED).
    Moved,
    Won,
    Lost,
    Reopened,
    Deleted,
    Restored,
}

/// A change to a deal, as streamed by `dealChanged`.
#[derive(SimpleObject, Clone)]
pub struct DealEvent {
    /// The event's id: what `dealChanged(after:)` resumes after.
    pub id: ID,
    pub kind: DealEventKind,
    /// The deal's version after the change.
    pub version: i64,
    /// The deal as it is now.
    pub deal: Deal,
    /// The stages a move went between.
    pub from_stage: Option<Stage>,
    pub to_stage: Option<Stage>,
    pub occurred_at: DateTime<Utc>,
}

crm_platform::counted_connection!(
    /// A page of deals.
    DealConnection,
    DealEdge,
    Deal,
    DealQuery,
    list_deals,
    count_deals
);
