//! Durable event consumers: a JetStream pull consumer per (handler, event type) that runs each
//! event at most once per tenant, inside that tenant's transaction.
//!
//! The tenant comes from the subject (`crm.{tenant}.{type}`), which only the outbox relay writes,
//! and the envelope must name the same tenant; a handler never picks a tenant from the payload.
//! Each tenant schema keeps a ledger of processed event ids, written in the handler's own
//! transaction, so a redelivery after a crash between commit and ack does nothing twice.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::events::{self, DomainEvent, Envelope};
use crate::tenancy::{TenantId, TenantTx};

/// Deliveries before an event that keeps failing is given up (and logged).
const MAX_DELIVER: i64 = 6;
const RETRY_BACKOFF: [Duration; 5] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
];
const RECONNECT_DELAY: Duration = Duration::from_secs(2);
/// Messages fetched ahead of the one being handled.
const FETCH_AHEAD: usize = 4;

/// Handles one event inside the tenant transaction; returning an error rolls it back and asks
/// for a redelivery.
pub type Handler = for<'a> fn(&'a TenantTx, &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>>;

/// A durable consumer of one event type.
#[derive(Clone, Copy)]
pub struct Consumer {
    /// Durable name; also the ledger key, so renaming it replays history.
    pub name: &'static str,
    pub event_type: &'static str,
    pub handler: Handler,
}

impl Consumer {
    /// A consumer of events of type `E`; its handler reads them with [`Envelope::payload`].
    pub const fn of<E: DomainEvent>(name: &'static str, handler: Handler) -> Self {
        Self { name, event_type: E::TYPE, handler }
    }
}

/// What became of one delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Handled,
    /// Already in this tenant's ledger: a redelivery.
    Duplicate,
    /// The tenant no longer exists or is being deleted.
    TenantGone,
    /// The subject and the envelope disagree, or the message is not an envelope.
    Rejected,
}

/// Runs each of `consumers` until `shutdown`: a subgraph's background task when consuming is all
/// it does in the background.
pub fn run_all(
    services: crate::Services,
    consumers: &'static [Consumer],
    shutdown: CancellationToken,
) -> BoxFuture<'static, ()> {
    let runs = consumers
        .iter()
        .map(|consumer| run(services.db.clone(), services.nats.clone(), *consumer, shutdown.clone()));
    Box::pin(futures::future::join_all(runs).map(drop))
}

/// Runs `consumer` until `shutdown`, reconnecting when NATS or the stream is unavailable.
pub async fn run(db: Db, nats: async_nats::Client, consumer: Consumer, shutdown: CancellationToken) {
    let js = jetstream::new(nats);
    loop {
        let result = tokio::select! {
            () = shutdown.cancelled() => return,
            result = consume(&db, &js, consumer) => result,
        };
        if let Err(err) = result {
            tracing::warn!(consumer = consumer.name, error = %err, "event consumer interrupted; will retry");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RECONNECT_DELAY) => {}
        }
    }
}

async fn consume(db: &Db, js: &jetstream::Context, consumer: Consumer) -> anyhow::Result<()> {
    events::ensure_stream(js).await?;
    let stream = js.get_stream(events::STREAM).await?;
    let pull = stream
        .get_or_create_consumer(
            consumer.name,
            pull::Config {
                durable_name: Some(consumer.name.to_owned()),
                filter_subject: format!("crm.*.{}", consumer.event_type),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                max_deliver: MAX_DELIVER,
                ..Default::default()
            },
        )
        .await?;
    // A few messages at a time: what a stopped process had fetched but not handled waits out
    // `ack_wait` before another gets it, so little is fetched ahead.
    let mut messages = pull.stream().max_messages_per_batch(FETCH_AHEAD).messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
        match process(db, consumer, &message.subject, &message.payload).await {
            Ok(outcome) => {
                if outcome == Outcome::Rejected {
                    tracing::error!(consumer = consumer.name, subject = %message.subject, "event rejected");
                }
                message.ack().await.map_err(|err| anyhow::anyhow!(err))?;
            }
            Err(err) => {
                let retry = RETRY_BACKOFF.get(delivered.saturating_sub(1) as usize).copied();
                if delivered >= MAX_DELIVER {
                    tracing::error!(consumer = consumer.name, subject = %message.subject, error = %err,
                        "event failed on every delivery; giving up");
                } else {
                    tracing::warn!(consumer = consumer.name, subject = %message.subject, error = %err,
                        delivered, "event failed; will be redelivered");
                }
                message.ack_with(AckKind::Nak(retry)).await.map_err(|err| anyhow::anyhow!(err))?;
            }
        }
    }
    Ok(())
}

/// Processes one delivery: checks who it belongs to, skips what the ledger has seen, and runs the
/// handler and the ledger write in one tenant transaction.
pub async fn process(db: &Db, consumer: Consumer, subject: &str, payload: &[u8]) -> anyhow::Result<Outcome> {
    let Some(tenant) = tenant_of_subject(subject, consumer.event_type) else {
        return Ok(Outcome::Rejected);
    };
    let Ok(event) = serde_json::from_slice::<Envelope>(payload) else {
        return Ok(Outcome::Rejected);
    };
    if event.tenant_id != tenant || event.event_type != consumer.event_type {
        return Ok(Outcome::Rejected);
    }
    let tx = TenantTx::begin(db, tenant).await?;
    if !tenant_is_live(&tx, tenant).await? {
        return Ok(Outcome::TenantGone);
    }
    let first_time = tx
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [consumer.name.into(), event.id.into_uuid().into()],
        ))
        .await?
        .rows_affected()
        == 1;
    if !first_time {
        return Ok(Outcome::Duplicate);
    }
    (consumer.handler)(&tx, &event).await?;
    tx.commit().await.map_err(|_| anyhow::anyhow!("commit failed"))?;
    Ok(Outcome::Handled)
}

fn tenant_of_subject(subject: &str, event_type: &str) -> Option<TenantId> {
    let rest = subject.strip_prefix("crm.")?;
    let (tenant, kind) = rest.split_once('.')?;
    if kind != event_type {
        return None;
    }
    uuid::Uuid::try_parse(tenant).ok().filter(|id| id.to_string() == tenant).map(TenantId)
}

async fn tenant_is_live(tx: &TenantTx, tenant: TenantId) -> anyhow::Result<bool> {
    let row = tx
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM crm.tenants WHERE id = $1 AND deleted_at IS NULL",
            [tenant.0.into()],
        ))
        .await?;
    Ok(row.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_comes_from_a_well_formed_subject_only() {
        let id = uuid::Uuid::now_v7();
        assert_eq!(tenant_of_subject(&format!("crm.{id}.user.created"), "user.created"), Some(TenantId(id)));
        for subject in [
            format!("crm.{id}.user.deleted"),
            format!("crm.{}.user.created", id.simple()),
            format!("crm.{}.user.created", id.to_string().to_uppercase()),
            format!("crm.{id}"),
            format!("other.{id}.user.created"),
            "crm.*.user.created".to_owned(),
        ] {
            assert_eq!(tenant_of_subject(&subject, "user.created"), None, "{subject}");
        }
    }
}
