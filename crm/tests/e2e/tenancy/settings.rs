//! Organization settings: validation, the admin-only guard, the 24-hour Redis cache with
//! invalidation on write, and reads that fall back to Postgres when Redis cannot answer.

use crm_platform::TenantId;
use crm_platform::kv::Kv;
use crm_testkit::{TestStack, mint_role_token};
use serde_json::json;

const UPDATE: &str = "mutation($i: UpdateTenantSettingsInput!) { updateTenantSettings(input: $i) { name timezone currency locale fiscalYearStartMonth } }";
const CURRENT: &str = "{ currentTenant { name timezone currency locale fiscalYearStartMonth } }";

#[tokio::test]
async fn settings_are_validated_guarded_and_cached() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Settings").await;
    let defaults = stack.subgraph("tenant", Some(&org.token), CURRENT, json!({})).await;
    assert_eq!(
        defaults.ok()["currentTenant"],
        json!({ "name": "Settings", "timezone": "UTC", "currency": "USD", "locale": "en-US", "fiscalYearStartMonth": 1 })
    );

    // The read filled the tenant's cache entry, for 24 hours.
    let key = format!("t:{}:settings", org.tenant_id);
    let mut redis = stack.services.redis.get_multiplexed_async_connection().await.expect("redis");
    let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut redis).await.expect("ttl");
    assert!(ttl > 86_000 && ttl <= 86_400, "{ttl}");

    let changed = stack
        .subgraph("tenant", Some(&org.token), UPDATE, json!({ "i": { "name": "Renamed", "timezone": "Europe/Paris", "currency": "eur", "locale": "fr-FR", "fiscalYearStartMonth": 4 } }))
        .await;
    let expected = json!({ "name": "Renamed", "timezone": "Europe/Paris", "currency": "EUR", "locale": "fr-FR", "fiscalYearStartMonth": 4 });
    assert_eq!(changed.ok()["updateTenantSettings"], expected);
    let after = stack.subgraph("tenant", Some(&org.token), CURRENT, json!({})).await;
    assert_eq!(after.ok()["currentTenant"], expected, "the write invalidated the cached copy");

    for (input, field) in [
        (json!({ "timezone": "Mars/Olympus" }), "timezone"),
        (json!({ "currency": "ABC" }), "currency"),
        (json!({ "locale": "english" }), "locale"),
        (json!({ "fiscalYearStartMonth": 13 }), "fiscalYearStartMonth"),
        (json!({ "name": "" }), "name"),
    ] {
        let response = stack.subgraph("tenant", Some(&org.token), UPDATE, json!({ "i": input })).await;
        assert_eq!(response.error_codes(), ["BAD_USER_INPUT"], "{}", response.body);
        assert_eq!(response.body["errors"][0]["extensions"]["field"], field);
    }

    for (role, allowed) in [("viewer", false), ("member", false), ("admin", true), ("owner", true)] {
        let token = mint_role_token(&stack, &org, role).await;
        let response =
            stack.subgraph("tenant", Some(&token), UPDATE, json!({ "i": { "locale": "de-DE" } })).await;
        if allowed {
            response.ok();
        } else {
            assert_eq!(response.error_codes(), ["FORBIDDEN"], "{role}: {}", response.body);
        }
    }
}

#[tokio::test]
async fn settings_reads_fall_back_to_postgres_without_redis() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("No cache").await;
    let dead = Kv::new(redis::Client::open("redis://127.0.0.1:1").expect("url"));
    let tenant = TenantId(uuid::Uuid::parse_str(&org.tenant_id).expect("uuid"));
    let loaded =
        crm_tenant::settings::load(&stack.db, &dead, tenant).await.expect("falls back").expect("exists");
    assert_eq!(loaded.name, "No cache");
    let refused = crm_tenant::settings::update(&stack.db, &dead, tenant, Default::default()).await;
    assert!(refused.is_err(), "a write that cannot invalidate the cache is refused");
}

#[tokio::test]
async fn t11_a_warm_cache_never_answers_another_tenant() {
    let stack = TestStack::subgraphs().await;
    let a = stack.register_org("Cache A").await;
    let b = stack.register_org("Cache B").await;
    let current = "{ currentTenant { id name } }";
    let a_view = stack.subgraph("tenant", Some(&a.token), current, json!({})).await;
    assert_eq!(a_view.ok()["currentTenant"]["name"], "Cache A");
    let mut redis = stack.services.redis.get_multiplexed_async_connection().await.expect("redis");
    let cached: Option<String> = redis::cmd("GET")
        .arg(format!("t:{}:settings", a.tenant_id))
        .query_async(&mut redis)
        .await
        .expect("get");
    assert!(cached.is_some_and(|c| c.contains("Cache A")), "A's entry is under A's key");

    // Same query, other tenant: B's own data, from B's own key.
    let b_view = stack.subgraph("tenant", Some(&b.token), current, json!({})).await;
    assert_eq!(b_view.ok()["currentTenant"], json!({ "id": b.tenant_id, "name": "Cache B" }));
    let b_cached: Option<String> = redis::cmd("GET")
        .arg(format!("t:{}:settings", b.tenant_id))
        .query_async(&mut redis)
        .await
        .expect("get");
    assert!(b_cached.is_some_and(|c| c.contains("Cache B") && !c.contains("Cache A")));
}
