//! Managing a pipeline's stages (admins): add, change, reorder, delete — a stage that holds
//! deals is deleted only with `moveDealsTo`, and changes its kind only when empty. Every
//! pipeline keeps at least one OPEN, one WON and one LOST stage.

use chrono::Utc;
use crm_entities::ids::{PipelineId, StageId};
use crm_entities::tenant::deal;
use crm_entities::tenant::pipeline_stage::{self, StageKind};
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx, text};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use super::deals_to_move;
use super::manage::{announce, find, lock_pipelines};
use crate::relocate::{Arrival, lock_stage, relocate};

const MAX_STAGES: usize = 50;

/// A stage as an admin describes it.
pub struct StageSpec {
    pub name: String,
    pub kind: StageKind,
    /// Percent; when absent, 100 for WON, 0 for LOST and 50 for OPEN stages.
    pub probability: Option<i32>,
    pub rotten_days: Option<i32>,
}

impl StageSpec {
    pub fn checked(self) -> ApiResult<Self> {
        Ok(Self {
            name: text::required("name", &self.name, 100)?,
            kind: self.kind,
            probability: Some(check_probability(self.probability, self.kind)?),
            rotten_days: check_rotten_days(self.rotten_days)?,
        })
    }
}

fn check_probability(probability: Option<i32>, kind: StageKind) -> ApiResult<i32> {
    match probability {
        Some(p) if !(0..=100).contains(&p) => {
            Err(ApiError::bad_input("probability", "probability is a percentage, 0 to 100"))
        }
        Some(p) => Ok(p),
        None => Ok(match kind {
            StageKind::Won => 100,
            StageKind::Lost => 0,
            StageKind::Open => 50,
        }),
    }
}

fn check_rotten_days(days: Option<i32>) -> ApiResult<Option<i32>> {
    match days {
        Some(d) if !(1..=3650).contains(&d) => {
            Err(ApiError::bad_input("rottenDays", "rottenDays is a number of days, 1 to 3650"))
        }
        other => Ok(other),
    }
}

/// Refuses a set of stage kinds that lacks OPEN, WON or LOST.
pub fn check_kinds(kinds: impl Iterator<Item = StageKind> + Clone, field: &'static str) -> ApiResult<()> {
    for (kind, name) in [(StageKind::Open, "OPEN"), (StageKind::Won, "WON"), (StageKind::Lost, "LOST")] {
        if !kinds.clone().any(|k| k == kind) {
            return Err(ApiError::bad_input(field, format!("a pipeline keeps at least one {name} stage")));
        }
    }
    Ok(())
}

/// Inserts `stages` of a new pipeline at positions 1..n.
pub async fn insert_stages(tx: &TenantTx, pipeline: PipelineId, stages: &[StageSpec]) -> ApiResult<()> {
    if stages.len() > MAX_STAGES {
        return Err(ApiError::bad_input("stages", format!("a pipeline has at most {MAX_STAGES} stages")));
    }
    let now = Utc::now();
    let rows = stages.iter().zip(1..).map(|(spec, position)| pipeline_stage::ActiveModel {
        id: Set(StageId::new().0),
        pipeline_id: Set(pipeline.0),
        name: Set(spec.name.clone()),
        position: Set(position),
        probability: Set(spec.probability.unwrap_or_default()),
        kind: Set(spec.kind),
        rotten_days: Set(spec.rotten_days),
        created_at: Set(now),
        updated_at: Set(now),
    });
    pipeline_stage::Entity::insert_many(rows).exec(&**tx).await?;
    Ok(())
}

/// The stages of `pipeline` in order.
pub async fn stages_of(tx: &TenantTx, pipeline: PipelineId) -> ApiResult<Vec<pipeline_stage::Model>> {
    Ok(pipeline_stage::Entity::find()
        .filter(pipeline_stage::Column::PipelineId.eq(pipeline.0))
        .order_by_asc(pipeline_stage::Column::Position)
        .all(&**tx)
        .await?)
}

async fn find_stage(tx: &TenantTx, id: StageId) -> ApiResult<pipeline_stage::Model> {
    pipeline_stage::Entity::find_by_id(id.0).one(&**tx).await?.ok_or(ApiError::NotFound("stage"))
}

/// How many deals (trashed ones too) `stage` holds.
async fn deals_in(tx: &TenantTx, stage: StageId) -> ApiResult<u64> {
    Ok(deal::Entity::find().filter(deal::Column::StageId.eq(stage.0)).count(&**tx).await?)
}

/// Positions 1..n in the order given (the unique position is checked at commit).
async fn renumber(tx: &TenantTx, ordered: &[StageId]) -> ApiResult<()> {
    super::renumber(tx, "pipeline_stages", ordered.iter().map(|id| id.0).collect()).await
}

