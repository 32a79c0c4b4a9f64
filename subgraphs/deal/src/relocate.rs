//! Deals entering a stage: their board position, status, version and stage history, and the
//! events that say so — for one deal (`createDeal`, `moveDeal`) or many at once (the deals of a
//! stage or pipeline being deleted). Moves into one stage take turns on the stage's row lock,
//! so two never take the same board position.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use crm_entities::events::deal::{ClosedLost, ClosedWon, Reopened, StageChanged};
use crm_entities::ids::{DealId, PipelineId, StageId};
use crm_entities::tenant::deal::{self, DealStatus};
use crm_entities::tenant::pipeline_stage::{self, StageKind};
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::sql::{Sql, columns};
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, QuerySelect};
use uuid::Uuid;

/// The status of a deal in a stage of `kind`.
pub fn status_in(kind: StageKind) -> DealStatus {
    match kind {
        StageKind::Open => DealStatus::Open,
        StageKind::Won => DealStatus::Won,
        StageKind::Lost => DealStatus::Lost,
    }
}

/// Locks `stage` against other board-order changes for the transaction. `FOR NO KEY UPDATE`
/// does not hold up the key-share locks that inserting a deal into the stage takes.
pub async fn lock_stage(tx: &TenantTx, stage: StageId) -> ApiResult<Option<pipeline_stage::Model>> {
    Ok(pipeline_stage::Entity::find_by_id(stage.0)
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
        .one(&**tx)
        .await?)
}

/// The board position after the last deal of `stage` (trashed ones included, so a restored
/// deal keeps a place of its own).
pub async fn end_of(tx: &TenantTx, stage: Uuid) -> ApiResult<f64> {
    let mut sql = Sql::new("SELECT coalesce(max(position), 0) + 1 AS next FROM deals WHERE stage_id = ");
    sql.bind(stage);
    let row = tx.query_one(sql.statement()).await?;
    Ok(row.map(|r| r.try_get::<f64>("", "next")).transpose()?.unwrap_or(1.0))
}

/// Records that `deal` entered its first stage, named `stage`, when it was created.
pub async fn record_creation(tx: &TenantTx, actor: UserId, deal: &deal::Model, stage: &str) -> ApiResult<()> {
    let mut sql = Sql::new(
        "INSERT INTO deal_stage_changes (id, deal_id, pipeline_id, to_stage_id, to_stage_name, changed_by, \
         changed_at) VALUES (",
    );
    sql.bind(Uuid::now_v7()).push(", ").bind(deal.id).push(", ").bind(deal.pipeline_id).push(", ");
    sql.bind(deal.stage_id).push(", ").bind(stage.to_owned()).push(", ").bind(Some(actor.0)).push(", ");
    sql.bind(deal.stage_entered_at).push(")");
    tx.execute(sql.statement()).await?;
    Ok(())
}

/// Where moved deals land and what closing them as lost records.
#[derive(Default)]
pub struct Arrival {
    /// The board position of the first deal (the next ones follow, one apart); after the deals
    /// already in the stage when absent.
    pub position: Option<f64>,
    /// Recorded on deals that end up lost (they keep theirs when absent).
    pub lost_reason: Option<String>,
}

