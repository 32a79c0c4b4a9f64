//! Tenant isolation through every access path: by id, through federation `_entities` straight
//! at the subgraphs, and in lists. Tenant A's data must not exist for tenant B.

use crm_testkit::TestStack;
use serde_json::{Value, json};

use crate::CRM;

fn ids(list: &Value) -> Vec<String> {
    list["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn another_tenant_cannot_see_anything() {
    let stack = TestStack::with_router(CRM).await;
    let a = stack.register_org("Tenant A").await;
    let b = stack.register_org("Tenant B").await;
    let company = stack
        .create(
            "contact",
            &a.token,
            "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }",
            json!({ "name": "A Corp" }),
        )
        .await;
    let contact = stack
        .create(
            "contact",
            &a.token,
            "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }",
            json!({ "firstName": "Alice", "companyId": company }),
        )
        .await;
    let deal = stack
        .create(
            "deal",
            &a.token,
            "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
            json!({ "title": "A deal", "currency": "USD", "contactIds": [contact] }),
        )
        .await;
    stack
        .create(
            "communication",
            &a.token,
            "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }",
            json!({ "type": "NOTE", "subject": "secret", "dealId": deal, "contactId": contact }),
        )
        .await;
    let b_contact = stack
        .create(
            "contact",
            &b.token,
            "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }",
            json!({ "firstName": "Bob" }),
        )
        .await;

    // By id: a foreign id answers exactly like an id that never existed.
    let missing = uuid::Uuid::now_v7().to_string();
    for (query, foreign) in [
        ("query($id: ID!) { contact(id: $id) { id firstName } }", &contact),
        ("query($id: ID!) { company(id: $id) { id name } }", &company),
        ("query($id: ID!) { deal(id: $id) { id title } }", &deal),
    ] {
        let seen_by_b = stack.router(Some(&b.token), query, json!({ "id": foreign })).await;
        let never_existed = stack.router(Some(&b.token), query, json!({ "id": missing })).await;
        assert_eq!(seen_by_b.error_codes(), ["NOT_FOUND"], "{query}");
        assert_eq!(seen_by_b.status, never_existed.status);
        assert_eq!(seen_by_b.body, never_existed.body, "a foreign id must look like a missing one");
    }
    // A still sees its own contact, so the lookups above were not vacuous.
    let own = stack
        .router(
            Some(&a.token),
            "query($id: ID!) { contact(id: $id) { firstName } }",
            json!({ "id": contact }),
        )
        .await;
    assert_eq!(own.ok()["contact"]["firstName"], "Alice");

    // Federation entity lookups straight at the subgraphs, with B's token and A's ids.
    let contacts = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Contact { id firstName } ... on Company { id name } } }";
    let contact_rep =
        json!([{ "__typename": "Contact", "id": contact }, { "__typename": "Company", "id": company }]);
    let as_b = stack.subgraph("contact", Some(&b.token), contacts, json!({ "r": contact_rep })).await;
    assert_eq!(as_b.ok()["_entities"], json!([null, null]));
    let as_a = stack.subgraph("contact", Some(&a.token), contacts, json!({ "r": contact_rep })).await;
    assert_eq!(as_a.ok()["_entities"][0]["firstName"], "Alice");
    let contact_rep = json!([{ "__typename": "Contact", "id": contact }]);
    let deals = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Deal { id title } } }";
    let deal_rep = json!([{ "__typename": "Deal", "id": deal }]);
    let as_b = stack.subgraph("deal", Some(&b.token), deals, json!({ "r": deal_rep })).await;
    assert_eq!(as_b.ok()["_entities"], json!([null]));
    // Fields other subgraphs add to A's entities read B's schema, where A's rows do not exist.
    let deals_of =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Contact { deals { id } } } }";
    let as_b = stack.subgraph("deal", Some(&b.token), deals_of, json!({ "r": contact_rep })).await;
    assert_eq!(as_b.ok()["_entities"], json!([{ "deals": [] }]));
    let timeline =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Deal { activities { subject } } } }";
    let as_b = stack.subgraph("communication", Some(&b.token), timeline, json!({ "r": deal_rep })).await;
    assert_eq!(as_b.ok()["_entities"], json!([{ "activities": [] }]));
    let as_a = stack.subgraph("communication", Some(&a.token), timeline, json!({ "r": deal_rep })).await;
    assert_eq!(as_a.ok()["_entities"], json!([{ "activities": [{ "subject": "secret" }] }]));

    // Lists show only the caller's rows.
    let lists = "{ contacts(first: 100) { edges { node { id } } } companies(first: 100) { edges { node { id } } } deals(first: 100) { edges { node { id } } } pipelines { id } }";
    let b_view = stack.router(Some(&b.token), lists, json!({})).await;
    let b_data = b_view.ok();
    assert_eq!(ids(&b_data["contacts"]), [b_contact]);
    assert!(ids(&b_data["companies"]).is_empty());
    assert!(ids(&b_data["deals"]).is_empty());
    let a_view = stack.router(Some(&a.token), lists, json!({})).await;
    let a_data = a_view.ok();
    assert_eq!(ids(&a_data["contacts"]), std::slice::from_ref(&contact));
    assert_eq!(ids(&a_data["deals"]), std::slice::from_ref(&deal));
    assert_ne!(a_data["pipelines"], b_data["pipelines"], "each tenant has its own default pipeline");

    // Writes cannot reach across either: B cannot attach A's contact or move A's deal.
    let attach = stack
        .router(
            Some(&b.token),
            "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
            json!({ "i": { "title": "steal", "currency": "USD", "contactIds": [contact] } }),
        )
        .await;
    assert_eq!(attach.error_codes(), ["BAD_USER_INPUT"]);
    let stage = b_data["pipelines"][0]["id"].clone();
    let move_foreign = stack
        .router(
            Some(&b.token),
            "mutation($d: ID!, $s: ID!) { moveDeal(id: $d, stageId: $s) { id } }",
            json!({ "d": deal, "s": stage }),
        )
        .await;
    assert_eq!(move_foreign.error_codes(), ["NOT_FOUND"]);
    let b_after =
        stack.router(Some(&b.token), "{ deals(first: 10) { edges { node { id } } } }", json!({})).await;
    assert!(ids(&b_after.ok()["deals"]).is_empty(), "the failed createDeal left nothing behind");
}
