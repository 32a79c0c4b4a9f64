//! RELIABILITY E3: the relay dies after JetStream acknowledged its publish and before it marked
//! the row sent, so the next relay publishes the same event again. Within the stream's
//! duplicate window (`events::DUPLICATE_WINDOW`, two minutes) JetStream answers "duplicate" and
//! stores nothing; past it the copy is stored, and the consumer's ledger skips it.
//!
//! RELIABILITY E5: a consumer dies after its handler committed and before it acknowledged, and
//! another dies in the middle of its handler: either way the event is redelivered after the
//! acknowledgement wait and its effect happens exactly once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, pull};
use crm_platform::consumer::{self, Consumer, Outcome};
use crm_platform::events::{self, Envelope};
use crm_platform::outbox;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::rig::{Probe, QUICK, RECORDER, Rig};

async fn stored(rig: &Rig) -> u64 {
    let mut stream = rig.jetstream().get_stream(events::STREAM).await.expect("stream");
    stream.info().await.expect("info").state.messages
}

async fn pending_rows(rig: &Rig) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .all(rig.db.conn())
        .await
        .expect("outbox rows")
}

async fn wait_for_empty_outbox(rig: &Rig) {
    for _ in 0..150 {
        if rig.backlog().await.pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the relay did not empty the outbox");
}

#[tokio::test]
async fn a_relay_that_died_before_marking_sent_stores_nothing_twice() {
    let rig = Rig::start("relay_crash").await;
    let js = rig.jetstream();
    events::ensure_stream(&js).await.expect("stream");
    for n in 1..=10 {
        rig.write(n).await;
    }

    // The first relay's life: every publish acknowledged, then it dies before marking them.
    let rows = pending_rows(&rig).await;
    assert_eq!(rows.len(), 10);
    for row in &rows {
        assert!(!events::publish(&js, row).await.expect("acknowledged").duplicate);
    }
    assert_eq!(stored(&rig).await, 10);

    // The next relay publishes them again: acknowledged as duplicates, marked sent, not stored.
    for row in &rows[..3] {
        assert!(events::publish(&js, row).await.expect("acknowledged").duplicate, "same message id");
    }
    let _relay = rig.run_relay();
    wait_for_empty_outbox(&rig).await;
    assert_eq!(stored(&rig).await, 10, "nothing stored twice within the duplicate window");

    // Past the window (shortened here to one second), a republish is stored again…
    let mut config = js.get_stream(events::STREAM).await.expect("stream").cached_info().config.clone();
    config.duplicate_window = Duration::from_secs(1);
    js.update_stream(&config).await.expect("shorter window");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = events::publish(&js, &rows[0]).await.expect("acknowledged");
    assert!(!again.duplicate, "past the window JetStream stores the copy");
    assert_eq!(stored(&rig).await, 11);

    // …and the consumer's ledger skips it: every probe's handler ran once.
    let _consumer = rig.run_consumer(RECORDER);
    let runs = rig.wait_for_runs(10, Duration::from_secs(30)).await;
    wait_until_consumed(&rig, RECORDER.name).await;
    let runs_after = rig.runs().await;
    assert_eq!(runs, runs_after);
    assert_eq!(runs_after, (1..=10).map(|n| (n, 1)).collect::<Vec<_>>(), "each handled once");
    rig.finish().await;
}

/// Waits until the consumer has acknowledged everything in the stream.
async fn wait_until_consumed(rig: &Rig, name: &str) {
    let js = rig.jetstream();
    for _ in 0..150 {
        // The stream and the consumer appear once the relay and the consumer have started.
        if let Ok(stream) = js.get_stream(events::STREAM).await
            && let Ok(info) = stream.consumer_info(name).await
            && info.num_pending == 0
            && info.num_ack_pending == 0
            && info.delivered.stream_sequence > 0
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name} did not finish the stream");
}

/// While set, the hanging consumer's handler writes its effect and then never returns.
static HANG: AtomicBool = AtomicBool::new(true);

const HANGER: Consumer = Consumer::of::<Probe>("fault-probe-hanger", hang_then_record).retrying(QUICK);

fn hang_then_record<'a>(
    tx: &'a crm_platform::TenantTx,
    event: &'a Envelope,
) -> BoxFuture<'a, anyhow::Result<()>> {
    async move {
        let probe: Probe = event.payload()?;
        tx.execute(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "INSERT INTO probe_runs (event_id, n) VALUES ($1, $2)",
            [event.id.into_uuid().into(), probe.n.into()],
        ))
        .await?;
        if HANG.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
    .boxed()
}

