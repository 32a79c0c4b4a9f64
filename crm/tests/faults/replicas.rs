//! Two replicas of the deal subgraph (`crm serve deal` processes) behind a round-robin balancer,
//! with the router in front, as a Deployment of two pods behind a Service: a subscriber connected
//! through the router to one replica receives the moves made on both, and when one replica is
//! SIGKILLed under writes through the router no acknowledged write is lost. Then two replicas of
//! every subgraph ([`ReplicaSet`]): each event is handled once (preferences, emails, reminders,
//! webhooks), and sign-in limits and sessions are one across replicas.

use std::process::Stdio;
use std::time::Duration;

use crm_testkit::balancer::Balancer;
use crm_testkit::webhooks::Receiver;
use crm_testkit::ws::WsClient;
use crm_testkit::{PrivateDatabase, TestStack};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::replica_set::{self, REPLICAS, ReplicaSet};

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

/// Rows of `sql` (one count column) in the organization's schema.
async fn count_in(set: &ReplicaSet, subdomain: &str, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let schema = set
        .database
        .conn
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 'tenant_' || replace(id::text, '-', '') FROM crm.tenants WHERE subdomain = $1",
            [subdomain.into()],
        ))
        .await
        .expect("tenant")
        .expect("the organization exists")
        .try_get_by_index::<String>(0)
        .expect("schema");
    let sql = sql.replace("{schema}", &schema);
    let row =
        set.database.conn.query_one(Statement::from_string(DbBackend::Postgres, sql)).await.expect("count");
    row.expect("a row").try_get_by_index::<i64>(0).expect("count")
}

