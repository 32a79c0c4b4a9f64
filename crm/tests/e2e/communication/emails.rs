//! Email end to end: `sendEmail` queues in the request, the sender delivers to a real SMTP
//! server process, retries 4xx, fails on 5xx, never sends twice across a crash, and tracked
//! opens and clicks are recorded; nothing of it crosses organizations.

use std::time::Duration;

use crm_communication::mail::queue::{NewEmail, queue};
use crm_entities::tenant::email::EmailPurpose;
use crm_platform::TenantTx;
use crm_testkit::{TestStack, eventually, outbox_events};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const SEND: &str = "mutation($i: SendEmailInput!) { sendEmail(input: $i) {
    id status attempts sentAt tracked contact { id } deal { id } } }";
const EMAIL: &str = "query($id: ID!) { email(id: $id) {
    id status attempts lastError messageId sentAt openedAt opens clicks deliveryUnconfirmed } }";
/// Longer than a mail job's lease (30 s): a job leased by another test's stack that stopped
/// mid-attempt comes free after that.
const WAIT: Duration = Duration::from_secs(75);

/// An address no other test uses, starting with `prefix` (which the test server's rules read).
fn address(prefix: &str) -> String {
    format!("{prefix}.{}@example.test", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

async fn email(stack: &TestStack, token: &str, id: &str) -> Value {
    stack.subgraph("communication", Some(token), EMAIL, json!({ "id": id })).await.ok()["email"].clone()
}

/// Waits until the email is no longer QUEUED or SENDING, and returns it.
async fn settled(stack: &TestStack, token: &str, id: &str) -> Value {
    let mut last = Value::Null;
    eventually("the email settles", WAIT, async || {
        last = email(stack, token, id).await;
        !matches!(last["status"].as_str(), Some("QUEUED" | "SENDING" | "DELIVERING"))
    })
    .await;
    last
}

async fn contact_with_email(stack: &TestStack, token: &str, first_name: &str, email: &str) -> String {
    let create = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }";
    stack
        .create(
            "contact",
            token,
            create,
            json!({ "firstName": first_name, "lastName": "Lee", "email": email }),
        )
        .await
}

#[tokio::test]
async fn a_sent_email_arrives_once_with_tracked_links_and_its_opens_and_clicks_count() {
    let stack = TestStack::subgraphs().await;
    let smtp = stack.start_mail();
    let team = stack.team("Mailing").await;
    let org = &team.owner;
    let to = address("ann");
    let ann = contact_with_email(&stack, &org.token, "Ann", &to).await;
    let deal = stack.create_deal(org, "Pilot", &[&ann]).await;

    let html = r#"<p>Hello Ann, see <a href="https://example.com/pricing?plan=team&amp;seats=5">our pricing</a>.</p>"#;
    let sent = stack
        .subgraph(
            "communication",
            Some(&team.member.token),
            SEND,
            json!({ "i": { "contactId": ann, "dealId": deal, "subject": "Pricing for the pilot", "html": html } }),
        )
        .await;
    let sent = sent.ok()["sendEmail"].clone();
    assert_eq!((sent["status"].clone(), sent["attempts"].clone()), (json!("QUEUED"), json!(0)));
    assert_eq!((sent["tracked"].clone(), sent["contact"]["id"].clone()), (json!(true), json!(ann)));
    let id = sent["id"].as_str().expect("id").to_owned();

    let received = smtp.wait_for_mail_to(&to, 1, WAIT).await;
    assert_eq!(received.len(), 1, "delivered once");
    let mail = &received[0];
    assert_eq!(mail.header("Subject").as_deref(), Some("Pricing for the pilot"));
    assert_eq!(mail.header("From").as_deref(), Some("\"MTenant CRM\" <crm@mtenant.test>"));
    let done = settled(&stack, &org.token, &id).await;
    assert_eq!((done["status"].clone(), done["attempts"].clone()), (json!("SENT"), json!(1)));
    assert_eq!(mail.header("Message-ID").as_deref(), done["messageId"].as_str());
    let body = mail.text();
    assert!(
        body.contains("https://example.com/pricing?plan=team&seats=5"),
        "the text part keeps the link: {body}"
    );
    assert!(!body.contains(r#"href="https://example.com"#), "the HTML link is a redirect: {body}");

    // The redirect goes to the original link, and counts; the pixel counts an open.
    let comm = stack.subgraph_url("communication").to_owned();
    let click_token =
        body.split("/track/click/").nth(1).and_then(|r| r.split('"').next()).expect("a click link");
    let open_token = body.split("/track/open/").nth(1).and_then(|r| r.split('"').next()).expect("a pixel");
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let click = http.get(format!("{comm}/track/click/{click_token}")).send().await.expect("click");
    assert_eq!(click.status().as_u16(), 303);
    let location = click.headers()["location"].to_str().expect("location").to_owned();
    assert_eq!(location, "https://example.com/pricing?plan=team&seats=5");
    let pixel = http.get(format!("{comm}/track/open/{open_token}")).send().await.expect("open");
    assert_eq!(pixel.status().as_u16(), 200);
    assert_eq!(pixel.headers()["content-type"], "image/gif");
    let tracked = email(&stack, &org.token, &id).await;
    assert_eq!((tracked["opens"].clone(), tracked["clicks"].clone()), (json!(1), json!(1)));
    assert!(tracked["openedAt"].is_string());

    // A forged or altered token redirects nowhere.
    let mut forged = click_token.to_owned();
    let last = forged.pop().expect("a character");
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [
        format!("{comm}/track/click/{forged}"),
        format!("{comm}/track/click/{open_token}"),
        format!("{comm}/track/click/nope"),
    ] {
        let response = http.get(&bad).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 404, "{bad}");
        assert!(response.headers().get("location").is_none());
    }

    for kind in ["email.queued", "email.sent", "email.opened", "email.clicked"] {
        let events = outbox_events(&stack, &org.tenant_id, kind).await;
        let of_this = events.iter().filter(|e| e["data"]["email_id"] == json!(id)).count();
        assert_eq!(of_this, 1, "{kind}");
    }

    // Another organization sees none of it and cannot send to these records.
    let other = stack.register_org("Not Mailing").await;
    let foreign = stack.subgraph("communication", Some(&other.token), EMAIL, json!({ "id": id })).await;
    assert_eq!(foreign.error_codes(), ["NOT_FOUND"]);
    let listed = stack.subgraph("communication", Some(&other.token), "{ emails { id } }", json!({})).await;
    assert_eq!(listed.ok()["emails"], json!([]));
    let into = stack
        .subgraph(
            "communication",
            Some(&other.token),
            SEND,
            json!({ "i": { "contactId": ann, "subject": "x", "text": "y" } }),
        )
        .await;
    assert_eq!(into.error_codes(), ["BAD_USER_INPUT"]);
    let viewer = stack
        .subgraph(
            "communication",
            Some(&team.viewer.token),
            SEND,
            json!({ "i": { "to": to, "subject": "x", "text": "y" } }),
        )
        .await;
    assert_eq!(viewer.error_codes(), ["FORBIDDEN"]);

    // With tracking turned off (admins only), mail goes out as written.
    let off = "mutation { updateMailSettings(input: { tracking: false }) { tracking } }";
    let refused = stack.subgraph("communication", Some(&team.member.token), off, json!({})).await;
    assert_eq!(refused.error_codes(), ["FORBIDDEN"]);
    let turned = stack.subgraph("communication", Some(&team.admin.token), off, json!({})).await;
    assert_eq!(turned.ok()["updateMailSettings"]["tracking"], false);
    let theirs =
        stack.subgraph("communication", Some(&other.token), "{ mailSettings { tracking } }", json!({})).await;
    assert_eq!(theirs.ok()["mailSettings"]["tracking"], true, "another organization's settings are its own");
    let plain = stack
        .subgraph(
            "communication",
            Some(&org.token),
            SEND,
            json!({ "i": { "contactId": ann, "subject": "Untracked", "html": html } }),
        )
        .await;
    assert_eq!(plain.ok()["sendEmail"]["tracked"], false);
    let received = smtp.wait_for_mail_to(&to, 2, WAIT).await;
    assert_eq!(received.len(), 2);
    assert!(received[1].text().contains(r#"href="https://example.com/pricing?plan=team&amp;seats=5""#));
    assert!(!received[1].text().contains("/track/"));
    settled(&stack, &org.token, plain.ok()["sendEmail"]["id"].as_str().expect("id")).await;

    // Analytics: two delivered, one opened and clicked; per sender; nothing for another org.
    let range = today();
    let totals = stack.subgraph("communication", Some(&org.token), ANALYTICS, range.clone()).await;
    let report = totals.ok()["communicationAnalytics"].clone();
    assert_eq!(
        report["totals"],
        json!({ "sent": 2, "delivered": 2, "failed": 0, "bounced": 0, "opened": 1, "clicked": 1, "openRate": 0.5, "clickRate": 0.5 })
    );
    let by_member = report["bySender"]
        .as_array()
        .expect("senders")
        .iter()
        .find(|s| s["sender"]["id"] == json!(team.member.user_id))
        .cloned();
    assert_eq!(by_member.expect("the member's line")["stats"]["openRate"], 1.0);
    assert_eq!(report["byPeriod"].as_array().expect("periods").len(), 1);
    let foreign = stack.subgraph("communication", Some(&other.token), ANALYTICS, range).await;
    assert_eq!(foreign.ok()["communicationAnalytics"]["totals"]["sent"], 0);
}

/// From yesterday to tomorrow.
fn today() -> Value {
    let now = chrono::Utc::now();
    json!({ "from": now - chrono::Duration::days(1), "to": now + chrono::Duration::days(1) })
}

const ANALYTICS: &str = "query($from: DateTime!, $to: DateTime!) { communicationAnalytics(from: $from, to: $to, period: MONTH) {
    totals { sent delivered failed bounced opened clicked openRate clickRate }
    byPeriod { periodStart stats { sent } } bySender { sender { id } stats { sent openRate } } activitiesByType { type count } } }";

#[tokio::test]
async fn a_4xx_is_retried_and_a_5xx_or_the_last_retry_fails_with_the_reason() {
    let stack = TestStack::subgraphs().await;
    let smtp = stack.start_mail();
    let org = stack.register_org("Retries").await;
    let send = async |to: &str| {
        let input = json!({ "i": { "to": to, "subject": "Hello", "text": "Hello there" } });
        let sent = stack.subgraph("communication", Some(&org.token), SEND, input).await;
        sent.ok()["sendEmail"]["id"].as_str().expect("id").to_owned()
    };
    // Two 451s, then 250: the third attempt (the last one allowed here) delivers.
    let deferred = address("defer2");
    let id = send(&deferred).await;
    let done = settled(&stack, &org.token, &id).await;
    assert_eq!((done["status"].clone(), done["attempts"].clone()), (json!("SENT"), json!(3)));
    assert_eq!(smtp.received_by(&deferred).len(), 1);

    let busy = address("defer9");
    let id = send(&busy).await;
    let done = settled(&stack, &org.token, &id).await;
    assert_eq!((done["status"].clone(), done["attempts"].clone()), (json!("FAILED"), json!(3)));
    assert!(
        done["lastError"].as_str().is_some_and(|e| e.contains("451") && e.contains("3 attempts")),
        "{done}"
    );

    let refused = address("refuse");
    let id = send(&refused).await;
    let done = settled(&stack, &org.token, &id).await;
    assert_eq!((done["status"].clone(), done["attempts"].clone()), (json!("FAILED"), json!(1)));
    assert!(done["lastError"].as_str().is_some_and(|e| e.contains("554")), "{done}");

    let unknown = address("bounce");
    let id = send(&unknown).await;
    let done = settled(&stack, &org.token, &id).await;
    assert_eq!((done["status"].clone(), done["attempts"].clone()), (json!("BOUNCED"), json!(1)));
    assert!(done["lastError"].as_str().is_some_and(|e| e.contains("550")), "{done}");
    let failed = outbox_events(&stack, &org.tenant_id, "email.failed").await;
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().any(|e| e["data"]["bounced"] == true));

    for to in [busy, refused, unknown] {
        assert!(smtp.received_by(&to).is_empty(), "{to}");
    }

    // Bad input is refused by field, and nothing is queued.
    for (input, field) in [
        (json!({ "to": "not an address", "subject": "x", "text": "y" }), "to"),
        (json!({ "to": address("x"), "subject": "", "text": "y" }), "subject"),
        (json!({ "to": address("x"), "subject": "x" }), "text"),
        (json!({ "subject": "x", "text": "y" }), "to"),
    ] {
        let response = stack.subgraph("communication", Some(&org.token), SEND, json!({ "i": input })).await;
        assert_eq!(response.error_codes(), ["BAD_USER_INPUT"], "{field}");
        assert_eq!(response.body["errors"][0]["extensions"]["field"], field);
    }
    assert_eq!(stack.count_in(&org, "SELECT count(*) FROM emails WHERE purpose = 'crm'", vec![]).await, 4);
    let range = today();
    let report = stack.subgraph("communication", Some(&org.token), ANALYTICS, range).await;
    assert_eq!(
        report.ok()["communicationAnalytics"]["totals"],
        json!({ "sent": 4, "delivered": 1, "failed": 3, "bounced": 1, "opened": 0, "clicked": 0, "openRate": 0.0, "clickRate": 0.0 })
    );
    let backwards = json!({ "from": "2021-01-01T00:00:00Z", "to": "2020-01-01T00:00:00Z" });
    let refused = stack.subgraph("communication", Some(&org.token), ANALYTICS, backwards).await;
    assert_eq!(refused.error_codes(), ["BAD_USER_INPUT"]);
}

/// Queues an email the way a sender that then died would have left it: in `status` after one
/// attempt, its job leased (so no sender takes it) until the test lets go.
async fn crashed_email(stack: &TestStack, org: &crm_testkit::Org, to: &str, status: &str) -> String {
    let tx = TenantTx::begin(&stack.db, org.tenant()).await.expect("tx");
    let new = NewEmail {
        purpose: EmailPurpose::Crm,
        to_address: to.to_owned(),
        to_name: None,
        contact: None,
        company: None,
        deal: None,
        template: None,
        sender: None,
        subject: format!("Left {status}"),
        text: "Body".to_owned(),
        html: None,
    };
    let email = queue(&tx, new).await.expect("queued");
    let id = email.id;
    for sql in [
        format!("UPDATE crm.mail_jobs SET lease_until = now() + interval '1 hour' WHERE email_id = '{id}'"),
        format!(
            "UPDATE emails SET status = '{status}', attempts = 1, message_id = '<{id}@crm.test>' WHERE id = '{id}'"
        ),
    ] {
        tx.execute_unprepared(&sql).await.expect("simulate the crash");
    }
    tx.commit().await.expect("commit");
    id.to_string()
}

#[tokio::test]
async fn a_sender_that_dies_mid_attempt_never_causes_a_second_copy() {
    let stack = TestStack::subgraphs().await;
    let smtp = stack.start_mail();
    let org = stack.register_org("Crashes").await;
    // Died after recording the hand-over: the server may have the message, so it is SENT,
    // unconfirmed, and never sent again.
    let handed = address("handed");
    let handed_id = crashed_email(&stack, &org, &handed, "delivering").await;
    // Died before the hand-over: the server has nothing, so it is sent on the next attempt.
    let cut = address("cut");
    let cut_id = crashed_email(&stack, &org, &cut, "sending").await;
    stack
        .db
        .conn()
        .execute_unprepared(&format!(
            "UPDATE crm.mail_jobs SET lease_until = now() - interval '1 second'
             WHERE email_id IN ('{handed_id}', '{cut_id}')"
        ))
        .await
        .expect("the lease runs out");

    let handed_over = settled(&stack, &org.token, &handed_id).await;
    assert_eq!(handed_over["status"], "SENT");
    assert_eq!(
        (handed_over["attempts"].clone(), handed_over["deliveryUnconfirmed"].clone()),
        (json!(1), json!(true))
    );
    let resent = settled(&stack, &org.token, &cut_id).await;
    assert_eq!((resent["status"].clone(), resent["attempts"].clone()), (json!("SENT"), json!(2)));
    let received = smtp.wait_for_mail_to(&cut, 1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].header("Message-ID").as_deref(),
        resent["messageId"].as_str(),
        "the same Message-ID"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(smtp.received_by(&handed).is_empty(), "never sent again");
    assert_eq!(
        stack
            .count(
                &format!("SELECT count(*) FROM crm.mail_jobs WHERE email_id IN ('{handed_id}', '{cut_id}')"),
                vec![]
            )
            .await,
        0
    );
}