/// Adds a stage at `position` (1-based), or after the pipeline's last OPEN stage.
pub async fn create_stage(
    tx: &TenantTx,
    actor: UserId,
    pipeline: PipelineId,
    spec: StageSpec,
    position: Option<i32>,
) -> ApiResult<pipeline_stage::Model> {
    lock_pipelines(tx).await?;
    find(tx, pipeline, "pipelineId").await?;
    let spec = spec.checked()?;
    let stages = stages_of(tx, pipeline).await?;
    if stages.len() >= MAX_STAGES {
        return Err(ApiError::bad_input("pipelineId", format!("a pipeline has at most {MAX_STAGES} stages")));
    }
    let at = match position {
        Some(p) => (p.max(1) as usize - 1).min(stages.len()),
        None => stages.iter().rposition(|s| s.kind == StageKind::Open).map_or(0, |i| i + 1),
    };
    let id = StageId::new();
    let now = Utc::now();
    pipeline_stage::ActiveModel {
        id: Set(id.0),
        pipeline_id: Set(pipeline.0),
        name: Set(spec.name),
        position: Set(stages.len() as i32 + 1),
        probability: Set(spec.probability.unwrap_or_default()),
        kind: Set(spec.kind),
        rotten_days: Set(spec.rotten_days),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&**tx)
    .await?;
    let mut order: Vec<StageId> = stages.iter().map(|s| StageId(s.id)).collect();
    order.insert(at, id);
    renumber(tx, &order).await?;
    announce(tx, actor, pipeline, false).await?;
    find_stage(tx, id).await
}

#[derive(Default)]
pub struct StageChange {
    pub name: Option<String>,
    pub kind: Option<StageKind>,
    pub probability: Option<i32>,
    /// `Some(None)` clears it.
    pub rotten_days: Option<Option<i32>>,
}

pub async fn update_stage(
    tx: &TenantTx,
    actor: UserId,
    id: StageId,
    change: StageChange,
) -> ApiResult<pipeline_stage::Model> {
    lock_pipelines(tx).await?;
    let before = find_stage(tx, id).await?;
    let mut active = before.clone().into_active_model();
    if let Some(name) = &change.name {
        active.name = Set(text::required("name", name, 100)?);
    }
    if let Some(kind) = change.kind.filter(|k| *k != before.kind) {
        let held = deals_in(tx, id).await?;
        if held > 0 {
            return Err(ApiError::bad_input(
                "kind",
                format!("the stage holds {held} deal(s): move them before changing its kind"),
            ));
        }
        let stages = stages_of(tx, PipelineId(before.pipeline_id)).await?;
        check_kinds(stages.iter().map(|s| if s.id == id.0 { kind } else { s.kind }), "kind")?;
        active.kind = Set(kind);
    }
    if let Some(probability) = change.probability {
        active.probability = Set(check_probability(Some(probability), before.kind)?);
    }
    if let Some(days) = change.rotten_days {
        active.rotten_days = Set(check_rotten_days(days)?);
    }
    active.updated_at = Set(Utc::now());
    let kind_changed = change.kind.is_some_and(|k| k != before.kind);
    let stage = active.update(&**tx).await?;
    if kind_changed {
        refresh_conversion(tx, PipelineId(stage.pipeline_id)).await?;
    }
    announce(tx, actor, PipelineId(stage.pipeline_id), false).await?;
    Ok(stage)
}

/// Puts the pipeline's stages in the order of `ids`, which names each of them once.
pub async fn reorder_stages(
    tx: &TenantTx,
    actor: UserId,
    pipeline: PipelineId,
    ids: &[StageId],
) -> ApiResult<()> {
    lock_pipelines(tx).await?;
    find(tx, pipeline, "pipelineId").await?;
    let stages = stages_of(tx, pipeline).await?;
    let mut given: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
    let mut current: Vec<uuid::Uuid> = stages.iter().map(|s| s.id).collect();
    given.sort();
    current.sort();
    if given != current {
        return Err(ApiError::bad_input("stageIds", "stageIds must name every stage of the pipeline once"));
    }
    renumber(tx, ids).await?;
    refresh_conversion(tx, pipeline).await?;
    announce(tx, actor, pipeline, false).await
}

/// After stages were reordered, deleted or changed kind: which deals went on from each stage
/// (to a later one that is not LOST) is worked out again for the analytics.
async fn refresh_conversion(tx: &TenantTx, pipeline: PipelineId) -> ApiResult<()> {
    let mut sql = Sql::new("SELECT deal_reach_refresh_pipeline(");
    sql.bind(pipeline.0).push(")");
    tx.execute(sql.statement()).await?;
    Ok(())
}

/// Deletes a stage; the deals it holds (trashed ones too) move to `move_deals_to`, another stage
/// of the same pipeline, after the deals already there.
pub async fn delete_stage(
    tx: &TenantTx,
    actor: UserId,
    id: StageId,
    move_deals_to: Option<StageId>,
) -> ApiResult<PipelineId> {
    lock_pipelines(tx).await?;
    let doomed = find_stage(tx, id).await?;
    let pipeline = PipelineId(doomed.pipeline_id);
    let stages = stages_of(tx, pipeline).await?;
    check_kinds(stages.iter().filter(|s| s.id != id.0).map(|s| s.kind), "id")?;
    let moving = deals_to_move(tx, deal::Column::StageId, id.0, move_deals_to, "stage").await?;
    if let Some((deals, target)) = moving {
        let target = lock_stage(tx, target)
            .await?
            .filter(|s| s.pipeline_id == pipeline.0 && s.id != id.0)
            .ok_or_else(|| ApiError::bad_input("moveDealsTo", "name another stage of the same pipeline"))?;
        relocate(tx, actor, deals, &target, Arrival::default()).await?;
    }
    pipeline_stage::Entity::delete_by_id(id.0).exec(&**tx).await?;
    let remaining: Vec<StageId> = stages.iter().filter(|s| s.id != id.0).map(|s| StageId(s.id)).collect();
    renumber(tx, &remaining).await?;
    refresh_conversion(tx, pipeline).await?;
    announce(tx, actor, pipeline, false).await?;
    Ok(pipeline)
}
