//! `dealChanged` through the router over graphql-transport-ws: moves reach the subscribers of
//! the same organization, with fields the router fetches from other subgraphs, and no one else;
//! a subscriber that reconnects with `after` gets every event it missed, in order, then live
//! ones.

use std::time::Duration;

use crm_testkit::ws::WsClient;
use crm_testkit::{Org, TestStack};
use serde_json::{Value, json};

use crate::CRM;
const SUBSCRIPTION: &str = "subscription { dealChanged { kind
    deal { id title activities { subject } contacts { contact { firstName } role } } fromStage { name } toStage { name } } }";

struct Seeded {
    deal: String,
    stages: Vec<String>,
}

async fn seed(stack: &TestStack, org: &Org, title: &str) -> Seeded {
    let token = Some(org.token.as_str());
    let pipelines = stack.router(token, "{ pipelines { stages { id } } }", json!({})).await;
    let stages = pipelines.ok()["pipelines"][0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect();
    let contact = stack
        .router(token, "mutation { createContact(input: { firstName: \"Ann\" }) { id } }", json!({}))
        .await;
    let contact = contact.ok()["createContact"]["id"].clone();
    let deal = stack
        .router(
            token,
            "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
            json!({ "i": { "title": title, "currency": "USD", "contactIds": [contact] } }),
        )
        .await;
    let deal = deal.ok()["createDeal"]["id"].as_str().expect("deal id").to_owned();
    stack
        .router(
            token,
            "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }",
            json!({ "i": { "type": "CALL", "subject": format!("{title} call"), "dealId": deal } }),
        )
        .await
        .ok();
    Seeded { deal, stages }
}

async fn move_deal(stack: &TestStack, org: &Org, deal: &str, stage: &str) {
    stack
        .router(
            Some(&org.token),
            "mutation($d: ID!, $s: ID!) { moveDeal(id: $d, stageId: $s) { id } }",
            json!({ "d": deal, "s": stage }),
        )
        .await
        .ok();
}

fn event_deal_id(message: &Value) -> Option<&str> {
    message["payload"]["data"]["dealChanged"]["deal"]["id"].as_str()
}

/// A live subscription has no acknowledgement in the protocol: move the deal between two stages
/// until the subscriber sees a move, so the measured move below starts from a ready stream.
async fn wait_until_live(stack: &TestStack, org: &Org, seeded: &Seeded, client: &mut WsClient) {
    for attempt in 0..40 {
        move_deal(stack, org, &seeded.deal, &seeded.stages[1 + attempt % 2]).await;
        if let Some(message) = client.next_message(Duration::from_millis(250)).await {
            assert_eq!(event_deal_id(&message), Some(seeded.deal.as_str()), "{message}");
            return;
        }
    }
    panic!("subscription never became live");
}

/// Reads everything that arrives within `window`.
async fn drain(client: &mut WsClient, window: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + window;
    let mut seen = Vec::new();
    while let Some(message) =
        client.next_message(deadline.saturating_duration_since(tokio::time::Instant::now())).await
    {
        seen.push(message);
    }
    seen
}

#[tokio::test]
async fn deal_moves_reach_only_the_same_tenants_subscribers() {
    let stack = TestStack::with_router(CRM).await;
    let a = stack.register_org("Subscriber A").await;
    let b = stack.register_org("Subscriber B").await;
    let a_deal = seed(&stack, &a, "A big deal").await;
    let b_deal = seed(&stack, &b, "B big deal").await;

    let mut a_client = WsClient::connect(&stack.router_ws_url(), Some(&a.token)).await.expect("A connects");
    a_client.subscribe("a", SUBSCRIPTION, json!({})).await.expect("A subscribes");
    let mut b_client = WsClient::connect(&stack.router_ws_url(), Some(&b.token)).await.expect("B connects");
    b_client.subscribe("b", SUBSCRIPTION, json!({})).await.expect("B subscribes");
    wait_until_live(&stack, &a, &a_deal, &mut a_client).await;
    wait_until_live(&stack, &b, &b_deal, &mut b_client).await;
    drain(&mut a_client, Duration::from_millis(300)).await;
    drain(&mut b_client, Duration::from_millis(300)).await;

    // Where the warm-up left the deal: the stage the measured move starts from.
    let before = stack
        .router(
            Some(&a.token),
            "query($d: ID!) { deal(id: $d) { stage { name } } }",
            json!({ "d": a_deal.deal }),
        )
        .await;
    let from_stage = before.ok()["deal"]["stage"]["name"].as_str().expect("stage name").to_owned();
    assert!(["Qualified", "Proposal"].contains(&from_stage.as_str()), "warm-up stage: {from_stage}");

    let target = &a_deal.stages[3];
    let started = tokio::time::Instant::now();
    move_deal(&stack, &a, &a_deal.deal, target).await;
    // Skip a straggler from the warm-up, should one still be in flight; the budget stays 2 s.
    let deadline = started + Duration::from_secs(2);
    let message = loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let message =
            a_client.next_message(remaining).await.expect("A's subscriber hears A's move within 2 s");
        if message["payload"]["data"]["dealChanged"]["toStage"]["name"] == "Negotiation" {
            break message;
        }
    };
    let latency = started.elapsed();
    assert_eq!(message["type"], "next");
    assert_eq!(
        message["payload"]["data"]["dealChanged"],
        json!({
            "kind": "MOVED",
            "deal": { "id": a_deal.deal, "title": "A big deal", "activities": [{ "subject": "A big deal call" }],
                      "contacts": [{ "contact": { "firstName": "Ann" }, "role": null }] },
            "fromStage": { "name": from_stage },
            "toStage": { "name": "Negotiation" },
        })
    );
    println!("moveDeal → subscriber latency through the router: {latency:?}");

    let heard_by_b = drain(&mut b_client, Duration::from_secs(2)).await;
    assert!(
        heard_by_b.iter().all(|m| event_deal_id(m) != Some(a_deal.deal.as_str())),
        "B must never hear A's deal: {heard_by_b:?}"
    );
}

