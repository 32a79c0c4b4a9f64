//! Dead letters: events a consumer gave up on (failed on every attempt, never answered, or not
//! an envelope for its subject) are kept in a stream of their own, `CRM_DEAD`, under
//! `dead.{consumer}`, with the original subject and bytes and the reason, instead of being
//! acknowledged and forgotten. `crm events dead-letters` lists them and `crm events replay`
//! runs them again.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::DeliverPolicy};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;

/// The stream that keeps dead letters.
pub const STREAM: &str = "CRM_DEAD";
/// How long a dead letter is kept: long enough for a fix to ship and the replay to run.
pub const KEEP: Duration = Duration::from_secs(30 * 24 * 3600);
/// The longest wait for the next dead letter while listing them.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

const SUBJECT_HEADER: &str = "Crm-Subject";
const REASON_HEADER: &str = "Crm-Reason";
const DELIVERIES_HEADER: &str = "Crm-Deliveries";

/// One event a consumer is giving up on.
pub struct Letter<'a> {
    pub consumer: &'a str,
    pub subject: &'a str,
    pub payload: &'a [u8],
    pub reason: &'a str,
    pub deliveries: u64,
    /// Its sequence in the event stream: with the consumer, the dead letter's message id, so a
    /// letter written twice (the acknowledgement after it was lost) is stored once.
    pub stream_sequence: u64,
}

/// A dead letter as stored.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Its sequence in the dead-letter stream: what a replay removes.
    pub sequence: u64,
    pub consumer: String,
    pub subject: String,
    pub reason: String,
    pub deliveries: u64,
    pub time: DateTime<Utc>,
    pub payload: Bytes,
}

pub async fn ensure_stream(js: &jetstream::Context) -> anyhow::Result<()> {
    js.get_or_create_stream(jetstream::stream::Config {
        name: STREAM.to_owned(),
        subjects: vec!["dead.>".to_owned()],
        duplicate_window: Duration::from_secs(120),
        max_age: KEEP,
        storage: jetstream::stream::StorageType::File,
        num_replicas: crate::events::stream_replicas(),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// Stores `letter`, returning once JetStream has acknowledged it.
pub async fn record(js: &jetstream::Context, letter: &Letter<'_>) -> anyhow::Result<()> {
    let mut headers = async_nats::HeaderMap::new();
    let id = format!("{}.{}", letter.consumer, letter.stream_sequence);
    headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
    headers.insert(SUBJECT_HEADER, letter.subject);
    // Header values are one line.
    headers.insert(REASON_HEADER, one_line(letter.reason).as_str());
    headers.insert(DELIVERIES_HEADER, letter.deliveries.to_string().as_str());
    let subject = format!("dead.{}", letter.consumer);
    js.publish_with_headers(subject, headers, Bytes::copy_from_slice(letter.payload)).await?.await?;
    Ok(())
}

fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(1000).collect()
}

/// The dead letters of `consumer` (of every consumer when `None`) stored since `since`, oldest
/// first.
pub async fn list(
    js: &jetstream::Context,
    consumer: Option<&str>,
    since: Option<DateTime<Utc>>,
) -> anyhow::Result<Vec<DeadLetter>> {
    ensure_stream(js).await?;
    let stream = js.get_stream(STREAM).await?;
    let deliver_policy = match since {
        Some(since) => DeliverPolicy::ByStartTime {
            start_time: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(
                since.timestamp_nanos_opt().unwrap_or(0),
            ))?,
        },
        None => DeliverPolicy::All,
    };
    let mut reader = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: consumer.map_or_else(|| "dead.>".to_owned(), |name| format!("dead.{name}")),
            deliver_policy,
            ..Default::default()
        })
        .await?;
    let mut pending = reader.info().await?.num_pending;
    let mut letters = Vec::with_capacity(pending as usize);
    let mut messages = reader.messages().await?;
    while pending > 0 {
        let message = tokio::time::timeout(READ_TIMEOUT, messages.next())
            .await
            .map_err(|_| anyhow::anyhow!("the dead letters stopped arriving"))?
            .ok_or_else(|| anyhow::anyhow!("the dead letters ended early"))??;
        let info = message.info().map_err(|err| anyhow::anyhow!(err))?;
        pending = info.pending;
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default()
        };
        let time = DateTime::<Utc>::from_timestamp_nanos(info.published.unix_timestamp_nanos() as i64);
        letters.push(DeadLetter {
            sequence: info.stream_sequence,
            consumer: message.subject.strip_prefix("dead.").unwrap_or(&message.subject).to_owned(),
            subject: header(SUBJECT_HEADER),
            reason: header(REASON_HEADER),
            deliveries: header(DELIVERIES_HEADER).parse().unwrap_or(0),
            time,
            payload: message.payload.clone(),
        });
    }
    Ok(letters)
}

/// Removes one dead letter (after a replay handled it).
pub async fn remove(js: &jetstream::Context, sequence: u64) -> anyhow::Result<()> {
    js.get_stream(STREAM).await?.delete_message(sequence).await?;
    Ok(())
}