/// Polls `count_in` until it reaches `expected` (or 60 s pass); returns the last count.
async fn wait_count(set: &ReplicaSet, subdomain: &str, sql: &str, expected: i64) -> i64 {
    let started = std::time::Instant::now();
    loop {
        let count = count_in(set, subdomain, sql).await;
        if count >= expected || started.elapsed() > Duration::from_secs(60) {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn with_two_replicas_of_every_subgraph_each_event_is_handled_once() {
    let receiver = Receiver::start().await;
    let set = ReplicaSet::start("replica_events", &[("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")]).await;
    let address = replica_set::address();
    let (token, owner, _, subdomain) = set.register(&address).await;
    let token = Some(token.as_str());
    let webhook = set
        .ok(
            token,
            &address,
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret } }",
            json!({ "i": { "url": format!("{}/ok/replicas", receiver.base), "events": ["contact.created"] } }),
        )
        .await;
    receiver.set_secret("/ok/replicas", webhook["createWebhook"]["secret"].as_str().expect("secret")).await;
    // Through the router, whose connections reach either replica of each subgraph.
    for n in 0..4 {
        set.ok(
            token,
            &address,
            "mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }",
            json!({ "i": { "email": format!("invitee{n}@{subdomain}.example.com"), "role": "MEMBER" } }),
        )
        .await;
    }
    for n in 0..10 {
        set.ok(
            token,
            &address,
            "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }",
            json!({ "i": { "firstName": format!("Replicated {n}") } }),
        )
        .await;
    }
    let remind_at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    for n in 0..3 {
        set.ok(
            token,
            &address,
            "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }",
            json!({ "i": { "title": format!("Remind me {n}"), "remindAt": remind_at } }),
        )
        .await;
    }

    // Everything the events cause, once: a preference row for the owner (tenant consumer), the
    // welcome, four invitations and three reminders sent (communication consumers and the
    // reminder job), one webhook delivery per contact (fan-out consumer and deliverer).
    let sent =
        wait_count(&set, &subdomain, "SELECT count(*) FROM {schema}.emails WHERE status = 'sent'", 8).await;
    let delivered = wait_count(
        &set,
        &subdomain,
        "SELECT count(*) FROM {schema}.webhook_deliveries WHERE status = 'SUCCEEDED'",
        10,
    )
    .await;
    assert_eq!((sent, delivered), (8, 10), "everything arrived");
    tokio::time::sleep(Duration::from_secs(3)).await; // time for a duplicate to show, were there one
    let sent = count_in(&set, &subdomain, "SELECT count(*) FROM {schema}.emails WHERE status = 'sent'").await;
    let delivered = count_in(&set, &subdomain, "SELECT count(*) FROM {schema}.webhook_deliveries").await;
    assert_eq!((sent, delivered), (8, 10), "and nothing twice");
    assert_eq!(count_in(&set, &subdomain, "SELECT count(*) FROM {schema}.user_preferences").await, 1);
    for (purpose, expected) in [("welcome", 1), ("invitation", 4), ("reminder", 3)] {
        let sql = format!("SELECT count(*) FROM {{schema}}.emails WHERE purpose = '{purpose}'");
        assert_eq!(count_in(&set, &subdomain, &sql).await, expected, "{purpose} emails");
        let distinct =
            format!("SELECT count(DISTINCT to_address) FROM {{schema}}.emails WHERE purpose = '{purpose}'");
        let recipients = if purpose == "invitation" { 4 } else { 1 };
        assert_eq!(count_in(&set, &subdomain, &distinct).await, recipients, "{purpose} recipients");
    }
    let welcome = format!(
        "SELECT count(*) FROM {{schema}}.emails WHERE purpose = 'welcome' AND to_address = '{owner}'"
    );
    assert_eq!(count_in(&set, &subdomain, &welcome).await, 1);
    let files = std::fs::read_dir(&set.mail_dir).expect("mail dir").count();
    assert_eq!(files, 8, "each email left once, whichever replica's sender took it");
    assert_eq!(
        count_in(&set, &subdomain, "SELECT count(DISTINCT event_id) FROM {schema}.webhook_deliveries").await,
        10
    );
    assert_eq!(count_in(&set, &subdomain, "SELECT count(*) FROM {schema}.webhook_deliveries").await, 10);
    let received = receiver.wait_for("/ok/replicas", 10).await;
    let ids: std::collections::BTreeSet<&str> =
        received.iter().filter_map(|r| r["webhook_id"].as_str()).collect();
    assert_eq!(ids.len(), 10, "each contact's event reached the receiver");
    assert!(received.iter().all(|r| r["verified"] == true), "signed with the endpoint's secret");
    // At least once: an attempt is repeated (same id) only when its answer was lost.
    assert!(received.len() <= 12, "{} requests for 10 events", received.len());
    println!(
        "two replicas of each subgraph: 8 emails sent once each, 1 preference row, 10 webhook deliveries ({} requests)",
        received.len()
    );
    set.finish().await;
}

#[tokio::test]
async fn sign_in_limits_and_sessions_hold_across_replicas() {
    let set = ReplicaSet::start("replica_sessions", &[]).await;
    // The first JWKS requests, to both auth replicas at once, on a database without a key.
    let jwks: Vec<String> = (0..REPLICAS)
        .map(|n| set.replica_url("auth", n).replace("/graphql", "/.well-known/jwks.json"))
        .collect();
    let fetches = (0..8).map(|n| reqwest::get(jwks[n % REPLICAS].clone()));
    for answer in futures::future::join_all(fetches).await {
        assert!(answer.expect("jwks").status().is_success());
    }
    let address = replica_set::address();
    let (token, email, password, subdomain) = set.register(&address).await;
    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let auth = [set.replica_url("auth", 0), set.replica_url("auth", 1)];
    let keys = {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        let sql = "SELECT count(*) FROM crm.signing_keys";
        let row = set
            .database
            .conn
            .query_one(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .expect("keys");
        row.expect("row").try_get_by_index::<i64>(0).expect("count")
    };
    assert_eq!(keys, 1, "two auth replicas starting together on a new database made one signing key");

    // Ten wrong passwords, alternating replicas: the limit is one count in Redis, not one per
    // process, so the eleventh attempt is refused on either, even with the right password.
    for n in 0..10 {
        let wrong =
            json!({ "i": { "email": email, "password": format!("wrong {n}"), "subdomain": subdomain } });
        let body = set.post(&auth[n % 2], None, &address, login, wrong).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    }
    let right = json!({ "i": { "email": email, "password": password, "subdomain": subdomain } });
    for url in &auth {
        let body = set.post(url, None, &address, login, right.clone()).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{url}: {body}");
    }

    // A session ended on one replica is over on the other at the next request, in every subgraph.
    let probe = "{ contacts(first: 1) { edges { node { id } } } }";
    let contact = [set.replica_url("contact", 0), set.replica_url("contact", 1)];
    for url in &contact {
        let body = set.post(url, Some(&token), &address, probe, json!({})).await;
        assert!(body.get("errors").is_none(), "accepted before logout: {body}");
    }
    let out = set.post(&auth[1], Some(&token), &address, "mutation { logout }", json!({})).await;
    assert_eq!(out["data"]["logout"], true, "{out}");
    for url in contact.iter().chain(&auth) {
        let query = if auth.contains(url) { "{ me { id } }" } else { probe };
        let body = set.post(url, Some(&token), &address, query, json!({})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{url}: {body}");
    }
    println!(
        "two auth replicas: 10 failed sign-ins counted together, the 11th refused on both; a logout on one ended the session on all four replicas asked"
    );
    set.finish().await;
}