#[tokio::test]
async fn subscribing_needs_a_valid_token() {
    let stack = TestStack::with_router(CRM).await;
    let mut anonymous = WsClient::connect(&stack.router_ws_url(), None).await.expect("connects");
    anonymous.subscribe("x", SUBSCRIPTION, json!({})).await.expect("sends");
    let answer = anonymous.next_message(Duration::from_secs(5)).await;
    let answer = answer.expect("an error, not silence");
    assert_eq!(answer["type"], "error", "{answer}");
}

const RESUMABLE: &str = "subscription($after: ID) { dealChanged(after: $after) { id kind version deal { id } toStage { name } } }";

/// The `dealChanged` payloads of the messages, in order.
fn changes(messages: &[Value]) -> Vec<Value> {
    messages.iter().map(|m| m["payload"]["data"]["dealChanged"].clone()).filter(|c| !c.is_null()).collect()
}

#[tokio::test]
async fn a_subscriber_that_reconnects_with_after_misses_nothing() {
    let stack = TestStack::with_router(CRM).await;
    let a = stack.register_org("Replay A").await;
    let b = stack.register_org("Replay B").await;
    let a_deal = seed(&stack, &a, "A replayed deal").await;
    let b_deal = seed(&stack, &b, "B replayed deal").await;

    let mut client = WsClient::connect(&stack.router_ws_url(), Some(&a.token)).await.expect("connects");
    client.subscribe("live", RESUMABLE, json!({})).await.expect("subscribes");
    wait_until_live(&stack, &a, &a_deal, &mut client).await;
    let seen = changes(&drain(&mut client, Duration::from_millis(500)).await);
    // The last event this subscriber saw before the network dropped.
    let last = match seen.last() {
        Some(change) => change["id"].clone(),
        None => {
            move_deal(&stack, &a, &a_deal.deal, &a_deal.stages[0]).await;
            let message = client.next_message(Duration::from_secs(5)).await.expect("a move");
            message["payload"]["data"]["dealChanged"]["id"].clone()
        }
    };
    drop(client);

    // Three moves while away (and one in the other organization).
    for stage in [&a_deal.stages[1], &a_deal.stages[2], &a_deal.stages[3]] {
        move_deal(&stack, &a, &a_deal.deal, stage).await;
    }
    move_deal(&stack, &b, &b_deal.deal, &b_deal.stages[2]).await;

    let mut back = WsClient::connect(&stack.router_ws_url(), Some(&a.token)).await.expect("reconnects");
    back.subscribe("again", RESUMABLE, json!({ "after": last })).await.expect("resubscribes");
    let mut replayed = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while replayed.len() < 3 {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let message = back.next_message(remaining).await.expect("the missed moves arrive");
        replayed.extend(changes(std::slice::from_ref(&message)));
    }
    let names: Vec<Value> = replayed.iter().map(|c| c["toStage"]["name"].clone()).collect();
    assert_eq!(
        names,
        [json!("Qualified"), json!("Proposal"), json!("Negotiation")],
        "exactly the three, in order"
    );
    assert!(replayed.iter().all(|c| c["kind"] == "MOVED" && c["deal"]["id"] == a_deal.deal.as_str()));
    let versions: Vec<i64> = replayed.iter().map(|c| c["version"].as_i64().expect("version")).collect();
    assert!(versions.windows(2).all(|pair| pair[1] == pair[0] + 1), "consecutive versions: {versions:?}");
    assert!(
        changes(&drain(&mut back, Duration::from_millis(500)).await).is_empty(),
        "nothing else was missed"
    );

    // Then live ones, on the same subscription.
    move_deal(&stack, &a, &a_deal.deal, &a_deal.stages[0]).await;
    let live = back.next_message(Duration::from_secs(5)).await.expect("a live move after the replay");
    assert_eq!(live["payload"]["data"]["dealChanged"]["toStage"]["name"], "Lead");

    // The other organization replaying from A's event hears none of A's deals.
    let mut other = WsClient::connect(&stack.router_ws_url(), Some(&b.token)).await.expect("B connects");
    other.subscribe("b", RESUMABLE, json!({ "after": last })).await.expect("B subscribes");
    let heard = changes(&drain(&mut other, Duration::from_secs(2)).await);
    assert!(heard.iter().all(|c| c["deal"]["id"] != a_deal.deal.as_str()), "{heard:?}");

    // Further back than events are kept: a clear refusal.
    let old = std::time::SystemTime::now() - Duration::from_secs(8 * 24 * 3600);
    let seconds = old.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let ancient = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, 0));
    let mut late = WsClient::connect(&stack.router_ws_url(), Some(&a.token)).await.expect("connects");
    late.subscribe("late", RESUMABLE, json!({ "after": ancient.to_string() })).await.expect("subscribes");
    let refusal = late.next_message(Duration::from_secs(5)).await.expect("a refusal");
    assert!(refusal.to_string().contains("reload"), "{refusal}");
}

