//! Password reset (RELIABILITY A10–A12): the same answer for known and unknown accounts, a link
//! built from the configured app URL and delivered through an event, single use, newer requests
//! void older links, and a completed reset ends every session.

use crm_testkit::{Org, TestStack, link_token, outbox_events};
use serde_json::json;

const FORGOT: &str = "mutation($i: ForgotPasswordInput!) { forgotPassword(input: $i) }";
const RESET: &str = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }";

/// The reset links the outbox holds for `org`'s owner, oldest first, once there are `expected`
/// (requests are handled after the answer, so the answer cannot depend on the account).
async fn reset_links(stack: &TestStack, org: &Org, expected: usize) -> Vec<String> {
    for _ in 0..100 {
        let links: Vec<String> = outbox_events(stack, &org.tenant_id, "user.password_reset_requested")
            .await
            .iter()
            .map(|event| event["data"]["reset_url"].as_str().expect("reset_url").to_owned())
            .collect();
        if links.len() >= expected {
            return links;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {expected} reset links were sent");
}

async fn forgot(stack: &TestStack, org: &Org) -> crm_testkit::GraphqlResponse {
    stack
        .subgraph("auth", None, FORGOT, json!({ "i": { "email": org.email, "subdomain": org.subdomain } }))
        .await
}

#[tokio::test]
async fn reset_flow() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Reset").await;

    let known = stack
        .subgraph("auth", None, FORGOT, json!({ "i": { "email": org.email, "subdomain": org.subdomain } }))
        .await;
    let unknown = stack
        .subgraph(
            "auth",
            None,
            FORGOT,
            json!({ "i": { "email": "nobody@example.com", "subdomain": org.subdomain } }),
        )
        .await;
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body), "no account enumeration");
    assert_eq!(known.ok()["forgotPassword"], true);

    let links = reset_links(&stack, &org, 1).await;
    assert_eq!(links.len(), 1);
    assert!(links[0].starts_with("http://localhost:3000/reset-password?token="), "{}", links[0]);
    let older = link_token(&links[0]);
    forgot(&stack, &org).await.ok();
    let newer = link_token(&reset_links(&stack, &org, 2).await[1]);

    let reset = |token: String| json!({ "i": { "token": token, "newPassword": "reset password value" } });
    let voided = stack.subgraph("auth", None, RESET, reset(older)).await;
    assert_eq!(voided.error_codes(), ["BAD_USER_INPUT"], "a newer request voids older links");
    let tampered = stack.subgraph("auth", None, RESET, reset(format!("{newer}x"))).await;
    assert_eq!(tampered.error_codes(), ["BAD_USER_INPUT"]);

    let done = stack.subgraph("auth", None, RESET, reset(newer.clone())).await;
    assert_eq!(done.ok()["resetPassword"], true);
    let reused = stack.subgraph("auth", None, RESET, reset(newer)).await;
    assert_eq!(reused.error_codes(), ["BAD_USER_INPUT"], "single use");

    let me = stack.subgraph("auth", Some(&org.token), "{ me { id } }", json!({})).await;
    assert_eq!(me.error_codes(), ["UNAUTHENTICATED"], "every session ended");
    stack.login(&org.email, "reset password value", &org.subdomain).await;
}

#[tokio::test]
async fn reset_requests_cannot_flood_an_inbox_or_come_from_one_address_without_end() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Reset flood").await;
    // Five requests, all answered alike; three emails, then silence for the rest of the window.
    for _ in 0..5 {
        assert_eq!(forgot(&stack, &org).await.ok()["forgotPassword"], true);
    }
    assert_eq!(reset_links(&stack, &org, 3).await.len(), 3);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(reset_links(&stack, &org, 3).await.len(), 3, "no fourth email");

    // One address asking for many accounts is refused past its limit, saying when to retry.
    let mut refused = None;
    for n in 0..30 {
        let response = stack
            .subgraph(
                "auth",
                None,
                FORGOT,
                json!({ "i": { "email": format!("x{n}@example.com"), "subdomain": org.subdomain } }),
            )
            .await;
        if !response.error_codes().is_empty() {
            refused = Some((n, response));
            break;
        }
    }
    let (n, response) = refused.expect("the address was throttled");
    assert_eq!(n + 5, 20, "refused after the twentieth request from the address");
    assert_eq!(response.error_codes(), ["RATE_LIMITED"], "{}", response.body);
    assert!(response.body["errors"][0]["extensions"]["retryAfter"].as_u64().is_some());
}

#[tokio::test]
async fn a13_reset_links_ignore_the_host_the_request_names() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Reset host").await;
    let body =
        json!({ "query": FORGOT, "variables": { "i": { "email": org.email, "subdomain": org.subdomain } } });
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", stack.subgraph_url("auth")))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "host=evil.example;proto=https")
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_success());
    let links = reset_links(&stack, &org, 1).await;
    assert!(links[0].starts_with("http://localhost:3000/reset-password?token="), "{}", links[0]);
    assert!(!links[0].contains("evil"));
}
