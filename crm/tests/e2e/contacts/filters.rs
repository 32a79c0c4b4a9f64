//! Every filter operator on every field type, custom fields and relations in both directions,
//! and/or/not nesting, sorts (custom fields, related company) and keyset pages that stay stable
//! while rows are inserted.

use crm_testkit::{Org, TestStack};
use serde_json::{Value, json};

use super::{company, contact, custom_field, names, refusal};

struct World {
    org: Org,
    acme: String,
    cid_created_at: String,
}

async fn world(stack: &TestStack) -> World {
    let org = stack.register_org("Filters").await;
    let fields = [
        json!({ "object": "CONTACT", "key": "score", "label": "Score", "type": "NUMBER" }),
        json!({ "object": "CONTACT", "key": "tier", "label": "Tier", "type": "SELECT",
            "options": [{ "value": "gold", "label": "Gold" }, { "value": "silver", "label": "Silver" }] }),
        json!({ "object": "CONTACT", "key": "joined", "label": "Joined", "type": "DATE" }),
        json!({ "object": "CONTACT", "key": "active", "label": "Active", "type": "BOOLEAN" }),
        json!({ "object": "CONTACT", "key": "topics", "label": "Topics", "type": "MULTI_SELECT",
            "options": [{ "value": "api", "label": "API" }, { "value": "ui", "label": "UI" }] }),
        json!({ "object": "CONTACT", "key": "budget", "label": "Budget", "type": "CURRENCY" }),
        json!({ "object": "CONTACT", "key": "nickname", "label": "Nickname", "type": "TEXT" }),
        json!({ "object": "COMPANY", "key": "region", "label": "Region", "type": "TEXT" }),
    ];
    for field in fields {
        custom_field(stack, &org, field).await;
    }
    let acme = company(
        stack,
        &org,
        json!({ "name": "Acme", "industry": "Software", "size": 50, "customFields": { "region": "EU" } }),
    )
    .await;
    let globex = company(stack, &org, json!({ "name": "Globex", "industry": "Retail", "size": 500 })).await;
    let initech = company(
        stack,
        &org,
        json!({ "name": "Initech", "industry": "Software", "size": 10, "parentId": acme }),
    )
    .await;
    contact(stack, &org, json!({ "firstName": "Ann", "lastName": "Lee", "email": "ann@a.example", "jobTitle": "CTO",
        "tags": ["vip", "eu"], "lifecycleStage": "CUSTOMER", "source": "web", "companyId": acme, "ownerId": org.user_id,
        "customFields": { "score": 10, "tier": "gold", "joined": "2024-01-10", "active": true, "topics": ["api", "ui"],
            "budget": { "amount": "100", "currency": "EUR" }, "nickname": "Annie" } })).await;
    contact(stack, &org, json!({ "firstName": "Bob", "lastName": "Stone", "email": "bob@b.example",
        "additionalEmails": ["bob@acme.example"], "jobTitle": "Engineer", "tags": ["eu"], "lifecycleStage": "LEAD",
        "companyId": acme, "customFields": { "score": 5, "tier": "silver", "joined": "2025-06-01", "active": false, "topics": ["ui"] } })).await;
    let cid = contact(
        stack,
        &org,
        json!({ "firstName": "Cid", "lastName": "Moss", "lifecycleStage": "PROSPECT",
        "companyId": globex, "customFields": { "score": 20, "joined": "2023-03-03" } }),
    )
    .await;
    contact(
        stack,
        &org,
        json!({ "firstName": "Dee", "lastName": "Park", "email": "dee@d.example", "tags": ["vip"],
        "lifecycleStage": "CHURNED" }),
    )
    .await;
    contact(
        stack,
        &org,
        json!({ "firstName": "Eve", "email": "eve@acme.example", "companyId": initech,
        "customFields": { "tier": "gold", "topics": ["api"] } }),
    )
    .await;
    let read = stack
        .subgraph(
            "contact",
            Some(&org.token),
            "query($id: ID!) { contact(id: $id) { createdAt } }",
            json!({ "id": cid }),
        )
        .await;
    let cid_created_at = read.ok()["contact"]["createdAt"].as_str().expect("createdAt").to_owned();
    World { org, acme, cid_created_at }
}

