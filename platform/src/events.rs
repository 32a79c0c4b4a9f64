//! Domain events: written to the outbox inside the business transaction, published to JetStream
//! by the relay (message id = event id, so a re-publish after a crash is deduplicated), and marked
//! sent only after the server acknowledged them.

use std::time::Duration;

use async_nats::jetstream;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, TransactionTrait};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::error::ApiResult;
use crate::ids::{EventId, UserId};
use crate::tenancy::TenantId;

/// The JetStream stream that holds every domain event.
pub const STREAM: &str = "CRM";
/// Postgres notification channel the relay listens on, so events leave without polling delay.
const OUTBOX_CHANNEL: &str = "crm_outbox";
const RELAY_BATCH: u64 = 100;
/// Fallback poll, for notifications missed while the relay's listener reconnected.
const RELAY_POLL: Duration = Duration::from_secs(1);

/// The seed's event envelope.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub tenant_id: TenantId,
    pub timestamp: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub data: serde_json::Value,
}

impl Envelope {
    pub fn new(tenant: TenantId, actor: Option<UserId>, event_type: &str, data: serde_json::Value) -> Self {
        Self {
            id: EventId::new(),
            event_type: event_type.to_owned(),
            tenant_id: tenant,
            timestamp: Utc::now(),
            actor,
            data,
        }
    }

    pub fn subject(&self) -> String {
        subject(self.tenant_id, &self.event_type)
    }
}

/// `crm.{tenant}.{type}`: the tenant is part of every subject, so a subscriber can only ask for
/// one tenant's events.
pub fn subject(tenant: TenantId, event_type: &str) -> String {
    format!("crm.{tenant}.{event_type}")
}

/// Records `event` in the outbox as part of the open transaction `tx`; it is published only if
/// that transaction commits.
pub async fn enqueue(tx: &impl ConnectionTrait, event: &Envelope) -> ApiResult<()> {
    let payload = serde_json::to_value(event).map_err(crate::ApiError::internal)?;
    tx.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "WITH queued AS (
             INSERT INTO crm.outbox (id, tenant_id, subject, payload) VALUES ($1, $2, $3, $4)
             RETURNING id)
         SELECT pg_notify($5, '') FROM queued",
        [
            event.id.into_uuid().into(),
            event.tenant_id.0.into(),
            event.subject().into(),
            payload.into(),
            OUTBOX_CHANNEL.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Creates the event stream if it does not exist yet.
pub async fn ensure_stream(js: &jetstream::Context) -> anyhow::Result<()> {
    js.get_or_create_stream(jetstream::stream::Config {
        name: STREAM.to_owned(),
        subjects: vec!["crm.>".to_owned()],
        duplicate_window: Duration::from_secs(120),
        max_age: Duration::from_secs(7 * 24 * 3600),
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct PendingEvent {
    id: uuid::Uuid,
    subject: String,
    payload: serde_json::Value,
}

/// Publishes one batch of pending events; returns how many were acknowledged and marked sent.
/// `FOR UPDATE SKIP LOCKED` lets several relays run side by side without sending a row twice.
pub async fn publish_outbox(db: &Db, js: &jetstream::Context) -> anyhow::Result<u64> {
    let txn = db.conn().begin().await?;
    let pending = PendingEvent::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT id, subject, payload FROM crm.outbox WHERE published_at IS NULL
         ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED",
        [RELAY_BATCH.into()],
    ))
    .all(&txn)
    .await?;

    let mut acked = Vec::with_capacity(pending.len());
    let mut failure = None;
    for event in &pending {
        match publish(js, event).await {
            Ok(()) => acked.push(event.id),
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    if !acked.is_empty() {
        txn.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE crm.outbox SET published_at = now() WHERE id = ANY($1)",
            [acked.clone().into()],
        ))
        .await?;
    }
    txn.commit().await?;
    match failure {
        Some(err) => Err(err),
        None => Ok(acked.len() as u64),
    }
}

async fn publish(js: &jetstream::Context, event: &PendingEvent) -> anyhow::Result<()> {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(async_nats::header::NATS_MESSAGE_ID, event.id.to_string().as_str());
    let payload = serde_json::to_vec(&event.payload)?;
    js.publish_with_headers(event.subject.clone(), headers, payload.into()).await?.await?;
    Ok(())
}

/// Runs the outbox relay until `shutdown`: wakes on a Postgres notification or every second.
pub async fn run_relay(db: Db, nats: async_nats::Client, shutdown: CancellationToken) {
    let js = jetstream::new(nats);
    let mut stream_ready = false;
    let mut listener = None;
    loop {
        if !stream_ready {
            match ensure_stream(&js).await {
                Ok(()) => stream_ready = true,
                Err(err) => tracing::warn!(error = %err, "event stream not ready; will retry"),
            }
        }
        if listener.is_none() {
            listener = listen(&db).await;
        }
        let mut drained = false;
        if stream_ready {
            match publish_outbox(&db, &js).await {
                Ok(n) => drained = n < RELAY_BATCH,
                Err(err) => tracing::warn!(error = %err, "outbox relay batch failed; will retry"),
            }
        }
        if stream_ready && !drained {
            continue;
        }
        let notified = async {
            match listener.as_mut() {
                Some(l) => l.recv().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            ok = notified => if !ok { listener = None },
            () = tokio::time::sleep(RELAY_POLL) => {}
        }
    }
}

async fn listen(db: &Db) -> Option<sea_orm::sqlx::postgres::PgListener> {
    let pool = db.conn().get_postgres_connection_pool();
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await.ok()?;
    listener.listen(OUTBOX_CHANNEL).await.ok()?;
    Some(listener)
}

/// Live events of one type for one tenant, for subscriptions. Core NATS delivery is at-most-once,
/// which suits live views; durable consumers use JetStream instead.
pub async fn live_events(
    nats: &async_nats::Client,
    tenant: TenantId,
    event_type: &str,
) -> anyhow::Result<impl Stream<Item = Envelope> + Send + use<>> {
    let subscriber = nats.subscribe(subject(tenant, event_type)).await?;
    Ok(subscriber.filter_map(move |message| async move {
        let envelope: Envelope = serde_json::from_slice(&message.payload).ok()?;
        // The subject already names the tenant; the envelope must agree or it is not ours.
        (envelope.tenant_id == tenant).then_some(envelope)
    }))
}
