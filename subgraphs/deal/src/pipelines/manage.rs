//! Managing pipelines (admins): create one with its stages, rename it, make it the default, move
//! it in the list, delete it — moving its deals to another pipeline in the same call. Changes to
//! a tenant's pipelines take turns (one lock per tenant), so the rules hold under concurrency:
//! there is always a default pipeline, and every pipeline keeps an OPEN, a WON and a LOST stage.

use chrono::Utc;
use crm_entities::events::deal::PipelineUpdated;
use crm_entities::ids::{PipelineId, StageId};
use crm_entities::tenant::deal::{self, DealStatus};
use crm_entities::tenant::pipeline;
use crm_entities::tenant::pipeline_stage::{DEFAULT_STAGES, StageKind};
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::tenancy::lock_in_tenant;
use crm_platform::{ApiError, ApiResult, TenantTx, text};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set};

use super::deals_to_move;
use super::stages::{StageSpec, check_kinds, insert_stages, stages_of};
use crate::relocate::{Arrival, lock_stage, relocate};

const LOCK: &str = "pipelines";
const MAX_PIPELINES: usize = 50;

/// Serializes pipeline and stage changes of the tenant for the transaction.
pub async fn lock_pipelines(tx: &TenantTx) -> ApiResult<()> {
    lock_in_tenant(&**tx, LOCK, false).await?;
    Ok(())
}

pub async fn find(tx: &TenantTx, id: PipelineId, field: &'static str) -> ApiResult<pipeline::Model> {
    pipeline::Entity::find_by_id(id.0).one(&**tx).await?.ok_or_else(|| {
        if field == "id" {
            ApiError::NotFound("pipeline")
        } else {
            ApiError::bad_input(field, "pipeline not found")
        }
    })
}

pub async fn announce(tx: &TenantTx, actor: UserId, pipeline: PipelineId, deleted: bool) -> ApiResult<()> {
    let event = Envelope::new(tx.tenant(), Some(actor), &PipelineUpdated { pipeline_id: pipeline, deleted })?;
    events::enqueue(&**tx, &event).await
}

async fn all(tx: &TenantTx) -> ApiResult<Vec<pipeline::Model>> {
    Ok(pipeline::Entity::find()
        .order_by_asc(pipeline::Column::Position)
        .order_by_asc(pipeline::Column::CreatedAt)
        .all(&**tx)
        .await?)
}

fn check_name(name: &str, others: &[pipeline::Model]) -> ApiResult<String> {
    let name = text::required("name", name, 100)?;
    if others.iter().any(|p| p.name.to_lowercase() == name.to_lowercase()) {
        return Err(ApiError::Conflict(format!("a pipeline named {name:?} exists already")));
    }
    Ok(name)
}

/// Makes `id` the only default pipeline.
async fn make_default(tx: &TenantTx, id: PipelineId) -> ApiResult<()> {
    pipeline::Entity::update_many()
        .col_expr(pipeline::Column::IsDefault, false.into())
        .filter(pipeline::Column::IsDefault.eq(true))
        .filter(pipeline::Column::Id.ne(id.0))
        .exec(&**tx)
        .await?;
    pipeline::Entity::update_many()
        .col_expr(pipeline::Column::IsDefault, true.into())
        .filter(pipeline::Column::Id.eq(id.0))
        .exec(&**tx)
        .await?;
    Ok(())
}

async fn renumber(tx: &TenantTx, ordered: &[PipelineId]) -> ApiResult<()> {
    super::renumber(tx, "pipelines", ordered.iter().map(|id| id.0).collect()).await
}

