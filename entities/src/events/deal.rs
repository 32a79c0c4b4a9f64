//! Events of the deal subgraph. A move into a WON or LOST stage emits `deal.stage_changed` and
//! then `deal.closed_won` or `deal.closed_lost` with the same fields.

use crm_platform::events::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{DealId, PipelineId, StageId};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DealCreated {
    pub deal_id: DealId,
}

impl DomainEvent for DealCreated {
    const TYPE: &'static str = "deal.created";
}

/// A deal moved from one stage of its pipeline to another.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageChanged {
    pub deal_id: DealId,
    pub pipeline_id: PipelineId,
    pub from_stage_id: StageId,
    pub to_stage_id: StageId,
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