/// Moves `deals` (locked by the caller, in any stages) into `target`, in the given order, with
/// `target`'s stage lock held. Returns them as they now are.
pub async fn relocate(
    tx: &TenantTx,
    actor: UserId,
    deals: Vec<deal::Model>,
    target: &pipeline_stage::Model,
    arrival: Arrival,
) -> ApiResult<Vec<deal::Model>> {
    if deals.is_empty() {
        return Ok(Vec::new());
    }
    let start = match arrival.position {
        Some(position) => position,
        None => end_of(tx, target.id).await?,
    };
    let now = Utc::now();
    let status = status_in(target.kind);
    let ids: Vec<Uuid> = deals.iter().map(|d| d.id).collect();
    let positions: Vec<f64> = (0..deals.len()).map(|n| start + n as f64).collect();

    // The history first, while the stages left still exist (with their names).
    let mut history = Sql::new(
        "INSERT INTO deal_stage_changes (id, deal_id, pipeline_id, from_stage_id, from_stage_name, to_stage_id, \
         to_stage_name, changed_by, changed_at, from_entered_at) \
         SELECT m.change_id, m.deal_id, ",
    );
    history.bind(target.pipeline_id).push(", m.from_stage_id, s.name, ").bind(target.id).push(", ");
    history.bind(target.name.clone()).push(", ").bind(Some(actor.0)).push(", ").bind(now);
    history.push(", m.entered_at FROM unnest(");
    let change_ids: Vec<Uuid> = deals.iter().map(|_| Uuid::now_v7()).collect();
    let from_stages: Vec<Uuid> = deals.iter().map(|d| d.stage_id).collect();
    let entered: Vec<DateTime<Utc>> = deals.iter().map(|d| d.stage_entered_at).collect();
    history.bind_as(change_ids, "uuid[]").push(", ").bind_as(ids.clone(), "uuid[]").push(", ");
    history.bind_as(from_stages, "uuid[]").push(", ").bind_as(entered, "timestamptz[]");
    history.push(") AS m(change_id, deal_id, from_stage_id, entered_at) LEFT JOIN pipeline_stages s ON s.id = m.from_stage_id");
    tx.execute(history.statement()).await?;

    use sea_orm::ActiveEnum;
    let mut sql = Sql::new("UPDATE deals d SET stage_id = ");
    sql.bind(target.id).push(", pipeline_id = ").bind(target.pipeline_id);
    sql.push(", status = ").bind(status.to_value());
    sql.push(", closed_at = CASE WHEN ").bind(status.to_value()).push(" = 'open' THEN NULL WHEN d.status = ");
    sql.bind(status.to_value()).push(" THEN d.closed_at ELSE ").bind(now).push(" END");
    sql.push(", lost_reason = CASE WHEN ").bind(status.to_value()).push(" = 'lost' THEN coalesce(");
    sql.bind(arrival.lost_reason).push(", d.lost_reason) END");
    sql.push(", position = m.position, stage_entered_at = ").bind(now);
    sql.push(", version = d.version + 1, updated_at = ")
        .bind(now)
        .push(", updated_by = ")
        .bind(Some(actor.0));
    sql.push(" FROM unnest(").bind_as(ids, "uuid[]").push(", ").bind_as(positions, "float8[]");
    sql.push(") AS m(id, position) WHERE d.id = m.id RETURNING ").push(&columns::<deal::Entity>("d"));
    let moved = deal::Model::find_by_statement(sql.statement()).all(&**tx).await?;
    let mut by_id: HashMap<Uuid, deal::Model> = moved.into_iter().map(|d| (d.id, d)).collect();

    let mut envelopes = Vec::new();
    let mut result = Vec::with_capacity(deals.len());
    for before in deals {
        let after = by_id
            .remove(&before.id)
            .ok_or_else(|| ApiError::internal(std::io::Error::other("a moved deal vanished")))?;
        let changed = StageChanged {
            deal_id: DealId(after.id),
            pipeline_id: PipelineId(after.pipeline_id),
            from_stage_id: StageId(before.stage_id),
            to_stage_id: StageId(after.stage_id),
            version: after.version,
        };
        // The stage change first: envelope ids are time-ordered, and the relay publishes in id order.
        envelopes.push(Envelope::new(tx.tenant(), Some(actor), &changed)?);
        match (before.status, after.status) {
            (from, to) if from == to => {}
            (_, DealStatus::Won) => {
                envelopes.push(Envelope::new(tx.tenant(), Some(actor), &ClosedWon(changed))?)
            }
            (_, DealStatus::Lost) => {
                envelopes.push(Envelope::new(tx.tenant(), Some(actor), &ClosedLost(changed))?)
            }
            (_, DealStatus::Open) => {
                envelopes.push(Envelope::new(tx.tenant(), Some(actor), &Reopened(changed))?)
            }
        }
        result.push(after);
    }
    events::enqueue_many(&**tx, &envelopes).await?;
    Ok(result)
}
