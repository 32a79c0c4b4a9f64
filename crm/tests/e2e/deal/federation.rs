//! Through the router, as a client: one query crossing the contact, deal and communication
//! subgraphs returns exactly the caller's organization's data.

use crm_testkit::{Org, TestStack};
use serde_json::{Value, json};

use crate::CRM;

/// Creates a company, a contact, a deal linked to both, and two activities on the deal.
async fn seed_pipeline(stack: &TestStack, org: &Org, label: &str) -> (String, String) {
    let token = Some(org.token.as_str());
    let company = stack
        .router(
            token,
            "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }",
            json!({ "i": { "name": format!("{label} Inc") } }),
        )
        .await;
    let company_id = company.ok()["createCompany"]["id"].as_str().expect("company id").to_owned();
    let contact = stack
        .router(
            token,
            "mutation($i: CreateContactInput!) { createContact(input: $i) { id company { name } } }",
            json!({ "i": { "firstName": label, "lastName": "Buyer", "email": format!("buyer@{label}.example.com"), "companyId": company_id } }),
        )
        .await;
    let contact = contact.ok()["createContact"].clone();
    assert_eq!(contact["company"]["name"], format!("{label} Inc"));
    let contact_id = contact["id"].as_str().expect("contact id").to_owned();
    let deal = stack
        .router(
            token,
            "mutation($i: CreateDealInput!) { createDeal(input: $i) { id stage { name } } }",
            json!({ "i": { "title": format!("{label} deal"), "amount": "1200.50", "currency": "eur", "contactIds": [contact_id], "companyId": company_id } }),
        )
        .await;
    let deal = deal.ok()["createDeal"].clone();
    assert_eq!(deal["stage"]["name"], "Lead", "new deals start in the default pipeline's first stage");
    let deal_id = deal["id"].as_str().expect("deal id").to_owned();
    for (kind, subject, at) in
        [("CALL", "first call", "2026-01-01T10:00:00Z"), ("NOTE", "follow-up note", "2026-01-02T10:00:00Z")]
    {
        stack
            .router(
                token,
                "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }",
                json!({ "i": { "type": kind, "subject": format!("{label} {subject}"), "dealId": deal_id, "occurredAt": at } }),
            )
            .await
            .ok();
    }
    (contact_id, deal_id)
}

const CONTACT_WITH_DEALS: &str = "query($id: ID!) {
    contact(id: $id) { firstName deals { title stage { name } activities { subject } } }
}";

#[tokio::test]
async fn one_query_crosses_three_subgraphs_inside_one_tenant() {
    let stack = TestStack::with_router(CRM).await;
    let a = stack.register_org("Acme").await;
    let b = stack.register_org("Globex").await;
    let (a_contact, _) = seed_pipeline(&stack, &a, "acme").await;
    let (b_contact, _) = seed_pipeline(&stack, &b, "globex").await;

    let response = stack.router(Some(&a.token), CONTACT_WITH_DEALS, json!({ "id": a_contact })).await;
    assert_eq!(
        response.ok()["contact"],
        json!({
            "firstName": "acme",
            "deals": [{
                "title": "acme deal",
                "stage": { "name": "Lead" },
                "activities": [{ "subject": "acme follow-up note" }, { "subject": "acme first call" }]
            }]
        }),
        "newest activity first, and nothing of Globex"
    );

    let response = stack.router(Some(&b.token), CONTACT_WITH_DEALS, json!({ "id": b_contact })).await;
    assert_eq!(response.ok()["contact"]["deals"][0]["title"], "globex deal");
}

#[tokio::test]
async fn registration_and_login_work_through_the_router() {
    let stack = TestStack::with_router(CRM).await;
    let subdomain = format!("r{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let email = format!("peter@{subdomain}.example.com");
    let registered = stack
        .router(
            None,
            "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { subdomain } user { email name } } }",
            json!({ "i": { "name": "Initech", "subdomain": subdomain, "owner": { "email": format!("Peter@{subdomain}.EXAMPLE.com"), "password": "a long enough password", "name": "Peter" } } }),
        )
        .await;
    assert_eq!(
        registered.ok()["registerOrganization"],
        json!({ "tenant": { "subdomain": subdomain }, "user": { "email": email, "name": "Peter" } })
    );
    let login = stack
        .router(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken tokenType expiresIn user { email role } } }",
            json!({ "i": { "email": email, "password": "a long enough password", "subdomain": subdomain } }),
        )
        .await;
    let login = login.ok()["login"].clone();
    assert_eq!(login["user"], json!({ "email": email, "role": "OWNER" }));
    assert!(login["expiresIn"].as_i64().is_some_and(|s| s > 0 && s <= 900));
    let token = login["accessToken"].as_str().expect("token");

    let me = stack
        .router(
            Some(token),
            "{ me { email } currentTenant { subdomain } pipelines { name stages { name position } } }",
            json!({}),
        )
        .await;
    let data = me.ok();
    assert_eq!(data["me"]["email"], Value::String(email.clone()));
    assert_eq!(data["currentTenant"]["subdomain"], Value::String(subdomain.clone()));
    let stages: Vec<&str> = data["pipelines"][0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(stages, ["Lead", "Qualified", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]);

    let wrong = stack
        .router(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "email": email, "password": "not the password", "subdomain": subdomain } }),
        )
        .await;
    assert_eq!(wrong.error_codes(), ["UNAUTHENTICATED"]);
}
