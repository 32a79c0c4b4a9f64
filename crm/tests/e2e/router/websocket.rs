//! The subscription socket's guards (A16, F8): straight at the deal subgraph for the exact close
//! codes, and through the router for what a client sees when its token runs out.

use std::time::Duration;

use crm_platform::websocket::INIT_TIMEOUT;
use crm_testkit::ws::{WsClient, WsEvent};
use crm_testkit::{Org, TestStack, mint_token};
use serde_json::{Value, json};

use crate::CRM;
const SUBSCRIPTION: &str = "subscription { dealChanged { kind } }";

fn deal_ws(stack: &TestStack) -> String {
    format!("{}/ws", stack.subgraph_url("deal").replace("http://", "ws://"))
}

/// The owner's claims with `exp` `lifetime` seconds from now (negative: already expired).
fn claims(org: &Org, lifetime: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": org.user_id, "tenant": org.tenant_id, "role": "owner", "sid": uuid::Uuid::now_v7(),
        "iss": "mtenant-crm", "aud": "mtenant-crm-api", "iat": now - 5, "nbf": now - 5, "exp": now + lifetime,
    })
}

fn subscribe(id: &str) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": SUBSCRIPTION } })
}

#[tokio::test]
async fn connection_init_is_required_in_time_and_must_carry_a_live_token() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Sockets").await;
    let url = deal_ws(&stack);

    let mut silent = WsClient::open(&url).await.expect("open");
    let code = silent.close_code(INIT_TIMEOUT + Duration::from_secs(5)).await;
    assert_eq!(code, Some(4408), "no connection_init");

    let mut anonymous = WsClient::open(&url).await.expect("open");
    anonymous.init(None).await.expect("init");
    assert_eq!(anonymous.close_code(Duration::from_secs(5)).await, Some(4403));

    let expired = mint_token(&stack, &claims(&org, -120)).await;
    let mut late = WsClient::open(&url).await.expect("open");
    late.init(Some(&expired)).await.expect("init");
    assert_eq!(late.close_code(Duration::from_secs(5)).await, Some(4403), "expired token");

    let mut eager = WsClient::open(&url).await.expect("open");
    eager.send(subscribe("1")).await.expect("send");
    assert_eq!(eager.close_code(Duration::from_secs(5)).await, Some(4401), "subscribe before ack");

    let mut twice = WsClient::connect(&url, Some(&org.token)).await.expect("connect");
    twice.init(Some(&org.token)).await.expect("init");
    assert_eq!(twice.close_code(Duration::from_secs(5)).await, Some(4429), "second connection_init");

    // Without the subprotocol there is no socket at all.
    let plain = reqwest::Client::new()
        .get(format!("{}/ws", stack.subgraph_url("deal")))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .expect("request");
    assert_eq!(plain.status(), 400);
}

#[tokio::test]
async fn duplicate_subscription_ids_are_refused() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Duplicates").await;
    let mut client = WsClient::connect(&deal_ws(&stack), Some(&org.token)).await.expect("connect");
    client.send(subscribe("same")).await.expect("send");
    client.send(subscribe("same")).await.expect("send");
    assert_eq!(client.close_code(Duration::from_secs(5)).await, Some(4409));
}

#[tokio::test]
async fn a_socket_ends_when_its_token_expires() {
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Expiry").await;

    // At the subgraph: closed with 4403 at `exp`, not before.
    let short = mint_token(&stack, &claims(&org, 3)).await;
    let mut direct = WsClient::connect(&deal_ws(&stack), Some(&short)).await.expect("connect");
    direct.send(subscribe("1")).await.expect("send");
    let started = std::time::Instant::now();
    assert_eq!(direct.close_code(Duration::from_secs(10)).await, Some(4403));
    assert!(started.elapsed() >= Duration::from_secs(1), "closed at exp, not at once");

    // Through the router: once the token has expired the subscription ends, with an error or
    // `complete` for it or with the socket closing. Silence is a failure: the wait below is
    // longer than the token's life plus the subgraph's close, and nothing else ends it.
    let short = mint_token(&stack, &claims(&org, 3)).await;
    let started = std::time::Instant::now();
    let mut client = WsClient::connect(&stack.router_ws_url(), Some(&short)).await.expect("connect");
    client.send(subscribe("1")).await.expect("send");
    let ending = match client.next_event(Duration::from_secs(20)).await {
        WsEvent::Silent => panic!("the router kept the expired subscription open for 20 s"),
        WsEvent::Closed(code) => format!("socket closed ({code:?})"),
        WsEvent::Message(message)
            if message["id"] == "1"
                && (message["type"] == "error"
                    || message["type"] == "complete"
                    || message["payload"]["errors"].is_array()) =>
        {
            message.to_string()
        }
        WsEvent::Message(other) => panic!("no events flow on an expiring token, got {other}"),
    };
    assert!(started.elapsed() >= Duration::from_secs(1), "ended at exp, not at once: {ending}");
}

#[tokio::test]
async fn a_socket_ends_when_its_session_is_logged_out() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Logout socket").await;
    let mut client = WsClient::connect(&deal_ws(&stack), Some(&org.token)).await.expect("connect");
    client.send(subscribe("1")).await.expect("send");
    stack.subgraph("auth", Some(&org.token), "mutation { logout }", json!({})).await.ok();
    // Sockets re-check their session every 30 s.
    assert_eq!(client.close_code(Duration::from_secs(40)).await, Some(4403));
}
