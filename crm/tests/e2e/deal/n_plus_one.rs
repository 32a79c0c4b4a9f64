//! N parents cost the same SQL as 5: every list and entity lookup is batched.

use crm_testkit::{Org, TestStack};
use serde_json::json;

use crate::CRM;
const NESTED: &str = "{ contacts(first: 50) { edges { node { firstName deals { title stage { name } activities { subject } } } } } }";

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

    // A batch closes when the request's poll ends, not after a window: it never splits, so
    // every run costs the same, whatever the machine's load.
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push((statements_for(&stack, &small, 5).await, statements_for(&stack, &large, 50).await));
    }
    let (for_5, for_50) = runs[0];
    println!(
        "SQL statements for contacts(first: 50){{ deals {{ stage activities }} }}: 5 contacts → {for_5}, 50 contacts → {for_50}"
    );
    assert!(runs.iter().all(|&(five, fifty)| five == for_5 && fifty == for_5), "{runs:?}");
    // Per subgraph one read transaction shared by its levels: a scope statement, then one SELECT
    // per level (the pool's counter does not see BEGIN and COMMIT): contacts 2, deals with their
    // stages 3, activities 2.
    assert!(for_5 <= 7, "expected at most 7 statements, got {for_5}");
}
