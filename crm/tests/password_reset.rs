//! Password reset (RELIABILITY A10–A12): the same answer for known and unknown accounts, a link
//! built from the configured app URL and delivered through an event, single use, newer requests
//! void older links, and a completed reset ends every session.

use crm_testkit::{Org, TestStack};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

const FORGOT: &str = "mutation($i: ForgotPasswordInput!) { forgotPassword(input: $i) }";
const RESET: &str = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }";

/// The reset links the outbox holds for `org`'s owner, oldest first.
async fn reset_links(stack: &TestStack, org: &Org) -> Vec<String> {
    let rows = stack
        .db
        .conn()
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT payload FROM crm.outbox
             WHERE tenant_id = $1 AND payload->>'type' = 'user.password_reset_requested'
             ORDER BY created_at, id",
            [uuid::Uuid::parse_str(&org.tenant_id).expect("uuid").into()],
        ))
        .await
        .expect("query");
    rows.iter()
        .map(|row| {
            let payload: Value = row.try_get_by_index(0).expect("payload");
            payload["data"]["reset_url"].as_str().expect("reset_url").to_owned()
        })
        .collect()
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).expect("token in link").to_owned()
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

    let links = reset_links(&stack, &org).await;
    assert_eq!(links.len(), 1);
    assert!(links[0].starts_with("http://localhost:5173/reset-password?token="), "{}", links[0]);
    let older = token_of(&links[0]);
    stack
        .subgraph("auth", None, FORGOT, json!({ "i": { "email": org.email, "subdomain": org.subdomain } }))
        .await
        .ok();
    let newer = token_of(&reset_links(&stack, &org).await[1]);

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
