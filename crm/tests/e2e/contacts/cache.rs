//! The contact lookup cache: filled per tenant, dropped by every write, merge and delete, never
//! shared between organizations.

use crm_testkit::TestStack;
use redis::AsyncCommands;
use serde_json::json;

use super::contact;

async fn cached(stack: &TestStack, tenant: &str, id: &str) -> Option<String> {
    let mut redis = stack.services.redis.get_multiplexed_async_connection().await.expect("redis");
    redis.get(format!("t:{tenant}:contact:{id}")).await.expect("get")
}

#[tokio::test]
async fn lookups_are_cached_per_tenant_and_dropped_by_writes() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Cache").await;
    let other = stack.register_org("Cache other").await;
    let ann = contact(&stack, &org, json!({ "firstName": "Ann" })).await;
    let twin = contact(&stack, &org, json!({ "firstName": "Twin", "email": "twin@example.com" })).await;
    let read = "query($id: ID!) { contact(id: $id) { firstName jobTitle deletedAt } }";

    let first = stack.subgraph("contact", Some(&org.token), read, json!({ "id": ann })).await;
    assert_eq!(first.ok()["contact"]["firstName"], "Ann");
    let value = cached(&stack, &org.tenant_id, &ann).await.expect("filled by the lookup");
    assert!(value.contains("\"first_name\":\"Ann\""), "{value}");
    let mut redis = stack.services.redis.get_multiplexed_async_connection().await.expect("redis");
    let ttl: i64 = redis.ttl(format!("t:{}:contact:{ann}", org.tenant_id)).await.expect("ttl");
    assert!((850..=900).contains(&ttl), "15 minutes: {ttl}");

    // Another organization asking for the same id neither reads nor fills this entry.
    let foreign = stack.subgraph("contact", Some(&other.token), read, json!({ "id": ann })).await;
    assert_eq!(foreign.error_codes(), ["NOT_FOUND"]);
    assert!(cached(&stack, &other.tenant_id, &ann).await.is_none());

    let writes = [
        "mutation($id: ID!) { updateContact(id: $id, input: { jobTitle: \"CTO\" }) { id } }",
        "mutation($id: ID!) { deleteContact(id: $id) { id } }",
        "mutation($id: ID!) { restoreContact(id: $id) { id } }",
    ];
    for write in writes {
        stack.subgraph("contact", Some(&org.token), read, json!({ "id": ann })).await.ok();
        assert!(cached(&stack, &org.tenant_id, &ann).await.is_some());
        stack.subgraph("contact", Some(&org.token), write, json!({ "id": ann })).await.ok();
        assert!(cached(&stack, &org.tenant_id, &ann).await.is_none(), "dropped by {write}");
    }
    let fresh = stack.subgraph("contact", Some(&org.token), read, json!({ "id": ann })).await;
    assert_eq!(fresh.ok()["contact"], json!({ "firstName": "Ann", "jobTitle": "CTO", "deletedAt": null }));

    // A merge drops the primary and the merged contacts.
    stack.subgraph("contact", Some(&org.token), read, json!({ "id": twin })).await.ok();
    let merge = "mutation($p: ID!, $o: [ID!]!) { mergeContacts(primaryId: $p, otherIds: $o) { dryRun } }";
    stack.subgraph("contact", Some(&org.token), merge, json!({ "p": ann, "o": [twin] })).await.ok();
    assert!(cached(&stack, &org.tenant_id, &ann).await.is_none());
    assert!(cached(&stack, &org.tenant_id, &twin).await.is_none());
    let merged = stack
        .subgraph(
            "contact",
            Some(&org.token),
            "query($id: ID!) { contact(id: $id) { email } }",
            json!({ "id": ann }),
        )
        .await;
    assert_eq!(merged.ok()["contact"]["email"], "twin@example.com");
}
