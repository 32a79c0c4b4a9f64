//! Custom fields: definitions per object, values validated on every write and named in errors,
//! and definition changes that convert every stored value or are refused with a count.

use crm_testkit::TestStack;
use serde_json::{Value, json};

use super::{company, contact, custom_field, refusal};

const UPDATE_FIELD: &str = "mutation($id: ID!, $i: UpdateCustomFieldInput!) {
    updateCustomField(id: $id, input: $i) { key label type options { value label } required unique } }";

async fn values(stack: &TestStack, org: &crm_testkit::Org, id: &str) -> Value {
    let read = stack
        .subgraph(
            "contact",
            Some(&org.token),
            "query($id: ID!) { contact(id: $id) { customFields } }",
            json!({ "id": id }),
        )
        .await;
    read.ok()["contact"]["customFields"].clone()
}

#[tokio::test]
async fn values_are_validated_against_their_definition() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Field values").await;
    let fields = [
        json!({ "object": "CONTACT", "key": "nickname", "label": "Nickname", "type": "TEXT" }),
        json!({ "object": "CONTACT", "key": "bio", "label": "Bio", "type": "LONG_TEXT" }),
        json!({ "object": "CONTACT", "key": "score", "label": "Score", "type": "NUMBER" }),
        json!({ "object": "CONTACT", "key": "ratio", "label": "Ratio", "type": "DECIMAL" }),
        json!({ "object": "CONTACT", "key": "budget", "label": "Budget", "type": "CURRENCY" }),
        json!({ "object": "CONTACT", "key": "birthday", "label": "Birthday", "type": "DATE" }),
        json!({ "object": "CONTACT", "key": "last_seen", "label": "Last seen", "type": "DATE_TIME" }),
        json!({ "object": "CONTACT", "key": "vip", "label": "VIP", "type": "BOOLEAN" }),
        json!({ "object": "CONTACT", "key": "tier", "label": "Tier", "type": "SELECT",
            "options": [{ "value": "gold", "label": "Gold" }, { "value": "silver", "label": "Silver" }] }),
        json!({ "object": "CONTACT", "key": "topics", "label": "Topics", "type": "MULTI_SELECT",
            "options": [{ "value": "api", "label": "API" }, { "value": "ui", "label": "UI" }] }),
        json!({ "object": "CONTACT", "key": "homepage", "label": "Homepage", "type": "URL" }),
        json!({ "object": "CONTACT", "key": "assistant", "label": "Assistant", "type": "EMAIL" }),
        json!({ "object": "CONTACT", "key": "fax", "label": "Fax", "type": "PHONE" }),
        json!({ "object": "CONTACT", "key": "badge", "label": "Badge", "type": "TEXT", "required": true, "unique": true }),
        json!({ "object": "COMPANY", "key": "tier", "label": "Tier", "type": "NUMBER" }),
    ];
    for field in fields {
        custom_field(&stack, &org, field).await;
    }
    let listed = stack
        .subgraph(
            "contact",
            Some(&org.token),
            "{ customFieldDefinitions(object: CONTACT) { key type } }",
            json!({}),
        )
        .await;
    assert_eq!(listed.ok()["customFieldDefinitions"].as_array().expect("list").len(), 14);

    let good = json!({ "nickname": "Annie", "bio": "long text", "score": 4.5, "ratio": "0.250",
        "budget": { "amount": "1200.50", "currency": "eur" }, "birthday": "1990-02-28",
        "last_seen": "2026-11-30T10:00:00+01:00", "vip": true, "tier": "Gold", "topics": ["ui", "api", "ui"],
        "homepage": "https://ann.example", "assistant": "Bob@Example.com", "fax": "+33 1 23 45 67 89", "badge": "A-1" });
    let ann = contact(&stack, &org, json!({ "firstName": "Ann", "customFields": good })).await;
    assert_eq!(
        values(&stack, &org, &ann).await,
        json!({ "nickname": "Annie", "bio": "long text", "score": 4.5, "ratio": "0.25",
            "budget": { "amount": "1200.5", "currency": "EUR" }, "birthday": "1990-02-28",
            "last_seen": "2026-11-30T09:00:00.000Z", "vip": true, "tier": "gold", "topics": ["ui", "api"],
            "homepage": "https://ann.example", "assistant": "bob@example.com", "fax": "+33 1 23 45 67 89", "badge": "A-1" }),
        "stored in one form per type"
    );

    let create = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }";
    let bad = [
        (json!({ "badge": "B", "score": "high" }), "customFields.score"),
        (json!({ "badge": "B", "ratio": "1/4" }), "customFields.ratio"),
        (json!({ "badge": "B", "budget": { "amount": 5 } }), "customFields.budget"),
        (json!({ "badge": "B", "birthday": "1990-02-30" }), "customFields.birthday"),
        (json!({ "badge": "B", "last_seen": "yesterday" }), "customFields.last_seen"),
        (json!({ "badge": "B", "vip": "yes" }), "customFields.vip"),
        (json!({ "badge": "B", "tier": "bronze" }), "customFields.tier"),
        (json!({ "badge": "B", "topics": ["api", "crm"] }), "customFields.topics"),
        (json!({ "badge": "B", "homepage": "javascript:alert(1)" }), "customFields.homepage"),
        (json!({ "badge": "B", "assistant": "bob" }), "customFields.assistant"),
        (json!({ "badge": "B", "fax": "fax me" }), "customFields.fax"),
        (json!({ "badge": "B", "nickname": "x".repeat(1001) }), "customFields.nickname"),
        (json!({ "badge": "B", "unknown": 1 }), "customFields.unknown"),
        (json!({ "nickname": "no badge" }), "customFields.badge"),
    ];
    for (values, field) in bad {
        let (codes, got) = refusal(
            &stack,
            &org.token,
            create,
            json!({ "i": { "firstName": "Bad", "customFields": values } }),
        )
        .await;
        assert_eq!(codes, ["BAD_USER_INPUT"], "{values}");
        assert_eq!(got, field, "{values}");
    }
    let (codes, _) = refusal(
        &stack,
        &org.token,
        create,
        json!({ "i": { "firstName": "Copy", "customFields": { "badge": "A-1" } } }),
    )
    .await;
    assert_eq!(codes, ["CONFLICT"], "a unique value is taken");
    let count = stack.subgraph("contact", Some(&org.token), "{ contacts { totalCount } }", json!({})).await;
    assert_eq!(count.ok()["contacts"]["totalCount"], 1, "no refused write left a contact");

    // Updates validate the keys they change; null clears (but not a required field).
    let update = "mutation($id: ID!, $c: JSON!) { updateContact(id: $id, input: { customFields: $c }) { customFields } }";
    let cleared = stack
        .subgraph(
            "contact",
            Some(&org.token),
            update,
            json!({ "id": ann, "c": { "nickname": null, "score": 7 } }),
        )
        .await;
    let cleared = cleared.ok()["updateContact"]["customFields"].clone();
    assert!(cleared.get("nickname").is_none() && cleared["score"] == 7.0, "{cleared}");
    let (codes, field) =
        refusal(&stack, &org.token, update, json!({ "id": ann, "c": { "badge": null } })).await;
    assert_eq!((codes, field), (vec!["BAD_USER_INPUT".to_owned()], json!("customFields.badge")));

    // The trash frees a unique value; restoring the contact while another holds it is refused.
    stack
        .subgraph(
            "contact",
            Some(&org.token),
            "mutation($id: ID!) { deleteContact(id: $id) { id } }",
            json!({ "id": ann }),
        )
        .await
        .ok();
    contact(&stack, &org, json!({ "firstName": "Heir", "customFields": { "badge": "A-1" } })).await;
    let (codes, _) = refusal(
        &stack,
        &org.token,
        "mutation($id: ID!) { restoreContact(id: $id) { id } }",
        json!({ "id": ann }),
    )
    .await;
    assert_eq!(codes, ["CONFLICT"], "the badge is taken by a live contact");

    // Company fields are their own set.
    let acme = company(&stack, &org, json!({ "name": "Acme", "customFields": { "tier": 2 } })).await;
    let (codes, field) = refusal(
        &stack,
        &org.token,
        "mutation($id: ID!) { updateCompany(id: $id, input: { customFields: { tier: \"gold\" } }) { id } }",
        json!({ "id": acme }),
    )
    .await;
    assert_eq!((codes, field), (vec!["BAD_USER_INPUT".to_owned()], json!("customFields.tier")));
}

