//! Deleting an organization: owner only, confirmed by the subdomain; it stops serving at once;
//! the purge leaves nothing of it in Postgres or Redis.

use std::time::Duration;

use crm_testkit::{TestStack, mint_role_token};
use serde_json::json;

const DELETE: &str = "mutation($s: String!) { deleteOrganization(confirmSubdomain: $s) }";

#[tokio::test]
async fn deletion_stops_service_at_once_and_the_purge_leaves_nothing() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Doomed").await;
    let tenant = uuid::Uuid::parse_str(&org.tenant_id).expect("uuid");
    stack
        .subgraph(
            "contact",
            Some(&org.token),
            "mutation { createContact(input: { firstName: \"x\" }) { id } }",
            json!({}),
        )
        .await
        .ok();
    stack.subgraph("tenant", Some(&org.token), "{ currentTenant { id } }", json!({})).await.ok(); // fills the settings cache

    let admin = mint_role_token(&stack, &org, "admin").await;
    let as_admin = stack.subgraph("tenant", Some(&admin), DELETE, json!({ "s": org.subdomain })).await;
    assert_eq!(as_admin.error_codes(), ["FORBIDDEN"]);
    let unconfirmed =
        stack.subgraph("tenant", Some(&org.token), DELETE, json!({ "s": "something-else" })).await;
    assert_eq!(unconfirmed.error_codes(), ["BAD_USER_INPUT"]);

    let deleted = stack.subgraph("tenant", Some(&org.token), DELETE, json!({ "s": org.subdomain })).await;
    assert_eq!(deleted.ok()["deleteOrganization"], true);
    for (subgraph, query) in
        [("tenant", "{ currentTenant { id } }"), ("contact", "{ contacts { edges { node { id } } } }")]
    {
        let response = stack.subgraph(subgraph, Some(&org.token), query, json!({})).await;
        assert_eq!(response.error_codes(), ["UNAUTHENTICATED"], "{subgraph} stops serving at once");
    }
    let login = stack
        .subgraph(
            "auth",
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "email": org.email, "password": org.password, "subdomain": org.subdomain } }),
        )
        .await;
    assert_eq!(login.error_codes(), ["UNAUTHENTICATED"]);

    // Within the retention period nothing is purged; after it, nothing remains.
    let kv = &stack.services.kv;
    assert_eq!(
        crm_tenant::deletion::purge_deleted(&stack.db, kv, Duration::from_secs(3600)).await.expect("purge"),
        0
    );
    crm_tenant::deletion::purge_deleted(&stack.db, kv, Duration::ZERO).await.expect("purge");
    let schemas =
        stack.count("SELECT count(*) FROM pg_namespace WHERE nspname = $1", vec![org.schema().into()]).await;
    assert_eq!(schemas, 0, "schema dropped");
    assert_eq!(stack.count("SELECT count(*) FROM crm.tenants WHERE id = $1", vec![tenant.into()]).await, 0);
    assert_eq!(
        stack.count("SELECT count(*) FROM crm.memberships WHERE tenant_id = $1", vec![tenant.into()]).await,
        0
    );
    assert_eq!(
        stack.count("SELECT count(*) FROM crm.outbox WHERE tenant_id = $1", vec![tenant.into()]).await,
        0
    );
    assert_eq!(
        stack
            .count("SELECT count(*) FROM crm.refresh_tokens WHERE tenant_id = $1", vec![tenant.into()])
            .await,
        0
    );
    let mut redis = stack.services.redis.get_multiplexed_async_connection().await.expect("redis");
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("t:{tenant}:*")).query_async(&mut redis).await.expect("keys");
    assert!(keys.is_empty(), "{keys:?}");
}
