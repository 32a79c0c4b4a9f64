//! Traces as an operator sees them: the router and the contact, deal and communication subgraphs
//! run as `crm` processes with `OTEL_EXPORTER_OTLP_ENDPOINT` naming a collector, and the nested
//! query through the router arrives there as one trace: the router's spans at the root, each
//! subgraph's request under the router's fetch, its GraphQL operation under that and its SQL
//! statements under the operation, with no value of the tenant's data in any span.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crm_testkit::otlp::{CollectedSpan, Collector};
use crm_testkit::{PrivateDatabase, TestStack};
use serde_json::json;

use crate::{CRM, start_subgraph_with};

const TRACED: [&str; 3] = ["contact", "deal", "communication"];
const NESTED: &str = "query Nested { contacts(first: 10) { edges { node { firstName deals { title activities { subject } } } } } }";
/// Written into the tenant's data; traces carry statements, never their values.
const SECRET: &str = "Zanzibarian";

#[tokio::test]
async fn a_nested_query_is_one_trace_across_the_router_and_three_subgraphs() {
    let database = PrivateDatabase::create("traces").await;
    let mut stack = TestStack::subgraphs_on(&database).await;
    let collector = Collector::start().await;
    let endpoint = collector.endpoint();
    let jwks = format!("{}/.well-known/jwks.json", stack.subgraph_url("auth"));
    // The welcome email of the registration below goes into a folder of the test's own.
    let mail = std::env::temp_dir().join(format!("crm-traces-mail-{}", uuid::Uuid::new_v4().simple()));
    let mail = mail.to_string_lossy().into_owned();
    let mut processes = Vec::new();
    let mut overrides = Vec::new();
    for name in TRACED {
        // At the default log level, where more of our spans are on than at `error`.
        let env = [
            ("JWKS_URL", jwks.as_str()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("LOG_LEVEL", "info"),
            ("MAIL_DIR", mail.as_str()),
        ];
        let (child, base) = start_subgraph_with(name, &database.url, &env).await;
        processes.push(child);
        overrides.push((name, base));
    }
    stack.route_through_with(CRM, &overrides, &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())]).await;

    let org = stack.register_org("Traced").await;
    let token = Some(org.token.as_str());
    let contact = stack
        .router(
            token,
            "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }",
            json!({ "i": { "firstName": SECRET, "lastName": "Buyer", "email": "buyer@traced.example.com" } }),
        )
        .await;
    let contact_id = contact.ok()["createContact"]["id"].as_str().expect("contact").to_owned();
    let deal = stack
        .router(
            token,
            "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
            json!({ "i": { "title": format!("{SECRET} deal"), "currency": "EUR", "contactIds": [contact_id] } }),
        )
        .await;
    let deal_id = deal.ok()["createDeal"]["id"].as_str().expect("deal").to_owned();
    stack
        .router(
            token,
            "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }",
            json!({ "i": { "type": "CALL", "subject": format!("{SECRET} call"), "dealId": deal_id } }),
        )
        .await
        .ok();

    let answer = stack.router(token, NESTED, json!({})).await;
    let node = &answer.ok()["contacts"]["edges"][0]["node"];
    assert_eq!(node["deals"][0]["activities"][0]["subject"], format!("{SECRET} call"));

    let trace = wait_for_trace(&collector).await;
    let services: BTreeSet<&str> = trace.iter().map(|span| span.service.as_str()).collect();
    assert_eq!(
        services,
        BTreeSet::from(["crm-communication", "crm-contact", "crm-deal", "crm-router"]),
        "{}",
        tree(&trace)
    );

    let by_id: HashMap<&str, &CollectedSpan> =
        trace.iter().map(|span| (span.span_id.as_str(), span)).collect();
    let roots: Vec<&CollectedSpan> = trace.iter().filter(|span| span.parent_span_id.is_empty()).collect();
    assert_eq!(roots.len(), 1, "one root:\n{}", tree(&trace));
    assert_eq!(roots[0].service, "crm-router", "the router starts the trace:\n{}", tree(&trace));
    for span in &trace {
        if !span.parent_span_id.is_empty() {
            assert!(
                by_id.contains_key(span.parent_span_id.as_str()),
                "{} has its parent in the trace",
                span.name
            );
        }
    }
    for name in TRACED {
        let service = format!("crm-{name}");
        let requests: Vec<_> = trace
            .iter()
            .filter(|s| s.service == service && s.name == "POST /graphql" && s.kind == 2)
            .collect();
        assert!(!requests.is_empty(), "{service} served the request:\n{}", tree(&trace));
        for request in requests {
            let parent = by_id[request.parent_span_id.as_str()];
            assert_eq!(parent.service, "crm-router", "{service}'s request continues the router's fetch");
        }
        let statements: Vec<_> = trace
            .iter()
            .filter(|s| {
                s.service == service && s.attributes.get("db.system.name").is_some_and(|v| v == "postgresql")
            })
            .collect();
        assert!(!statements.is_empty(), "{service} shows its SQL:\n{}", tree(&trace));
        for statement in statements {
            let parent = by_id[statement.parent_span_id.as_str()];
            assert!(
                parent.service == service && parent.attributes.contains_key("graphql.operation.name"),
                "{service}'s statement {:?} sits under its GraphQL operation, not {:?}",
                statement.name,
                parent.name
            );
            assert!(statement.attributes.get("db.query.text").is_some_and(|sql| !sql.is_empty()));
        }
    }
    // Nowhere, not in the writes' traces either, is a value of the tenant's data.
    let everything = collector.spans();
    assert!(everything.iter().any(|span| span.name == "INSERT"), "the writes were traced too");
    for span in &everything {
        for (key, value) in &span.attributes {
            assert!(!value.contains(SECRET), "{}'s {key} carries the tenant's data: {value}", span.name);
        }
    }
    println!("the nested query's trace:\n{}", tree(&trace));
    for mut child in processes {
        child.kill().await.ok();
    }
    drop(stack);
    std::fs::remove_dir_all(&mail).ok();
    database.drop_database().await;
}

