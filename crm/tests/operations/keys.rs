//! Signing key rotation: a new key is published before it signs, tokens of the old key keep
//! working while they live, and the old key leaves the JWKS once they have all expired.

use std::time::Duration;

use crm_auth::keys::{Activation, RETIRED_KEY_RETENTION, rotate_if_due};
use crm_testkit::{Org, PrivateDatabase, TestStack};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).expect("header").kid.expect("kid")
}

async fn published_kids(stack: &TestStack) -> Vec<String> {
    let url = format!("{}/.well-known/jwks.json", stack.subgraph_url("auth"));
    let jwks: serde_json::Value = reqwest::get(url).await.expect("jwks").json().await.expect("json");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

/// Moves a key's activation into the past, as if that much time had gone by.
async fn activated_ago(stack: &TestStack, kid: &str, ago: Duration) {
    stack
        .db
        .conn()
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE crm.signing_keys SET activates_at = now() - make_interval(secs => $2) WHERE kid = $1",
            [kid.into(), ago.as_secs_f64().into()],
        ))
        .await
        .expect("update");
}

async fn login(stack: &TestStack, org: &Org) -> String {
    stack.login(&org.email, &org.password, &org.subdomain).await
}

/// The token works at the auth and contact subgraphs (each verifies on its own).
async fn works(stack: &TestStack, token: &str) -> bool {
    let me = stack.subgraph("auth", Some(token), "{ me { id } }", json!({})).await;
    let contacts = stack
        .subgraph("contact", Some(token), "{ contacts(first: 1) { edges { cursor } } }", json!({}))
        .await;
    me.error_codes().is_empty() && contacts.error_codes().is_empty()
}

#[tokio::test]
async fn keys_rotate_without_breaking_tokens() {
    // Rotation replaces the key every stack on a database signs with: this one has its own.
    let db = PrivateDatabase::create("crm_keys").await;
    let stack = TestStack::subgraphs_on(&db).await;
    let org = stack.register_org("Keys").await;
    let old = kid_of(&org.token);
    // As on a system that has been up for a while: the current key has signed for a day.
    stack
        .db
        .conn()
        .execute_unprepared("UPDATE crm.signing_keys SET activates_at = activates_at - interval '1 day'")
        .await
        .expect("age the first key");

    let rotation =
        rotate_if_due(&stack.db, Duration::MAX, Some(Activation::AfterPublishing)).await.expect("rotate");
    let new = rotation.new_kid.expect("a new key");
    assert!(rotation.activates_at.expect("activation") > chrono::Utc::now(), "published ahead of signing");
    let kids = published_kids(&stack).await;
    assert!(kids.contains(&new) && kids.contains(&old), "{kids:?}");
    assert_eq!(kid_of(&login(&stack, &org).await), old, "the old key signs until the new one activates");
    // The schedule does not stack a second successor on a waiting one.
    let scheduled = rotate_if_due(&stack.db, Duration::ZERO, None).await.expect("scheduled");
    assert_eq!(scheduled.new_kid, None);

    activated_ago(&stack, &new, Duration::from_secs(1)).await;
    let fresh = login(&stack, &org).await;
    assert_eq!(kid_of(&fresh), new);
    // The verifiers fetched the JWKS after the new key was published: they know it already.
    assert!(works(&stack, &fresh).await, "verifiers already know the new key");
    assert!(works(&stack, &org.token).await, "tokens of the replaced key live on");
    assert!(published_kids(&stack).await.contains(&old));

    // Once every token of the old key has expired, it is unpublished and deleted.
    // (Older keys move back a day with it, keeping their order.)
    stack
        .db
        .conn()
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE crm.signing_keys SET activates_at = activates_at - interval '1 day' WHERE kid <> $1",
            [new.clone().into()],
        ))
        .await
        .expect("update");
    activated_ago(&stack, &new, RETIRED_KEY_RETENTION + Duration::from_secs(60)).await;
    let pruned = rotate_if_due(&stack.db, Duration::MAX, None).await.expect("prune");
    assert!(pruned.deleted >= 1);
    assert_eq!(pruned.new_kid, None, "not due yet");
    let kids = published_kids(&stack).await;
    assert!(!kids.contains(&old) && kids.contains(&new), "{kids:?}");
    let stored =
        stack.count("SELECT count(*) FROM crm.signing_keys WHERE kid = $1", vec![old.clone().into()]).await;
    assert_eq!(stored, 0, "the expired key is deleted, not only unpublished");

    // A compromise: the new key signs at once and the others are withdrawn; verifiers pick the
    // new one up on the unknown kid within their refetch interval.
    let urgent =
        rotate_if_due(&stack.db, Duration::MAX, Some(Activation::Immediately)).await.expect("rotate");
    let urgent_kid = urgent.new_kid.expect("a new key");
    assert_eq!(published_kids(&stack).await, vec![urgent_kid.clone()], "every other key is withdrawn");
    let token = login(&stack, &org).await;
    assert_eq!(kid_of(&token), urgent_kid);
    let mut accepted = false;
    for _ in 0..16 {
        if works(&stack, &token).await {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(accepted, "verifiers never learned the new key");
    drop(stack);
    db.drop_database().await;
}
