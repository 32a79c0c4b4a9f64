//! Bad input gets a clear client error with a code — never a 500, never internals, never a
//! half-applied write — and the HTTP surface refuses what it must (CSRF, batches, big bodies).

use crm_testkit::TestStack;
use crm_testkit::raw_http::{Framing, post_oversized};
use serde_json::{Value, json};

use crate::CRM;

fn assert_client_error(label: &str, status: u16, body: &Value) {
    assert!((400..500).contains(&status), "{label}: HTTP {status} {body}");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("{label}: no errors in {body}"));
    for error in errors {
        assert!(error["extensions"]["code"].is_string(), "{label}: error without a code: {error}");
    }
    let text = body.to_string().to_lowercase();
    for leak in ["sqlx", "postgres", "panicked", "stack backtrace", "relation \""] {
        assert!(!text.contains(leak), "{label}: response leaks internals: {body}");
    }
}

#[tokio::test]
async fn malformed_operations_are_client_errors_with_codes() {
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Bad input").await;
    let token = Some(org.token.as_str());
    let cases = [
        ("syntax error", "{ contacts(first: 5) { edges ", json!({})),
        ("unknown field", "{ contactz }", json!({})),
        (
            "wrong variable type",
            "query($n: Int) { contacts(first: $n) { edges { node { id } } } }",
            json!({ "n": "ten" }),
        ),
        ("missing variable", "query($id: ID!) { contact(id: $id) { id } }", json!({})),
        (
            "unknown enum value",
            "mutation { logActivity(input: { type: TELEGRAM, subject: \"x\" }) { id } }",
            json!({}),
        ),
        (
            "i64 overflow",
            "query($n: Int) { contacts(first: $n) { edges { node { id } } } }",
            json!({ "n": 9_223_372_036_854_775_807_i64 }),
        ),
    ];
    for (label, query, variables) in cases {
        let via_router = stack.router(token, query, variables.clone()).await;
        if label == "i64 overflow" {
            // Hive Router 0.2.19 does not range-check Int variables; the subgraph rejects the
            // value with a coded error, which the router relays as a field error (HTTP 200).
            assert_eq!(via_router.error_codes(), ["GRAPHQL_VALIDATION_FAILED"], "{}", via_router.body);
        } else {
            assert_client_error(&format!("{label} via router"), via_router.status, &via_router.body);
        }
        let direct = stack.subgraph("contact", token, query, variables).await;
        if label == "missing variable" {
            // The router rejects this before any subgraph sees it; async-graphql finds it only
            // while executing, so the subgraph answers 200 with a coded field error.
            assert_eq!(direct.error_codes(), ["BAD_USER_INPUT"], "{}", direct.body);
        } else {
            assert_client_error(&format!("{label} at subgraph"), direct.status, &direct.body);
        }
        assert!(!direct.body.to_string().contains("Did you mean"), "{label}: suggestions leak the schema");
    }
}

#[tokio::test]
async fn invalid_values_are_bad_user_input_and_write_nothing() {
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Validation").await;
    let token = Some(org.token.as_str());
    let create_contact = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }";
    let create_deal = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }";
    let cases = [
        (create_contact, json!({ "firstName": "" })),
        (create_contact, json!({ "firstName": "nul\u{0}byte" })),
        (create_contact, json!({ "firstName": "x".repeat(101) })),
        (create_contact, json!({ "firstName": "Ann", "email": "not-an-email" })),
        (create_contact, json!({ "firstName": "Ann", "companyId": "nope" })),
        (create_contact, json!({ "firstName": "Ann", "companyId": uuid::Uuid::now_v7() })),
        (create_contact, json!({ "firstName": "Ann", "customFields": [1, 2] })),
        (create_deal, json!({ "title": "d", "currency": "dollars" })),
        (create_deal, json!({ "title": "d", "currency": "USD", "amount": "-5" })),
        (create_deal, json!({ "title": "d", "currency": "USD", "contactIds": [uuid::Uuid::now_v7()] })),
        (create_deal, json!({ "title": "d", "currency": "USD", "stageId": uuid::Uuid::now_v7() })),
    ];
    for (mutation, input) in cases {
        let response = stack.router(token, mutation, json!({ "i": input })).await;
        assert_eq!(response.error_codes(), ["BAD_USER_INPUT"], "{input}: {}", response.body);
        assert!(response.body["errors"][0]["extensions"]["field"].is_string(), "{}", response.body);
    }
    let huge_page =
        stack.router(token, "{ contacts(first: 99999999) { edges { node { id } } } }", json!({})).await;
    assert_eq!(huge_page.error_codes(), ["BAD_USER_INPUT"]);

    let lists = stack
        .router(token, "{ contacts { edges { node { id } } } deals { edges { node { id } } } }", json!({}))
        .await;
    let data = lists.ok();
    assert_eq!(data["contacts"]["edges"], json!([]), "no failed write left a contact");
    assert_eq!(data["deals"]["edges"], json!([]), "no failed write left a deal");

    // A shared email is a duplicate signal, not a wall (see the contacts suite).
    let unknown_field = json!({ "firstName": "Ann", "customFields": { "undefined": 1 } });
    let response = stack.router(token, create_contact, json!({ "i": unknown_field })).await;
    assert_eq!(response.body["errors"][0]["extensions"]["field"], "customFields.undefined");
}

