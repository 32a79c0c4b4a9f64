//! The seed's event flows, each from the mutation to the mail the SMTP server received: welcome,
//! invitation, password reset, task reminder and a won deal's follow-up.

use std::time::Duration;

use crm_platform::consumer::{self, Outcome};
use crm_testkit::{TestStack, eventually, link_token, outbox_events};
use serde_json::json;

/// Longer than a consumer's `ack_wait` (30 s): an event fetched by another test's stack that
/// stopped before handling it is redelivered after that.
const WAIT: Duration = Duration::from_secs(75);

#[tokio::test]
async fn registration_invitation_and_reset_mail_reach_the_server_with_their_links() {
    let stack = TestStack::subgraphs().await;
    let smtp = stack.start_mail();
    let org = stack.register_org("Welcome Mat").await;

    let welcome = smtp.wait_for_mail_to(&org.email, 1, WAIT).await;
    assert_eq!(welcome.len(), 1, "one welcome email");
    assert_eq!(welcome[0].header("Subject").as_deref(), Some("Welcome to Welcome Mat"));
    assert!(welcome[0].text().contains(&org.email));

    let invitee = format!("new.hire@{}.example.com", org.subdomain);
    let invite = "mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }";
    stack
        .subgraph("tenant", Some(&org.token), invite, json!({ "i": { "email": invitee, "role": "MEMBER" } }))
        .await
        .ok();
    let invitation = smtp.wait_for_mail_to(&invitee, 1, WAIT).await;
    assert_eq!(invitation.len(), 1);
    assert_eq!(invitation[0].header("Subject").as_deref(), Some("Join Welcome Mat on MTenant CRM"));
    let text = invitation[0].text();
    let events = outbox_events(&stack, &org.tenant_id, "tenant.user_invited").await;
    let accept_url = events[0]["data"]["accept_url"].as_str().expect("link");
    assert!(text.contains(accept_url), "the accept link is in the mail: {text}");
    // Delivered again, the event sends nothing more: the consumer's ledger has it.
    let invitation_consumer = crm_communication::flows::CONSUMERS
        .into_iter()
        .find(|c| c.event_type == "tenant.user_invited")
        .expect("the invitation flow");
    let subject = format!("crm.{}.tenant.user_invited", org.tenant_id);
    let payload = serde_json::to_vec(&events[0]).expect("json");
    let again =
        consumer::process(&stack.db, invitation_consumer, &subject, &payload).await.expect("processed");
    assert_eq!(again, Outcome::Duplicate);
    let invitations = "SELECT count(*) FROM emails WHERE purpose = 'invitation'";
    assert_eq!(stack.count_in(&org, invitations, vec![]).await, 1);
    // The link in the mail works.
    let accept = "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { user { id } } }";
    let input = json!({ "i": { "token": link_token(accept_url), "name": "New Hire", "password": "a long enough password 1" } });
    stack.subgraph("tenant", None, accept, input).await.ok();

    let forgot = "mutation($i: ForgotPasswordInput!) { forgotPassword(input: $i) }";
    let input = json!({ "i": { "email": org.email, "subdomain": org.subdomain } });
    stack.subgraph("auth", None, forgot, input).await.ok();
    let mail = smtp.wait_for_mail_to(&org.email, 2, WAIT).await;
    assert_eq!(mail.len(), 2, "welcome, then the reset");
    assert_eq!(mail[1].header("Subject").as_deref(), Some("Reset your MTenant CRM password"));
    let resets = outbox_events(&stack, &org.tenant_id, "user.password_reset_requested").await;
    let reset_url = resets[0]["data"]["reset_url"].as_str().expect("link");
    assert!(mail[1].text().contains(reset_url));
    // Once sent, one-time links are not kept in the database.
    let holding_links = "SELECT count(*) FROM emails WHERE purpose IN ('reset', 'invitation')
        AND (status <> 'sent' OR text_body LIKE '%token=%')";
    eventually("one-time links scrubbed", WAIT, async || {
        stack.count_in(&org, holding_links, vec![]).await == 0
    })
    .await;
    assert_eq!(
        stack
            .count_in(&org, "SELECT count(*) FROM emails WHERE purpose IN ('reset', 'invitation')", vec![])
            .await,
        2
    );
}

