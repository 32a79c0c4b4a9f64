//! A second organization sees and touches none of the first one's contacts, companies, custom
//! fields, trash, duplicates or merges — by id, by filter, by search, by entity reference or by
//! upsert.

use crm_testkit::TestStack;
use serde_json::json;

use super::{company, contact, custom_field};

/// A typo of the first organization's contact's name: found there by similarity only.
const TYPO_SEARCH: &str = "{ contacts(filter: { search: \"anabell\" }) { totalCount } }";

#[tokio::test]
async fn another_organization_sees_and_touches_nothing() {
    let stack = TestStack::with_router(crate::CRM).await;
    let a = stack.register_org("Iso contacts A").await;
    let b = stack.register_org("Iso contacts B").await;
    let acme = company(&stack, &a, json!({ "name": "Acme Secret", "domain": "acme-secret.example" })).await;
    let ann = contact(
        &stack,
        &a,
        json!({ "firstName": "Annabel", "email": "annabel@secret.example", "companyId": acme }),
    )
    .await;
    let binned = contact(&stack, &a, json!({ "firstName": "Binned" })).await;
    stack
        .router(
            Some(&a.token),
            "mutation($id: ID!) { deleteContact(id: $id) { id } }",
            json!({ "id": binned }),
        )
        .await
        .ok();
    let field = custom_field(
        &stack,
        &a,
        json!({ "object": "CONTACT", "key": "secret", "label": "Secret", "type": "TEXT" }),
    )
    .await;
    let own = contact(&stack, &b, json!({ "firstName": "Bea" })).await;

    let by_id = [
        ("query($id: ID!) { contact(id: $id) { id } }", &ann),
        ("query($id: ID!) { contact(id: $id) { id } }", &binned),
        ("query($id: ID!) { company(id: $id) { id } }", &acme),
        ("query($id: ID!) { contactDuplicates(id: $id) { score } }", &ann),
        ("mutation($id: ID!) { updateContact(id: $id, input: { firstName: \"x\" }) { id } }", &ann),
        ("mutation($id: ID!) { deleteContact(id: $id) { id } }", &ann),
        ("mutation($id: ID!) { restoreContact(id: $id) { id } }", &binned),
        ("mutation($id: ID!) { updateCompany(id: $id, input: { name: \"x\" }) { id } }", &acme),
        ("mutation($id: ID!) { deleteCompany(id: $id) { id } }", &acme),
        ("mutation($id: ID!) { restoreCompany(id: $id) { id } }", &acme),
        ("mutation($id: ID!) { updateCustomField(id: $id, input: { label: \"x\" }) { id } }", &field),
        ("mutation($id: ID!) { deleteCustomField(id: $id) { id } }", &field),
    ];
    for (operation, id) in by_id {
        let response = stack.router(Some(&b.token), operation, json!({ "id": id })).await;
        assert_eq!(response.error_codes(), ["NOT_FOUND"], "{operation}: {}", response.body);
    }
    let merge = stack
        .router(
            Some(&b.token),
            "mutation($p: ID!, $o: [ID!]!) { mergeContacts(primaryId: $p, otherIds: $o) { dryRun } }",
            json!({ "p": own, "o": [ann] }),
        )
        .await;
    assert_eq!(merge.error_codes(), ["NOT_FOUND"]);
    let references = [
        (
            "mutation($id: ID!) { createContact(input: { firstName: \"x\", companyId: $id }) { id } }",
            "companyId",
        ),
        ("mutation($id: ID!) { createCompany(input: { name: \"x\", parentId: $id }) { id } }", "parentId"),
        ("mutation($id: ID!) { updateContact(id: $id, input: { ownerId: $id }) { id } }", "ownerId"),
    ];
    for (operation, field) in references {
        let id = if field == "ownerId" { &own } else { &acme };
        let response = stack.router(Some(&b.token), operation, json!({ "id": id })).await;
        assert_eq!(response.error_codes(), ["BAD_USER_INPUT"], "{operation}");
        assert_eq!(response.body["errors"][0]["extensions"]["field"], field);
    }
    let owner_elsewhere = stack
        .router(
            Some(&b.token),
            "mutation($c: ID!, $u: ID!) { updateContact(id: $c, input: { ownerId: $u }) { id } }",
            json!({ "c": own, "u": a.user_id }),
        )
        .await;
    assert_eq!(
        owner_elsewhere.error_codes(),
        ["BAD_USER_INPUT"],
        "a user of another organization owns nothing here"
    );

    let lists = [
        "{ contacts { totalCount } }".to_owned(),
        "{ contacts(trashed: true) { totalCount } }".to_owned(),
        "{ contacts(filter: { search: \"annabel\" }) { totalCount } }".to_owned(),
        TYPO_SEARCH.to_owned(),
        format!("{{ contacts(filter: {{ companyId: {{ eq: \"{acme}\" }} }}) {{ totalCount }} }}"),
        "{ contacts(filter: { company: { name: { eq: \"Acme Secret\" } } }) { totalCount } }".to_owned(),
        "{ companies(filter: { search: \"acme\" }) { totalCount } }".to_owned(),
        "{ companies(filter: { contacts: { some: { firstName: { eq: \"Annabel\" } } } }) { totalCount } }"
            .to_owned(),
    ];
    let own_typo = stack.router(Some(&a.token), TYPO_SEARCH, json!({})).await;
    assert_eq!(
        own_typo.ok()["contacts"]["totalCount"],
        1,
        "the names similarity compares are the organization's own"
    );
    for list in lists {
        let response = stack.router(Some(&b.token), &list, json!({})).await;
        let data = response.ok();
        let (_, connection) = data.as_object().and_then(|o| o.iter().next()).expect("root field");
        let expected = if list.starts_with("{ contacts { totalCount") { 1 } else { 0 };
        assert_eq!(connection["totalCount"], expected, "{list}");
    }
    let fields =
        stack.router(Some(&b.token), "{ customFieldDefinitions(object: CONTACT) { id } }", json!({})).await;
    assert_eq!(fields.ok()["customFieldDefinitions"], json!([]));
    let foreign_key = stack
        .router(
            Some(&b.token),
            "{ contacts(filter: { customFields: [{ key: \"secret\", isNull: false }] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        foreign_key.error_codes(),
        ["BAD_USER_INPUT"],
        "the other organization's field does not exist here"
    );

    // Entity references resolve inside the caller's organization only.
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Contact { id } ... on Company { id } } }";
    let representations =
        json!([{ "__typename": "Contact", "id": ann }, { "__typename": "Company", "id": acme }]);
    let response = stack.subgraph("contact", Some(&b.token), entities, json!({ "r": representations })).await;
    assert_eq!(response.ok()["_entities"], json!([null, null]));

    // Upserts and duplicates look only at the caller's own contacts.
    let upsert = "mutation { upsertContact(input: { firstName: \"Twin\", email: \"annabel@secret.example\" }) { created contact { id duplicates { score } } } }";
    let response = stack.router(Some(&b.token), upsert, json!({})).await;
    assert_eq!(response.ok()["upsertContact"]["created"], true);
    assert_eq!(response.ok()["upsertContact"]["contact"]["duplicates"], json!([]));

    // And the first organization still has everything as it was.
    let check = stack
        .router(
            Some(&a.token),
            "query($id: ID!) { contact(id: $id) { firstName deletedAt company { name } } }",
            json!({ "id": ann }),
        )
        .await;
    assert_eq!(
        check.ok()["contact"],
        json!({ "firstName": "Annabel", "deletedAt": null, "company": { "name": "Acme Secret" } })
    );
}