fn by_name() -> Value {
    json!([{ "field": "FIRST_NAME" }])
}

#[tokio::test]
async fn every_operator_on_every_field_type_and_relation() {
    let stack = TestStack::subgraphs().await;
    let w = world(&stack).await;
    let cf = |filter: Value| json!({ "customFields": [filter] });
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({ "firstName": { "eq": "Ann" } }), &["Ann"]),
        (json!({ "firstName": { "neq": "Ann" } }), &["Bob", "Cid", "Dee", "Eve"]),
        (json!({ "firstName": { "in": ["Ann", "Bob"] } }), &["Ann", "Bob"]),
        (json!({ "firstName": { "notIn": ["Ann", "Bob"] } }), &["Cid", "Dee", "Eve"]),
        (json!({ "lastName": { "lt": "M" } }), &["Ann", "Eve"]),
        (json!({ "lastName": { "lte": "Moss" } }), &["Ann", "Cid", "Eve"]),
        (json!({ "lastName": { "gt": "Park" } }), &["Bob"]),
        (json!({ "lastName": { "gte": "Park" } }), &["Bob", "Dee"]),
        (json!({ "email": { "contains": "ACME" } }), &["Eve"]),
        (json!({ "anyEmail": { "contains": "acme" } }), &["Bob", "Eve"]),
        (json!({ "anyEmail": { "eq": "bob@acme.example" } }), &["Bob"]),
        (json!({ "email": { "startsWith": "b" } }), &["Bob"]),
        (json!({ "email": { "isNull": true } }), &["Cid"]),
        (json!({ "jobTitle": { "isNull": false } }), &["Ann", "Bob"]),
        (json!({ "source": { "eq": "web" } }), &["Ann"]),
        (json!({ "tags": { "hasAny": ["VIP"] } }), &["Ann", "Dee"]),
        (json!({ "tags": { "hasAll": ["vip", "eu"] } }), &["Ann"]),
        (json!({ "tags": { "isEmpty": true } }), &["Cid", "Eve"]),
        (json!({ "lifecycleStage": { "in": ["LEAD", "PROSPECT"] } }), &["Bob", "Cid", "Eve"]),
        (json!({ "lifecycleStage": { "neq": "LEAD" } }), &["Ann", "Cid", "Dee"]),
        (json!({ "lifecycleStage": { "eq": "CHURNED" } }), &["Dee"]),
        (json!({ "companyId": { "eq": w.acme } }), &["Ann", "Bob"]),
        (json!({ "companyId": { "isNull": true } }), &["Dee"]),
        (json!({ "ownerId": { "eq": w.org.user_id } }), &["Ann"]),
        (json!({ "createdAt": { "gt": w.cid_created_at } }), &["Dee", "Eve"]),
        (json!({ "createdAt": { "lte": w.cid_created_at } }), &["Ann", "Bob", "Cid"]),
        (cf(json!({ "key": "score", "gt": 5 })), &["Ann", "Cid"]),
        (cf(json!({ "key": "score", "lte": 10 })), &["Ann", "Bob"]),
        (cf(json!({ "key": "score", "in": [5, 20] })), &["Bob", "Cid"]),
        (cf(json!({ "key": "score", "notIn": [5] })), &["Ann", "Cid", "Dee", "Eve"]),
        (cf(json!({ "key": "score", "isNull": true })), &["Dee", "Eve"]),
        (cf(json!({ "key": "tier", "eq": "gold" })), &["Ann", "Eve"]),
        (cf(json!({ "key": "tier", "neq": "gold" })), &["Bob", "Cid", "Dee"]),
        (cf(json!({ "key": "joined", "lt": "2024-06-01" })), &["Ann", "Cid"]),
        (cf(json!({ "key": "joined", "gte": "2024-01-10" })), &["Ann", "Bob"]),
        (cf(json!({ "key": "active", "eq": true })), &["Ann"]),
        (cf(json!({ "key": "active", "eq": false })), &["Bob"]),
        (cf(json!({ "key": "topics", "hasAny": ["ui"] })), &["Ann", "Bob"]),
        (cf(json!({ "key": "topics", "hasAll": ["api", "ui"] })), &["Ann"]),
        (cf(json!({ "key": "topics", "eq": ["ui", "api"] })), &["Ann"]),
        (cf(json!({ "key": "budget", "gte": 50 })), &["Ann"]),
        (cf(json!({ "key": "nickname", "contains": "NNI" })), &["Ann"]),
        (cf(json!({ "key": "nickname", "startsWith": "x" })), &[]),
        (json!({ "company": { "industry": { "eq": "Software" } } }), &["Ann", "Bob", "Eve"]),
        (json!({ "company": { "parent": { "name": { "eq": "Acme" } } } }), &["Eve"]),
        (json!({ "company": { "size": { "gte": 100 } } }), &["Cid"]),
        (json!({ "company": { "customFields": [{ "key": "region", "eq": "EU" }] } }), &["Ann", "Bob"]),
        (
            json!({ "or": [{ "firstName": { "eq": "Ann" } }, { "tags": { "hasAny": ["vip"] } }] }),
            &["Ann", "Dee"],
        ),
        (json!({ "not": { "company": { "name": { "eq": "Acme" } } } }), &["Cid", "Dee", "Eve"]),
        (
            json!({ "and": [{ "tags": { "hasAny": ["eu"] } }, { "not": { "firstName": { "eq": "Bob" } } }] }),
            &["Ann"],
        ),
        (
            json!({ "or": [
            { "and": [{ "lifecycleStage": { "eq": "CUSTOMER" } }, { "company": { "name": { "eq": "Acme" } } }] },
            { "company": { "parent": { "id": { "eq": w.acme } } } }] }),
            &["Ann", "Eve"],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(names(&stack, &w.org, filter.clone(), by_name()).await, expected, "{filter}");
    }

    const COMPANIES: &str = "query($f: CompanyFilter) { companies(filter: $f, orderBy: [{ field: NAME }]) { totalCount edges { node { name } } } }";
    let company_cases: Vec<(Value, &[&str])> = vec![
        (json!({ "contacts": { "some": { "tags": { "hasAny": ["vip"] } } } }), &["Acme"]),
        (json!({ "contacts": { "none": { "lifecycleStage": { "eq": "LEAD" } } } }), &["Globex"]),
        (
            json!({ "contacts": { "some": { "customFields": [{ "key": "tier", "eq": "gold" }] } } }),
            &["Acme", "Initech"],
        ),
        (json!({ "parent": { "name": { "eq": "Acme" } } }), &["Initech"]),
        (json!({ "size": { "lt": 100 } }), &["Acme", "Initech"]),
        (json!({ "industry": { "in": ["Retail"] } }), &["Globex"]),
        (json!({ "customFields": [{ "key": "region", "isNull": false }] }), &["Acme"]),
    ];
    for (filter, expected) in company_cases {
        let response = stack.subgraph("contact", Some(&w.org.token), COMPANIES, json!({ "f": filter })).await;
        let data = response.ok()["companies"].clone();
        let got: Vec<&str> = data["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["name"].as_str().expect("name"))
            .collect();
        assert_eq!(got, expected, "{filter}");
        assert_eq!(data["totalCount"], expected.len(), "{filter}");
    }

    let count = stack
        .subgraph(
            "contact",
            Some(&w.org.token),
            "{ contacts(filter: { tags: { hasAny: [\"eu\"] } }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(count.ok()["contacts"]["totalCount"], 2);
}

#[tokio::test]
async fn sorts_follow_fields_custom_fields_and_the_company_with_stable_pages() {
    let stack = TestStack::subgraphs().await;
    let w = world(&stack).await;
    let all = json!({});
    assert_eq!(
        names(&stack, &w.org, all.clone(), json!([{ "field": "LAST_NAME" }])).await,
        ["Eve", "Ann", "Cid", "Dee", "Bob"]
    );
    assert_eq!(
        names(&stack, &w.org, all.clone(), json!([{ "customField": "score", "direction": "DESC" }])).await,
        ["Cid", "Ann", "Bob", "Eve", "Dee"],
        "values first, highest first; contacts without one last, newest first"
    );
    assert_eq!(
        names(
            &stack,
            &w.org,
            all.clone(),
            json!([{ "field": "COMPANY_NAME" }, { "field": "FIRST_NAME", "direction": "DESC" }])
        )
        .await,
        ["Bob", "Ann", "Cid", "Eve", "Dee"]
    );
    assert_eq!(
        names(&stack, &w.org, all.clone(), json!([])).await,
        ["Eve", "Dee", "Cid", "Bob", "Ann"],
        "newest first"
    );

    // A page boundary holds while rows are inserted before and after it.
    const PAGE: &str = "query($a: String) { contacts(first: 2, after: $a, orderBy: [{ field: FIRST_NAME }]) {
        edges { node { firstName } } pageInfo { endCursor } } }";
    let first = stack.subgraph("contact", Some(&w.org.token), PAGE, json!({ "a": null })).await;
    let cursor = first.ok()["contacts"]["pageInfo"]["endCursor"].clone();
    assert_eq!(first.ok()["contacts"]["edges"][1]["node"]["firstName"], "Bob");
    contact(&stack, &w.org, json!({ "firstName": "Aaron" })).await;
    contact(&stack, &w.org, json!({ "firstName": "Bobby" })).await;
    let second = stack.subgraph("contact", Some(&w.org.token), PAGE, json!({ "a": cursor })).await;
    let got: Vec<&str> = second.ok()["contacts"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["firstName"].as_str().expect("name"))
        .collect();
    assert_eq!(got, ["Bobby", "Cid"], "the page after Bob starts after Bob, whatever came before");

    let newest = "query($a: String) { contacts(first: 2, after: $a) { edges { node { firstName } } pageInfo { endCursor } } }";
    let first = stack.subgraph("contact", Some(&w.org.token), newest, json!({ "a": null })).await;
    let cursor = first.ok()["contacts"]["pageInfo"]["endCursor"].clone();
    contact(&stack, &w.org, json!({ "firstName": "Zed" })).await;
    let second = stack.subgraph("contact", Some(&w.org.token), newest, json!({ "a": cursor })).await;
    assert_eq!(second.ok()["contacts"]["edges"][0]["node"]["firstName"], "Eve");

    // Operators a type does not have, foreign cursors and unknown keys are refused by field.
    let list = "query($f: ContactFilter, $o: [ContactOrder!], $a: String) { contacts(filter: $f, orderBy: $o, after: $a) { totalCount } }";
    let refusals = [
        (json!({ "f": { "customFields": [{ "key": "active", "lt": true }] } }), "customFields.active"),
        (
            json!({ "f": { "customFields": [{ "key": "nickname", "hasAny": ["x"] }] } }),
            "customFields.nickname",
        ),
        (json!({ "f": { "customFields": [{ "key": "score", "eq": "high" }] } }), "customFields.score"),
        (json!({ "f": { "customFields": [{ "key": "ghost", "eq": 1 }] } }), "customFields.ghost"),
        (json!({ "o": [{ "field": "RELEVANCE" }] }), "orderBy"),
        (json!({ "o": [{ "field": "FIRST_NAME", "customField": "score" }] }), "orderBy"),
        (json!({ "o": [{ "field": "LAST_NAME" }], "a": cursor }), "after"),
        (json!({ "a": "not a cursor" }), "after"),
        (json!({ "f": { "ownerId": { "eq": "nope" } } }), "ownerId"),
    ];
    for (vars, field) in refusals {
        let (codes, got) = refusal(&stack, &w.org.token, list, vars.clone()).await;
        assert_eq!((codes, got), (vec!["BAD_USER_INPUT".to_owned()], json!(field)), "{vars}");
    }
}
