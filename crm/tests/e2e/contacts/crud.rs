//! Contact and company writes: every field, partial updates (omitted keeps, null clears) with the
//! previous and new values in `contact.updated`, the trash, duplicate warnings, the company
//! hierarchy and domains, and the role rules.

use crm_testkit::{TestStack, mint_role_token, outbox_events};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use super::{CREATE_CONTACT, company, contact, refusal};

const FULL: &str = "id firstName lastName name email additionalEmails emails phone phones jobTitle tags
    lifecycleStage source notes address { city country } owner { id } createdBy { id } deletedAt
    company { id name }";

#[tokio::test]
async fn contacts_are_edited_partially_and_updates_carry_previous_values() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Contact edits").await;
    let acme = company(&stack, &org, json!({ "name": "Acme", "domain": "https://www.Acme.example/x" })).await;
    let query = format!("mutation($i: CreateContactInput!) {{ createContact(input: $i) {{ {FULL} }} }}");
    let input = json!({
        "firstName": " Ann ", "lastName": "Lee", "email": "Ann@Example.com",
        "additionalEmails": ["ann@home.example", "ANN@example.com"], "phone": "+1 (555) 010-2000",
        "jobTitle": "CTO", "companyId": acme, "ownerId": org.user_id, "tags": ["VIP", "vip", " eu "],
        "lifecycleStage": "PROSPECT", "source": "webinar", "notes": "met at the fair",
        "address": { "city": "Lyon", "country": "FR" },
    });
    let created = stack.subgraph("contact", Some(&org.token), &query, json!({ "i": input })).await;
    let ann = created.ok()["createContact"].clone();
    assert_eq!(ann["firstName"], "Ann");
    assert_eq!(ann["name"], "Ann Lee");
    assert_eq!(ann["email"], "ann@example.com");
    assert_eq!(ann["additionalEmails"], json!(["ann@home.example"]), "the primary is not repeated");
    assert_eq!(ann["emails"], json!(["ann@example.com", "ann@home.example"]));
    assert_eq!(ann["tags"], json!(["vip", "eu"]));
    assert_eq!(ann["lifecycleStage"], "PROSPECT");
    assert_eq!(ann["address"], json!({ "city": "Lyon", "country": "FR" }));
    assert_eq!(ann["owner"]["id"], org.user_id);
    assert_eq!(ann["createdBy"]["id"], org.user_id);
    assert_eq!(ann["company"]["name"], "Acme");
    let id = ann["id"].as_str().expect("id").to_owned();

    // Omitted fields keep their values, null clears, a value sets.
    let update = format!(
        "mutation($id: ID!, $i: UpdateContactInput!) {{ updateContact(id: $id, input: $i) {{ {FULL} }} }}"
    );
    let input = json!({ "jobTitle": null, "tags": ["vip"], "lifecycleStage": "CUSTOMER" });
    let updated = stack.subgraph("contact", Some(&org.token), &update, json!({ "id": id, "i": input })).await;
    let updated = updated.ok()["updateContact"].clone();
    assert_eq!(updated["jobTitle"], json!(null));
    assert_eq!(updated["tags"], json!(["vip"]));
    assert_eq!(updated["email"], "ann@example.com", "untouched");
    assert_eq!(updated["notes"], "met at the fair", "untouched");

    let events = outbox_events(&stack, &org.tenant_id, "contact.updated").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let changes = &events[0]["data"]["changes"];
    assert_eq!(events[0]["data"]["contact_id"], id);
    assert_eq!(changes["job_title"], json!({ "previous": "CTO", "new": null }));
    assert_eq!(changes["tags"], json!({ "previous": ["vip", "eu"], "new": ["vip"] }));
    assert_eq!(changes["lifecycle_stage"], json!({ "previous": "prospect", "new": "customer" }));
    assert_eq!(changes.as_object().expect("object").len(), 3, "only what changed: {changes}");

    // An update that changes nothing emits nothing.
    stack
        .subgraph("contact", Some(&org.token), &update, json!({ "id": id, "i": { "tags": ["vip"] } }))
        .await
        .ok();
    assert_eq!(outbox_events(&stack, &org.tenant_id, "contact.updated").await.len(), 1);

    // Fields that cannot be cleared, bad values and foreign references are refused by field.
    let cases = [
        (json!({ "firstName": null }), "firstName"),
        (json!({ "lifecycleStage": null }), "lifecycleStage"),
        (json!({ "email": "nope" }), "email"),
        (json!({ "additionalEmails": ["ok@example.com", "bad"] }), "additionalEmails"),
        (json!({ "phone": "call me" }), "phone"),
        (json!({ "ownerId": uuid::Uuid::now_v7() }), "ownerId"),
        (json!({ "companyId": uuid::Uuid::now_v7() }), "companyId"),
        (json!({ "customFields": { "undefined_key": 1 } }), "customFields.undefined_key"),
    ];
    for (input, field) in cases {
        let (codes, got) = refusal(&stack, &org.token, &update, json!({ "id": id, "i": input })).await;
        assert_eq!(codes, ["BAD_USER_INPUT"], "{input}");
        assert_eq!(got, field, "{input}");
    }
    let after = stack
        .subgraph(
            "contact",
            Some(&org.token),
            &format!("query($id: ID!) {{ contact(id: $id) {{ {FULL} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(after.ok()["contact"], updated, "refused updates changed nothing");
}

#[tokio::test]
async fn the_trash_hides_contacts_until_they_are_restored() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Contact trash").await;
    let kept = contact(&stack, &org, json!({ "firstName": "Kept" })).await;
    let binned = contact(&stack, &org, json!({ "firstName": "Binned" })).await;
    let delete = "mutation($id: ID!) { deleteContact(id: $id) { id deletedAt } }";
    let deleted = stack.subgraph("contact", Some(&org.token), delete, json!({ "id": binned })).await;
    assert!(deleted.ok()["deleteContact"]["deletedAt"].is_string());

    let list = "query($t: Boolean) { contacts(trashed: $t) { totalCount edges { node { id } } } }";
    let live = stack.subgraph("contact", Some(&org.token), list, json!({ "t": false })).await;
    assert_eq!(live.ok()["contacts"]["edges"], json!([{ "node": { "id": kept } }]));
    assert_eq!(live.ok()["contacts"]["totalCount"], 1);
    let trash = stack.subgraph("contact", Some(&org.token), list, json!({ "t": true })).await;
    assert_eq!(trash.ok()["contacts"]["edges"], json!([{ "node": { "id": binned } }]));

    // A trashed contact can be read (to restore it) but not edited.
    let read = stack
        .subgraph(
            "contact",
            Some(&org.token),
            "query($id: ID!) { contact(id: $id) { deletedAt } }",
            json!({ "id": binned }),
        )
        .await;
    assert!(read.ok()["contact"]["deletedAt"].is_string());
    let edit = "mutation($id: ID!) { updateContact(id: $id, input: { jobTitle: \"x\" }) { id } }";
    let (codes, _) = refusal(&stack, &org.token, edit, json!({ "id": binned })).await;
    assert_eq!(codes, ["CONFLICT"]);

    let restore = "mutation($id: ID!) { restoreContact(id: $id) { deletedAt } }";
    let restored = stack.subgraph("contact", Some(&org.token), restore, json!({ "id": binned })).await;
    assert_eq!(restored.ok()["restoreContact"]["deletedAt"], json!(null));
    let live = stack.subgraph("contact", Some(&org.token), list, json!({ "t": false })).await;
    assert_eq!(live.ok()["contacts"]["totalCount"], 2);
    assert_eq!(outbox_events(&stack, &org.tenant_id, "contact.deleted").await.len(), 1);
    let restored_events = outbox_events(&stack, &org.tenant_id, "contact.restored").await;
    assert_eq!(restored_events.len(), 1);
    assert_eq!(restored_events[0]["data"]["contact_id"], binned);
}

