//! Duplicates merged into one contact, their deals and activities following through the deal and
//! communication subgraphs' consumers; batch creation and upserts that never make two of one
//! person.

use std::time::Duration;

use crm_platform::consumer::{self, Outcome};
use crm_testkit::{TestStack, eventually, outbox_events};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{contact, refusal};

#[tokio::test]
async fn merged_contacts_bring_their_deals_and_activities() {
    let stack = TestStack::with_router(crate::CRM).await;
    let shutdown = CancellationToken::new();
    let consumers = crm_deal::merges::CONSUMERS.into_iter().chain(crm_communication::flows::CONSUMERS);
    for consumer in consumers {
        tokio::spawn(consumer::run(
            stack.db.clone(),
            stack.services.nats.clone(),
            consumer,
            shutdown.clone(),
        ));
    }
    let org = stack.register_org("Merges").await;
    let primary =
        contact(&stack, &org, json!({ "firstName": "Ann", "email": "ann@example.com", "tags": ["vip"] }))
            .await;
    let twin = contact(
        &stack,
        &org,
        json!({ "firstName": "Anne", "email": "ann@work.example", "jobTitle": "CTO", "tags": ["eu"] }),
    )
    .await;
    let third = contact(&stack, &org, json!({ "firstName": "A.", "phone": "+1 555 0100" })).await;
    let twin_deal = stack.create_deal(&org, "Twin's deal", &[&twin]).await;
    let shared_deal = stack.create_deal(&org, "Shared deal", &[&primary, &twin]).await;
    let log = "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }";
    let call = stack
        .create(
            "communication",
            &org.token,
            log,
            json!({ "type": "CALL", "subject": "Call with Anne", "contactId": twin }),
        )
        .await;

    let task = "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }";
    stack
        .create(
            "communication",
            &org.token,
            task,
            json!({ "title": "Send Anne the deck", "contactId": twin }),
        )
        .await;
    let send = "mutation($i: SendEmailInput!) { sendEmail(input: $i) { id } }";
    stack
        .create(
            "communication",
            &org.token,
            send,
            json!({ "contactId": twin, "subject": "Deck", "text": "Attached." }),
        )
        .await;

    let merge = "mutation($p: ID!, $o: [ID!]!, $d: Boolean) { mergeContacts(primaryId: $p, otherIds: $o, dryRun: $d) {
        dryRun mergedIds changes contact { id email additionalEmails jobTitle phone tags } } }";
    let preview =
        stack.router(Some(&org.token), merge, json!({ "p": primary, "o": [twin, third], "d": true })).await;
    let preview = preview.ok()["mergeContacts"].clone();
    assert_eq!(preview["contact"]["jobTitle"], "CTO");
    assert_eq!(preview["contact"]["additionalEmails"], json!(["ann@work.example"]));
    assert_eq!(preview["changes"]["job_title"], json!({ "previous": null, "new": "CTO" }));
    let untouched = stack
        .router(
            Some(&org.token),
            "query($id: ID!) { contact(id: $id) { jobTitle deletedAt } }",
            json!({ "id": primary }),
        )
        .await;
    assert_eq!(
        untouched.ok()["contact"],
        json!({ "jobTitle": null, "deletedAt": null }),
        "a dry run writes nothing"
    );

    let merged = stack.router(Some(&org.token), merge, json!({ "p": primary, "o": [twin, third] })).await;
    let merged = merged.ok()["mergeContacts"].clone();
    assert_eq!(merged["contact"]["tags"], json!(["vip", "eu"]));
    assert_eq!(merged["contact"]["phone"], "+1 555 0100");
    let read_twin = stack
        .router(
            Some(&org.token),
            "query($id: ID!) { contact(id: $id) { deletedAt mergedInto { id } } }",
            json!({ "id": twin }),
        )
        .await;
    assert_eq!(read_twin.ok()["contact"]["mergedInto"]["id"], primary);
    let events = outbox_events(&stack, &org.tenant_id, "contact.merged").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["data"], json!({ "primary_id": primary, "merged_ids": [twin, third] }));

    // The deal and communication subgraphs follow the event.
    let graph =
        "query($id: ID!) { contact(id: $id) { deals { id contacts { contact { id } } } activities { id } } }";
    eventually("deals and activities moved to the primary", Duration::from_secs(20), async || {
        let response = stack.router(Some(&org.token), graph, json!({ "id": primary })).await;
        let data = response.ok()["contact"].clone();
        let mut deals: Vec<String> = data["deals"]
            .as_array()
            .expect("deals")
            .iter()
            .map(|d| d["id"].as_str().expect("id").to_owned())
            .collect();
        deals.sort();
        let mut expected = vec![twin_deal.clone(), shared_deal.clone()];
        expected.sort();
        let moved =
            data["activities"].as_array().is_some_and(|a| a.iter().any(|activity| activity["id"] == call));
        deals == expected && moved
    })
    .await;
    let links = stack
        .count_in(
            &org,
            "SELECT count(*) FROM deal_contacts WHERE contact_id = ANY($1)",
            vec![vec![uuid(&twin), uuid(&third)].into()],
        )
        .await;
    assert_eq!(links, 0);
    for table in ["tasks", "emails"] {
        let moved = format!("SELECT count(*) FROM {table} WHERE contact_id = $1");
        eventually(&format!("{table} moved to the primary"), Duration::from_secs(20), async || {
            stack.count_in(&org, &moved, vec![uuid(&primary).into()]).await == 1
        })
        .await;
    }
    let shared_links = stack
        .count_in(
            &org,
            "SELECT count(*) FROM deal_contacts WHERE deal_id = $1",
            vec![uuid(&shared_deal).into()],
        )
        .await;
    assert_eq!(shared_links, 1, "the deal linked to both keeps one link");

    // Handling the event again does nothing: each consumer's ledger has it.
    let subject = format!("crm.{}.contact.merged", org.tenant_id);
    let payload = serde_json::to_vec(&events[0]).expect("json");
    for consumer in crm_deal::merges::CONSUMERS.into_iter().chain(crm_communication::flows::CONSUMERS) {
        if consumer.event_type != "contact.merged" {
            continue;
        }
        let outcome = consumer::process(&stack.db, consumer, &subject, &payload).await.expect("process");
        assert_eq!(outcome, Outcome::Duplicate, "{}", consumer.name);
    }

    // Merged contacts stay merged.
    let (codes, _) = refusal(
        &stack,
        &org.token,
        "mutation($id: ID!) { restoreContact(id: $id) { id } }",
        json!({ "id": twin }),
    )
    .await;
    assert_eq!(codes, ["CONFLICT"]);
    let (codes, _) = refusal(&stack, &org.token, merge, json!({ "p": primary, "o": [twin] })).await;
    assert_eq!(codes, ["CONFLICT"], "a contact in the trash cannot be merged again");
    shutdown.cancel();
}

