//! Domain events: written to the outbox inside the business transaction, published to JetStream
//! by the relay (message id = event id, so a re-publish after a crash is deduplicated), and marked
//! sent only after the server acknowledged them.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::publish::PublishAck;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    TransactionTrait,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::error::ApiResult;
use crate::ids::{EventId, UserId};
use crate::metrics::METRICS;
use crate::outbox;
use crate::tenancy::TenantId;

/// The JetStream stream that holds every domain event.
pub const STREAM: &str = "CRM";
/// Postgres notification channel the relay listens on, so events leave without polling delay.
const OUTBOX_CHANNEL: &str = "crm_outbox";
const RELAY_BATCH: u64 = 100;
/// Fallback poll, for notifications missed while the relay's listener reconnected; also the
/// first wait after a failure.
const RELAY_POLL: Duration = Duration::from_secs(1);
/// The longest wait between attempts while the database or NATS stays down.
const RELAY_MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Version of the event contract (envelope and payloads, catalogued in `docs/events.md`). A
/// change that removes or retypes a field raises it; adding a field does not.
pub const EVENT_VERSION: u32 = 1;

/// The payload of one event type. Each domain declares one struct per type it emits, and only
/// these can be put in an envelope, so the catalogue of types is the set of implementations.
pub trait DomainEvent: Serialize + DeserializeOwned {
    /// The type name: the envelope's `type` and the last part of the subject.
    const TYPE: &'static str;
}

/// The seed's event envelope, plus the contract version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub id: EventId,
    /// Envelopes written before versions were recorded are version 1.
    #[serde(default = "first_version")]
    pub version: u32,
    #[serde(rename = "type")]
    pub event_type: String,
    pub tenant_id: TenantId,
    pub timestamp: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub data: serde_json::Value,
}

fn first_version() -> u32 {
    1
}

impl Envelope {
    pub fn new<E: DomainEvent>(tenant: TenantId, actor: Option<UserId>, payload: &E) -> ApiResult<Self> {
        Ok(Self {
            id: EventId::new(),
            version: EVENT_VERSION,
            event_type: E::TYPE.to_owned(),
            tenant_id: tenant,
            timestamp: Utc::now(),
            actor,
            data: serde_json::to_value(payload).map_err(crate::ApiError::internal)?,
        })
    }

    pub fn subject(&self) -> String {
        subject(self.tenant_id, &self.event_type)
    }

    /// The typed payload; an error when the envelope holds another type or a payload that does
    /// not match the declared fields.
    pub fn payload<E: DomainEvent>(&self) -> anyhow::Result<E> {
        anyhow::ensure!(self.event_type == E::TYPE, "expected a {} event, got {}", E::TYPE, self.event_type);
        Ok(E::deserialize(&self.data)?)
    }
}

/// The field names of a payload struct as they appear in JSON (after renames), read from its
/// `Deserialize` implementation, so documentation can be checked against the code.
pub fn payload_fields<E: DomainEvent>() -> &'static [&'static str] {
    struct Probe(Option<&'static [&'static str]>);
    impl<'de> serde::Deserializer<'de> for &mut Probe {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(serde::de::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = E::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
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

/// Queues many events in one statement (an import's batch, say).
pub async fn enqueue_many(tx: &impl ConnectionTrait, events: &[Envelope]) -> ApiResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(events.len());
    let mut tenants = Vec::with_capacity(events.len());
    let mut subjects = Vec::with_capacity(events.len());
    let mut payloads = Vec::with_capacity(events.len());
    for event in events {
        ids.push(event.id.into_uuid());
        tenants.push(event.tenant_id.0);
        subjects.push(event.subject());
        payloads.push(serde_json::to_string(event).map_err(crate::ApiError::internal)?);
    }
    tx.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "WITH queued AS (
             INSERT INTO crm.outbox (id, tenant_id, subject, payload)
             SELECT id, tenant_id, subject, payload::jsonb
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS e(id, tenant_id, subject, payload)
             RETURNING id)
         SELECT pg_notify($5, '') WHERE EXISTS (SELECT 1 FROM queued)",
        [ids.into(), tenants.into(), subjects.into(), payloads.into(), OUTBOX_CHANNEL.into()],
    ))
    .await?;
    Ok(())
}

/// How long the event stream keeps events: how far back a subscription can replay.
pub const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Once replay has read this far past the time of the event it resumes after without meeting
/// it, the event is taken to be unknown and replay goes on from there (relays publish within
/// seconds of a commit).
const RESUME_SEARCH: chrono::Duration = chrono::Duration::minutes(5);

/// Why a replay cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("after names an event older than the {} days events are kept: reload instead", RETENTION.as_secs() / 86_400)]
    TooOld,
    #[error("the event stream is unavailable: {0}")]
    Unavailable(String),
}