/// How many indexes the tenant's schema holds on the values of field `id` (0 or 1).
async fn value_index(stack: &TestStack, org: &crm_testkit::Org, id: &str) -> i64 {
    let name = format!("custom_field_{}_idx", id.replace('-', ""));
    stack
        .count_in(
            org,
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1",
            vec![name.into()],
        )
        .await
}

#[tokio::test]
async fn definition_changes_convert_every_value_or_are_refused_with_a_count() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Field changes").await;
    let code = custom_field(
        &stack,
        &org,
        json!({ "object": "CONTACT", "key": "code", "label": "Code", "type": "TEXT" }),
    )
    .await;
    assert_eq!(value_index(&stack, &org, &code).await, 0, "text fields are not indexed");
    let mut ids = Vec::new();
    for value in ["12", "7.5", "x9"] {
        ids.push(
            contact(
                &stack,
                &org,
                json!({ "firstName": format!("C{value}"), "customFields": { "code": value } }),
            )
            .await,
        );
    }

    // TEXT → NUMBER: one value would not convert, so nothing changes and the count is given.
    let response = stack
        .subgraph("contact", Some(&org.token), UPDATE_FIELD, json!({ "id": code, "i": { "type": "NUMBER" } }))
        .await;
    assert_eq!(response.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(response.body["errors"][0]["extensions"]["field"], "type");
    assert!(
        response.body["errors"][0]["message"].as_str().expect("message").starts_with("1 stored value"),
        "{}",
        response.body
    );
    assert_eq!(values(&stack, &org, &ids[0]).await, json!({ "code": "12" }));

    // Fix the odd one; then every value converts.
    let update =
        "mutation($id: ID!, $c: JSON!) { updateContact(id: $id, input: { customFields: $c }) { id } }";
    stack
        .subgraph("contact", Some(&org.token), update, json!({ "id": ids[2], "c": { "code": "9" } }))
        .await
        .ok();
    let converted = stack
        .subgraph(
            "contact",
            Some(&org.token),
            UPDATE_FIELD,
            json!({ "id": code, "i": { "type": "NUMBER", "label": "Code number" } }),
        )
        .await;
    assert_eq!(converted.ok()["updateCustomField"]["type"], "NUMBER");
    assert_eq!(values(&stack, &org, &ids[0]).await, json!({ "code": 12.0 }));
    assert_eq!(value_index(&stack, &org, &code).await, 1, "number fields are indexed by value");
    assert_eq!(values(&stack, &org, &ids[1]).await, json!({ "code": 7.5 }));

    // Required and unique rules are refused while records break them.
    contact(&stack, &org, json!({ "firstName": "Plain" })).await;
    let refused = stack
        .subgraph("contact", Some(&org.token), UPDATE_FIELD, json!({ "id": code, "i": { "required": true } }))
        .await;
    assert_eq!(refused.body["errors"][0]["extensions"]["field"], "required", "{}", refused.body);
    contact(&stack, &org, json!({ "firstName": "Same", "customFields": { "code": 12 } })).await;
    let refused = stack
        .subgraph("contact", Some(&org.token), UPDATE_FIELD, json!({ "id": code, "i": { "unique": true } }))
        .await;
    assert_eq!(refused.body["errors"][0]["extensions"]["field"], "unique", "{}", refused.body);

    // Select options: adding is safe; removing one in use is refused with the count.
    let tier = custom_field(
        &stack,
        &org,
        json!({ "object": "CONTACT", "key": "tier", "label": "Tier", "type": "SELECT",
        "options": [{ "value": "gold", "label": "Gold" }] }),
    )
    .await;
    stack
        .subgraph("contact", Some(&org.token), update, json!({ "id": ids[0], "c": { "tier": "gold" } }))
        .await
        .ok();
    let added = stack
        .subgraph(
            "contact",
            Some(&org.token),
            UPDATE_FIELD,
            json!({ "id": tier, "i": { "options": [
        { "value": "gold", "label": "Gold" }, { "value": "silver", "label": "Silver" }] } }),
        )
        .await;
    assert_eq!(added.ok()["updateCustomField"]["options"].as_array().expect("options").len(), 2);
    let removed = stack
        .subgraph(
            "contact",
            Some(&org.token),
            UPDATE_FIELD,
            json!({ "id": tier, "i": { "options": [
        { "value": "silver", "label": "Silver" }] } }),
        )
        .await;
    assert_eq!(removed.body["errors"][0]["extensions"]["field"], "options", "{}", removed.body);

    // Deleting a field removes its values everywhere.
    let delete = "mutation($id: ID!) { deleteCustomField(id: $id) { key } }";
    stack.subgraph("contact", Some(&org.token), delete, json!({ "id": code })).await.ok();
    assert_eq!(values(&stack, &org, &ids[1]).await, json!({}));
    assert_eq!(value_index(&stack, &org, &code).await, 0, "and the index goes with the field");
    assert_eq!(values(&stack, &org, &ids[0]).await, json!({ "tier": "gold" }));

    // Keys are identifiers and unique per object.
    let create = "mutation($i: CreateCustomFieldInput!) { createCustomField(input: $i) { id } }";
    for (input, code) in [
        (json!({ "object": "CONTACT", "key": "Bad Key", "label": "x", "type": "TEXT" }), "BAD_USER_INPUT"),
        (json!({ "object": "CONTACT", "key": "tier", "label": "x", "type": "TEXT" }), "CONFLICT"),
        (json!({ "object": "CONTACT", "key": "pick", "label": "x", "type": "SELECT" }), "BAD_USER_INPUT"),
    ] {
        let (codes, _) = refusal(&stack, &org.token, create, json!({ "i": input })).await;
        assert_eq!(codes, [code], "{input}");
    }
}
