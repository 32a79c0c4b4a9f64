use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use crm_entities::events::deal::StageChanged;
use crm_entities::ids::{DealId, PipelineId, StageId};
use crm_platform::events::live_events;
use crm_platform::{ApiError, Caller, Services};
use futures::{Stream, StreamExt};

use super::types::{Deal, DealEvent, DealEventKind, Stage};
use crate::deals::DealLoader;
use crate::pipelines::StageLoader;

pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Stage changes of the caller's organization's deals, optionally of one pipeline.
    async fn deal_changed(
        &self,
        ctx: &Context<'_>,
        pipeline_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = DealEvent> + use<>> {
        let caller = Arc::clone(Caller::of(ctx)?);
        let pipeline = pipeline_id.as_ref().map(|id| PipelineId::parse(id, "pipelineId")).transpose()?;
        let services = Services::of(ctx)?;
        let events =
            live_events::<StageChanged>(&services.nats, caller.tenant()).await.map_err(ApiError::internal)?;
        Ok(events.filter_map(move |(envelope, changed)| {
            let caller = Arc::clone(&caller);
            async move {
                if pipeline.is_some_and(|p| p != changed.pipeline_id) {
                    return None;
                }
                let deal = caller.loader::<DealLoader, DealId>().load_one(changed.deal_id).await.ok()??;
                let stages = caller.loader::<StageLoader, StageId>();
                let from_stage = stages.load_one(changed.from_stage_id).await.ok()?.map(Stage);
                let to_stage = stages.load_one(changed.to_stage_id).await.ok()?.map(Stage);
                Some(DealEvent {
                    kind: DealEventKind::StageChanged,
                    deal: Deal(deal),
                    from_stage,
                    to_stage,
                    occurred_at: envelope.timestamp,
                })
            }
        }))
    }
}
