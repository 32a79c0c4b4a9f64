//! Email templates through the communication subgraph: checked when saved, previewed with the
//! organization's own contacts and deals (escaped in HTML), kept per organization and written
//! by members only.

use crm_testkit::TestStack;
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: CreateEmailTemplateInput!) { createEmailTemplate(input: $i) { id name } }";
const UPDATE: &str = "mutation($id: ID!, $i: UpdateEmailTemplateInput!) { updateEmailTemplate(id: $id, input: $i) { id subject html } }";
const PREVIEW: &str =
    "query($id: ID!, $c: ID, $d: ID) { previewEmailTemplate(id: $id, contactId: $c, dealId: $d) {
    subject text html } }";

fn follow_up(name: &str) -> Value {
    json!({ "i": {
        "name": name,
        "subject": "{{ deal.title }}: next steps, {{ contact.first_name }}",
        "text": "Hi {{ contact.first_name }},\nthanks from {{ sender.name }} at {{ organization.name }}.",
        "html": "<p>Hi {{ contact.full_name }} ({{ company.name }}), {{ deal.amount }} {{ deal.currency }}</p>",
    } })
}

fn bad_input(response: &crm_testkit::GraphqlResponse) -> (String, String) {
    assert_eq!(response.error_codes(), ["BAD_USER_INPUT"], "{}", response.body);
    let error = &response.body["errors"][0];
    (
        error["extensions"]["field"].as_str().unwrap_or_default().to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn templates_are_checked_when_saved_and_previewed_escaped() {
    let stack = TestStack::subgraphs().await;
    let team = stack.team("Templates").await;
    let org = &team.owner;
    let token = Some(team.token("MEMBER"));

    let created = stack.subgraph("communication", token, CREATE, follow_up("Follow-up")).await;
    let id = created.ok()["createEmailTemplate"]["id"].clone();

    // Refused when saved, naming the part and the line.
    let mut unknown = follow_up("Broken");
    unknown["i"]["text"] = json!("Hi,\n{{ contact.nickname }}");
    let (field, message) = bad_input(&stack.subgraph("communication", token, CREATE, unknown).await);
    assert_eq!(field, "text");
    assert!(message.starts_with("line 2: unknown variable `contact.nickname`"), "{message}");
    let mut broken = follow_up("Broken");
    broken["i"]["html"] = json!("<p>{% for x in range(3) %}{{ x }}</p>");
    let (field, message) = bad_input(&stack.subgraph("communication", token, CREATE, broken).await);
    assert_eq!(field, "html");
    assert!(message.starts_with("line 1:"), "{message}");
    let taken = stack.subgraph("communication", token, CREATE, follow_up("follow-UP")).await;
    assert_eq!(taken.error_codes(), ["CONFLICT"], "names are unique whatever their case");
    let update = stack
        .subgraph("communication", token, UPDATE, json!({ "id": id, "i": { "subject": "{{ deal.titel }}" } }))
        .await;
    assert_eq!(bad_input(&update).0, "subject");

    // A preview with a contact whose name is markup, at a company, and a deal.
    let company = stack.create_company(org, "Acme <b>Labs</b>").await;
    let contact = stack
        .create(
            "contact",
            &org.token,
            "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }",
            json!({ "firstName": "Ann", "lastName": "<script>alert(1)</script>", "companyId": company }),
        )
        .await;
    let deal = stack
        .create(
            "deal",
            &org.token,
            "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
            json!({ "title": "Pilot", "amount": "1200.50", "currency": "EUR" }),
        )
        .await;
    let preview =
        stack.subgraph("communication", token, PREVIEW, json!({ "id": id, "c": contact, "d": deal })).await;
    let preview = preview.ok()["previewEmailTemplate"].clone();
    assert_eq!(preview["subject"], "Pilot: next steps, Ann");
    assert_eq!(
        preview["html"],
        "<p>Hi Ann &lt;script&gt;alert(1)&lt;&#x2f;script&gt; (Acme &lt;b&gt;Labs&lt;&#x2f;b&gt;), 1200.50 EUR</p>"
    );
    let text = preview["text"].as_str().expect("text");
    assert!(text.starts_with("Hi Ann,\nthanks from "), "{text}");
    assert!(text.ends_with(" at Templates."), "{text}");

    // Removing the HTML body; viewers read but cannot write.
    let plain =
        stack.subgraph("communication", token, UPDATE, json!({ "id": id, "i": { "html": null } })).await;
    assert_eq!(plain.ok()["updateEmailTemplate"]["html"], Value::Null);
    let viewer = Some(team.token("VIEWER"));
    let listed = stack.subgraph("communication", viewer, "{ emailTemplates { name } }", json!({})).await;
    assert_eq!(listed.ok()["emailTemplates"], json!([{ "name": "Follow-up" }]));
    let denied = stack.subgraph("communication", viewer, CREATE, follow_up("Viewer's")).await;
    assert_eq!(denied.error_codes(), ["FORBIDDEN"]);
}

#[tokio::test]
async fn another_organization_cannot_see_use_or_touch_a_template() {
    let stack = TestStack::subgraphs().await;
    let a = stack.register_org("Templates A").await;
    let b = stack.register_org("Templates B").await;
    let created = stack.subgraph("communication", Some(&a.token), CREATE, follow_up("Mine")).await;
    let id = created.ok()["createEmailTemplate"]["id"].clone();
    let b_token = Some(b.token.as_str());

    let listed = stack.subgraph("communication", b_token, "{ emailTemplates { id } }", json!({})).await;
    assert_eq!(listed.ok()["emailTemplates"], json!([]));
    let one = "query($id: ID!) { emailTemplate(id: $id) { id } }";
    for (query, variables) in [
        (one, json!({ "id": id })),
        (PREVIEW, json!({ "id": id })),
        (UPDATE, json!({ "id": id, "i": { "name": "Theirs" } })),
        ("mutation($id: ID!) { deleteEmailTemplate(id: $id) { id } }", json!({ "id": id })),
    ] {
        let response = stack.subgraph("communication", b_token, query, variables).await;
        assert_eq!(response.error_codes(), ["NOT_FOUND"], "{query}: {}", response.body);
    }
    // B's own template cannot be previewed with A's contact.
    let contact = stack.create_contact(&a, "Ann", None).await;
    let theirs = stack.subgraph("communication", b_token, CREATE, follow_up("Theirs")).await;
    let theirs = theirs.ok()["createEmailTemplate"]["id"].clone();
    let foreign =
        stack.subgraph("communication", b_token, PREVIEW, json!({ "id": theirs, "c": contact })).await;
    assert_eq!(bad_input(&foreign).0, "contactId");
    // A's template is untouched.
    let still = stack.subgraph("communication", Some(&a.token), one, json!({ "id": id })).await;
    assert_eq!(still.ok()["emailTemplate"]["id"], id);
}
