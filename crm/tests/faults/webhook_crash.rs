//! RELIABILITY W4: a webhook deliverer dies in the middle of an attempt (its task is dropped
//! while the endpoint holds the request). Its lease runs out, another deliverer sends the same
//! message again, with the same `webhook-id`, and the delivery ends SUCCEEDED after two
//! attempts: at least once, never lost.

use std::time::{Duration, Instant};

use crm_communication::webhooks::deliver::Deliverer;
use crm_testkit::webhooks::{Receiver, test_settings};
use crm_testkit::{PrivateDatabase, TestStack};
use serde_json::json;
use tokio::sync::Mutex;

/// These tests run one at a time: each runs the webhook fan-out consumer, a durable consumer on
/// the shared NATS, and two at once against different databases would take each other's events.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

#[tokio::test]
async fn a_deliverer_that_dies_mid_attempt_leaves_the_delivery_to_another() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let database = PrivateDatabase::create("webhook_crash").await;
    let stack = TestStack::subgraphs_on(&database).await;
    stack.start_webhook_fan_out();
    let receiver = Receiver::start().await;
    let org = stack.register_org("Crashing deliverer").await;
    let webhook = receiver.register(&stack, &org, "/hang-once/crash", &["contact.created"]).await;
    stack.create_contact(&org, "Crash", None).await;

    // The first deliverer takes the job and is dropped while the endpoint holds its request.
    let first = Deliverer::new(stack.db.clone(), &test_settings()).expect("client");
    let dying = tokio::spawn(async move {
        loop {
            if first.next().await.unwrap_or(false) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    assert_eq!(receiver.wait_for("/hang-once/crash", 1).await.len(), 1);
    dying.abort();
    let died = Instant::now();

    // Another one waits out the lease (twice the 5 s timeout, and 5 s) and sends it again.
    let shutdown = tokio_util::sync::CancellationToken::new();
    let second = Deliverer::new(stack.db.clone(), &test_settings()).expect("client");
    tokio::spawn(second.run(shutdown.clone()));
    let requests = receiver.wait_for_within("/hang-once/crash", 2, Duration::from_secs(40)).await;
    let again_after = died.elapsed();
    assert_eq!(requests.len(), 2, "sent again after the lease ran out");
    assert_eq!(requests[0]["webhook_id"], requests[1]["webhook_id"], "the same message");
    assert!(requests.iter().all(|r| r["verified"] == true));
    assert!(again_after >= Duration::from_secs(10), "not before the lease ran out: {again_after:?}");

    let log = "query($w: ID!) { webhookDeliveries(webhookId: $w) { edges { node { status attempts } } } }";

    let mut node = serde_json::Value::Null;
    for _ in 0..50 {
        let response = stack.subgraph("communication", Some(&org.token), log, json!({ "w": webhook })).await;
        node = response.ok()["webhookDeliveries"]["edges"][0]["node"].clone();
        if node["status"] == "SUCCEEDED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(node, json!({ "status": "SUCCEEDED", "attempts": 2 }));
    println!("webhook deliverer died mid-attempt: sent again {again_after:?} later with the same webhook-id");
    shutdown.cancel();
    drop(stack);
    database.drop_database().await;
}

/// An endpoint whose every attempt fails for the disable period (three days in production,
/// two seconds here) is disabled, what waited for it is given up, and its creator gets a
/// notice by email.
#[tokio::test]
async fn an_endpoint_failing_for_the_disable_period_is_disabled_and_its_creator_told() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let database = PrivateDatabase::create("webhook_disable").await;
    let stack = TestStack::subgraphs_on(&database).await;
    stack.start_webhook_fan_out();
    let receiver = Receiver::start().await;
    let org = stack.register_org("Failing endpoint").await;
    // Always 500: the first 1000 requests fail.
    let webhook = receiver.register(&stack, &org, "/flaky/1000/down", &["contact.created"]).await;

    let settings = crm_platform::config::WebhookSettings {
        disable_after: Duration::from_secs(2),
        first_retry: Duration::from_millis(300),
        ..test_settings()
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let deliverer = Deliverer::new(stack.db.clone(), &settings).expect("client");
    tokio::spawn(deliverer.run(shutdown.clone()));
    stack.create_contact(&org, "Never delivered", None).await;

    let read = "query($id: ID!) { webhook(id: $id) { enabled disabledReason failingSince } }";
    let mut state = serde_json::Value::Null;
    for _ in 0..100 {
        state = stack.subgraph("communication", Some(&org.token), read, json!({ "id": webhook })).await.ok()
            ["webhook"]
            .clone();
        if state["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(state["enabled"], false, "{state}");
    assert!(state["disabledReason"].as_str().is_some_and(|r| r.contains("every attempt failed")), "{state}");
    let log =
        "query($w: ID!) { webhookDeliveries(webhookId: $w) { edges { node { status error attempts } } } }";
    let deliveries = stack.subgraph("communication", Some(&org.token), log, json!({ "w": webhook })).await;
    let node = deliveries.ok()["webhookDeliveries"]["edges"][0]["node"].clone();
    assert_eq!(node["status"], "FAILED", "{node}");
    assert!(node["attempts"].as_i64().is_some_and(|n| n >= 2), "{node}");
    let notices = stack
        .count_in(&org, "SELECT count(*) FROM emails WHERE purpose = 'notice' AND text_body LIKE '%every attempt failed%'", vec![])
        .await;
    assert_eq!(notices, 1, "the creator is told once");
    shutdown.cancel();
    drop(stack);
    database.drop_database().await;
}
