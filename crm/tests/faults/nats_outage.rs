//! RELIABILITY E2, E4, F4: NATS is down for a while (30 s here; `scripts/faults/nats-outage`
//! runs the same test for 5 minutes) while writes go on. Every write succeeds, its event waits
//! in the outbox, whose backlog shows the outage, and once NATS is back every event reaches the
//! consumer's handler exactly once. E4: a transaction that took its outbox row first but
//! commits last is delivered too (the relay keeps no high-water mark).

use std::time::{Duration, Instant};

use crm_platform::events::{self, Envelope};
use crm_platform::tenancy::TenantTx;

use crate::rig::{Probe, RECORDER, Rig};

fn outage() -> Duration {
    let seconds = std::env::var("FAULT_OUTAGE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    Duration::from_secs(seconds)
}

#[tokio::test]
async fn nats_down_while_writes_go_on_loses_and_doubles_nothing() {
    let mut rig = Rig::start("nats_outage").await;
    let _relay = rig.run_relay();
    let _consumer = rig.run_consumer(RECORDER);

    // Flowing before the outage.
    let mut written = 0_i64;
    for _ in 0..20 {
        written += 1;
        rig.write(written).await;
    }
    assert_eq!(rig.wait_for_runs(20, Duration::from_secs(30)).await.len(), 20, "delivered before the outage");

    rig.nats.kill().await;
    let outage = outage();
    let started = Instant::now();
    // E4: this transaction takes its outbox row now and commits after everything else.
    let late = Envelope::new(rig.tenant, None, &Probe { n: 1_000_000 }).expect("envelope");
    let late_tx = TenantTx::begin(&rig.db, rig.tenant).await.expect("begin");
    events::enqueue(&*late_tx, &late).await.expect("enqueue");
    while started.elapsed() < outage {
        written += 1;
        rig.write(written).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backlog = rig.backlog().await;
    let during = written - 20;
    assert!(backlog.pending >= during, "{} pending, {during} written during the outage", backlog.pending);
    let age = backlog.oldest_age.expect("an oldest pending event");
    assert!(
        age >= outage - Duration::from_secs(2),
        "the oldest pending event is {age:?} old after {outage:?}"
    );

    rig.nats.start().await;
    late_tx.commit().await.expect("the late transaction commits");
    let runs = rig.wait_for_runs(written as usize + 1, Duration::from_secs(120)).await;
    let recovered = started.elapsed() - outage;

    let numbers: Vec<i64> = runs.iter().map(|(n, _)| *n).collect();
    let mut expected: Vec<i64> = (1..=written).collect();
    expected.push(1_000_000);
    let missing: Vec<_> = expected.iter().filter(|n| !numbers.contains(n)).collect();
    let doubled: Vec<_> = runs.iter().filter(|(_, count)| *count > 1).collect();
    println!(
        "NATS down {outage:?}: {} events written ({during} during the outage), {} delivered, {} missing, \
         {} delivered twice; all delivered {recovered:?} after NATS came back",
        written + 1,
        runs.len(),
        missing.len(),
        doubled.len()
    );
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    assert!(doubled.is_empty(), "handled more than once: {doubled:?}");
    assert_eq!(rig.backlog().await.pending, 0, "the outbox is empty again");
    rig.finish().await;
}

/// RELIABILITY E7: nats-server SIGKILLed while events flow and restarted on the same store:
/// every committed event is consumed, none twice (what JetStream acknowledged survives a
/// process crash; only a machine crash can lose writes it has not fsynced, E8).
#[tokio::test]
async fn nats_killed_mid_stream_loses_no_committed_event() {
    let mut rig = Rig::start("nats_kill").await;
    let _relay = rig.run_relay();
    let _consumer = rig.run_consumer(RECORDER);
    let total = 3000_i64;
    let writer = {
        let (db, tenant) = (rig.db.clone(), rig.tenant);
        tokio::spawn(async move {
            for n in 1..=total {
                let envelope = Envelope::new(tenant, None, &Probe { n }).expect("envelope");
                let tx = TenantTx::begin(&db, tenant).await.expect("begin");
                events::enqueue(&*tx, &envelope).await.expect("enqueue");
                tx.commit().await.expect("commit");
            }
        })
    };
    // Kill it once events are flowing.
    rig.wait_for_runs(300, Duration::from_secs(30)).await;
    rig.nats.kill().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    rig.nats.start().await;
    writer.await.expect("every write committed");

    let runs = rig.wait_for_runs(total as usize, Duration::from_secs(120)).await;
    let missing = total as usize - runs.len();
    let doubled = runs.iter().filter(|(_, count)| *count > 1).count();
    println!(
        "NATS SIGKILL mid-stream: {total} events committed, {} consumed, {missing} missing, {doubled} twice",
        runs.len()
    );
    assert_eq!(missing, 0, "committed ⊆ consumed");
    assert_eq!(doubled, 0, "none handled twice");
    rig.finish().await;
}

/// RELIABILITY F9 for NATS: nats-server stopped with SIGSTOP for 12 s while writes go on
/// (publishes wait on a server that neither answers nor closes), then continued: the relay's
/// acknowledgement timeouts fire instead of hanging, and every event arrives once afterwards.
#[tokio::test]
async fn a_paused_nats_delays_events_and_loses_none() {
    let rig = Rig::start("nats_pause").await;
    let _relay = rig.run_relay();
    let _consumer = rig.run_consumer(RECORDER);
    let mut written = 0_i64;
    for _ in 0..5 {
        written += 1;
        rig.write(written).await;
    }
    rig.wait_for_runs(5, Duration::from_secs(30)).await;

    rig.nats.pause();
    let paused = Instant::now();
    while paused.elapsed() < Duration::from_secs(12) {
        written += 1;
        rig.write(written).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let backlog = rig.backlog().await;
    rig.nats.resume();
    assert!(backlog.pending > 0, "events waited in the outbox while NATS was stopped");

    let runs = rig.wait_for_runs(written as usize, Duration::from_secs(90)).await;
    let missing = written as usize - runs.len();
    let doubled = runs.iter().filter(|(_, count)| *count > 1).count();
    println!(
        "NATS SIGSTOP 12 s: {written} events written, {} consumed, {missing} missing, {doubled} twice, \
         all in {:?} after it continued",
        runs.len(),
        paused.elapsed() - Duration::from_secs(12)
    );
    assert_eq!((missing, doubled), (0, 0));
    rig.finish().await;
}
