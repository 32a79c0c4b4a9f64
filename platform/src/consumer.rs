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

use chrono::{DateTime, Utc};

use crate::db::Db;
use crate::dead_letters;
use crate::events::{self, DomainEvent, Envelope};
use crate::metrics::METRICS;
use crate::tenancy::{TenantId, TenantTx};

const RECONNECT_DELAY: Duration = Duration::from_secs(2);
/// Messages fetched ahead of the one being handled.
const FETCH_AHEAD: usize = 4;

/// How a consumer retries an event whose handler fails, before giving it to the dead letters.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Deliveries before a failing event is dead-lettered.
    pub attempts: u64,
    /// The wait before each redelivery after a failure (the last entry repeats).
    pub backoff: &'static [Duration],
    /// How long a delivery may stay unanswered (its process died) before it is redelivered.
    pub ack_wait: Duration,
}

impl Retry {
    /// Six deliveries over about thirteen minutes: long enough to ride out a restart of the
    /// database or a deployment, short enough that a broken event is seen the same day.
    pub const STANDARD: Retry = Retry {
        attempts: 6,
        backoff: &[
            Duration::from_secs(1),
            Duration::from_secs(5),
            Duration::from_secs(30),
            Duration::from_secs(120),
            Duration::from_secs(600),
        ],
        ack_wait: Duration::from_secs(30),
    };

    fn wait_after(&self, delivered: u64) -> Duration {
        let index = (delivered.saturating_sub(1) as usize).min(self.backoff.len().saturating_sub(1));
        self.backoff.get(index).copied().unwrap_or(RECONNECT_DELAY)
    }
}

/// Handles one event inside the tenant transaction; returning an error rolls it back and asks
/// for a redelivery.
pub type Handler = for<'a> fn(&'a TenantTx, &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>>;

/// The `event_type` of a consumer of every type.
pub const EVERY_EVENT: &str = "*";

/// A durable consumer of one event type (or of all).
#[derive(Clone, Copy)]
pub struct Consumer {
    /// Durable name; also the ledger key, so renaming it replays history.
    pub name: &'static str,
    pub event_type: &'static str,
    pub handler: Handler,
    pub retry: Retry,
}

impl Consumer {
    /// A consumer of events of type `E`; its handler reads them with [`Envelope::payload`].
    pub const fn of<E: DomainEvent>(name: &'static str, handler: Handler) -> Self {
        Self { name, event_type: E::TYPE, handler, retry: Retry::STANDARD }
    }

    /// A consumer of every event type (webhooks, say); its handler reads `event_type`.
    pub const fn of_every_event(name: &'static str, handler: Handler) -> Self {
        Self { name, event_type: EVERY_EVENT, handler, retry: Retry::STANDARD }
    }

    fn subject_filter(&self) -> String {
        if self.event_type == EVERY_EVENT {
            "crm.*.>".to_owned()
        } else {
            format!("crm.*.{}", self.event_type)
        }
    }

