//! Pipelines and their stages: reading them, and where a new deal starts.

pub mod manage;
pub mod stages;

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use crm_entities::ids::{PipelineId, StageId};
use crm_entities::tenant::{deal, pipeline, pipeline_stage};
use crm_platform::sql::Sql;
use crm_platform::tenancy::find_by_ids;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// Writes positions 1..n, in the order given, to rows of `table` (pipelines or stages), in one
/// statement.
async fn renumber(tx: &TenantTx, table: &'static str, ordered: Vec<uuid::Uuid>) -> ApiResult<()> {
    let mut sql = Sql::new(&format!("UPDATE {table} t SET position = o.n, updated_at = now() FROM unnest("));
    sql.bind_as(ordered, "uuid[]").push(") WITH ORDINALITY AS o(id, n) WHERE t.id = o.id");
    tx.execute(sql.statement()).await?;
    Ok(())
}

/// The deals (trashed ones too) whose `column` is `id`, in board order, locked, with where they
/// must go: none when there are none; else `target`, or BAD_USER_INPUT on `moveDealsTo` naming
/// how many there are and `what` (pipeline or stage) the deleted one is.
async fn deals_to_move<T>(
    tx: &TenantTx,
    column: deal::Column,
    id: uuid::Uuid,
    target: Option<T>,
    what: &str,
) -> ApiResult<Option<(Vec<deal::Model>, T)>> {
    use sea_orm::QuerySelect;
    let deals = deal::Entity::find()
        .filter(column.eq(id))
        .order_by_asc(deal::Column::Position)
        .order_by_asc(deal::Column::Id)
        .lock_exclusive()
        .all(&**tx)
        .await?;
    if deals.is_empty() {
        return Ok(None);
    }
    match target {
        Some(target) => Ok(Some((deals, target))),
        None => Err(ApiError::bad_input(
            "moveDealsTo",
            format!("the {what} holds {} deal(s): name a {what} to move them to", deals.len()),
        )),
    }
}

/// All pipelines, in the tenant's order.
pub async fn list_pipelines(tx: &TenantTx) -> ApiResult<Vec<pipeline::Model>> {
    Ok(pipeline::Entity::find()
        .order_by_asc(pipeline::Column::Position)
        .order_by_asc(pipeline::Column::CreatedAt)
        .all(&**tx)
        .await?)
}

/// The organization's default pipeline.
pub async fn default_pipeline(tx: &TenantTx) -> ApiResult<pipeline::Model> {
    pipeline::Entity::find()
        .filter(pipeline::Column::IsDefault.eq(true))
        .one(&**tx)
        .await?
        .ok_or_else(|| ApiError::bad_input("pipelineId", "there is no default pipeline"))
}

/// The stage a new deal starts in: `stage` if given (it must lie in `pipeline`, if that is given
/// too), else the first stage of `pipeline`, else the first stage of the default pipeline.
pub async fn starting_stage(
    tx: &TenantTx,
    pipeline: Option<PipelineId>,
    stage: Option<StageId>,
) -> ApiResult<pipeline_stage::Model> {
    if let Some(stage_id) = stage {
        let found = pipeline_stage::Entity::find_by_id(stage_id.0).one(&**tx).await?;
        return match found {
            Some(stage) if pipeline.is_none_or(|p| p.0 == stage.pipeline_id) => Ok(stage),
            Some(_) => Err(ApiError::bad_input("stageId", "stage is not in the given pipeline")),
            None => Err(ApiError::bad_input("stageId", "stage not found")),
        };
    }
    let pipeline_id = match pipeline {
        Some(id) => id.0,
        None => default_pipeline(tx).await?.id,
    };
    pipeline_stage::Entity::find()
        .filter(pipeline_stage::Column::PipelineId.eq(pipeline_id))
        .order_by_asc(pipeline_stage::Column::Position)
        .one(&**tx)
        .await?
        .ok_or_else(|| ApiError::bad_input("pipelineId", "pipeline not found"))
}

crm_platform::id_loader!(
    /// Stages by id.
    StageLoader,
    StageId,
    pipeline_stage
);

crm_platform::id_loader!(
    /// Pipelines by id.
    PipelineLoader,
    PipelineId,
    pipeline
);

crm_platform::tenant_loader!(
    /// The ordered stages of each pipeline.
    StagesOfPipelineLoader
);

impl Loader<PipelineId> for StagesOfPipelineLoader {
    type Value = Vec<pipeline_stage::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[PipelineId]) -> Result<HashMap<PipelineId, Self::Value>, Self::Error> {
        let mut rows = find_by_ids::<pipeline_stage::Entity>(
            &self.reads,
            pipeline_stage::Column::PipelineId,
            ids.iter().map(|id| id.0),
        )
        .await
        .map_err(ApiError::from)?;
        rows.sort_by_key(|stage| stage.position);
        let mut by_pipeline: HashMap<PipelineId, Self::Value> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        for stage in rows {
            by_pipeline.entry(PipelineId(stage.pipeline_id)).or_default().push(stage);
        }
        Ok(by_pipeline)
    }
}
