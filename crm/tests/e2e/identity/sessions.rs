//! Sessions (RELIABILITY A5, F3): logout makes the access token useless on every subgraph on the
//! very next request, other sessions live on until `logoutAll`, and when Redis cannot be asked
//! the check fails closed. Sign-in attempts are throttled per account and per client address.

use crm_testkit::{TestStack, random_client_address};
use serde_json::json;

use crate::CRM;

/// One authenticated query per subgraph.
const PROBES: [(&str, &str); 5] = [
    ("auth", "{ me { id } }"),
    ("tenant", "{ currentTenant { id } }"),
    ("contact", "{ contacts(first: 1) { edges { node { id } } } }"),
    ("deal", "{ pipelines { id } }"),
    (
        "communication",
        r#"{ _entities(representations: [{ __typename: "Deal", id: "0194f0c2-7d2a-7cc1-9b1e-3f5a1b2c3d4e" }]) { __typename } }"#,
    ),
];

async fn assert_accepted_everywhere(stack: &TestStack, token: &str, accepted: bool) {
    for (subgraph, query) in PROBES {
        let response = stack.subgraph(subgraph, Some(token), query, json!({})).await;
        if accepted {
            assert!(response.error_codes().is_empty(), "{subgraph}: {}", response.body);
        } else {
            assert_eq!(response.error_codes(), ["UNAUTHENTICATED"], "{subgraph}: {}", response.body);
        }
    }
}

#[tokio::test]
async fn logout_ends_the_session_on_every_subgraph_at_once() {
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Sessions").await;
    let second = stack.login(&org.email, &org.password, &org.subdomain).await;
    assert_accepted_everywhere(&stack, &org.token, true).await;

    let logout = stack.router(Some(&org.token), "mutation { logout }", json!({})).await;
    assert_eq!(logout.ok()["logout"], true);
    assert_accepted_everywhere(&stack, &org.token, false).await;
    let via_router = stack.router(Some(&org.token), "{ me { id } }", json!({})).await;
    assert_eq!(via_router.error_codes(), ["UNAUTHENTICATED"]);

    // The other session is untouched until the user logs out everywhere.
    assert_accepted_everywhere(&stack, &second, true).await;
    let third = stack.login(&org.email, &org.password, &org.subdomain).await;
    let all = stack.router(Some(&second), "mutation { logoutAll }", json!({})).await;
    assert_eq!(all.ok()["logoutAll"], true);
    assert_accepted_everywhere(&stack, &second, false).await;
    assert_accepted_everywhere(&stack, &third, false).await;
}

/// A "Redis" that accepts connections and never says a word, like a stopped or wedged server:
/// the sockets it accepted are held open until the test ends.
async fn silent_redis() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("redis://{}", listener.local_addr().expect("addr"));
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, holder)
}

#[tokio::test]
async fn session_checks_fail_closed_when_redis_is_unreachable_or_silent() {
    use crm_platform::serve::{Services, app, serve};
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("No Redis").await;
    let (silent, holder) = silent_redis().await;

    for (label, redis_url) in [("nothing listening", "redis://127.0.0.1:1".to_owned()), ("silent", silent)] {
        // The same database and keys, but a Redis that cannot answer.
        let jwks = format!("{}/.well-known/jwks.json", stack.subgraph_url("auth"));
        let mut config = crm_testkit::test_config(&jwks);
        config.redis_url = redis_url;
        let services = Services::with_db(config, stack.db.clone()).await.expect("services");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(serve(app(&crm_contact::SUBGRAPH, &services), listener, shutdown.clone()));

        for attempt in 0..2 {
            let started = std::time::Instant::now();
            let response =
                stack.post(&url, Some(&org.token), "{ contacts { edges { node { id } } } }", json!({})).await;
            assert_eq!(response.error_codes(), ["UNAUTHENTICATED"], "{label}: {}", response.body);
            assert!(
                response.body.to_string().contains("session store unavailable"),
                "{label}: {}",
                response.body
            );
            let took = started.elapsed();
            assert!(
                took < std::time::Duration::from_secs(2),
                "{label}, attempt {attempt}: answered after {took:?}"
            );
        }
        shutdown.cancel();
    }
    holder.abort();
    // The real stack, with Redis, still accepts the same token.
    let ok = stack
        .subgraph("contact", Some(&org.token), "{ contacts { edges { node { id } } } }", json!({}))
        .await;
    ok.ok();
}

#[tokio::test]
async fn sign_in_attempts_are_throttled_per_account_counting_aliases() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Throttle").await;
    // Ten aliased wrong-password attempts in one operation: each alias is an attempt.
    let aliases: String = (0..10)
        .map(|n| format!(r#"a{n}: login(input: {{ email: "{}", password: "wrong password {n}", subdomain: "{}" }}) {{ accessToken }} "#, org.email, org.subdomain))
        .collect();
    let flood = stack.subgraph("auth", None, &format!("mutation {{ {aliases} }}"), json!({})).await;
    assert_eq!(flood.error_codes().len(), 10, "{}", flood.body);

    // The eleventh attempt is refused even with the right password, and says when to retry.
    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let input = json!({ "i": { "email": org.email, "password": org.password, "subdomain": org.subdomain } });
    let refused = stack.subgraph("auth", None, login, input.clone()).await;
    assert_eq!(refused.error_codes(), ["RATE_LIMITED"], "{}", refused.body);
    assert!(
        refused.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("sign-in attempts for this account")),
        "{}",
        refused.body
    );
    let retry_after = refused.body["errors"][0]["extensions"]["retryAfter"].as_u64().expect("retryAfter");
    assert!(retry_after > 0 && retry_after <= 900, "{retry_after}");

    // Another account is not affected.
    let other = stack.register_org("Throttle other").await;
    let fine = stack
        .subgraph("auth", None, login, json!({ "i": { "email": other.email, "password": other.password, "subdomain": other.subdomain } }))
        .await;
    fine.ok();
}

