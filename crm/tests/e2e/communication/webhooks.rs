//! Outbound webhooks (RELIABILITY W1–W6) against a receiver process that verifies every
//! delivery with the `standardwebhooks` package from PyPI: signatures over the exact bytes,
//! retries with the same `webhook-id`, order per deal, a hanging endpoint that delays no one
//! else, replay, test sends, 410 and redirects, capped response bodies, refused addresses, and
//! one organization never reaching another's webhooks.

use std::time::Duration;

use crm_testkit::webhooks::Receiver;
use crm_testkit::{Org, TestStack};
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { id url events enabled } } }";
const DELIVERIES: &str = "query($w: ID!, $s: WebhookDeliveryStatus) { webhookDeliveries(webhookId: $w, first: 100, status: $s) {
    edges { node { id eventType status attempts responseCode latencyMs error payload attemptLog { attempt responseCode error } } } } }";
const MOVE: &str = "mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { id version } }";

/// The webhook's delivery log once `count` deliveries have all succeeded (the receiver sees a
/// request a moment before the deliverer records its answer), or after 20 s.
async fn succeeded(stack: &TestStack, org: &Org, webhook: &str, count: usize) -> Vec<Value> {
    let mut log = Vec::new();
    for _ in 0..200 {
        let response =
            stack.subgraph("communication", Some(&org.token), DELIVERIES, json!({ "w": webhook })).await;
        let edges = response.ok()["webhookDeliveries"]["edges"].as_array().expect("edges").clone();
        log = edges.into_iter().map(|edge| edge["node"].clone()).collect();
        if log.len() >= count && log.iter().all(|delivery| delivery["status"] == "SUCCEEDED") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    log
}

async fn stage_ids(stack: &TestStack, org: &Org) -> Vec<String> {
    let response =
        stack.subgraph("deal", Some(&org.token), "{ pipelines { stages { id } } }", json!({})).await;
    let stages = response.ok()["pipelines"][0]["stages"].as_array().expect("stages").clone();
    stages.iter().map(|stage| stage["id"].as_str().expect("id").to_owned()).collect()
}

fn body(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().expect("body")).expect("the body is the event envelope")
}

#[tokio::test]
async fn deliveries_are_signed_retried_with_one_id_and_kept_in_order_per_deal() {
    let stack = TestStack::subgraphs().await;
    stack.start_webhooks();
    let receiver = Receiver::start().await;
    let org = stack.register_org("Hooked").await;
    // The first three requests on this path fail with 500.
    let webhook = receiver.register(&stack, &org, "/flaky/3/deals", &["deal.*"]).await;

    let deal = stack.create_deal(&org, "Hooked deal", &[]).await;
    let stages = stage_ids(&stack, &org).await;
    for stage in &stages[1..4] {
        stack.subgraph("deal", Some(&org.token), MOVE, json!({ "id": deal, "s": stage })).await.ok();
    }
    // deal.created and three deal.stage_changed: four events, the first tried four times. (An
    // attempt whose answer was lost on the way back is tried again with the same id: at least
    // once, so a spare repeat may appear, always right after the request it repeats.)
    let log = succeeded(&stack, &org, &webhook, 4).await;
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|delivery| delivery["status"] == "SUCCEEDED"), "{log:#?}");
    let received = receiver.wait_for("/flaky/3/deals", 7).await;
    assert!(received.len() >= 7, "{received:#?}");
    for request in &received {
        assert_eq!(request["verified"], true, "standardwebhooks rejected it: {request}");
    }
    let first_id = received[0]["webhook_id"].clone();
    assert!(received[..4].iter().all(|r| r["webhook_id"] == first_id), "retries carry the same webhook-id");
    assert_eq!(body(&received[0])["type"], "deal.created");
    let mut distinct = received.clone();
    distinct.dedup_by(|a, b| a["webhook_id"] == b["webhook_id"]);
    assert_eq!(distinct.len(), 4, "each delivery's attempts come together: {received:#?}");
    // In order: nothing about the deal was sent before its first event got through.
    let versions: Vec<i64> = distinct[1..]
        .iter()
        .map(|request| body(request)["data"]["version"].as_i64().expect("a stage change's version"))
        .collect();
    assert!(versions.windows(2).all(|pair| pair[0] < pair[1]), "versions in order: {versions:?}");

    let created = log.iter().find(|delivery| delivery["eventType"] == "deal.created").expect("created");
    let codes: Vec<&Value> =
        created["attemptLog"].as_array().expect("log").iter().map(|a| &a["responseCode"]).collect();
    assert_eq!(codes[..3], [&json!(500), &json!(500), &json!(500)]);
    assert_eq!(codes.last(), Some(&&json!(200)));
    assert_eq!(created["attempts"].as_i64(), Some(codes.len() as i64));
    assert_eq!(created["payload"], received[0]["body"], "the log holds the exact bytes sent");
}