/// A new pipeline, last in the list, with `stages` (or the default ones).
pub async fn create_pipeline(
    tx: &TenantTx,
    actor: UserId,
    name: &str,
    stages: Option<Vec<StageSpec>>,
    is_default: bool,
) -> ApiResult<pipeline::Model> {
    lock_pipelines(tx).await?;
    let existing = all(tx).await?;
    if existing.len() >= MAX_PIPELINES {
        return Err(ApiError::bad_input(
            "name",
            format!("an organization has at most {MAX_PIPELINES} pipelines"),
        ));
    }
    let name = check_name(name, &existing)?;
    let stages = match stages {
        Some(stages) => stages.into_iter().map(StageSpec::checked).collect::<ApiResult<Vec<_>>>()?,
        None => DEFAULT_STAGES
            .iter()
            .map(|&(name, probability, kind)| StageSpec {
                name: name.to_owned(),
                kind,
                probability: Some(probability),
                rotten_days: None,
            })
            .collect(),
    };
    check_kinds(stages.iter().map(|s| s.kind), "stages")?;
    let now = Utc::now();
    let id = PipelineId::new();
    pipeline::ActiveModel {
        id: Set(id.0),
        name: Set(name),
        is_default: Set(false),
        position: Set(existing.iter().map(|p| p.position).max().unwrap_or(0) + 1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&**tx)
    .await?;
    insert_stages(tx, id, &stages).await?;
    if is_default || existing.is_empty() {
        make_default(tx, id).await?;
    }
    announce(tx, actor, id, false).await?;
    find(tx, id, "id").await
}

#[derive(Default)]
pub struct PipelineChange {
    pub name: Option<String>,
    pub is_default: Option<bool>,
    /// 1-based place in the list.
    pub position: Option<i32>,
}

pub async fn update_pipeline(
    tx: &TenantTx,
    actor: UserId,
    id: PipelineId,
    change: PipelineChange,
) -> ApiResult<pipeline::Model> {
    lock_pipelines(tx).await?;
    let before = find(tx, id, "id").await?;
    let existing = all(tx).await?;
    let mut active = before.clone().into_active_model();
    if let Some(name) = &change.name {
        let others: Vec<_> = existing.iter().filter(|p| p.id != id.0).cloned().collect();
        active.name = Set(check_name(name, &others)?);
    }
    match change.is_default {
        Some(false) if before.is_default => {
            return Err(ApiError::bad_input("isDefault", "make another pipeline the default instead"));
        }
        Some(true) if !before.is_default => make_default(tx, id).await?,
        _ => {}
    }
    if let Some(position) = change.position {
        let mut order: Vec<PipelineId> =
            existing.iter().map(|p| PipelineId(p.id)).filter(|p| *p != id).collect();
        let at = (position.max(1) as usize - 1).min(order.len());
        order.insert(at, id);
        renumber(tx, &order).await?;
    }
    active.updated_at = Set(Utc::now());
    active.update(&**tx).await?;
    announce(tx, actor, id, false).await?;
    find(tx, id, "id").await
}

/// Deletes a pipeline. Its deals (trashed ones too) go to `move_deals_to`: each into the first
/// stage there of its own kind, so open deals stay open and closed ones stay closed.
pub async fn delete_pipeline(
    tx: &TenantTx,
    actor: UserId,
    id: PipelineId,
    move_deals_to: Option<PipelineId>,
) -> ApiResult<()> {
    lock_pipelines(tx).await?;
    let doomed = find(tx, id, "id").await?;
    let existing = all(tx).await?;
    if existing.len() == 1 {
        return Err(ApiError::bad_input("id", "an organization keeps at least one pipeline"));
    }
    let moving = deals_to_move(tx, deal::Column::PipelineId, id.0, move_deals_to, "pipeline").await?;
    if let Some((deals, target)) = moving {
        if target == id {
            return Err(ApiError::bad_input(
                "moveDealsTo",
                "deals cannot move to the pipeline being deleted",
            ));
        }
        find(tx, target, "moveDealsTo").await?;
        let stages = stages_of(tx, target).await?;
        for (status, kind) in [
            (DealStatus::Open, StageKind::Open),
            (DealStatus::Won, StageKind::Won),
            (DealStatus::Lost, StageKind::Lost),
        ] {
            let group: Vec<_> = deals.iter().filter(|d| d.status == status).cloned().collect();
            if group.is_empty() {
                continue;
            }
            let first = stages.iter().find(|s| s.kind == kind).ok_or_else(|| {
                ApiError::internal(std::io::Error::other("a pipeline lacks a stage of a kind"))
            })?;
            let stage = lock_stage(tx, StageId(first.id)).await?.ok_or(ApiError::NotFound("stage"))?;
            relocate(tx, actor, group, &stage, Arrival::default()).await?;
        }
    }
    pipeline::Entity::delete_by_id(id.0).exec(&**tx).await?;
    let remaining: Vec<PipelineId> =
        existing.iter().filter(|p| p.id != id.0).map(|p| PipelineId(p.id)).collect();
    renumber(tx, &remaining).await?;
    if doomed.is_default {
        make_default(tx, remaining[0]).await?;
        announce(tx, actor, remaining[0], false).await?;
    }
    announce(tx, actor, id, true).await
}