#[tokio::test]
async fn a_shared_email_is_a_duplicate_warning_not_a_wall() {
    let stack = TestStack::with_router(crate::CRM).await;
    let org = stack.register_org("Dup warning").await;
    let first =
        contact(&stack, &org, json!({ "firstName": "Dup", "lastName": "One", "email": "dup@example.com" }))
            .await;
    let create = "mutation($i: CreateContactInput!) { createContact(input: $i) {
        id duplicates { score signals contact { id } } } }";
    let input = json!({ "firstName": "Dupe", "lastName": "One", "email": "DUP@example.com" });
    let second = stack.router(Some(&org.token), create, json!({ "i": input })).await;
    let second = second.ok()["createContact"].clone();
    let candidates = second["duplicates"].as_array().expect("duplicates");
    assert_eq!(candidates.len(), 1, "{second}");
    assert_eq!(candidates[0]["contact"]["id"], first);
    assert_eq!(candidates[0]["signals"], json!(["EMAIL", "SIMILAR_NAME"]));
    assert!(candidates[0]["score"].as_f64().expect("score") >= 0.7);

    let by_query = stack
        .router(
            Some(&org.token),
            "query($id: ID!) { contactDuplicates(id: $id) { contact { id } } }",
            json!({ "id": first }),
        )
        .await;
    assert_eq!(by_query.ok()["contactDuplicates"][0]["contact"]["id"], second["id"]);
}