/// The trace of the nested query: the one where the router names the operation `Nested`, once
/// it is whole (each process exports in batches, so a trace arrives in parts): every parent in
/// it, and each subgraph's request, operation and statements.
async fn wait_for_trace(collector: &Collector) -> Vec<CollectedSpan> {
    let started = Instant::now();
    loop {
        let spans = collector.spans();
        let nested = spans.iter().find(|span| {
            span.service == "crm-router" && span.attributes.values().any(|value| value == "Nested")
        });
        if let Some(nested) = nested {
            let trace: Vec<CollectedSpan> =
                spans.iter().filter(|span| span.trace_id == nested.trace_id).cloned().collect();
            if whole(&trace) || started.elapsed() > Duration::from_secs(30) {
                return trace;
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            let seen: BTreeSet<String> =
                spans.iter().map(|span| format!("{}: {}", span.service, span.name)).collect();
            panic!("no trace of the nested query arrived; spans seen: {seen:#?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn whole(trace: &[CollectedSpan]) -> bool {
    let ids: BTreeSet<&str> = trace.iter().map(|span| span.span_id.as_str()).collect();
    let parents_known =
        trace.iter().all(|span| span.parent_span_id.is_empty() || ids.contains(span.parent_span_id.as_str()));
    let complete = TRACED.iter().all(|name| {
        let ours: Vec<&CollectedSpan> =
            trace.iter().filter(|span| span.service == format!("crm-{name}")).collect();
        ours.iter().any(|span| span.name == "POST /graphql")
            && ours.iter().any(|span| span.attributes.contains_key("graphql.operation.name"))
            && ours.iter().any(|span| span.attributes.contains_key("db.query.text"))
    });
    parents_known && complete
}

/// The span tree, indented, each line `service: name (µs)`, children in start order.
fn tree(trace: &[CollectedSpan]) -> String {
    fn walk(trace: &[CollectedSpan], parent: &str, depth: usize, out: &mut String) {
        let mut children: Vec<&CollectedSpan> =
            trace.iter().filter(|span| span.parent_span_id == parent).collect();
        children.sort_by_key(|span| span.start_unix_nanos);
        for span in children {
            out.push_str(&format!(
                "{}{}: {} ({} µs)\n",
                "  ".repeat(depth),
                span.service,
                span.name,
                span.duration_micros()
            ));
            walk(trace, &span.span_id, depth + 1, out);
        }
    }
    let mut out = String::new();
    walk(trace, "", 0, &mut out);
    out
}
