//! Moving deals on the board: into another stage or before another card, closing them as won
//! or lost, reopening them. Board order is a number per deal, ascending within a stage; a card
//! placed between two takes the middle, and a stage whose gaps have worn out is renumbered.
//! Every move into a stage waits for the stage's row lock, so concurrent moves never share a
//! position.

use async_graphql::Enum;
use crm_entities::ids::{DealId, StageId};
use crm_entities::tenant::deal::{self, DealStatus};
use crm_entities::tenant::pipeline_stage::{self, StageKind};
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx, text};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::edit::{lock_live, save};
use crate::relocate::{Arrival, lock_stage, relocate};
use crm_entities::events::contact::Changes;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DealOutcome {
    Won,
    Lost,
}

fn gone() -> ApiError {
    ApiError::internal(std::io::Error::other("a moved deal vanished"))
}

/// Renumbers the live deals of `stage` 1, 2, 3… in their current order.
async fn renumber_board(tx: &TenantTx, stage: uuid::Uuid) -> ApiResult<()> {
    let mut sql = Sql::new(
        "UPDATE deals d SET position = r.n FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS n \
         FROM deals WHERE stage_id = ",
    );
    sql.bind(stage).push(") r WHERE d.id = r.id");
    tx.execute(sql.statement()).await?;
    Ok(())
}

/// The position just before `before` (a live deal of `stage`), leaving `moving` out of account.
async fn position_before(tx: &TenantTx, stage: uuid::Uuid, before: DealId, moving: DealId) -> ApiResult<f64> {
    for attempt in 0..2 {
        let next = deal::Entity::find_by_id(before.0)
            .one(&**tx)
            .await?
            .filter(|d| d.stage_id == stage && d.deleted_at.is_none() && d.id != moving.0)
            .ok_or_else(|| {
                ApiError::bad_input("beforeId", "beforeId names no other deal of the target stage")
            })?;
        let mut sql =
            Sql::new("SELECT max(position) AS previous FROM deals WHERE deleted_at IS NULL AND stage_id = ");
        sql.bind(stage).push(" AND id <> ").bind(moving.0).push(" AND position < ").bind(next.position);
        let row = tx.query_one(sql.statement()).await?;
        let previous = row.and_then(|r| r.try_get::<Option<f64>>("", "previous").ok().flatten());
        let Some(previous) = previous else { return Ok(next.position - 1.0) };
        let middle = previous + (next.position - previous) / 2.0;
        if middle > previous && middle < next.position {
            return Ok(middle);
        }
        if attempt == 0 {
            // No number is left between the two: spread the stage out and look again.
            renumber_board(tx, stage).await?;
        }
    }
    Err(ApiError::internal(std::io::Error::other("no board position between two deals")))
}

/// Moves a deal to `stage` of its own pipeline: before `before` when given, else at the end of
/// the stage. A move to where the deal already is changes nothing and emits nothing; a move
/// within its stage (a new place on the board) is a `deal.updated` of its position.
#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant(), deal.id = %id))]
pub async fn move_deal(
    tx: &TenantTx,
    actor: UserId,
    id: DealId,
    stage: StageId,
    before: Option<DealId>,
) -> ApiResult<deal::Model> {
    let deal = lock_live(tx, id).await?;
    if deal.stage_id == stage.0 && before.is_none() {
        return Ok(deal);
    }
    let target = lock_stage(tx, stage)
        .await?
        .filter(|s| s.pipeline_id == deal.pipeline_id)
        .ok_or_else(|| ApiError::bad_input("stageId", "stage is not in the deal's pipeline"))?;
    let position = match before {
        Some(before) => Some(position_before(tx, target.id, before, id).await?),
        None => None,
    };
    if deal.stage_id == stage.0 {
        let mut after = deal.clone();
        after.position = position.unwrap_or(deal.position);
        return save(tx, actor, deal, after, Changes::new()).await;
    }
    let arrival = Arrival { position, lost_reason: None };
    relocate(tx, actor, vec![deal], &target, arrival).await?.pop().ok_or_else(gone)
}

/// The pipeline's stages of `kind`, in order.
async fn stages_of_kind(
    tx: &TenantTx,
    pipeline: uuid::Uuid,
    kind: StageKind,
) -> ApiResult<Vec<pipeline_stage::Model>> {
    Ok(pipeline_stage::Entity::find()
        .filter(pipeline_stage::Column::PipelineId.eq(pipeline))
        .filter(pipeline_stage::Column::Kind.eq(kind))
        .order_by_asc(pipeline_stage::Column::Position)
        .all(&**tx)
        .await?)
}

/// Closes a deal: into its pipeline's (first) WON or LOST stage, at the end. A lost reason goes
/// with LOST only. Closing a deal already closed that way only records a new lost reason.
#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant(), deal.id = %id))]
pub async fn close_deal(
    tx: &TenantTx,
    actor: UserId,
    id: DealId,
    outcome: DealOutcome,
    lost_reason: Option<&str>,
) -> ApiResult<deal::Model> {
    let lost_reason = text::optional("lostReason", lost_reason, 500)?;
    if outcome == DealOutcome::Won && lost_reason.is_some() {
        return Err(ApiError::bad_input("lostReason", "a lost reason goes with LOST only"));
    }
    let deal = lock_live(tx, id).await?;
    let (kind, status) = match outcome {
        DealOutcome::Won => (StageKind::Won, DealStatus::Won),
        DealOutcome::Lost => (StageKind::Lost, DealStatus::Lost),
    };
    if deal.status == status {
        let mut after = deal.clone();
        if lost_reason.is_some() {
            after.lost_reason = lost_reason;
        }
        return save(tx, actor, deal, after, Changes::new()).await;
    }
    let first = stages_of_kind(tx, deal.pipeline_id, kind)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal(std::io::Error::other("a pipeline lacks a stage of a kind")))?;
    let target = lock_stage(tx, StageId(first.id)).await?.ok_or(ApiError::NotFound("stage"))?;
    let arrival = Arrival { position: None, lost_reason };
    relocate(tx, actor, vec![deal], &target, arrival).await?.pop().ok_or_else(gone)
}

/// Reopens a closed deal: back into the last OPEN stage it was in (if it still exists), else
/// the pipeline's last OPEN stage. An open deal is left as it is.
#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant(), deal.id = %id))]
pub async fn reopen_deal(tx: &TenantTx, actor: UserId, id: DealId) -> ApiResult<deal::Model> {
    let deal = lock_live(tx, id).await?;
    if deal.status == DealStatus::Open {
        return Ok(deal);
    }
    let open = stages_of_kind(tx, deal.pipeline_id, StageKind::Open).await?;
    let mut sql = Sql::new(
        "SELECT from_stage_id FROM deal_stage_changes WHERE from_stage_id IS NOT NULL AND deal_id = ",
    );
    sql.bind(deal.id).push(" ORDER BY changed_at DESC, id DESC");
    let left = tx.query_all(sql.statement()).await?;
    let earlier = left
        .iter()
        .filter_map(|row| row.try_get::<uuid::Uuid>("", "from_stage_id").ok())
        .find_map(|stage| open.iter().find(|s| s.id == stage));
    let chosen = earlier
        .or(open.last())
        .ok_or_else(|| ApiError::internal(std::io::Error::other("a pipeline lacks an OPEN stage")))?;
    let target = lock_stage(tx, StageId(chosen.id)).await?.ok_or(ApiError::NotFound("stage"))?;
    relocate(tx, actor, vec![deal], &target, Arrival::default()).await?.pop().ok_or_else(gone)
}
