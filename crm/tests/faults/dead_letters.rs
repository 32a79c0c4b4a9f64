//! RELIABILITY E6: poison messages and events whose handler keeps failing go to the dead
//! letters (with the consumer, the subject and the reason) while the rest of the stream keeps
//! flowing; `crm events dead-letters` lists them and a replay runs them again once the cause is
//! fixed. E10 in part: a message whose subject names one tenant and whose envelope another is
//! refused, never handled in either.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crm_platform::consumer::{self, Consumer};
use crm_platform::dead_letters;
use crm_platform::events::{self, Envelope};
use crm_platform::tenancy::TenantId;
use futures::FutureExt;
use futures::future::BoxFuture;

use crate::rig::{Probe, QUICK, Rig};

/// While set, the picky consumer fails on odd probes (a bug that a fix will remove).
static BROKEN: AtomicBool = AtomicBool::new(true);

const PICKY: Consumer = Consumer::of::<Probe>("fault-probe-picky", picky).retrying(QUICK);

fn picky<'a>(tx: &'a crm_platform::TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    async move {
        let probe: Probe = event.payload()?;
        anyhow::ensure!(
            !(BROKEN.load(Ordering::SeqCst) && probe.n % 2 == 1),
            "odd probes are not handled yet"
        );
        sea_orm::ConnectionTrait::execute(
            &**tx,
            sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "INSERT INTO probe_runs (event_id, n) VALUES ($1, $2)",
                [event.id.into_uuid().into(), probe.n.into()],
            ),
        )
        .await?;
        Ok(())
    }
    .boxed()
}

#[tokio::test]
async fn poison_and_failing_events_go_to_the_dead_letters_and_replay_once_fixed() {
    let rig = Rig::start("dead_letters").await;
    let _relay = rig.run_relay();
    let _consumer = rig.run_consumer(PICKY);
    let js = rig.jetstream();
    events::ensure_stream(&js).await.expect("stream");

    // Poison, published straight to the stream: not JSON, and an envelope of another tenant.
    let subject = events::subject(rig.tenant, "test.probe");
    js.publish(subject.clone(), "{not json".into()).await.expect("sent").await.expect("stored");
    let foreign = Envelope::new(TenantId::new(), None, &Probe { n: 100 }).expect("envelope");
    let foreign_bytes = serde_json::to_vec(&foreign).expect("json");
    js.publish(subject.clone(), foreign_bytes.into()).await.expect("sent").await.expect("stored");
    for n in 1..=6 {
        rig.write(n).await;
    }

    // The even ones flow past the poison and the failures.
    let runs = rig.wait_for_runs(3, Duration::from_secs(30)).await;
    assert_eq!(runs, [(2, 1), (4, 1), (6, 1)]);
    let mut letters = Vec::new();
    for _ in 0..100 {
        letters = dead_letters::list(&js, Some(PICKY.name), None).await.expect("list");
        if letters.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(letters.len(), 5, "two poison messages and three failing events: {letters:?}");
    assert!(letters.iter().all(|letter| letter.consumer == PICKY.name && letter.subject == subject));
    let rejected = letters.iter().filter(|letter| letter.reason.starts_with("rejected")).count();
    assert_eq!(rejected, 2, "{letters:?}");
    let failed: Vec<_> = letters.iter().filter(|letter| letter.reason.contains("odd probes")).collect();
    assert_eq!(failed.len(), 3, "{letters:?}");
    assert!(failed.iter().all(|letter| letter.deliveries == QUICK.attempts), "{failed:?}");
    assert!(
        letters.iter().any(|letter| letter.payload.as_ref() == b"{not json"),
        "the bytes are kept as sent"
    );

    // The operator's view.
    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(["events", "dead-letters", "--consumer", "tenant-preferences-user-created"])
        .env("NATS_URL", rig.nats.url())
        .env("DATABASE_URL", &rig.database.url)
        .output()
        .expect("crm runs");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("0 dead letter(s)"),
        "another consumer's are not shown"
    );
    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(["events", "dead-letters"])
        .env("NATS_URL", rig.nats.url())
        .env("DATABASE_URL", &rig.database.url)
        .output()
        .expect("crm runs");
    let out = String::from_utf8_lossy(&listed.stdout);
    assert!(out.contains("5 dead letter(s)") && out.contains("odd probes are not handled yet"), "{out}");
    assert!(out.contains(&foreign.id.to_string()), "the event id is shown: {out}");
    let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(["events", "replay", "--consumer", "no-such-consumer"])
        .env("NATS_URL", rig.nats.url())
        .env("DATABASE_URL", &rig.database.url)
        .output()
        .expect("crm runs");
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("communication-welcome"),
        "names the consumers"
    );

    // The fix ships; the replay handles the failed events once and keeps the poison.
    BROKEN.store(false, Ordering::SeqCst);
    let report = consumer::replay_dead_letters(&rig.db, &js, PICKY, None).await.expect("replay");
    assert_eq!(report.replayed, 3);
    assert_eq!(report.still_failing.len(), 2, "{report:?}");
    let again = consumer::replay_dead_letters(&rig.db, &js, PICKY, None).await.expect("replay again");
    assert_eq!(again.replayed, 0);
    assert_eq!(rig.runs().await, (1..=6).map(|n| (n, 1)).collect::<Vec<_>>());
    let left = dead_letters::list(&js, Some(PICKY.name), None).await.expect("list");
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|letter| letter.reason.starts_with("rejected")));
    rig.finish().await;
}
