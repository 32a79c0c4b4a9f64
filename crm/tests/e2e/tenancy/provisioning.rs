//! An organization fully exists or not at all: failed and racing registrations leave no row and
//! no schema behind.

use crm_testkit::TestStack;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

const REGISTER: &str =
    "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }";

fn registration(subdomain: &str, email: &str) -> serde_json::Value {
    json!({ "i": { "name": "Race", "subdomain": subdomain, "owner": { "email": email, "password": "a long enough password", "name": "Owner" } } })
}

/// Tenant schemas without a committed tenant row: must always be none.
async fn orphan_schemas(stack: &TestStack) -> Vec<String> {
    let rows = stack
        .db
        .conn()
        .query_all(Statement::from_string(
            DbBackend::Postgres,
            "SELECT nspname FROM pg_namespace WHERE nspname ~ '^tenant_[0-9a-f]{32}$'
               AND EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = nspname AND tablename = 'deals')
             EXCEPT SELECT 'tenant_' || replace(id::text, '-', '') FROM crm.tenants",
        ))
        .await
        .expect("query");
    rows.iter().map(|r| r.try_get_by_index::<String>(0).expect("name")).collect()
}

async fn tenant_rows(stack: &TestStack, subdomain: &str) -> i64 {
    stack.count("SELECT count(*) FROM crm.tenants WHERE subdomain = $1", vec![subdomain.into()]).await
}

#[tokio::test]
async fn concurrent_registrations_of_one_subdomain_yield_one_organization() {
    let stack = TestStack::subgraphs().await;
    let subdomain = format!("race-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let attempts = (0..4).map(|n| {
        let email = format!("owner{n}@{subdomain}.example.com");
        let stack = &stack;
        let subdomain = subdomain.clone();
        // Fifty different clients: one address may register only ten per hour.
        let url = format!("{}/graphql", stack.subgraph_url("tenant"));
        async move {
            let from = crm_testkit::random_client_address();
            stack.post_from(&from, &url, None, REGISTER, registration(&subdomain, &email)).await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let codes: Vec<Vec<String>> = results.iter().map(|r| r.error_codes()).collect();
    assert_eq!(codes.iter().filter(|c| c.is_empty()).count(), 1, "exactly one succeeds: {codes:?}");
    assert_eq!(codes.iter().filter(|c| c.as_slice() == ["CONFLICT"]).count(), 3, "{codes:?}");
    assert_eq!(tenant_rows(&stack, &subdomain).await, 1);
    assert_eq!(orphan_schemas(&stack).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_failed_registration_leaves_nothing() {
    let stack = TestStack::subgraphs().await;
    let first = stack.register_org("First").await;
    // Same owner email, new subdomain: the user insert fails after the tenant row was written.
    let subdomain = format!("fail-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let response = stack.subgraph("tenant", None, REGISTER, registration(&subdomain, &first.email)).await;
    assert_eq!(response.error_codes(), ["CONFLICT"]);
    assert_eq!(tenant_rows(&stack, &subdomain).await, 0);
    assert_eq!(orphan_schemas(&stack).await, Vec::<String>::new());

    for (input, field) in [
        (registration("ab", "x@example.com"), "subdomain"),
        (registration("www", "x@example.com"), "subdomain"),
        (registration("Upper-Case", "x@example.com"), "subdomain"),
        (registration(&format!("ok-{}", &subdomain[5..]), "not-an-email"), "owner.email"),
    ] {
        let response = stack.subgraph("tenant", None, REGISTER, input).await;
        assert_eq!(response.error_codes(), ["BAD_USER_INPUT"], "{}", response.body);
        assert_eq!(response.body["errors"][0]["extensions"]["field"], field);
    }
}

#[tokio::test]
async fn fifty_organizations_register_concurrently() {
    let stack = TestStack::subgraphs().await;
    let batch = uuid::Uuid::new_v4().simple().to_string();
    let attempts = (0..50).map(|n| {
        let subdomain = format!("many-{}-{n}", &batch[..8]);
        let email = format!("owner@{subdomain}.example.com");
        let stack = &stack;
        // Fifty different clients: one address may register only ten per hour.
        let url = format!("{}/graphql", stack.subgraph_url("tenant"));
        async move {
            let from = crm_testkit::random_client_address();
            stack.post_from(&from, &url, None, REGISTER, registration(&subdomain, &email)).await
        }
    });
    let results = futures::future::join_all(attempts).await;
    for result in &results {
        // Answered, with the organization (a cut-off request has no errors to show).
        assert!(result.ok()["registerOrganization"]["tenant"]["id"].is_string(), "{}", result.body);
    }
    let whole = stack
        .count(
            "SELECT count(*) FROM crm.tenants t
             JOIN pg_namespace n ON n.nspname = 'tenant_' || replace(t.id::text, '-', '')
             WHERE t.subdomain LIKE $1",
            vec![format!("many-{}-%", &batch[..8]).into()],
        )
        .await;
    assert_eq!(whole, 50, "50 rows, each with its schema");
    assert_eq!(orphan_schemas(&stack).await, Vec::<String>::new());
}

#[tokio::test]
async fn one_address_registers_at_most_ten_organizations_an_hour() {
    let stack = TestStack::subgraphs().await;
    let batch = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let url = format!("{}/graphql", stack.subgraph_url("tenant"));
    let input = |n: u32| {
        let subdomain = format!("limit-{batch}-{n}");
        registration(&subdomain, &format!("owner@{subdomain}.example.com"))
    };
    let address = crm_testkit::random_client_address();
    for n in 0..10 {
        stack.post_from(&address, &url, None, REGISTER, input(n)).await.ok();
    }
    let refused = stack.post_from(&address, &url, None, REGISTER, input(10)).await;
    assert_eq!(refused.error_codes(), ["RATE_LIMITED"], "{}", refused.body);
    assert!(refused.body["errors"][0]["extensions"]["retryAfter"].as_u64().is_some_and(|s| s > 3000));
    let message = refused.body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("registrations from this address"), "{message}");
    // Invalid input is refused before it counts; another address is unaffected.
    let invalid =
        stack.post_from(&address, &url, None, REGISTER, registration("-bad-", "x@example.com")).await;
    assert_eq!(invalid.error_codes(), ["BAD_USER_INPUT"]);
    let other = crm_testkit::random_client_address();
    stack.post_from(&other, &url, None, REGISTER, input(10)).await.ok();
}