#[tokio::test]
async fn sign_in_attempts_are_throttled_per_client_address_through_the_router() {
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Per address").await;
    let router = stack.router_url();
    let attacker = random_client_address();
    // 100 attempts spread over 100 accounts: no account reaches its own limit, the address does.
    for batch in 0..4 {
        let aliases: String = (0..25)
            .map(|n| format!(r#"a{n}: login(input: {{ email: "nobody{batch}x{n}@{0}.example.com", password: "guess {n}", subdomain: "{0}" }}) {{ accessToken }} "#, org.subdomain))
            .collect();
        let spray =
            stack.post_from(&attacker, &router, None, &format!("mutation {{ {aliases} }}"), json!({})).await;
        assert_eq!(spray.error_codes().len(), 25, "{}", spray.body);
        let throttled = spray.body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["extensions"]["retryAfter"].is_number());
        assert!(!throttled, "attempt batch {batch} was throttled early: {}", spray.body);
    }

    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let input = json!({ "i": { "email": org.email, "password": org.password, "subdomain": org.subdomain } });
    // The next attempt from that address is refused, even with the right password; addresses a
    // client writes to the left of what the proxy appended change nothing.
    for forwarded in [attacker.clone(), format!("203.0.113.50, {attacker}")] {
        let refused = stack.post_from(&forwarded, &router, None, login, input.clone()).await;
        assert_eq!(refused.error_codes(), ["RATE_LIMITED"], "{}", refused.body);
        let message = refused.body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("sign-in attempts from this address"), "{message}");
        assert!(refused.body["errors"][0]["extensions"]["retryAfter"].as_u64().is_some_and(|s| s > 0));
    }
    // The same account from another address is not affected.
    stack.post_from(&random_client_address(), &router, None, login, input).await.ok();
}

#[tokio::test]
async fn a15_a_thousand_aliased_logins_are_refused_before_any_attempt() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Aliases").await;
    let aliases: String = (0..1000)
        .map(|n| format!(r#"a{n}: login(input: {{ email: "{}", password: "guess {n}", subdomain: "{}" }}) {{ accessToken }} "#, org.email, org.subdomain))
        .collect();
    let flood = stack.subgraph("auth", None, &format!("mutation {{ {aliases} }}"), json!({})).await;
    assert_eq!((flood.status, flood.error_codes()), (400, vec!["GRAPHQL_VALIDATION_FAILED".to_owned()]));
    // Refused whole, before any resolver: not one attempt was counted.
    stack.login(&org.email, &org.password, &org.subdomain).await;
}

#[tokio::test]
async fn a_client_cannot_name_its_address_through_the_routers_websocket() {
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Socket address").await;
    let (real, claimed) = (random_client_address(), random_client_address());
    // The router turns connection_init fields into headers; an X-Forwarded-For among them must
    // not reach the subgraphs. What counts is the address the router settled on at the upgrade.
    let mut socket =
        crm_testkit::ws::WsClient::open_from(&stack.router_ws_url(), Some(&real)).await.expect("open");
    socket
        .send(json!({ "type": "connection_init", "payload": { "x-forwarded-for": claimed } }))
        .await
        .expect("init");
    let ack = socket.next_message(std::time::Duration::from_secs(10)).await.expect("ack");
    assert_eq!(ack["type"], "connection_ack");
    let login = format!(
        r#"mutation {{ login(input: {{ email: "{}", password: "wrong password", subdomain: "{}" }}) {{ accessToken }} }}"#,
        org.email, org.subdomain
    );
    socket
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": login } }))
        .await
        .expect("send");
    let answer = socket.next_message(std::time::Duration::from_secs(10)).await.expect("answer");
    assert_eq!(answer["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{answer}");

    let mut redis = stack.services.redis.get_multiplexed_async_connection().await.expect("redis");
    let counted: Option<u64> =
        redis::cmd("GET").arg(format!("login-address:{claimed}")).query_async(&mut redis).await.expect("get");
    assert_eq!(counted, None, "the attempt counted against an address the client chose");
    let vouched: Option<u64> =
        redis::cmd("GET").arg(format!("login-address:{real}")).query_async(&mut redis).await.expect("get");
    assert_eq!(vouched, Some(1), "the attempt counted against the address of the upgrade");
    let per_account: Option<u64> = redis::cmd("GET")
        .arg(format!("login:{}:{}", org.subdomain, org.email))
        .query_async(&mut redis)
        .await
        .expect("get");
    assert_eq!(per_account, Some(1), "the attempt itself was counted");
}