#[tokio::test]
async fn companies_have_unique_domains_and_a_hierarchy_without_cycles() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Company tree").await;
    let group = company(&stack, &org, json!({ "name": "Group", "domain": "Group.example" })).await;
    let europe = company(
        &stack,
        &org,
        json!({ "name": "Europe", "parentId": group, "size": 120, "industry": "Retail" }),
    )
    .await;
    let france = company(
        &stack,
        &org,
        json!({ "name": "France", "parentId": europe, "website": "france.group.example" }),
    )
    .await;
    let member = contact(&stack, &org, json!({ "firstName": "Pierre", "companyId": france })).await;

    let tree = "query($id: ID!) { company(id: $id) { name domain website parent { name }
        ancestors { name } children { name } contacts { totalCount edges { node { id } } } } }";
    let got = stack.subgraph("contact", Some(&org.token), tree, json!({ "id": france })).await;
    let got = got.ok()["company"].clone();
    assert_eq!(got["parent"]["name"], "Europe");
    assert_eq!(got["ancestors"], json!([{ "name": "Europe" }, { "name": "Group" }]));
    assert_eq!(got["website"], "https://france.group.example");
    assert_eq!(got["contacts"]["edges"], json!([{ "node": { "id": member } }]));
    let top = stack.subgraph("contact", Some(&org.token), tree, json!({ "id": group })).await;
    assert_eq!(top.ok()["company"]["children"], json!([{ "name": "Europe" }]));
    assert_eq!(top.ok()["company"]["domain"], "group.example");

    let update = "mutation($id: ID!, $i: UpdateCompanyInput!) { updateCompany(id: $id, input: $i) { id parent { id } } }";
    for (target, parent) in [(&group, &france), (&europe, &europe)] {
        let (codes, field) =
            refusal(&stack, &org.token, update, json!({ "id": target, "i": { "parentId": parent } })).await;
        assert_eq!(
            (codes, field),
            (vec!["BAD_USER_INPUT".to_owned()], json!("parentId")),
            "cycle via {parent}"
        );
    }
    let detached = stack
        .subgraph("contact", Some(&org.token), update, json!({ "id": europe, "i": { "parentId": null } }))
        .await;
    assert_eq!(detached.ok()["updateCompany"]["parent"], json!(null));
    let events = outbox_events(&stack, &org.tenant_id, "company.updated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["data"]["changes"]["parent_id"], json!({ "previous": group, "new": null }));

    // A domain is unique among live companies, whatever its spelling; the trash frees it.
    let create = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }";
    let (codes, _) = refusal(
        &stack,
        &org.token,
        create,
        json!({ "i": { "name": "Copy", "domain": "http://GROUP.example/" } }),
    )
    .await;
    assert_eq!(codes, ["CONFLICT"]);
    let (codes, field) =
        refusal(&stack, &org.token, create, json!({ "i": { "name": "Bad", "domain": "not a domain" } }))
            .await;
    assert_eq!((codes, field), (vec!["BAD_USER_INPUT".to_owned()], json!("domain")));
    stack
        .subgraph(
            "contact",
            Some(&org.token),
            "mutation($id: ID!) { deleteCompany(id: $id) { id } }",
            json!({ "id": group }),
        )
        .await
        .ok();
    let copy = stack
        .create("contact", &org.token, create, json!({ "name": "Copy", "domain": "group.example" }))
        .await;
    assert!(!copy.is_empty());
    let (codes, _) = refusal(
        &stack,
        &org.token,
        "mutation($id: ID!) { restoreCompany(id: $id) { id } }",
        json!({ "id": group }),
    )
    .await;
    assert_eq!(codes, ["CONFLICT"], "restoring would duplicate the domain");
    let (codes, field) =
        refusal(&stack, &org.token, CREATE_CONTACT, json!({ "i": { "firstName": "x", "companyId": group } }))
            .await;
    assert_eq!(
        (codes, field),
        (vec!["BAD_USER_INPUT".to_owned()], json!("companyId")),
        "a trashed company takes no contacts"
    );
    assert_eq!(outbox_events(&stack, &org.tenant_id, "company.deleted").await.len(), 1);
}