/// One tenant's events under `crm.{tenant}.{prefix}.>`, with their envelopes: live ones, or
/// (with `after`) first every event published after the event `after`, in the order they were
/// published, then live ones, on one ordered JetStream consumer so none falls between the two.
pub async fn tenant_events(
    nats: &async_nats::Client,
    tenant: TenantId,
    prefix: &str,
    after: Option<EventId>,
) -> Result<futures::stream::BoxStream<'static, Envelope>, ReplayError> {
    let filter = format!("crm.{}.{prefix}.>", tenant.0);
    let ours = move |envelope: &Envelope| envelope.tenant_id == tenant;
    let Some(after) = after else {
        let subscriber =
            nats.subscribe(filter).await.map_err(|err| ReplayError::Unavailable(err.to_string()))?;
        return Ok(subscriber
            .filter_map(move |message| {
                let envelope = serde_json::from_slice::<Envelope>(&message.payload).ok().filter(ours);
                futures::future::ready(envelope)
            })
            .boxed());
    };
    let (seconds, nanos) = after.into_uuid().get_timestamp().ok_or(ReplayError::TooOld)?.to_unix();
    let since = DateTime::<Utc>::from_timestamp(seconds as i64, nanos).ok_or(ReplayError::TooOld)?;
    let retention = chrono::Duration::from_std(RETENTION).unwrap_or_default();
    if since < Utc::now() - retention {
        return Err(ReplayError::TooOld);
    }
    let start_time =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(since.timestamp_nanos_opt().unwrap_or(0)))
            .map_err(|err| ReplayError::Unavailable(err.to_string()))?;
    let js = jetstream::new(nats.clone());
    let unavailable = |err: &dyn std::fmt::Display| ReplayError::Unavailable(err.to_string());
    let stream = js.get_stream(STREAM).await.map_err(|err| unavailable(&err))?;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: filter,
            deliver_policy: jetstream::consumer::DeliverPolicy::ByStartTime { start_time },
            ..Default::default()
        })
        .await
        .map_err(|err| unavailable(&err))?;
    let messages = consumer.messages().await.map_err(|err| unavailable(&err))?;
    let mut seeking = true;
    Ok(messages
        .filter_map(move |message| {
            let envelope = message
                .ok()
                .and_then(|message| serde_json::from_slice::<Envelope>(&message.payload).ok())
                .filter(ours);
            let passed = envelope.filter(|envelope| {
                if !seeking {
                    return true;
                }
                if envelope.id == after {
                    seeking = false;
                    return false;
                }
                // Never met: from here on, whatever was created after it.
                if envelope.timestamp > since + RESUME_SEARCH {
                    seeking = false;
                }
                !seeking && envelope.id.into_uuid() > after.into_uuid()
            });
            futures::future::ready(passed)
        })
        .boxed())
}

static STREAM_REPLICAS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// Replicas the event streams get when this process creates them (`NATS_STREAM_REPLICAS`).
pub fn set_stream_replicas(replicas: usize) {
    STREAM_REPLICAS.store(replicas.max(1), std::sync::atomic::Ordering::Relaxed);
}

pub fn stream_replicas() -> usize {
    STREAM_REPLICAS.load(std::sync::atomic::Ordering::Relaxed)
}

/// How long JetStream remembers a message id: a relay that died after the acknowledgement and
/// before marking the row sent republishes within this and nothing is stored twice.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Creates the event stream if it does not exist yet.
pub async fn ensure_stream(js: &jetstream::Context) -> anyhow::Result<()> {
    js.get_or_create_stream(jetstream::stream::Config {
        name: STREAM.to_owned(),
        subjects: vec!["crm.>".to_owned()],
        duplicate_window: DUPLICATE_WINDOW,
        max_age: RETENTION,
        storage: jetstream::stream::StorageType::File,
        num_replicas: stream_replicas(),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// Events waiting in the outbox.
pub struct Backlog {
    pub pending: i64,
    /// Age of the oldest unpublished event: what an alert on a stuck relay watches.
    pub oldest_age: Option<Duration>,
}

pub async fn outbox_backlog(db: &Db) -> anyhow::Result<Backlog> {
    let row = db
        .conn()
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*), extract(epoch FROM now() - min(created_at))::float8
             FROM crm.outbox WHERE published_at IS NULL",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no answer"))?;
    let pending: i64 = row.try_get_by_index(0)?;
    let age: Option<f64> = row.try_get_by_index(1)?;
    Ok(Backlog { pending, oldest_age: age.map(|seconds| Duration::from_secs_f64(seconds.max(0.0))) })
}