const OF_PIPELINE: &str =
    "subscription($p: ID) { dealChanged(pipelineId: $p) { kind deal { id } toStage { name } } }";

#[tokio::test]
async fn a_pipeline_subscriber_hears_only_that_pipeline() {
    let stack = TestStack::with_router(CRM).await;
    let a = stack.register_org("Pipelines A").await;
    let b = stack.register_org("Pipelines B").await;
    let main = seed(&stack, &a, "Main pipeline deal").await;
    let created = stack
        .router(
            Some(&a.token),
            "mutation { createPipeline(input: { name: \"Renewals\" }) { id stages { id } } }",
            json!({}),
        )
        .await;
    let renewals = created.ok()["createPipeline"].clone();
    let renewal_stages: Vec<String> = renewals["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect();
    let renewal = stack
        .router(
            Some(&a.token),
            "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
            json!({ "i": { "title": "Renewal", "pipelineId": renewals["id"] } }),
        )
        .await;
    let renewal = Seeded {
        deal: renewal.ok()["createDeal"]["id"].as_str().expect("id").to_owned(),
        stages: renewal_stages,
    };

    let mut watcher = WsClient::connect(&stack.router_ws_url(), Some(&a.token)).await.expect("connects");
    watcher.subscribe("renewals", OF_PIPELINE, json!({ "p": renewals["id"] })).await.expect("subscribes");
    wait_until_live(&stack, &a, &renewal, &mut watcher).await;
    // Another organization naming this pipeline hears nothing of it.
    let mut stranger = WsClient::connect(&stack.router_ws_url(), Some(&b.token)).await.expect("connects");
    stranger.subscribe("theirs", OF_PIPELINE, json!({ "p": renewals["id"] })).await.expect("subscribes");
    drain(&mut watcher, Duration::from_millis(300)).await;

    for stage in [&main.stages[1], &main.stages[2]] {
        move_deal(&stack, &a, &main.deal, stage).await;
    }
    move_deal(&stack, &a, &renewal.deal, &renewal.stages[3]).await;
    let heard = changes(&drain(&mut watcher, Duration::from_secs(2)).await);
    let deals: Vec<&str> = heard.iter().filter_map(|c| c["deal"]["id"].as_str()).collect();
    assert_eq!(deals, [renewal.deal.as_str()], "only the renewal's move: {heard:?}");
    let strangers = changes(&drain(&mut stranger, Duration::from_millis(500)).await);
    assert!(strangers.is_empty(), "{strangers:?}");
}
