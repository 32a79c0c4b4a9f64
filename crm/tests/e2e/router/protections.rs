//! The router's own protections, as a browser or an attacker meets them: no CDN playground,
//! CSRF, no mutations over GET, depth, alias and body limits, CORS for the local app origins.

use crm_testkit::TestStack;
use crm_testkit::raw_http::{Framing, post_oversized};
use serde_json::json;

use crate::CRM;

#[tokio::test]
async fn router_refuses_what_a_browser_attack_or_a_flood_needs() {
    let stack = TestStack::with_router(CRM).await;
    let http = reqwest::Client::new();
    let url = stack.router_url();

    // No playground that needs a CDN: the web app serves GraphiQL offline at /graphiql.
    let page = http.get(&url).header("accept", "text/html").send().await.expect("sent");
    let body = page.text().await.expect("body").to_lowercase();
    assert!(!body.contains("<script"), "no CDN-loaded page at GET /graphql: {body}");

    let get_mutation = |csrf_header: bool| {
        let mut request = http
            .get(&url)
            .header("accept", "application/graphql-response+json")
            .query(&[("query", "mutation { createCompany(input: { name: \"x\" }) { id } }")]);
        if csrf_header {
            request = request.header("x-graphql-csrf", "1");
        }
        request.send()
    };
    assert_eq!(get_mutation(false).await.expect("sent").status(), 403, "a cross-site GET is refused by CSRF");
    assert_eq!(get_mutation(true).await.expect("sent").status(), 405, "no mutations over GET");

    let form_post = http
        .post(&url)
        .header("content-type", "text/plain")
        .body(json!({ "query": "{ __typename }" }).to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(form_post.status(), 403, "CSRF: a simple cross-site request is refused");

    // Contact → deals → contacts → contact → … is a real cycle in the graph: depth must be capped.
    let deep = format!(
        "{{ contacts {{ edges {{ node {{ {}id{} }} }} }} }}",
        "deals { contacts { contact { ".repeat(5),
        " } } }".repeat(5)
    );
    let too_deep = stack.router(None, &deep, json!({})).await;
    assert!(too_deep.status >= 400 && too_deep.status < 500, "{:?}", too_deep.body);
    assert!(!too_deep.error_codes().is_empty());
    let reason = too_deep.body["errors"][0]["message"].as_str().unwrap_or_default().to_lowercase();
    assert!(reason.contains("depth"), "refused for its depth: {}", too_deep.body);
    // At the limit (12: contacts, edges, node, two deals/contacts/contact turns, then deals,
    // contacts, role) the same kind of query runs.
    let org = stack.register_org("Depth").await;
    let at_limit = format!(
        "{{ contacts {{ edges {{ node {{ {}deals {{ contacts {{ role }} }}{} }} }} }} }}",
        "deals { contacts { contact { ".repeat(2),
        " } } }".repeat(2)
    );
    stack.router(Some(&org.token), &at_limit, json!({})).await.ok();

    let aliases: String = (0..31).map(|n| format!("a{n}: __typename ")).collect();
    let aliased = stack.router(None, &format!("{{ {aliases} }}"), json!({})).await;
    assert!(aliased.status >= 400 && aliased.status < 500, "{:?}", aliased.body);
    assert!(aliased.body.to_string().to_lowercase().contains("alias"), "{}", aliased.body);

    // Bodies over 2 MB are refused with 413, whether announced or streamed.
    for framing in [Framing::ContentLength, Framing::Chunked] {
        let status = post_oversized(&url, 2 * 1024 * 1024 + 1, framing).await;
        assert_eq!(status, 413, "{framing:?} body over 2 MB");
    }

    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,authorization")
            .send()
    };
    let allowed = preflight("http://localhost:5173").await.expect("sent");
    assert_eq!(
        allowed.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()),
        Some("http://localhost:5173")
    );
    let foreign = preflight("https://evil.example").await.expect("sent");
    let granted = foreign.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok());
    assert!(matches!(granted, None | Some("null")), "no CORS grant for unknown origins: {granted:?}");
}
