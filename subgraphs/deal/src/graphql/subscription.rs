use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use crm_entities::events::deal::{
    ClosedLost, ClosedWon, DealCreated, DealDeleted, DealRestored, DealUpdated, Reopened, StageChanged,
};
use crm_entities::ids::{DealId, PipelineId, StageId};
use crm_platform::events::{DomainEvent, Envelope, RETENTION, ReplayError, tenant_events};
use crm_platform::ids::EventId;
use crm_platform::shared_load::SharedLoads;
use crm_platform::tenancy::TenantId;
use crm_platform::{ApiError, Caller, Services};
use futures::{Stream, StreamExt};

use super::types::{Deal, DealEvent, DealEventKind, Stage};
use crate::deals::DealLoader;
use crate::pipelines::StageLoader;

pub struct SubscriptionRoot;

/// What an event says about a deal.
struct Change {
    kind: DealEventKind,
    deal: DealId,
    /// The pipeline a move went to, which subscribers of other pipelines skip unread.
    pipeline: Option<PipelineId>,
    /// The stages a move went between.
    stages: Option<(StageId, StageId)>,
    version: i64,
}

/// Each event as its subscribers receive it, loaded once for all of them (keyed by tenant and
/// event, so one organization's load never serves another).
pub type SharedEvents = SharedLoads<(TenantId, EventId), Option<DealEvent>>;

fn parse(envelope: &Envelope) -> Option<Change> {
    let plain = |kind: DealEventKind, deal: DealId, version: i64| Change {
        kind,
        deal,
        pipeline: None,
        stages: None,
        version,
    };
    let moved = |kind: DealEventKind| {
        let changed = envelope.payload::<StageChanged>().ok()?;
        let stages = Some((changed.from_stage_id, changed.to_stage_id));
        let pipeline = Some(changed.pipeline_id);
        Some(Change { kind, deal: changed.deal_id, pipeline, stages, version: changed.version })
    };
    match envelope.event_type.as_str() {
        DealCreated::TYPE => envelope
            .payload::<DealCreated>()
            .ok()
            .map(|e| plain(DealEventKind::Created, e.deal_id, e.version)),
        DealUpdated::TYPE => envelope
            .payload::<DealUpdated>()
            .ok()
            .map(|e| plain(DealEventKind::Updated, e.deal_id, e.version)),
        DealDeleted::TYPE => envelope
            .payload::<DealDeleted>()
            .ok()
            .map(|e| plain(DealEventKind::Deleted, e.deal_id, e.version)),
        DealRestored::TYPE => envelope
            .payload::<DealRestored>()
            .ok()
            .map(|e| plain(DealEventKind::Restored, e.deal_id, e.version)),
        StageChanged::TYPE => moved(DealEventKind::Moved),
        ClosedWon::TYPE => moved(DealEventKind::Won),
        ClosedLost::TYPE => moved(DealEventKind::Lost),
        Reopened::TYPE => moved(DealEventKind::Reopened),
        _ => None,
    }
}

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Changes to the caller's organization's deals, optionally of one pipeline: created,
    /// updated, moved (then won, lost or reopened when the move did that), deleted, restored.
    /// With `after` (the `id` of the last event received) every event since then comes first,
    /// in order, then live ones; events are kept 7 days, and an older `after` is refused with
    /// BAD_USER_INPUT: reload the board instead.
    async fn deal_changed(
        &self,
        ctx: &Context<'_>,
        pipeline_id: Option<ID>,
        after: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = DealEvent> + use<>> {
        let caller = Arc::clone(Caller::of(ctx)?);
        let pipeline = pipeline_id.as_ref().map(|id| PipelineId::parse(id, "pipelineId")).transpose()?;
        let after = after.as_ref().map(|id| EventId::parse(id, "after")).transpose()?;
        let services = Services::of(ctx)?;
        let events =
            tenant_events(&services.nats, caller.tenant(), "deal", after).await.map_err(|err| match err {
                ReplayError::TooOld => ApiError::bad_input(
                    "after",
                    format!(
                        "after is older than the {} days events are kept: reload instead",
                        RETENTION.as_secs() / 86_400
                    ),
                ),
                ReplayError::Unavailable(reason) => ApiError::internal(std::io::Error::other(reason)),
            })?;
        let shared = Arc::clone(ctx.data::<Arc<SharedEvents>>()?);
        Ok(events.filter_map(move |envelope| {
            let caller = Arc::clone(&caller);
            let shared = Arc::clone(&shared);
            async move {
                let change = parse(&envelope)?;
                if pipeline.zip(change.pipeline).is_some_and(|(wanted, moved)| wanted != moved) {
                    return None;
                }
                let key = (caller.tenant(), envelope.id);
                let event = shared.get(key, view(&caller, &envelope, change)).await?;
                if pipeline.is_some_and(|p| p.0 != event.deal.0.pipeline_id) {
                    return None;
                }
                Some(event)
            }
        }))
    }
}

/// The event with the deal and stages as they are now; `None` if the deal is gone.
async fn view(caller: &Caller, envelope: &Envelope, change: Change) -> Option<DealEvent> {
    let Change { kind, deal, stages, version, .. } = change;
    let deal = caller.loader::<DealLoader, DealId>().load_one(deal).await.ok()??;
    let (from_stage, to_stage) = match stages {
        Some((from, to)) => {
            let loader = caller.loader::<StageLoader, StageId>();
            (loader.load_one(from).await.ok()?.map(Stage), loader.load_one(to).await.ok()?.map(Stage))
        }
        None => (None, None),
    };
    Some(DealEvent {
        id: envelope.id.into_uuid().into(),
        kind,
        version,
        deal: Deal(deal),
        from_stage,
        to_stage,
        occurred_at: envelope.timestamp,
    })
}
