//! Activities of every type on deals, contacts and companies: who logged them, changed only by
//! their author or an admin, with events saying what changed, and invisible to other
//! organizations.

use crm_testkit::{TestStack, outbox_events};
use serde_json::{Value, json};

const LOG: &str = "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }";
const UPDATE: &str = "mutation($id: ID!, $i: UpdateActivityInput!) { updateActivity(id: $id, input: $i) {
    id type subject outcome durationMinutes participants company { id } author { id } } }";
const DELETE: &str = "mutation($id: ID!) { deleteActivity(id: $id) { id } }";

#[tokio::test]
async fn tasks_on_companies_are_kept_changed_by_their_author_or_an_admin() {
    let stack = TestStack::subgraphs().await;
    let team = stack.team("Activities").await;
    let org = &team.owner;
    let company = stack.create_company(org, "Acme").await;
    let member = Some(team.token("MEMBER"));
    let logged = stack
        .subgraph(
            "communication",
            member,
            LOG,
            json!({ "i": { "type": "TASK", "subject": "Send the proposal", "companyId": company,
                           "durationMinutes": 30, "participants": ["Ann Lee", "bob@acme.test"] } }),
        )
        .await;
    let id = logged.ok()["logActivity"]["id"].clone();

    let timeline = "query($id: ID!) { _entities(representations: [{ __typename: \"Company\", id: $id }]) {
        ... on Company { activities { id type subject durationMinutes participants author { id } } } } }";
    let page = stack.subgraph("communication", member, timeline, json!({ "id": company })).await;
    assert_eq!(
        page.ok()["_entities"][0]["activities"],
        json!([{ "id": id, "type": "TASK", "subject": "Send the proposal", "durationMinutes": 30,
                 "participants": ["Ann Lee", "bob@acme.test"], "author": { "id": team.member.user_id } }])
    );

    // The author changes it; the event names each changed field with both values.
    let changed = stack
        .subgraph(
            "communication",
            member,
            UPDATE,
            json!({ "id": id, "i": { "outcome": "Sent", "durationMinutes": null } }),
        )
        .await;
    let changed = changed.ok()["updateActivity"].clone();
    assert_eq!(
        (changed["outcome"].clone(), changed["durationMinutes"].clone()),
        (json!("Sent"), Value::Null)
    );
    let events = outbox_events(&stack, &org.tenant_id, "activity.updated").await;
    let changes = &events.last().expect("activity.updated")["data"]["changes"];
    assert_eq!(changes["outcome"], json!({ "previous": null, "new": "Sent" }));
    assert_eq!(changes["duration_minutes"], json!({ "previous": 30, "new": null }));
    assert!(changes.get("updated_at").is_none(), "{changes}");

    // Another member may not; an admin may; a viewer may not even try.
    let admin_only = json!({ "id": id, "i": { "subject": "Proposal sent" } });
    let other = stack.add_member(org, &format!("second@{}.example.com", org.subdomain), "MEMBER").await;
    let refused = stack.subgraph("communication", Some(&other.token), UPDATE, admin_only.clone()).await;
    assert_eq!(refused.error_codes(), ["FORBIDDEN"]);
    let by_admin = stack.subgraph("communication", Some(team.token("ADMIN")), UPDATE, admin_only).await;
    assert_eq!(by_admin.ok()["updateActivity"]["subject"], "Proposal sent");
    let viewer =
        stack.subgraph("communication", Some(team.token("VIEWER")), DELETE, json!({ "id": id })).await;
    assert_eq!(viewer.error_codes(), ["FORBIDDEN"]);

    // Bad input names the field and changes nothing.
    let unlinked = stack
        .subgraph("communication", member, UPDATE, json!({ "id": id, "i": { "companyId": null } }))
        .await;
    assert_eq!(unlinked.error_codes(), ["BAD_USER_INPUT"], "an activity keeps a record it is about");
    let too_long = stack
        .subgraph("communication", member, UPDATE, json!({ "id": id, "i": { "durationMinutes": 20000 } }))
        .await;
    assert_eq!(too_long.body["errors"][0]["extensions"]["field"], "durationMinutes");
    let page = stack.subgraph("communication", member, timeline, json!({ "id": company })).await;
    assert_eq!(page.ok()["_entities"][0]["activities"][0]["subject"], "Proposal sent");

    let deleted = stack.subgraph("communication", member, DELETE, json!({ "id": id })).await;
    assert_eq!(deleted.ok()["deleteActivity"]["id"], id);
    assert_eq!(outbox_events(&stack, &org.tenant_id, "activity.deleted").await.len(), 1);
    let page = stack.subgraph("communication", member, timeline, json!({ "id": company })).await;
    assert_eq!(page.ok()["_entities"][0]["activities"], json!([]));
}