    /// The same consumer with another retry policy.
    pub const fn retrying(self, retry: Retry) -> Self {
        Self { retry, ..self }
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
    dead_letters::ensure_stream(js).await?;
    let stream = js.get_stream(events::STREAM).await?;
    // Created or updated to this configuration, so a changed retry policy reaches consumers that
    // exist already. JetStream itself never gives up on a message (`max_deliver` -1): giving up
    // is ours, because the message must reach the dead letters first.
    let pull = stream
        .create_consumer(pull::Config {
            durable_name: Some(consumer.name.to_owned()),
            filter_subject: consumer.subject_filter(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: consumer.retry.ack_wait,
            max_deliver: -1,
            ..Default::default()
        })
        .await?;
    // A few messages at a time: what a stopped process had fetched but not handled waits out
    // `ack_wait` before another gets it, so little is fetched ahead.
    let mut messages = pull.stream().max_messages_per_batch(FETCH_AHEAD).messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let (delivered, sequence) =
            message.info().map(|info| (info.delivered.max(1) as u64, info.stream_sequence)).unwrap_or((1, 0));
        let verdict = judge(db, consumer, &message.subject, &message.payload, delivered).await;
        let answer = match verdict {
            Verdict::Done => AckKind::Ack,
            Verdict::Retry(err) => {
                METRICS.consumer_events.with_label_values(&["failed"]).inc();
                let wait = consumer.retry.wait_after(delivered);
                tracing::warn!(consumer = consumer.name, subject = %message.subject, error = %err,
                    delivered, retry_in = ?wait, "event failed; will be redelivered");
                AckKind::Nak(Some(wait))
            }
            Verdict::Dead(reason) => {
                let letter = dead_letters::Letter {
                    consumer: consumer.name,
                    subject: &message.subject,
                    payload: &message.payload,
                    reason: &reason,
                    deliveries: delivered,
                    stream_sequence: sequence,
                };
                match dead_letters::record(js, &letter).await {
                    Ok(()) => {
                        METRICS.consumer_events.with_label_values(&["dead_lettered"]).inc();
                        tracing::error!(consumer = consumer.name, subject = %message.subject, %reason,
                            "event moved to the dead letters");
                        AckKind::Term
                    }
                    // Kept in the stream until it can be put somewhere: never dropped.
                    Err(err) => {
                        tracing::warn!(consumer = consumer.name, error = %err, "dead letter not written; will retry");
                        AckKind::Nak(Some(RECONNECT_DELAY))
                    }
                }
            }
        };
        message.ack_with(answer).await.map_err(|err| anyhow::anyhow!(err))?;
    }
    Ok(())
}

/// What to answer for one delivery.
enum Verdict {
    Done,
    Retry(anyhow::Error),
    Dead(String),
}

async fn judge(db: &Db, consumer: Consumer, subject: &str, payload: &[u8], delivered: u64) -> Verdict {
    // Past the last attempt without a verdict of ours, the deliveries before ended with no answer
    // at all: the handler crashed its process or hung. Running it again could do so again.
    if delivered > consumer.retry.attempts {
        return Verdict::Dead(format!(
            "no answer after {} deliveries (the handler crashed or hung)",
            delivered - 1
        ));
    }
    match process(db, consumer, subject, payload).await {
        Ok(Outcome::Rejected) => Verdict::Dead(
            "rejected: not an envelope of this type for the tenant its subject names".to_owned(),
        ),
        Ok(outcome) => {
            let counted = if outcome == Outcome::Handled { "handled" } else { "skipped" };
            METRICS.consumer_events.with_label_values(&[counted]).inc();
            Verdict::Done
        }
        Err(err) if delivered >= consumer.retry.attempts => {
            Verdict::Dead(format!("failed on all {delivered} deliveries; last error: {err:#}"))
        }
        Err(err) => Verdict::Retry(err),
    }
}

/// What a replay of dead letters did.
#[derive(Debug, Default)]
pub struct ReplayReport {
    /// Handled now (or found handled already) and removed from the dead letters.
    pub replayed: usize,
    /// Stream sequence and reason of each that failed again and stays.
    pub still_failing: Vec<(u64, String)>,
}

/// Runs `consumer`'s handler again on its dead letters (those since `since`), in the order they
/// died, here and now; each one handled is removed from the dead letters. The ledger makes this
/// safe to repeat, and other consumers of the same events are not touched.
pub async fn replay_dead_letters(
    db: &Db,
    js: &jetstream::Context,
    consumer: Consumer,
    since: Option<DateTime<Utc>>,
) -> anyhow::Result<ReplayReport> {
    let mut report = ReplayReport::default();
    for letter in dead_letters::list(js, Some(consumer.name), since).await? {
        match process(db, consumer, &letter.subject, &letter.payload).await {
            Ok(Outcome::Rejected) => report.still_failing.push((letter.sequence, letter.reason)),
            Ok(_) => {
                dead_letters::remove(js, letter.sequence).await?;
                report.replayed += 1;
            }
            Err(err) => report.still_failing.push((letter.sequence, format!("{err:#}"))),
        }
    }
    Ok(report)
}

/// Processes one delivery: checks who it belongs to, skips what the ledger has seen, and runs the
/// handler and the ledger write in one tenant transaction.
pub async fn process(db: &Db, consumer: Consumer, subject: &str, payload: &[u8]) -> anyhow::Result<Outcome> {
    let Some((tenant, kind)) = tenant_of_subject(subject) else {
        return Ok(Outcome::Rejected);
    };
    let Ok(event) = serde_json::from_slice::<Envelope>(payload) else {
        return Ok(Outcome::Rejected);
    };
    let wanted = consumer.event_type == EVERY_EVENT || consumer.event_type == kind;
    if event.tenant_id != tenant || event.event_type != kind || !wanted {
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

/// The tenant and the event type a subject names (`crm.{tenant}.{type}`).
fn tenant_of_subject(subject: &str) -> Option<(TenantId, &str)> {
    let rest = subject.strip_prefix("crm.")?;
    let (tenant, kind) = rest.split_once('.')?;
    if kind.is_empty() {
        return None;
    }
    let tenant = uuid::Uuid::try_parse(tenant).ok().filter(|id| id.to_string() == tenant).map(TenantId)?;
    Some((tenant, kind))
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
        assert_eq!(
            tenant_of_subject(&format!("crm.{id}.user.created")),
            Some((TenantId(id), "user.created"))
        );
        for subject in [
            format!("crm.{id}."),
            format!("crm.{}.user.created", id.simple()),
            format!("crm.{}.user.created", id.to_string().to_uppercase()),
            format!("crm.{id}"),
            format!("other.{id}.user.created"),
            "crm.*.user.created".to_owned(),
        ] {
            assert_eq!(tenant_of_subject(&subject), None, "{subject}");
        }
    }
}
