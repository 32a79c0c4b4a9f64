//! The mail transport against a real SMTP server process: what it accepts arrives whole, a 4xx
//! reply is worth retrying, a 5xx one is final, an attempt that lost its claim sends nothing,
//! and without a server mail lands in `.eml` files.

use std::time::Duration;

use crm_communication::mail::transport::{Outcome, Outgoing, Transport};
use crm_platform::config::MailSettings;
use crm_testkit::smtp::{SmtpMode, SmtpServer};

fn settings(smtp_url: Option<String>, dir: &std::path::Path) -> MailSettings {
    MailSettings {
        smtp_url,
        from: "Acme CRM <crm@acme.test>".to_owned(),
        dir: dir.to_owned(),
        ..Default::default()
    }
}

fn message(id: &str) -> Outgoing {
    Outgoing {
        message_id: format!("<{id}@acme.test>"),
        to: "Ann Lee <ann@example.test>".parse().expect("mailbox"),
        subject: "Your pilot, Ann — next steps".to_owned(),
        text: "Plain text body".to_owned(),
        html: Some("<p>HTML <b>body</b></p>".to_owned()),
    }
}

/// The sender's hand-over record, when the attempt still holds its email.
async fn still_ours() -> bool {
    true
}

#[tokio::test]
async fn an_attempt_that_lost_its_email_sends_nothing() {
    let server = SmtpServer::start(SmtpMode::Accept).await;
    let transport =
        Transport::from_settings(&settings(Some(server.url()), &std::env::temp_dir())).expect("transport");
    let outcome = transport.deliver(&message("taken"), async || false).await;
    assert_eq!(outcome, Outcome::Superseded);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn an_accepted_message_arrives_whole() {
    let server = SmtpServer::start(SmtpMode::Accept).await;
    let transport =
        Transport::from_settings(&settings(Some(server.url()), &std::env::temp_dir())).expect("transport");
    assert_eq!(transport.deliver(&message("whole"), still_ours).await, Outcome::Accepted);
    let received = server.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.envelope_to, "ann@example.test");
    assert_eq!(mail.header("Message-ID").as_deref(), Some("<whole@acme.test>"));
    assert_eq!(mail.header("From").as_deref(), Some("\"Acme CRM\" <crm@acme.test>"));
    assert!(
        mail.header("Subject").is_some_and(|s| s.contains("=?utf-8?")),
        "encoded: {:?}",
        mail.header("Subject")
    );
    assert!(mail.raw.contains("Plain text body") && mail.raw.contains("<b>body</b>"), "{}", mail.raw);
    assert!(transport.describe().ends_with("(no encryption)"), "{}", transport.describe());
}

#[tokio::test]
async fn a_4xx_reply_is_transient_and_a_5xx_reply_is_final() {
    let deferring = SmtpServer::start(SmtpMode::Defer(1)).await;
    let transport =
        Transport::from_settings(&settings(Some(deferring.url()), &std::env::temp_dir())).expect("transport");
    let first = transport.deliver(&message("deferred"), still_ours).await;
    assert!(matches!(&first, Outcome::Deferred(reason) if reason.contains("451")), "{first:?}");
    assert_eq!(transport.deliver(&message("deferred"), still_ours).await, Outcome::Accepted);
    assert_eq!(deferring.wait_for(1, Duration::from_secs(5)).await.len(), 1);

    let refusing = SmtpServer::start(SmtpMode::Reject).await;
    let transport =
        Transport::from_settings(&settings(Some(refusing.url()), &std::env::temp_dir())).expect("transport");
    let refused = transport.deliver(&message("refused"), still_ours).await;
    assert!(matches!(&refused, Outcome::Refused(reason) if reason.contains("550")), "{refused:?}");
    assert!(refusing.received().is_empty());
}

#[tokio::test]
async fn an_unreachable_server_is_transient() {
    let server = SmtpServer::start(SmtpMode::Accept).await;
    let url = format!("smtp://127.0.0.1:{}?tls=none", server.port);
    drop(server);
    let transport = Transport::from_settings(&settings(Some(url), &std::env::temp_dir())).expect("transport");
    let result = transport.deliver(&message("nowhere"), still_ours).await;
    assert!(matches!(result, Outcome::Deferred(_)), "{result:?}");
}

#[tokio::test]
async fn without_a_server_mail_is_written_as_eml_files() {
    let dir = std::env::temp_dir().join(format!("crm-test-mail-{}", uuid::Uuid::new_v4().simple()));
    let transport = Transport::from_settings(&settings(None, &dir)).expect("transport");
    assert!(transport.describe().contains(".eml files in"));
    assert_eq!(transport.deliver(&message("on-disk"), still_ours).await, Outcome::Accepted);
    let written = std::fs::read_to_string(dir.join("_on-disk_acme.test_.eml")).expect("the file");
    assert!(written.contains("Message-ID: <on-disk@acme.test>") && written.contains("Plain text body"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_settings_are_refused_by_name() {
    let dir = std::env::temp_dir();
    let bad_from = MailSettings { from: "not a mailbox".to_owned(), dir: dir.clone(), ..Default::default() };
    assert!(Transport::from_settings(&bad_from).err().is_some_and(|e| e.starts_with("MAIL_FROM")));
    let bad_url = settings(Some("smtp://".to_owned()), &dir);
    assert!(Transport::from_settings(&bad_url).err().is_some_and(|e| e.starts_with("SMTP_URL")));
}
