//! Mutations that manage pipelines and their stages (admins).

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use crm_entities::ids::{PipelineId, StageId};
use crm_entities::tenant::pipeline_stage::StageKind;
use crm_platform::{Caller, Role};

use super::types::{Pipeline, Stage};
use crate::pipelines::manage::{self, PipelineChange};
use crate::pipelines::stages::{self, StageChange, StageSpec};

#[derive(InputObject)]
pub struct StageInput {
    pub name: String,
    pub kind: StageKind,
    /// Default win probability in percent; 100 for WON, 0 for LOST and 50 for OPEN when absent.
    pub probability: Option<i32>,
    /// A deal with no change for this many days is flagged rotten.
    pub rotten_days: Option<i32>,
}

impl From<StageInput> for StageSpec {
    fn from(input: StageInput) -> Self {
        Self {
            name: input.name,
            kind: input.kind,
            probability: input.probability,
            rotten_days: input.rotten_days,
        }
    }
}

#[derive(InputObject)]
pub struct CreatePipelineInput {
    pub name: String,
    /// In order; at least one OPEN, one WON and one LOST. The default stages when absent.
    pub stages: Option<Vec<StageInput>>,
    #[graphql(default)]
    pub is_default: bool,
}

#[derive(InputObject, Default)]
pub struct UpdatePipelineInput {
    pub name: Option<String>,
    /// Only `true`: another pipeline stops being the default.
    pub is_default: Option<bool>,
    /// 1-based place in the list of pipelines.
    pub position: Option<i32>,
}

#[derive(InputObject)]
pub struct CreateStageInput {
    pub name: String,
    pub kind: StageKind,
    pub probability: Option<i32>,
    pub rotten_days: Option<i32>,
    /// 1-based; after the last OPEN stage when absent.
    pub position: Option<i32>,
}

#[derive(InputObject, Default)]
pub struct UpdateStageInput {
    pub name: Option<String>,
    /// Only while the stage holds no deals.
    pub kind: Option<StageKind>,
    pub probability: Option<i32>,
    /// `null` clears it.
    pub rotten_days: MaybeUndefined<i32>,
}

#[derive(Default)]
pub struct PipelineMutation;

#[Object]
impl PipelineMutation {
    /// Adds a pipeline, last in the list (admins).
    async fn create_pipeline(
        &self,
        ctx: &Context<'_>,
        input: CreatePipelineInput,
    ) -> async_graphql::Result<Pipeline> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let tx = caller.write_tx().await?;
        let stages = input.stages.map(|stages| stages.into_iter().map(StageSpec::from).collect());
        let pipeline =
            manage::create_pipeline(&tx, caller.user(), &input.name, stages, input.is_default).await?;
        tx.commit().await?;
        Ok(Pipeline(pipeline))
    }

    /// Renames a pipeline, makes it the default or moves it in the list (admins).
    async fn update_pipeline(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePipelineInput,
    ) -> async_graphql::Result<Pipeline> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let id = PipelineId::parse(&id, "id")?;
        let change =
            PipelineChange { name: input.name, is_default: input.is_default, position: input.position };
        let tx = caller.write_tx().await?;
        let pipeline = manage::update_pipeline(&tx, caller.user(), id, change).await?;
        tx.commit().await?;
        Ok(Pipeline(pipeline))
    }

    /// Deletes a pipeline (admins). One that holds deals needs `moveDealsTo`: each deal goes to
    /// the first stage there of its own kind. Returns the deleted pipeline's id.
    async fn delete_pipeline(
        &self,
        ctx: &Context<'_>,
        id: ID,
        move_deals_to: Option<ID>,
    ) -> async_graphql::Result<ID> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let pipeline = PipelineId::parse(&id, "id")?;
        let target = move_deals_to.as_ref().map(|t| PipelineId::parse(t, "moveDealsTo")).transpose()?;
        let tx = caller.write_tx().await?;
        manage::delete_pipeline(&tx, caller.user(), pipeline, target).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a stage to a pipeline (admins).
    async fn create_stage(
        &self,
        ctx: &Context<'_>,
        pipeline_id: ID,
        input: CreateStageInput,
    ) -> async_graphql::Result<Stage> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let pipeline = PipelineId::parse(&pipeline_id, "pipelineId")?;
        let spec = StageSpec {
            name: input.name,
            kind: input.kind,
            probability: input.probability,
            rotten_days: input.rotten_days,
        };
        let tx = caller.write_tx().await?;
        let stage = stages::create_stage(&tx, caller.user(), pipeline, spec, input.position).await?;
        tx.commit().await?;
        Ok(Stage(stage))
    }

    /// Changes a stage (admins).
    async fn update_stage(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateStageInput,
    ) -> async_graphql::Result<Stage> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let id = StageId::parse(&id, "id")?;
        let rotten_days = match input.rotten_days {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(days) => Some(Some(days)),
        };
        let change =
            StageChange { name: input.name, kind: input.kind, probability: input.probability, rotten_days };
        let tx = caller.write_tx().await?;
        let stage = stages::update_stage(&tx, caller.user(), id, change).await?;
        tx.commit().await?;
        Ok(Stage(stage))
    }

    /// Puts a pipeline's stages in this order; `stageIds` names each of them once (admins).
    async fn reorder_stages(
        &self,
        ctx: &Context<'_>,
        pipeline_id: ID,
        stage_ids: Vec<ID>,
    ) -> async_graphql::Result<Pipeline> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let pipeline = PipelineId::parse(&pipeline_id, "pipelineId")?;
        let ids = stage_ids.iter().map(|id| StageId::parse(id, "stageIds")).collect::<Result<Vec<_>, _>>()?;
        let tx = caller.write_tx().await?;
        stages::reorder_stages(&tx, caller.user(), pipeline, &ids).await?;
        let found = manage::find(&tx, pipeline, "pipelineId").await?;
        tx.commit().await?;
        Ok(Pipeline(found))
    }

    /// Deletes a stage (admins). One that holds deals needs `moveDealsTo`, another stage of the
    /// same pipeline. Returns the pipeline.
    async fn delete_stage(
        &self,
        ctx: &Context<'_>,
        id: ID,
        move_deals_to: Option<ID>,
    ) -> async_graphql::Result<Pipeline> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let stage = StageId::parse(&id, "id")?;
        let target = move_deals_to.as_ref().map(|t| StageId::parse(t, "moveDealsTo")).transpose()?;
        let tx = caller.write_tx().await?;
        let pipeline = stages::delete_stage(&tx, caller.user(), stage, target).await?;
        let found = manage::find(&tx, pipeline, "id").await?;
        tx.commit().await?;
        Ok(Pipeline(found))
    }
}
