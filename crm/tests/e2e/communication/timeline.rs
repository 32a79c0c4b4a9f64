//! `timeline`: a contact's and a deal's activities, emails, tasks and stage changes in one feed,
//! newest first, paged without gaps or repeats, read through the router; another organization
//! reads nothing of it.

use std::time::Duration;

use crm_testkit::{TestStack, eventually};
use serde_json::{Value, json};

const TIMELINE: &str = "query($c: ID, $d: ID, $first: Int, $after: String) {
    timeline(contactId: $c, dealId: $d, first: $first, after: $after) {
        hasMore endCursor
        entries { kind at cursor fromStage toStage activity { subject } email { subject status } task { title } deal { id } }
    } }";

fn kinds(timeline: &Value) -> Vec<String> {
    timeline["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_owned())
        .collect()
}

#[tokio::test]
async fn a_contacts_timeline_merges_everything_newest_first_and_pages_through_the_router() {
    let stack = TestStack::with_router(crate::CRM).await;
    stack.start_mail();
    let org = stack.register_org("Timelines").await;
    let to = format!("tim.{}@example.test", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let create = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }";
    let tim = stack.create("contact", &org.token, create, json!({ "firstName": "Tim", "email": to })).await;
    let deal = stack.create_deal(&org, "Timeline deal", &[&tim]).await;
    let pause = || tokio::time::sleep(Duration::from_millis(20));

    let log = "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }";
    stack
        .create(
            "communication",
            &org.token,
            log,
            json!({ "type": "CALL", "subject": "Intro call", "contactId": tim }),
        )
        .await;
    pause().await;
    let task = "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }";
    let task = stack
        .create("communication", &org.token, task, json!({ "title": "Send deck", "contactId": tim }))
        .await;
    pause().await;
    let complete = "mutation($id: ID!) { completeTask(id: $id) { id } }";
    stack.subgraph("communication", Some(&org.token), complete, json!({ "id": task })).await.ok();
    pause().await;
    let send = "mutation($i: SendEmailInput!) { sendEmail(input: $i) { id } }";
    let input = json!({ "contactId": tim, "dealId": deal, "subject": "The deck", "text": "Here it is." });
    stack.create("communication", &org.token, send, input).await;
    let email_sent = async || {
        let response = stack.router(Some(&org.token), TIMELINE, json!({ "c": tim })).await;
        kinds(&response.ok()["timeline"]).contains(&"EMAIL_SENT".to_owned())
    };
    // Longer than a mail job's lease, which another test's stopped stack may hold.
    eventually("the email is sent", Duration::from_secs(75), email_sent).await;
    pause().await;
    let stages =
        stack.subgraph("deal", Some(&org.token), "{ pipelines { stages { id name } } }", json!({})).await;
    let stage = stages.ok()["pipelines"][0]["stages"][1].clone();
    let move_deal = "mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { id } }";
    stack.subgraph("deal", Some(&org.token), move_deal, json!({ "id": deal, "s": stage["id"] })).await.ok();

    let whole = stack.router(Some(&org.token), TIMELINE, json!({ "c": tim })).await;
    let whole = whole.ok()["timeline"].clone();
    assert_eq!(kinds(&whole), ["STAGE_CHANGED", "EMAIL_SENT", "TASK_COMPLETED", "TASK_CREATED", "ACTIVITY"]);
    let entries = whole["entries"].as_array().expect("entries");
    assert_eq!(
        (entries[0]["deal"]["id"].clone(), entries[0]["toStage"].clone()),
        (json!(deal), stage["name"].clone())
    );
    assert_eq!(entries[1]["email"], json!({ "subject": "The deck", "status": "SENT" }));
    assert_eq!(entries[2]["task"]["title"], "Send deck");
    assert_eq!(entries[4]["activity"]["subject"], "Intro call");
    assert_eq!(whole["hasMore"], false);

    // Two at a time: the same entries, none twice.
    let mut paged = Vec::new();
    let mut after = Value::Null;
    for _ in 0..5 {
        let page =
            stack.router(Some(&org.token), TIMELINE, json!({ "c": tim, "first": 2, "after": after })).await;
        let page = page.ok()["timeline"].clone();
        paged.extend(kinds(&page));
        if page["hasMore"] == false {
            break;
        }
        after = page["endCursor"].clone();
    }
    assert_eq!(paged, kinds(&whole));

    // The deal's own feed has the email and the move, not the contact's call or task.
    let of_deal = stack.router(Some(&org.token), TIMELINE, json!({ "d": deal })).await;
    assert_eq!(kinds(&of_deal.ok()["timeline"]), ["STAGE_CHANGED", "EMAIL_SENT"]);

    // Another organization reads an empty feed; a bad cursor or two subjects are refused.
    let other = stack.register_org("Other Timelines").await;
    let foreign = stack.router(Some(&other.token), TIMELINE, json!({ "c": tim })).await;
    assert_eq!(foreign.ok()["timeline"]["entries"], json!([]));
    let forged =
        stack.router(Some(&org.token), TIMELINE, json!({ "c": tim, "after": "bm90IGEgY3Vyc29y" })).await;
    assert_eq!(forged.error_codes(), ["BAD_USER_INPUT"]);
    let both = stack.router(Some(&org.token), TIMELINE, json!({ "c": tim, "d": deal })).await;
    assert_eq!(both.error_codes(), ["BAD_USER_INPUT"]);
}