#[tokio::test]
async fn viewers_read_members_write_admins_define_fields() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Contact roles").await;
    let ann = contact(&stack, &org, json!({ "firstName": "Ann" })).await;
    let writes = [
        ("mutation { createContact(input: { firstName: \"x\" }) { id } }", "MEMBER"),
        ("mutation { createContacts(inputs: [{ firstName: \"x\" }]) { index } }", "MEMBER"),
        (
            "mutation { upsertContact(input: { firstName: \"x\", email: \"x@example.com\" }) { created } }",
            "MEMBER",
        ),
        ("mutation($id: ID!) { updateContact(id: $id, input: { jobTitle: \"x\" }) { id } }", "MEMBER"),
        ("mutation($id: ID!) { deleteContact(id: $id) { id } }", "MEMBER"),
        ("mutation($id: ID!) { restoreContact(id: $id) { id } }", "MEMBER"),
        (
            "mutation($id: ID!) { mergeContacts(primaryId: $id, otherIds: [$id], dryRun: true) { dryRun } }",
            "MEMBER",
        ),
        ("mutation { createCompany(input: { name: \"x\" }) { id } }", "MEMBER"),
        (
            "mutation { createCustomField(input: { object: CONTACT, key: \"k\", label: \"K\", type: TEXT }) { id } }",
            "ADMIN",
        ),
    ];
    let viewer = mint_role_token(&stack, &org, "viewer").await;
    let member = mint_role_token(&stack, &org, "member").await;
    for (mutation, least) in writes {
        let (codes, _) = refusal(&stack, &viewer, mutation, json!({ "id": ann })).await;
        assert_eq!(codes, ["FORBIDDEN"], "viewer: {mutation}");
        let response = stack.subgraph("contact", Some(&member), mutation, json!({ "id": ann })).await;
        if least == "ADMIN" {
            assert_eq!(response.error_codes(), ["FORBIDDEN"], "member: {mutation}");
        } else {
            assert!(
                !response.error_codes().contains(&"FORBIDDEN".to_owned()),
                "member: {mutation}: {}",
                response.body
            );
        }
    }
    let reads = [
        "{ contacts { totalCount } }",
        "{ companies { totalCount } }",
        "{ customFieldDefinitions(object: CONTACT) { id } }",
    ];
    for read in reads {
        stack.subgraph("contact", Some(&viewer), read, json!({})).await.ok();
    }
}

