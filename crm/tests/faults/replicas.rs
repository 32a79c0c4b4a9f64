//! Two replicas of the deal subgraph (`crm serve deal` processes) behind a round-robin balancer,
//! with the router in front, as a Deployment of two pods behind a Service: a subscriber connected
//! through the router to one replica receives the moves made on both, and when one replica is
//! SIGKILLed under writes through the router no acknowledged write is lost.

use std::process::Stdio;
use std::time::Duration;

use crm_testkit::balancer::Balancer;
use crm_testkit::ws::WsClient;
use crm_testkit::{PrivateDatabase, TestStack};
use serde_json::json;
use tokio::process::{Child, Command};

const CRM: &str = env!("CARGO_BIN_EXE_crm");
const MOVE: &str = "mutation($d: ID!, $s: ID!) { moveDeal(id: $d, stageId: $s) { version } }";

async fn deal_replica(database: &str, jwks: &str) -> (Child, u16) {
    let port = crm_testkit::private::free_port();
    let child = Command::new(CRM)
        .args(["serve", "deal"])
        .env("DATABASE_URL", database)
        .env("PORT", port.to_string())
        .env("JWKS_URL", jwks)
        .env("LOG_LEVEL", "error")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("crm serve deal");
    for _ in 0..200 {
        if reqwest::get(format!("http://127.0.0.1:{port}/health/live"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, port);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("a deal replica did not start");
}

#[tokio::test]
async fn two_deal_replicas_share_subscriptions_and_lose_no_write_when_one_dies() {
    let database = PrivateDatabase::create("replicas").await;
    let mut stack = TestStack::subgraphs_on(&database).await;
    let jwks = format!("{}/.well-known/jwks.json", stack.subgraph_url("auth"));
    let (mut first, first_port) = deal_replica(&database.url, &jwks).await;
    let (_second, second_port) = deal_replica(&database.url, &jwks).await;
    let balancer = Balancer::start(vec![first_port, second_port]).await;
    stack.route_through(CRM, &[("deal", balancer.url())]).await;
    let org = stack.register_org("Replicated").await;
    let token = Some(org.token.as_str());
    let pipelines = stack.router(token, "{ pipelines { stages { id } } }", json!({})).await;
    let stages: Vec<String> = pipelines.ok()["pipelines"][0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect();
    let created = stack
        .router(
            token,
            "mutation { createDeal(input: { title: \"Twice served\", currency: \"USD\" }) { id version } }",
            json!({}),
        )
        .await;
    let deal = created.ok()["createDeal"]["id"].as_str().expect("id").to_owned();

    // The subscription lives on one replica; moves go through both, alternately.
    let mut subscriber = WsClient::connect(&stack.router_ws_url(), token).await.expect("socket");
    subscriber
        .subscribe("moves", "subscription { dealChanged { version } }", json!({}))
        .await
        .expect("subscribed");
    let mut live = false;
    for attempt in 0..40 {
        stack.router(token, MOVE, json!({ "d": deal, "s": stages[1 + attempt % 2] })).await.ok();
        if subscriber.next_message(Duration::from_millis(250)).await.is_some() {
            live = true;
            break;
        }
    }
    assert!(live, "the subscription became live");
    while subscriber.next_message(Duration::from_millis(300)).await.is_some() {}
    // Each move to another stage than the current one is a change with a version of its own.
    let current =
        stack.router(token, "query($d: ID!) { deal(id: $d) { version } }", json!({ "d": deal })).await;
    let mut last = current.ok()["deal"]["version"].as_i64().expect("version");
    let mut sent: Vec<i64> = Vec::new();
    for n in 0..8 {
        // Straight at each replica in turn (the router keeps its connections, so it might
        // always reach the same one): half the moves are made where the subscriber is not.
        let replica = format!("http://127.0.0.1:{}/graphql", [first_port, second_port][n % 2]);
        let moved = stack.post(&replica, token, MOVE, json!({ "d": deal, "s": stages[1 + n % 3] })).await;
        let version = moved.ok()["moveDeal"]["version"].as_i64().expect("version");
        if version != last {
            sent.push(version);
            last = version;
        }
    }
    let mut seen = Vec::new();
    while seen.len() < sent.len() {
        let Some(message) = subscriber.next_message(Duration::from_secs(5)).await else { break };
        if let Some(version) = message["payload"]["data"]["dealChanged"]["version"].as_i64() {
            seen.push(version);
        }
    }
    assert_eq!(seen, sent, "every move, made through either replica, reached the subscriber");

    // One replica dies under writes: what was acknowledged is there.
    let before =
        stack.router(token, "query($d: ID!) { deal(id: $d) { version } }", json!({ "d": deal })).await;
    let start_version = before.ok()["deal"]["version"].as_i64().expect("version");
    let mut acknowledged = 0;
    for n in 0..20 {
        if n == 5 {
            first.start_kill().expect("kill");
            let _ = first.wait().await;
        }
        let moved = stack.router(token, MOVE, json!({ "d": deal, "s": stages[1 + n % 2] })).await;
        if moved.error_codes().is_empty() && moved.body["data"]["moveDeal"]["version"].is_i64() {
            acknowledged += 1;
        }
    }
    let after =
        stack.router(token, "query($d: ID!) { deal(id: $d) { version } }", json!({ "d": deal })).await;
    let end_version = after.ok()["deal"]["version"].as_i64().expect("version");
    assert_eq!(end_version - start_version, acknowledged, "every acknowledged move is there, and only those");
    assert!(acknowledged >= 15, "the surviving replica took the writes: {acknowledged} of 20");
    println!(
        "two deal replicas: 8 moves through both reached one subscriber; {acknowledged} of 20 moves acknowledged around a replica's SIGKILL, all kept"
    );
    drop(stack);
    database.drop_database().await;
}