#[tokio::test]
async fn a_reminder_mails_the_assignee_once_unless_their_preferences_say_no() {
    let stack = TestStack::subgraphs().await;
    let smtp = stack.start_mail();
    let team = stack.team("Reminded").await;
    let create = "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }";
    let past = "2020-01-01T09:00:00Z";
    stack
        .create(
            "communication",
            &team.owner.token,
            create,
            json!({ "title": "Call Ann back", "remindAt": past, "assigneeId": team.member.user_id }),
        )
        .await;
    // The viewer asked for no email notifications.
    let prefs =
        "mutation { updateMyPreferences(input: { emailNotifications: false }) { emailNotifications } }";
    stack.subgraph("tenant", Some(&team.viewer.token), prefs, json!({})).await.ok();
    stack
        .create(
            "communication",
            &team.owner.token,
            create,
            json!({ "title": "Quiet task", "remindAt": past, "assigneeId": team.viewer.user_id }),
        )
        .await;
    crm_communication::reminders::fire_due(&stack.db).await.expect("fires");
    crm_communication::reminders::fire_due(&stack.db).await.expect("nothing more to fire");

    let reminders = |to: &str| -> Vec<String> {
        let subjects = smtp.received_by(to).into_iter().filter_map(|m| m.header("Subject"));
        subjects.filter(|s| s.starts_with("Reminder")).collect()
    };
    eventually("the reminder arrives", WAIT, async || !reminders(&team.member.email).is_empty()).await;
    assert_eq!(reminders(&team.member.email), ["Reminder: Call Ann back"]);
    eventually("both reminders handled", WAIT, async || {
        stack
            .count_in(
                &team.owner,
                "SELECT count(*) FROM processed_events WHERE consumer = 'communication-task-reminder'",
                vec![],
            )
            .await
            == 2
    })
    .await;
    let queued = "SELECT count(*) FROM emails WHERE purpose = 'reminder'";
    assert_eq!(stack.count_in(&team.owner, queued, vec![]).await, 1, "none queued for the viewer");
    assert!(reminders(&team.viewer.email).is_empty());
}

#[tokio::test]
async fn a_won_deal_gets_an_activity_a_follow_up_task_and_an_email_to_its_primary_contact() {
    let stack = TestStack::subgraphs().await;
    let smtp = stack.start_mail();
    let org = stack.register_org("Winners").await;
    let to = format!("buyer.{}@example.test", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let create = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }";
    let buyer = stack
        .create(
            "contact",
            &org.token,
            create,
            json!({ "firstName": "Bea", "lastName": "Buyer", "email": to }),
        )
        .await;
    let deal = stack.create_deal(&org, "Enterprise plan", &[&buyer]).await;
    // The organization's own follow-up template.
    let template = "mutation($i: CreateEmailTemplateInput!) { createEmailTemplate(input: $i) { id } }";
    let template = stack
        .create(
            "communication",
            &org.token,
            template,
            json!({ "name": "Won", "subject": "Welcome aboard, {{ contact.first_name }}",
            "text": "We are thrilled about {{ deal.title }}. — {{ sender.name }}" }),
        )
        .await;
    let settings =
        "mutation($t: ID) { updateMailSettings(input: { dealWonTemplateId: $t }) { dealWonTemplateId } }";
    stack.subgraph("communication", Some(&org.token), settings, json!({ "t": template })).await.ok();

    let close = "mutation($id: ID!) { closeDeal(id: $id, outcome: WON) { status } }";
    stack.subgraph("deal", Some(&org.token), close, json!({ "id": deal })).await.ok();

    let mail = smtp.wait_for_mail_to(&to, 1, WAIT).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].header("Subject").as_deref(), Some("Welcome aboard, Bea"));
    assert!(mail[0].text().contains("We are thrilled about Enterprise plan."), "{}", mail[0].text());
    let graph = "query($id: ID!) { _entities(representations: [{ __typename: \"Deal\", id: $id }]) {
        ... on Deal { activities { subject author { id } } } } }";
    let activities = stack.subgraph("communication", Some(&org.token), graph, json!({ "id": deal })).await;
    assert_eq!(
        activities.ok()["_entities"][0]["activities"],
        json!([{ "subject": "Deal closed won", "author": null }])
    );
    let tasks = "query($id: ID!) { tasks(filter: { dealId: $id }) { title priority assignee { id } } }";
    let tasks = stack.subgraph("communication", Some(&org.token), tasks, json!({ "id": deal })).await;
    assert_eq!(
        tasks.ok()["tasks"],
        json!([{ "title": "Follow up on the won deal Enterprise plan", "priority": "HIGH", "assignee": { "id": org.user_id } }])
    );
    let emails = "query($id: ID!) { emails(filter: { dealId: $id }) { purpose status contact { id } } }";
    let emails = stack.subgraph("communication", Some(&org.token), emails, json!({ "id": deal })).await;
    assert_eq!(emails.ok()["emails"][0]["purpose"], "FOLLOWUP");
}