#[tokio::test]
async fn subgraph_http_surface_is_closed_by_default() {
    let stack = TestStack::subgraphs().await;
    let http = reqwest::Client::new();
    let url = format!("{}/graphql", stack.subgraph_url("tenant"));
    let mutation = r#"mutation { registerOrganization(input: { name: "x", subdomain: "csrf-probe", owner: { email: "a@b.co", password: "long enough pw", name: "x" } }) { tenant { id } } }"#;

    let get = http.get(&url).query(&[("query", mutation)]).send().await.expect("sent");
    assert_eq!(get.status(), 405, "no mutations over GET");
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
    {
        let simple = http
            .post(&url)
            .header("content-type", content_type)
            .body(json!({ "query": mutation }).to_string())
            .send()
            .await
            .expect("sent");
        assert_eq!(simple.status(), 415, "{content_type} posts are refused (CSRF)");
    }
    let batch = http
        .post(&url)
        .json(&json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]))
        .send()
        .await
        .expect("sent");
    assert_eq!(batch.status(), 400, "batches are refused");
    // Bodies over 2 MiB are refused with 413, whether announced or streamed.
    for framing in [Framing::ContentLength, Framing::Chunked] {
        let status = post_oversized(&url, 3 * 1024 * 1024, framing).await;
        assert_eq!(status, 413, "{framing:?} body over 2 MiB");
    }
    let fits = post_oversized(&url, 1024 * 1024, Framing::ContentLength).await;
    assert_eq!(fits, 400, "1 MiB of padding is read (and is not JSON): the limit is what refused");

    // Depth: introspection nests arbitrarily, so it makes a query deeper than the limit.
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(14),
        " }".repeat(14)
    );
    let response = stack.subgraph("contact", None, &deep, json!({})).await;
    assert_eq!(response.status, 400, "{}", response.body);
    let legacy = http
        .post(format!("{}/graphql", stack.subgraph_url("contact")))
        .json(&json!({ "query": deep }))
        .send()
        .await
        .expect("sent");
    assert_eq!(legacy.status(), 200, "application/json clients get request errors with 200");
    assert_eq!(response.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    assert!(response.body.to_string().contains("nested too deep"), "{}", response.body);

    let registered = http.post(&url).json(&json!({ "query": "{ __typename }" })).send().await.expect("sent");
    assert_eq!(registered.status(), 200, "plain JSON POST works");
}

/// RELIABILITY G5: ten thousand directives, a megabyte of tokens and ten thousand nested braces
/// are refused with a code, by the router and by a subgraph reached directly, before any
/// resolver runs, and quickly.
#[tokio::test]
async fn directive_token_and_nesting_floods_are_refused_by_router_and_subgraph() {
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Floods").await;
    let token = Some(org.token.as_str());
    let directives = format!("{{ __typename {} }}", "@include(if: true) ".repeat(10_000));
    let tokens = format!("{{ {} }}", "__typename ".repeat(100_000));
    let nested = format!("{}{}", "{ __typename ".repeat(10_000), "}".repeat(10_000));
    let deep_selection = format!(
        "{}__typename{}",
        "{ a: __schema { types { fields { type ".repeat(500),
        " } } } }".repeat(500)
    );
    let targets = [stack.router_url(), format!("{}/graphql", stack.subgraph_url("contact"))];
    for (label, document) in [
        ("directives", &directives),
        ("tokens", &tokens),
        ("nesting", &nested),
        ("deep selection", &deep_selection),
    ] {
        for target in &targets {
            let started = std::time::Instant::now();
            let response = stack.post(target, token, document, json!({})).await;
            let took = started.elapsed();
            assert_client_error(&format!("{label} at {target}"), response.status, &response.body);
            // Refused before any work: in milliseconds, even on a loaded machine well within 5 s.
            assert!(took < std::time::Duration::from_secs(5), "{label} at {target}: answered after {took:?}");
        }
    }
}