/// Publishes one batch of pending events; returns how many were acknowledged and marked sent.
/// `FOR UPDATE SKIP LOCKED` lets several relays run side by side without sending a row twice.
pub async fn publish_outbox(db: &Db, js: &jetstream::Context) -> anyhow::Result<u64> {
    let txn = db.conn().begin().await?;
    let pending = outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .order_by_asc(outbox::Column::CreatedAt)
        .order_by_asc(outbox::Column::Id)
        .limit(RELAY_BATCH)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;

    let mut acked = Vec::with_capacity(pending.len());
    let mut failure = None;
    for event in &pending {
        match publish(js, event).await {
            Ok(_) => acked.push(event.id),
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

/// Publishes one outbox row and waits for JetStream's acknowledgement. The message id is the
/// event id: a second publish within the stream's duplicate window (two minutes) is
/// acknowledged as a duplicate and not stored again; past it, consumers' ledgers skip it.
pub async fn publish(js: &jetstream::Context, event: &outbox::Model) -> anyhow::Result<PublishAck> {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(async_nats::header::NATS_MESSAGE_ID, event.id.to_string().as_str());
    let payload = serde_json::to_vec(&event.payload)?;
    Ok(js.publish_with_headers(event.subject.clone(), headers, payload.into()).await?.await?)
}

/// How often the relay deletes published events the stream no longer keeps.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Rows deleted per statement while pruning, so one prune never holds locks for long.
const PRUNE_BATCH: u64 = 10_000;

/// Deletes published events older than the stream's retention: nothing can replay them any
/// more, and the outbox would otherwise grow for ever. Returns how many.
pub async fn prune_outbox(db: &Db) -> anyhow::Result<u64> {
    let mut pruned = 0;
    loop {
        let deleted = db
            .conn()
            .execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM crm.outbox WHERE id IN (
                     SELECT id FROM crm.outbox
                     WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1)
                     LIMIT $2)",
                [(RETENTION.as_secs() as f64).into(), (PRUNE_BATCH as i64).into()],
            ))
            .await?
            .rows_affected();
        pruned += deleted;
        if deleted < PRUNE_BATCH {
            return Ok(pruned);
        }
    }
}

/// Runs the outbox relay until `shutdown`: wakes on a Postgres notification or every second,
/// and right away while a full batch suggests more is waiting. After a failure (database or
/// NATS down) it waits before trying again, longer each time up to [`RELAY_MAX_BACKOFF`], so an
/// outage costs neither CPU nor a flood of log lines.
pub async fn run_relay(db: Db, nats: async_nats::Client, shutdown: CancellationToken) {
    let js = jetstream::new(nats);
    let mut stream_ready = false;
    let mut listener = None;
    let mut backoff = RELAY_POLL;
    let mut pruned_at: Option<std::time::Instant> = None;
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
        let mut more_waiting = false;
        let mut failed = !stream_ready;
        if stream_ready {
            match publish_outbox(&db, &js).await {
                Ok(n) => {
                    METRICS.relay.with_label_values(&["published"]).inc_by(n);
                    more_waiting = n == RELAY_BATCH;
                    // Only while the database answers, so an outage costs no extra attempts.
                    if pruned_at.is_none_or(|at: std::time::Instant| at.elapsed() >= PRUNE_EVERY) {
                        match prune_outbox(&db).await {
                            Ok(_) => pruned_at = Some(std::time::Instant::now()),
                            Err(err) => tracing::warn!(error = %err, "published events could not be pruned"),
                        }
                    }
                }
                Err(err) => {
                    METRICS.relay.with_label_values(&["failed_batch"]).inc();
                    tracing::warn!(error = %err, retry_in = ?backoff, "outbox relay batch failed");
                    failed = true;
                }
            }
        }
        if failed {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(RELAY_MAX_BACKOFF);
            continue;
        }
        backoff = RELAY_POLL;
        if more_waiting && !shutdown.is_cancelled() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Probed {
        deal_id: uuid::Uuid,
        #[serde(rename = "type")]
        kind: String,
        note: Option<String>,
    }

    impl DomainEvent for Probed {
        const TYPE: &'static str = "test.probed";
    }

    #[test]
    fn payload_fields_are_the_json_names() {
        assert_eq!(payload_fields::<Probed>(), ["deal_id", "type", "note"]);
    }

    #[test]
    fn envelopes_carry_the_version_and_refuse_the_wrong_payload_type() {
        let payload = Probed { deal_id: uuid::Uuid::now_v7(), kind: "call".into(), note: None };
        let envelope = Envelope::new(TenantId(uuid::Uuid::now_v7()), None, &payload).expect("envelope");
        let json = serde_json::to_value(&envelope).expect("json");
        assert_eq!(json["version"], 1);
        assert_eq!(json["type"], "test.probed");
        assert_eq!(envelope.payload::<Probed>().expect("same type").deal_id, payload.deal_id);

        #[derive(Serialize, Deserialize)]
        struct Other {}
        impl DomainEvent for Other {
            const TYPE: &'static str = "test.other";
        }
        assert!(envelope.payload::<Other>().is_err());

        let mut unversioned = json;
        unversioned.as_object_mut().expect("object").remove("version");
        let read: Envelope = serde_json::from_value(unversioned).expect("older envelope");
        assert_eq!(read.version, 1);
    }
}
