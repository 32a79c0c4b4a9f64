//! Tasks: for a member of the organization, overdue when open past due, completed and reopened
//! with events, listed by filter, and kept from other organizations.

use crm_testkit::{TestStack, outbox_events};
use serde_json::{Value, json};

const CREATE: &str =
    "mutation($i: CreateTaskInput!) { createTask(input: $i) { id assignee { id } status priority } }";
const FIELDS: &str = "id title status isOverdue dueAt completedAt assignee { id } deal { id }";

#[tokio::test]
async fn tasks_are_assigned_flagged_overdue_completed_and_listed() {
    let stack = TestStack::subgraphs().await;
    let team = stack.team("Tasks").await;
    let org = &team.owner;
    let member = Some(team.token("MEMBER"));
    let deal = stack.create_deal(org, "Pilot", &[]).await;

    let mine = stack
        .subgraph(
            "communication",
            member,
            CREATE,
            json!({ "i": { "title": "Call back", "dealId": deal,
            "dueAt": "2020-01-01T09:00:00Z", "priority": "HIGH" } }),
        )
        .await;
    let mine = mine.ok()["createTask"].clone();
    assert_eq!(mine["assignee"]["id"], team.member.user_id, "the caller's own when no assignee is given");
    assert_eq!((mine["status"].clone(), mine["priority"].clone()), (json!("OPEN"), json!("HIGH")));
    let owners = stack
        .subgraph(
            "communication",
            member,
            CREATE,
            json!({ "i": { "title": "Review", "assigneeId": org.user_id,
            "dueAt": "2999-01-01T09:00:00Z" } }),
        )
        .await;
    let owners = owners.ok()["createTask"]["id"].clone();
    let stranger = stack.register_org("Tasks elsewhere").await;
    let foreign_assignee = stack
        .subgraph(
            "communication",
            member,
            CREATE,
            json!({ "i": { "title": "No", "assigneeId": stranger.user_id } }),
        )
        .await;
    assert_eq!(foreign_assignee.body["errors"][0]["extensions"]["field"], "assigneeId");
    assert_eq!(outbox_events(&stack, &org.tenant_id, "task.created").await.len(), 2);

    let query = format!("query($f: TaskFilterInput) {{ tasks(filter: $f) {{ {FIELDS} }} }}");
    let tasks = async |token: &str, filter: Value| -> Vec<Value> {
        let response = stack.subgraph("communication", Some(token), &query, json!({ "f": filter })).await;
        response.ok()["tasks"].as_array().expect("tasks").clone()
    };
    let all = tasks(&org.token, json!({})).await;
    assert_eq!(all.iter().map(|t| t["id"].clone()).collect::<Vec<_>>(), [mine["id"].clone(), owners.clone()]);
    assert_eq!(all[0]["isOverdue"], true);
    assert_eq!(all[1]["isOverdue"], false);
    assert_eq!(tasks(&org.token, json!({ "overdue": true })).await.len(), 1);
    assert_eq!(tasks(&org.token, json!({ "dealId": deal })).await[0]["deal"]["id"], deal.as_str());
    let my = format!("{{ myTasks {{ {FIELDS} }} }}");
    let my = stack.subgraph("communication", member, &my, json!({})).await;
    assert_eq!(my.ok()["myTasks"].as_array().expect("mine").len(), 1);

    // Done, then open again; an overdue task stops being overdue once done.
    let complete = format!("mutation($id: ID!) {{ completeTask(id: $id) {{ {FIELDS} }} }}");
    let done = stack.subgraph("communication", member, &complete, json!({ "id": mine["id"] })).await;
    let done = done.ok()["completeTask"].clone();
    assert_eq!((done["status"].clone(), done["isOverdue"].clone()), (json!("DONE"), json!(false)));
    assert!(done["completedAt"].is_string());
    let completed = outbox_events(&stack, &org.tenant_id, "task.completed").await;
    assert_eq!(completed[0]["data"]["completed_by"], team.member.user_id.as_str());
    assert!(tasks(&org.token, json!({ "overdue": true })).await.is_empty());
    let reopen = format!("mutation($id: ID!) {{ reopenTask(id: $id) {{ {FIELDS} }} }}");
    let reopened = stack.subgraph("communication", member, &reopen, json!({ "id": mine["id"] })).await;
    assert_eq!(reopened.ok()["reopenTask"]["completedAt"], Value::Null);

    // Partial updates clear with null; viewers only read.
    let update = format!(
        "mutation($id: ID!, $i: UpdateTaskInput!) {{ updateTask(id: $id, input: $i) {{ {FIELDS} }} }}"
    );
    let cleared = stack
        .subgraph(
            "communication",
            member,
            &update,
            json!({ "id": mine["id"], "i": { "dueAt": null, "title": "Call back soon" } }),
        )
        .await;
    let cleared = cleared.ok()["updateTask"].clone();
    assert_eq!((cleared["dueAt"].clone(), cleared["title"].clone()), (Value::Null, json!("Call back soon")));
    let viewer = stack
        .subgraph("communication", Some(team.token("VIEWER")), CREATE, json!({ "i": { "title": "Nope" } }))
        .await;
    assert_eq!(viewer.error_codes(), ["FORBIDDEN"]);

    // Another organization sees none of them and can touch none.
    assert!(tasks(&stranger.token, json!({})).await.is_empty());
    for mutation in [complete.as_str(), reopen.as_str(), "mutation($id: ID!) { deleteTask(id: $id) { id } }"]
    {
        let response =
            stack.subgraph("communication", Some(&stranger.token), mutation, json!({ "id": owners })).await;
        assert_eq!(response.error_codes(), ["NOT_FOUND"], "{mutation}");
    }
    let response = stack
        .subgraph(
            "communication",
            Some(&stranger.token),
            &update,
            json!({ "id": owners, "i": { "title": "x" } }),
        )
        .await;
    assert_eq!(response.error_codes(), ["NOT_FOUND"]);
    let linked = stack
        .subgraph(
            "communication",
            Some(&stranger.token),
            CREATE,
            json!({ "i": { "title": "x", "dealId": deal } }),
        )
        .await;
    assert_eq!(linked.body["errors"][0]["extensions"]["field"], "dealId");

    let deleted = stack
        .subgraph(
            "communication",
            member,
            "mutation($id: ID!) { deleteTask(id: $id) { id } }",
            json!({ "id": owners }),
        )
        .await;
    assert_eq!(deleted.ok()["deleteTask"]["id"], owners);
    assert_eq!(tasks(&org.token, json!({})).await.len(), 1);
}