#[tokio::test]
async fn the_trash_is_emptied_after_the_retention_period_only() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Trash purge").await;
    let other = stack.register_org("Trash purge other").await;
    let parent = company(&stack, &org, json!({ "name": "Old parent" })).await;
    let child = company(&stack, &org, json!({ "name": "Child", "parentId": parent })).await;
    let old = contact(&stack, &org, json!({ "firstName": "Old", "companyId": parent })).await;
    let recent = contact(&stack, &org, json!({ "firstName": "Recent" })).await;
    let read = "query($id: ID!) { contact(id: $id) { firstName } }";
    let kept = contact(&stack, &org, json!({ "firstName": "Kept" })).await;
    let deal = stack.create_deal(&org, "Deal of the old contact", &[&old]).await;
    let foreign = contact(&stack, &other, json!({ "firstName": "Foreign" })).await;
    for (who, id) in [(&org, &old), (&org, &recent), (&other, &foreign)] {
        stack
            .subgraph(
                "contact",
                Some(&who.token),
                "mutation($id: ID!) { deleteContact(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await
            .ok();
    }
    stack
        .subgraph(
            "contact",
            Some(&org.token),
            "mutation($id: ID!) { deleteCompany(id: $id) { id } }",
            json!({ "id": parent }),
        )
        .await
        .ok();
    // As if the old contact and company had been in the trash for 31 days.
    let schema = org.schema();
    for (table, id) in [("contacts", &old), ("companies", &parent)] {
        let aged =
            format!("UPDATE {schema}.{table} SET deleted_at = now() - interval '31 days' WHERE id = $1");
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            aged,
            [uuid::Uuid::parse_str(id).expect("uuid").into()],
        );
        assert_eq!(stack.db.conn().execute(statement).await.expect("age").rows_affected(), 1);
    }
    // A lookup caches the trashed contact; the purge drops it from the cache too.
    stack.subgraph("contact", Some(&org.token), read, json!({ "id": old })).await.ok();
    let month = std::time::Duration::from_secs(30 * 24 * 3600);
    let purged = crm_contact::trash::purge(&stack.db, Some(&stack.services.kv), org.tenant(), month)
        .await
        .expect("purge");
    assert_eq!(purged, crm_contact::trash::Purged { contacts: 1, companies: 1 });
    assert_eq!(
        stack.subgraph("contact", Some(&org.token), read, json!({ "id": old })).await.error_codes(),
        ["NOT_FOUND"]
    );
    for id in [&recent, &kept] {
        stack.subgraph("contact", Some(&org.token), read, json!({ "id": id })).await.ok();
    }
    let orphan = stack
        .subgraph(
            "contact",
            Some(&org.token),
            "query($id: ID!) { company(id: $id) { parent { id } } }",
            json!({ "id": child }),
        )
        .await;
    assert_eq!(orphan.ok()["company"]["parent"], json!(null));
    let links = stack
        .count_in(
            &org,
            "SELECT count(*) FROM deal_contacts WHERE deal_id = $1",
            vec![uuid::Uuid::parse_str(&deal).expect("uuid").into()],
        )
        .await;
    assert_eq!(links, 0, "the purged contact's deal links go with it; the deal stays");
    let names = async |part: &str| {
        stack
            .count_in(&org, "SELECT count(*) FROM contact_name_parts WHERE part = $1", vec![part.into()])
            .await
    };
    assert_eq!(names("old").await, 0, "a name no contact bears is no longer searched by similarity");
    assert_eq!(names("recent").await, 1, "a trashed contact's name stays until it is purged");
    let foreign_read = stack
        .subgraph(
            "contact",
            Some(&other.token),
            "query($id: ID!) { contact(id: $id) { deletedAt } }",
            json!({ "id": foreign }),
        )
        .await;
    assert!(
        foreign_read.ok()["contact"]["deletedAt"].is_string(),
        "another organization's trash is untouched"
    );
}