#[tokio::test]
async fn a_hanging_endpoint_delays_no_other_endpoint_or_organization() {
    let stack = TestStack::subgraphs().await;
    stack.start_webhooks();
    let receiver = Receiver::start().await;
    let slow = stack.register_org("Slow receiver").await;
    let fast = stack.register_org("Fast receiver").await;
    receiver.register(&stack, &slow, "/hang/slow", &["contact.created"]).await;
    receiver.register(&stack, &fast, "/ok/fast", &["contact.created"]).await;

    for n in 0..12 {
        stack.create_contact(&slow, &format!("Slow {n}"), None).await;
    }
    receiver.wait_for("/hang/slow", 1).await;
    stack.create_contact(&fast, "Fast", None).await;
    let arrived = receiver.wait_for("/ok/fast", 1).await;
    assert_eq!(arrived.len(), 1);
    // Times as the receiver saw them, so a loaded machine cannot fake a pass or a failure: the
    // other organization's delivery arrived while the first attempts at the hanging endpoint
    // were still hanging (each waits out the attempt timeout), and at most four of those were
    // in flight together.
    let timeout = crm_testkit::webhooks::test_settings().timeout.as_secs_f64();
    let fast_at = arrived[0]["at"].as_f64().expect("time");
    let hanging = receiver.wait_for("/hang/slow", 1).await;
    let first_hang = hanging.iter().filter_map(|r| r["at"].as_f64()).fold(f64::MAX, f64::min);
    assert!(
        fast_at - first_hang < timeout,
        "the other organization waited {:.2} s behind the hang",
        fast_at - first_hang
    );
    let before_fast = hanging.iter().filter(|r| r["at"].as_f64().is_some_and(|at| at < fast_at)).count();
    assert!(before_fast <= 4, "at most four attempts in flight at one endpoint: {before_fast}");
}

#[tokio::test]
async fn replay_resends_in_order_with_the_same_ids_and_test_sends_once() {
    let stack = TestStack::subgraphs().await;
    stack.start_webhooks();
    let receiver = Receiver::start().await;
    let org = stack.register_org("Replayed").await;
    let webhook = receiver.register(&stack, &org, "/ok/replay", &["contact.*"]).await;
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    // Three events about one contact: they go out, and come back on replay, in order.
    let contact = stack.create_contact(&org, "Ann", None).await;
    let update = "mutation($id: ID!, $t: [String!]) { updateContact(id: $id, input: { tags: $t }) { id } }";
    for tags in [json!(["a"]), json!(["a", "b"])] {
        stack.subgraph("contact", Some(&org.token), update, json!({ "id": contact, "t": tags })).await.ok();
    }
    assert_eq!(succeeded(&stack, &org, &webhook, 3).await.len(), 3);
    let mut first = receiver.wait_for("/ok/replay", 3).await;
    // A retried attempt repeats its id right away; receivers keep one.
    first.dedup_by(|a, b| a["webhook_id"] == b["webhook_id"]);
    let types: Vec<Value> = first.iter().map(|request| body(request)["type"].clone()).collect();
    assert_eq!(types, [json!("contact.created"), json!("contact.updated"), json!("contact.updated")]);

    // Everything that arrived before the replay, retries included.
    let before = receiver.received().await.len();
    let replay = "mutation($w: ID!, $f: DateTime!) { replayWebhookDeliveries(webhookId: $w, from: $f) }";
    let count =
        stack.subgraph("communication", Some(&org.token), replay, json!({ "w": webhook, "f": since })).await;
    assert_eq!(count.ok()["replayWebhookDeliveries"], 3);
    let all = receiver.wait_for("/ok/replay", before + 3).await;
    // Consecutive repeats of one id are retries of one attempt, which receivers deduplicate.
    let ids = |requests: &[Value]| {
        let mut ids = requests.iter().map(|r| r["webhook_id"].clone()).collect::<Vec<_>>();
        ids.dedup();
        ids
    };
    assert_eq!(ids(&all[before..]), ids(&first), "the same messages, in the same order");
    assert!(all.iter().all(|request| request["verified"] == true));

    let test = "mutation($id: ID!) { testWebhook(id: $id) { status responseCode eventType attempts } }";
    let tested = stack.subgraph("communication", Some(&org.token), test, json!({ "id": webhook })).await;
    assert_eq!(
        tested.ok()["testWebhook"],
        json!({ "status": "SUCCEEDED", "responseCode": 200, "eventType": "webhook.test", "attempts": 1 })
    );
    let with_test = receiver.wait_for("/ok/replay", all.len() + 1).await;
    let sent_test = with_test.last().expect("the test send");
    assert_eq!(body(sent_test)["type"], "webhook.test");
    assert_eq!(sent_test["verified"], true);
}