#[tokio::test]
async fn a_reminder_fires_once_however_many_workers_race_and_never_for_done_tasks() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Reminders").await;
    let other = stack.register_org("Reminders elsewhere").await;
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let due = stack
        .subgraph(
            "communication",
            Some(&org.token),
            CREATE,
            json!({ "i": { "title": "Follow up", "remindAt": past } }),
        )
        .await;
    let due = due.ok()["createTask"]["id"].clone();
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let done = stack
        .subgraph(
            "communication",
            Some(&org.token),
            CREATE,
            json!({ "i": { "title": "Already done", "remindAt": soon } }),
        )
        .await;
    let done = done.ok()["createTask"]["id"].clone();
    stack
        .subgraph(
            "communication",
            Some(&org.token),
            "mutation($id: ID!) { completeTask(id: $id) { id } }",
            json!({ "id": done }),
        )
        .await
        .ok();

    // Every stack of this test process runs a worker on this database; race a few more.
    let racers = (0..4).map(|_| crm_communication::reminders::fire_due(&stack.db));
    for raced in futures::future::join_all(racers).await {
        raced.expect("fires");
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let fired = outbox_events(&stack, &org.tenant_id, "task.reminder_due").await;
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0]["data"]["task_id"], due);
    assert_eq!(fired[0]["data"]["assignee_id"], org.user_id.as_str());
    assert!(outbox_events(&stack, &other.tenant_id, "task.reminder_due").await.is_empty());

    // A new reminder time is a new reminder.
    let again = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    let update = "mutation($id: ID!, $at: DateTime) { updateTask(id: $id, input: { remindAt: $at }) { id } }";
    stack.subgraph("communication", Some(&org.token), update, json!({ "id": due, "at": again })).await.ok();
    crm_communication::reminders::fire_due(&stack.db).await.expect("fires");
    assert_eq!(outbox_events(&stack, &org.tenant_id, "task.reminder_due").await.len(), 2);
}
