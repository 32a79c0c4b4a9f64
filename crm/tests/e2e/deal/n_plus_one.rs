//! N parents cost the same SQL as 5: every list and entity lookup is batched.

use crm_testkit::{Org, TestStack};
use serde_json::json;

use crate::CRM;
const NESTED: &str =
    "{ contacts(first: 50) { edges { node { firstName deals { title activities { subject } } } } } }";

/// `contacts` contacts, each with a deal and two notes on it.
async fn seed(stack: &TestStack, org: &Org, contacts: usize) {
    for n in 0..contacts {
        let contact = stack.create_contact(org, &format!("c{n}"), None).await;
        let deal = stack.create_deal(org, &format!("d{n}"), &[&contact]).await;
        for subject in ["one", "two"] {
            stack.log_note(org, &deal, subject).await;
        }
    }
}

async fn statements_for(stack: &TestStack, org: &Org, contacts: usize) -> u64 {
    let before = stack.db.statement_count();
    let response = stack.router(Some(&org.token), NESTED, json!({})).await;
    let after = stack.db.statement_count();
    let edges = response.ok()["contacts"]["edges"].as_array().expect("edges").clone();
    assert_eq!(edges.len(), contacts);
    for edge in &edges {
        assert_eq!(edge["node"]["deals"][0]["activities"].as_array().map(Vec::len), Some(2), "{edge}");
    }
    after - before
}

#[tokio::test]
async fn nested_query_costs_the_same_for_5_and_50_contacts() {
    let stack = TestStack::with_router(CRM).await;
    let small = stack.register_org("Five").await;
    let large = stack.register_org("Fifty").await;
    seed(&stack, &small, 5).await;
    seed(&stack, &large, 50).await;

    // Batches collect keys for a short window; on a loaded machine one may occasionally split in
    // two. The best of three runs shows the batching; the worst still must not grow with N.
    let (mut for_5, mut for_50, mut worst_50) = (u64::MAX, u64::MAX, 0);
    for _ in 0..3 {
        for_5 = for_5.min(statements_for(&stack, &small, 5).await);
        let run = statements_for(&stack, &large, 50).await;
        for_50 = for_50.min(run);
        worst_50 = worst_50.max(run);
    }
    assert!(worst_50 < 20, "50 contacts must never cost a statement each: {worst_50}");
    println!(
        "SQL statements for contacts(first: 50){{ deals {{ activities }} }}: 5 contacts → {for_5}, 50 contacts → {for_50}"
    );
    assert_eq!(for_5, for_50);
    // One read per subgraph level, each a scope statement plus one SELECT (the pool's counter
    // does not see BEGIN and COMMIT).
    assert!(for_5 <= 6, "expected at most 3 × (set_config + SELECT), got {for_5}");
}
