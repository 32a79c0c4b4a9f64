//! Events of the deal subgraph. A move into a WON or LOST stage emits `deal.stage_changed` and
//! then `deal.closed_won` or `deal.closed_lost` with the same fields; a move out of one, then
//! `deal.reopened`. Deal events carry the deal's version after the change: consumers order a
//! deal's events by it and drop ones older than what they have seen.

use crm_platform::events::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::events::contact::Changes;
use crate::ids::{DealId, PipelineId, StageId};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DealCreated {
    pub deal_id: DealId,
    pub version: i64,
}

impl DomainEvent for DealCreated {
    const TYPE: &'static str = "deal.created";
}

/// Fields of a deal changed (`updateDeal`, `closeDeal` with a new lost reason…), each with its
/// previous and new value; stage moves have events of their own.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DealUpdated {
    pub deal_id: DealId,
    pub version: i64,
    pub changes: Changes,
}

impl DomainEvent for DealUpdated {
    const TYPE: &'static str = "deal.updated";
}

/// Moved to the trash (`deleteDeal`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DealDeleted {
    pub deal_id: DealId,
    pub version: i64,
}

impl DomainEvent for DealDeleted {
    const TYPE: &'static str = "deal.deleted";
}

/// Back from the trash (`restoreDeal`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DealRestored {
    pub deal_id: DealId,
    pub version: i64,
}

impl DomainEvent for DealRestored {
    const TYPE: &'static str = "deal.restored";
}

/// A deal moved from one stage of its pipeline to another.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageChanged {
    pub deal_id: DealId,
    pub pipeline_id: PipelineId,
    pub from_stage_id: StageId,
    pub to_stage_id: StageId,
    pub version: i64,
}

impl DomainEvent for StageChanged {
    const TYPE: &'static str = "deal.stage_changed";
}

/// The move of a deal into a WON stage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClosedWon(pub StageChanged);

impl DomainEvent for ClosedWon {
    const TYPE: &'static str = "deal.closed_won";
}

/// The move of a deal into a LOST stage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClosedLost(pub StageChanged);

impl DomainEvent for ClosedLost {
    const TYPE: &'static str = "deal.closed_lost";
}

/// The move of a closed deal back into an OPEN stage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reopened(pub StageChanged);

impl DomainEvent for Reopened {
    const TYPE: &'static str = "deal.reopened";
}

/// A pipeline was created, renamed, made the default, reordered, deleted, or its stages changed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PipelineUpdated {
    pub pipeline_id: PipelineId,
    pub deleted: bool,
}

impl DomainEvent for PipelineUpdated {
    const TYPE: &'static str = "pipeline.updated";
}