#[tokio::test]
async fn a_consumer_that_dies_before_acknowledging_has_its_effect_once() {
    let rig = Rig::start("consumer_crash").await;
    let _relay = rig.run_relay();
    let js = rig.jetstream();

    // Died after its handler committed, before the acknowledgement: the very steps the
    // consumer takes, stopped between the two.
    rig.write(1).await;
    events::ensure_stream(&js).await.expect("stream");
    crm_platform::dead_letters::ensure_stream(&js).await.expect("dead letters");
    let stream = js.get_stream(events::STREAM).await.expect("stream");
    let pull = stream
        .create_consumer(pull::Config {
            durable_name: Some(RECORDER.name.to_owned()),
            filter_subject: format!("crm.*.{}", RECORDER.event_type),
            ack_policy: AckPolicy::Explicit,
            ack_wait: QUICK.ack_wait,
            max_deliver: -1,
            ..Default::default()
        })
        .await
        .expect("consumer");
    let mut messages = pull.messages().await.expect("messages");
    let message = tokio::time::timeout(Duration::from_secs(20), messages.next())
        .await
        .expect("delivered")
        .expect("a message")
        .expect("no error");
    let outcome =
        consumer::process(&rig.db, RECORDER, &message.subject, &message.payload).await.expect("handled");
    assert_eq!(outcome, Outcome::Handled);
    drop((message, messages, pull));
    // The restarted consumer gets it again after the acknowledgement wait, and skips it.
    let _consumer = rig.run_consumer(RECORDER);
    wait_until_consumed(&rig, RECORDER.name).await;
    assert_eq!(rig.runs().await, [(1, 1)]);

    // Died in the middle of its handler: its transaction never commits.
    let hanging = rig.run_consumer(HANGER);
    let mut started = false;
    for _ in 0..100 {
        let stream = js.get_stream(events::STREAM).await.expect("stream");
        if stream.consumer_info(HANGER.name).await.is_ok_and(|info| info.num_ack_pending > 0) {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started, "the hanging handler got the event");
    hanging.abort();
    let _ = hanging.await;
    HANG.store(false, Ordering::SeqCst);
    assert_eq!(rig.runs().await, [(1, 1)], "the dead handler's effect was rolled back");
    let _restarted = rig.run_consumer(HANGER);
    wait_until_consumed(&rig, HANGER.name).await;
    assert_eq!(rig.runs().await, [(1, 2)], "one run for each consumer: the recorder's and the hanger's");
    rig.finish().await;
}

/// RELIABILITY E1: an event is queued in its write's transaction, so a write that fails after
/// queueing leaves no event, and one that commits leaves exactly one.
#[tokio::test]
async fn an_event_exists_only_if_its_write_committed() {
    let rig = Rig::start("outbox_atomic").await;
    let failed = Envelope::new(rig.tenant, None, &crate::rig::Probe { n: 1 }).expect("envelope");
    let tx = crm_platform::TenantTx::begin(&rig.db, rig.tenant).await.expect("begin");
    events::enqueue(&*tx, &failed).await.expect("enqueue");
    // The business write fails after the event was queued: the transaction goes with it.
    let broken = tx.execute_unprepared("INSERT INTO no_such_table VALUES (1)").await;
    assert!(broken.is_err());
    drop(tx);
    let committed = rig.write(2).await;
    let rows = outbox::Entity::find().all(rig.db.conn()).await.expect("outbox");
    let ids: Vec<_> = rows.iter().map(|row| row.id).collect();
    assert_eq!(ids, [committed.id.into_uuid()], "only the committed write's event");

    let _relay = rig.run_relay();
    let _consumer = rig.run_consumer(RECORDER);
    wait_until_consumed(&rig, RECORDER.name).await;
    assert_eq!(rig.runs().await, [(2, 1)]);
    rig.finish().await;
}

/// Published events older than the stream keeps them (7 days) are deleted from the outbox;
/// newer ones and unpublished ones stay.
#[tokio::test]
async fn the_relay_prunes_published_events_the_stream_no_longer_keeps() {
    let rig = Rig::start("outbox_pruning").await;
    let old = rig.write(1).await;
    let recent = rig.write(2).await;
    let pending = rig.write(3).await;
    let age = |id: uuid::Uuid, published: &str| {
        sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            format!("UPDATE crm.outbox SET published_at = {published} WHERE id = $1"),
            [id.into()],
        )
    };
    rig.db.conn().execute(age(old.id.into_uuid(), "now() - interval '8 days'")).await.expect("age");
    rig.db.conn().execute(age(recent.id.into_uuid(), "now() - interval '6 days'")).await.expect("age");

    let pruned = events::prune_outbox(&rig.db).await.expect("pruned");
    assert_eq!(pruned, 1);
    let mut left: Vec<_> = outbox::Entity::find()
        .all(rig.db.conn())
        .await
        .expect("rows")
        .into_iter()
        .map(|row| row.id)
        .collect();
    left.sort();
    let mut expected = vec![recent.id.into_uuid(), pending.id.into_uuid()];
    expected.sort();
    assert_eq!(left, expected);
    rig.finish().await;
}