#[tokio::test]
async fn gone_redirects_slow_bodies_and_private_addresses_are_handled_safely() {
    let stack = TestStack::subgraphs().await;
    stack.start_webhooks();
    let receiver = Receiver::start().await;
    let org = stack.register_org("Edge cases").await;
    let test = "mutation($id: ID!) { testWebhook(id: $id) { status responseCode latencyMs error } }";
    let run_test = async |webhook: &str| {
        stack.subgraph("communication", Some(&org.token), test, json!({ "id": webhook })).await.ok()["testWebhook"].clone()
    };

    // A redirect is not followed: the metadata address it points at is never asked.
    let redirecting = receiver.register(&stack, &org, "/redirect/x", &["*"]).await;
    let redirected = run_test(&redirecting).await;
    assert_eq!(redirected["status"], "FAILED");
    assert_eq!(redirected["responseCode"], 302);
    assert!(redirected["error"].as_str().is_some_and(|e| e.contains("redirects are not followed")));

    // A 10 MB body trickling in is read up to a small cap, not to its end.
    let trickling = receiver.register(&stack, &org, "/slow-body/x", &["*"]).await;
    let trickled = run_test(&trickling).await;
    assert_eq!(trickled["status"], "SUCCEEDED");
    assert!(trickled["latencyMs"].as_i64().is_some_and(|ms| ms < 2000), "{trickled}");

    // 410 Gone disables the webhook and tells its creator.
    let gone = receiver.register(&stack, &org, "/gone/x", &["contact.created"]).await;
    stack.create_contact(&org, "Gone", None).await;
    let read = "query($id: ID!) { webhook(id: $id) { enabled disabledReason } }";
    let mut disabled = Value::Null;
    for _ in 0..100 {
        disabled = stack.subgraph("communication", Some(&org.token), read, json!({ "id": gone })).await.ok()
            ["webhook"]
            .clone();
        if disabled["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(disabled, json!({ "enabled": false, "disabledReason": "the endpoint answered 410 Gone" }));
    let notices = stack
        .count_in(
            &org,
            "SELECT count(*) FROM emails WHERE purpose = 'notice' AND subject LIKE 'Webhook disabled%'",
            vec![],
        )
        .await;
    assert_eq!(notices, 1);

    // Addresses webhooks may not reach are refused when saved, by field; nothing is sent.
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "http://[fd00::1]/hook",
        "http://192.168.1.1/hook",
        "ftp://127.0.0.1/hook",
        "http://user:pass@127.0.0.1/hook",
    ] {
        let input = json!({ "i": { "url": url, "events": ["*"] } });
        let refused = stack.subgraph("communication", Some(&org.token), CREATE, input).await;
        assert_eq!(refused.error_codes(), ["BAD_USER_INPUT"], "{url}: {}", refused.body);
        assert_eq!(refused.body["errors"][0]["extensions"]["field"], "url", "{url}");
    }
    for events in [json!(["deal.nothing"]), json!(["user.password_reset_requested"]), json!([])] {
        let input = json!({ "i": { "url": format!("{}/ok/x", receiver.base), "events": events } });
        let refused = stack.subgraph("communication", Some(&org.token), CREATE, input).await;
        assert_eq!(refused.error_codes(), ["BAD_USER_INPUT"], "{events}: {}", refused.body);
    }
}

#[tokio::test]
async fn another_organization_or_a_member_cannot_see_or_touch_webhooks() {
    let stack = TestStack::subgraphs().await;
    let receiver = Receiver::start().await;
    let owner = stack.register_org("Owner of hooks").await;
    let other = stack.register_org("Other org").await;
    let webhook = receiver.register(&stack, &owner, "/ok/private", &["*"]).await;
    let member = stack.add_member(&owner, "member@hooks.example.com", "MEMBER").await;

    let listed = stack.subgraph("communication", Some(&other.token), "{ webhooks { id } }", json!({})).await;
    assert_eq!(listed.ok()["webhooks"], json!([]));
    let attempts = [
        ("query($id: ID!) { webhook(id: $id) { id } }", json!({ "id": webhook })),
        (DELIVERIES, json!({ "w": webhook })),
        ("mutation($id: ID!) { testWebhook(id: $id) { id } }", json!({ "id": webhook })),
        ("mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }", json!({ "id": webhook })),
        (
            "mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { id } }",
            json!({ "id": webhook }),
        ),
        ("mutation($id: ID!) { deleteWebhook(id: $id) { id } }", json!({ "id": webhook })),
        (
            "mutation($id: ID!) { replayWebhookDeliveries(webhookId: $id, from: \"2026-01-01T00:00:00Z\") }",
            json!({ "id": webhook }),
        ),
    ];
    for (query, variables) in &attempts {
        let response = stack.subgraph("communication", Some(&other.token), query, variables.clone()).await;
        assert_eq!(response.error_codes(), ["NOT_FOUND"], "{query}: {}", response.body);
        let response =
            stack.subgraph("communication", Some(member.token.as_str()), query, variables.clone()).await;
        assert_eq!(response.error_codes(), ["FORBIDDEN"], "a member: {query}: {}", response.body);
    }
    // Still there, untouched, for its owner.
    let read = "query($id: ID!) { webhook(id: $id) { enabled } }";
    let own = stack.subgraph("communication", Some(&owner.token), read, json!({ "id": webhook })).await;
    assert_eq!(own.ok()["webhook"]["enabled"], true);
    // Nothing the other organization did reached the receiver, and no test was sent for it.
    for request in receiver.received().await {
        let event = body(&request);
        assert_eq!(event["tenant_id"], json!(owner.tenant_id), "{event}");
        assert_ne!(event["type"], "webhook.test", "{event}");
    }
}

#[tokio::test]
async fn a_rotated_secret_keeps_the_old_one_valid_for_a_day() {
    let stack = TestStack::subgraphs().await;
    let receiver = Receiver::start().await;
    let org = stack.register_org("Rotating").await;
    let webhook = receiver.register(&stack, &org, "/ok/old", &["*"]).await;
    let rotate =
        "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret webhook { previousSecretValidUntil } } }";
    let rotated = stack.subgraph("communication", Some(&org.token), rotate, json!({ "id": webhook })).await;
    let rotated = rotated.ok()["rotateWebhookSecret"].clone();
    let until: chrono::DateTime<chrono::Utc> =
        rotated["webhook"]["previousSecretValidUntil"].as_str().expect("until").parse().expect("time");
    assert!(until > chrono::Utc::now() + chrono::Duration::hours(23));
    // The receiver still holds the old secret for /ok/old and learns the new one for /ok/new.
    let update = "mutation($id: ID!, $u: String!) { updateWebhook(id: $id, input: { url: $u }) { url } }";
    let moved = json!({ "id": webhook, "u": format!("{}/ok/new", receiver.base) });
    stack.subgraph("communication", Some(&org.token), update, moved).await.ok();
    receiver.set_secret("/ok/new", rotated["secret"].as_str().expect("secret")).await;
    let test = "mutation($id: ID!) { testWebhook(id: $id) { status } }";
    stack.subgraph("communication", Some(&org.token), test, json!({ "id": webhook })).await.ok();
    let back = json!({ "id": webhook, "u": format!("{}/ok/old", receiver.base) });
    stack.subgraph("communication", Some(&org.token), update, back).await.ok();
    stack.subgraph("communication", Some(&org.token), test, json!({ "id": webhook })).await.ok();
    let received = receiver.received().await;
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|r| r["verified"] == true), "both secrets verify: {received:#?}");
    assert!(received.iter().all(|r| r["signature"].as_str().is_some_and(|s| s.split(' ').count() == 2)));
}