#[tokio::test]
async fn another_organization_cannot_touch_or_link_an_activity() {
    let stack = TestStack::subgraphs().await;
    let a = stack.register_org("Activities A").await;
    let b = stack.register_org("Activities B").await;
    let company = stack.create_company(&a, "Acme").await;
    let logged = stack
        .subgraph(
            "communication",
            Some(&a.token),
            LOG,
            json!({ "i": { "type": "CALL", "subject": "Intro", "companyId": company } }),
        )
        .await;
    let id = logged.ok()["logActivity"]["id"].clone();
    for (query, variables) in
        [(UPDATE, json!({ "id": id, "i": { "subject": "Theirs" } })), (DELETE, json!({ "id": id }))]
    {
        let response = stack.subgraph("communication", Some(&b.token), query, variables).await;
        assert_eq!(response.error_codes(), ["NOT_FOUND"], "{}", response.body);
    }
    // B cannot log against A's company.
    let foreign = stack
        .subgraph(
            "communication",
            Some(&b.token),
            LOG,
            json!({ "i": { "type": "NOTE", "subject": "Sneaky", "companyId": company } }),
        )
        .await;
    assert_eq!(foreign.body["errors"][0]["extensions"]["field"], "companyId");
}

#[tokio::test]
async fn activities_are_listed_newest_first_by_filter_and_page() {
    let stack = TestStack::subgraphs().await;
    let team = stack.team("Activity lists").await;
    let org = &team.owner;
    let other = stack.register_org("Activity lists elsewhere").await;
    let company = stack.create_company(org, "Acme").await;
    let log = async |token: &str, kind: &str, subject: &str, day: &str| {
        let input = json!({ "i": { "type": kind, "subject": subject, "companyId": company,
                                   "occurredAt": format!("2027-03-{day}T09:00:00Z") } });
        stack.subgraph("communication", Some(token), LOG, input).await.ok()["logActivity"]["id"].clone()
    };
    let first = log(&org.token, "CALL", "First call", "01").await;
    let note = log(team.token("MEMBER"), "NOTE", "A note", "02").await;
    let second = log(&org.token, "CALL", "Second call", "03").await;
    let third = log(&org.token, "CALL", "Third call", "04").await;

    let list = "query($first: Int, $after: ID, $f: ActivityFilterInput) {
        activities(first: $first, after: $after, filter: $f) { id } }";
    let ids = async |token: &str, variables: Value| -> Vec<Value> {
        let response = stack.subgraph("communication", Some(token), list, variables).await;
        response.ok()["activities"].as_array().expect("list").iter().map(|a| a["id"].clone()).collect()
    };
    assert_eq!(
        ids(&org.token, json!({})).await,
        [third.clone(), second.clone(), note.clone(), first.clone()]
    );
    let calls = json!({ "type": "CALL", "authorId": org.user_id });
    assert_eq!(ids(&org.token, json!({ "first": 2, "f": calls })).await, [third.clone(), second.clone()]);
    assert_eq!(ids(&org.token, json!({ "first": 2, "after": second, "f": calls })).await, [first]);
    let march = json!({ "companyId": company, "from": "2027-03-02T00:00:00Z", "to": "2027-03-04T00:00:00Z" });
    assert_eq!(ids(&org.token, json!({ "f": march })).await, [second, note]);
    let by_member = json!({ "f": { "authorId": team.member.user_id } });
    assert_eq!(ids(&org.token, by_member).await.len(), 1);

    // Another organization lists none of them, whatever it filters on.
    assert!(ids(&other.token, json!({})).await.is_empty());
    assert!(ids(&other.token, json!({ "f": { "companyId": company } })).await.is_empty());
    let backwards = stack
        .subgraph(
            "communication",
            Some(&org.token),
            list,
            json!({ "f": { "from": "2027-03-04T00:00:00Z", "to": "2027-03-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(backwards.body["errors"][0]["extensions"]["field"], "to");
}
