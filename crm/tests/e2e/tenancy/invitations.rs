//! Invitations: invite, accept as a new or an existing identity, single use, revocation, seats.

use crm_testkit::{Org, TestStack, link_token, outbox_events};
use serde_json::json;

const INVITE: &str = "mutation($i: InviteUserInput!) { inviteUser(input: $i) { id email role } }";
const ACCEPT: &str = "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { tenant { id } user { email name } } }";

/// The token of the newest invitation link sent to `email`.
async fn accept_token(stack: &TestStack, org: &Org, email: &str) -> String {
    let events = outbox_events(stack, &org.tenant_id, "tenant.user_invited").await;
    let event = events.iter().rev().find(|e| e["data"]["email"] == email).expect("an invitation event");
    let link = event["data"]["accept_url"].as_str().expect("link");
    assert!(link.starts_with("http://localhost:3000/accept-invitation?token="), "{link}");
    link_token(link)
}

async fn invite(stack: &TestStack, token: &str, email: &str, role: &str) -> crm_testkit::GraphqlResponse {
    stack.subgraph("tenant", Some(token), INVITE, json!({ "i": { "email": email, "role": role } })).await
}

#[tokio::test]
async fn invite_and_accept_as_new_and_existing_identities() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Inviting").await;
    let newcomer = format!("new@{}.example.com", org.subdomain);

    invite(&stack, &org.token, &newcomer, "MEMBER").await.ok();
    assert_eq!(
        invite(&stack, &org.token, &newcomer, "MEMBER").await.error_codes(),
        ["CONFLICT"],
        "one open invitation"
    );
    let listed =
        stack.subgraph("tenant", Some(&org.token), "{ invitations { email role } }", json!({})).await;
    assert_eq!(listed.ok()["invitations"], json!([{ "email": newcomer, "role": "MEMBER" }]));

    let token = accept_token(&stack, &org, &newcomer).await;
    let accepted = stack
        .subgraph(
            "tenant",
            None,
            ACCEPT,
            json!({ "i": { "token": token, "name": "Newcomer", "password": "newcomer password" } }),
        )
        .await;
    assert_eq!(accepted.ok()["acceptInvitation"]["user"], json!({ "email": newcomer, "name": "Newcomer" }));
    let reused = stack
        .subgraph(
            "tenant",
            None,
            ACCEPT,
            json!({ "i": { "token": token, "name": "Again", "password": "newcomer password" } }),
        )
        .await;
    assert_eq!(reused.error_codes(), ["BAD_USER_INPUT"], "single use");

    // The new member's real role applies: CRM writes yes, settings no.
    let member = stack.login(&newcomer, "newcomer password", &org.subdomain).await;
    let write = stack
        .subgraph(
            "contact",
            Some(&member),
            "mutation { createContact(input: { firstName: \"x\" }) { id } }",
            json!({}),
        )
        .await;
    write.ok();
    let settings = stack
        .subgraph(
            "tenant",
            Some(&member),
            "mutation { updateTenantSettings(input: { locale: \"de-DE\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(settings.error_codes(), ["FORBIDDEN"]);
    assert_eq!(invite(&stack, &member, "x@example.com", "VIEWER").await.error_codes(), ["FORBIDDEN"]);

    // An existing identity joins with its own password.
    let other = stack.register_org("Other").await;
    invite(&stack, &org.token, &other.email, "VIEWER").await.ok();
    let token = accept_token(&stack, &org, &other.email).await;
    let wrong = stack
        .subgraph("tenant", None, ACCEPT, json!({ "i": { "token": token, "password": "not theirs at all" } }))
        .await;
    assert_eq!(wrong.error_codes(), ["BAD_USER_INPUT"]);
    // The failed attempt consumed nothing: the same link still works.
    let joined = stack
        .subgraph("tenant", None, ACCEPT, json!({ "i": { "token": token, "password": other.password } }))
        .await;
    joined.ok();
    let viewer = stack.login(&other.email, &other.password, &org.subdomain).await;
    let me = stack.subgraph("auth", Some(&viewer), "{ me { role } }", json!({})).await;
    assert_eq!(me.ok()["me"]["role"], "VIEWER");
}

#[tokio::test]
async fn revocation_and_seat_limits() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Seats").await;
    let addr = |n: u32| format!("seat{n}@{}.example.com", org.subdomain);

    let first = invite(&stack, &org.token, &addr(1), "MEMBER").await;
    let id = first.ok()["inviteUser"]["id"].clone();
    let token = accept_token(&stack, &org, &addr(1)).await;
    let revoked = stack
        .subgraph(
            "tenant",
            Some(&org.token),
            "mutation($id: ID!) { revokeInvitation(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(revoked.ok()["revokeInvitation"], true);
    let late = stack
        .subgraph(
            "tenant",
            None,
            ACCEPT,
            json!({ "i": { "token": token, "name": "Late", "password": "late password value" } }),
        )
        .await;
    assert_eq!(late.error_codes(), ["BAD_USER_INPUT"], "a revoked invitation cannot be accepted");

    // The free plan has 5 seats: the owner plus four open invitations fill it.
    for n in 2..=5 {
        invite(&stack, &org.token, &addr(n), "MEMBER").await.ok();
    }
    let over = invite(&stack, &org.token, &addr(6), "MEMBER").await;
    assert_eq!(over.error_codes(), ["PAYMENT_REQUIRED"], "{}", over.body);
}