fn uuid(id: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(id).expect("uuid")
}

#[tokio::test]
async fn batches_report_each_item_and_upserts_match_existing_people() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Batch").await;
    let batch = "mutation($i: [CreateContactInput!]!) { createContacts(inputs: $i) { index contact { firstName } error { code field } } }";
    let inputs = json!([
        { "firstName": "Ok" },
        { "firstName": " " },
        { "firstName": "Bad email", "email": "nope" },
        { "firstName": "No company", "companyId": uuid::Uuid::now_v7() },
        { "firstName": "Also ok", "tags": ["x"] },
    ]);
    let response = stack.subgraph("contact", Some(&org.token), batch, json!({ "i": inputs })).await;
    assert_eq!(
        response.ok()["createContacts"],
        json!([
            { "index": 0, "contact": { "firstName": "Ok" }, "error": null },
            { "index": 1, "contact": null, "error": { "code": "BAD_USER_INPUT", "field": "firstName" } },
            { "index": 2, "contact": null, "error": { "code": "BAD_USER_INPUT", "field": "email" } },
            { "index": 3, "contact": null, "error": { "code": "BAD_USER_INPUT", "field": "companyId" } },
            { "index": 4, "contact": { "firstName": "Also ok" }, "error": null },
        ])
    );
    assert_eq!(
        outbox_events(&stack, &org.tenant_id, "contact.created").await.len(),
        2,
        "one event per created item"
    );
    let too_many: Vec<_> = (0..101).map(|n| json!({ "firstName": format!("n{n}") })).collect();
    let (codes, field) = refusal(&stack, &org.token, batch, json!({ "i": too_many })).await;
    assert_eq!((codes, field), (vec!["BAD_USER_INPUT".to_owned()], json!("inputs")));

    let upsert =
        "mutation($i: CreateContactInput!, $m: ContactMatch! = EMAIL) { upsertContact(input: $i, matchOn: $m) {
        created contact { id firstName jobTitle phone email } } }";
    let first = stack
        .subgraph(
            "contact",
            Some(&org.token),
            upsert,
            json!({ "i": { "firstName": "Una", "email": "una@example.com", "jobTitle": "CFO" } }),
        )
        .await;
    let first = first.ok()["upsertContact"].clone();
    assert_eq!(first["created"], true);
    let again = stack
        .subgraph(
            "contact",
            Some(&org.token),
            upsert,
            json!({ "i": { "firstName": "Una", "email": "UNA@example.com", "phone": "+44 20 7946 0000" } }),
        )
        .await;
    let again = again.ok()["upsertContact"].clone();
    assert_eq!(again["created"], false);
    assert_eq!(again["contact"]["id"], first["contact"]["id"]);
    assert_eq!(again["contact"]["jobTitle"], "CFO", "fields the input leaves out are kept");
    assert_eq!(again["contact"]["phone"], "+44 20 7946 0000");
    let by_phone = stack
        .subgraph(
            "contact",
            Some(&org.token),
            upsert,
            json!({ "i": { "firstName": "Una B.", "phone": "+442079460000" }, "m": "PHONE" }),
        )
        .await;
    assert_eq!(
        by_phone.ok()["upsertContact"]["contact"]["id"],
        first["contact"]["id"],
        "phones match by digits"
    );
    let updates = outbox_events(&stack, &org.tenant_id, "contact.updated").await;
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[1]["data"]["changes"]["first_name"], json!({ "previous": "Una", "new": "Una B." }));
}
