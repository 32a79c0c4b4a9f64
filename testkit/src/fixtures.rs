//! Ready-made worlds for tests: organizations with a member of each role, and CRM records built
//! through the subgraphs' own API (so fixtures obey the same rules as clients). Each helper
//! asserts its own success, so a test reads as what it checks.

use std::time::Duration;

use crm_platform::{TenantId, TenantTx};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value as SqlValue};
use serde_json::{Value, json};

use crate::client::Org;
use crate::outbox::{link_token, outbox_events};
use crate::stack::TestStack;

/// The password every fixture member signs in with.
pub const MEMBER_PASSWORD: &str = "member password 1";

/// Someone who joined an organization through an invitation, signed in.
#[derive(Clone, Debug)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub token: String,
}

/// An organization with its owner and one member of every other role, each signed in for real
/// (sessions, refresh tokens and all): what role checks and member management need.
#[derive(Clone, Debug)]
pub struct Team {
    pub owner: Org,
    pub admin: Member,
    pub member: Member,
    pub viewer: Member,
}

impl Team {
    /// The token of the member holding `role` (`OWNER`, `ADMIN`, `MEMBER` or `VIEWER`).
    pub fn token(&self, role: &str) -> &str {
        match role {
            "OWNER" => &self.owner.token,
            "ADMIN" => &self.admin.token,
            "MEMBER" => &self.member.token,
            "VIEWER" => &self.viewer.token,
            other => panic!("no such role: {other}"),
        }
    }
}

/// A deal with two contacts at a company and two activities: one record of everything the
/// graph joins across subgraphs.
#[derive(Clone, Debug)]
pub struct DealWorld {
    pub company: String,
    pub contacts: Vec<String>,
    pub deal: String,
    pub activities: Vec<String>,
}

impl TestStack {
    /// Invites `email` into `org` with `role` (`ADMIN`, `MEMBER`…), accepts as a new identity and
    /// signs in.
    pub async fn add_member(&self, org: &Org, email: &str, role: &str) -> Member {
        const INVITE: &str = "mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }";
        const ACCEPT: &str =
            "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { user { id } } }";
        let invite = json!({ "i": { "email": email, "role": role } });
        self.subgraph("tenant", Some(&org.token), INVITE, invite).await.ok();
        let events = outbox_events(self, &org.tenant_id, "tenant.user_invited").await;
        let event = events.iter().rev().find(|e| e["data"]["email"] == email).expect("an invitation event");
        let token = link_token(event["data"]["accept_url"].as_str().expect("link"));
        let accept = json!({ "i": { "token": token, "name": email, "password": MEMBER_PASSWORD } });
        let accepted = self.subgraph("tenant", None, ACCEPT, accept).await;
        let user_id = accepted.ok()["acceptInvitation"]["user"]["id"].as_str().expect("id").to_owned();
        let token = self.login(email, MEMBER_PASSWORD, &org.subdomain).await;
        Member { user_id, email: email.to_owned(), token }
    }

    /// A new organization with an owner, an admin, a member and a viewer.
    pub async fn team(&self, name: &str) -> Team {
        let owner = self.register_org(name).await;
        let address = |role: &str| format!("{role}@{}.example.com", owner.subdomain);
        let admin = self.add_member(&owner, &address("admin"), "ADMIN").await;
        let member = self.add_member(&owner, &address("member"), "MEMBER").await;
        let viewer = self.add_member(&owner, &address("viewer"), "VIEWER").await;
        Team { owner, admin, member, viewer }
    }

    /// Runs `mutation` on `subgraph` as `token` and returns the `id` of what the single root
    /// field created.
    pub async fn create(&self, subgraph: &str, token: &str, mutation: &str, input: Value) -> String {
        let response = self.subgraph(subgraph, Some(token), mutation, json!({ "i": input })).await;
        let data = response.ok();
        let (_, created) = data.as_object().and_then(|o| o.iter().next()).expect("one root field");
        created["id"].as_str().expect("an id").to_owned()
    }

    pub async fn create_company(&self, org: &Org, name: &str) -> String {
        const CREATE: &str = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }";
        self.create("contact", &org.token, CREATE, json!({ "name": name })).await
    }

    /// A contact, optionally at `company`.
    pub async fn create_contact(&self, org: &Org, first_name: &str, company: Option<&str>) -> String {
        const CREATE: &str = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }";
        self.create("contact", &org.token, CREATE, json!({ "firstName": first_name, "companyId": company }))
            .await
    }

    /// A USD deal in the default pipeline's first stage, with `contacts`.
    pub async fn create_deal(&self, org: &Org, title: &str, contacts: &[&str]) -> String {
        const CREATE: &str = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }";
        let input = json!({ "title": title, "currency": "USD", "contactIds": contacts });
        self.create("deal", &org.token, CREATE, input).await
    }

    /// A note on `deal`.
    pub async fn log_note(&self, org: &Org, deal: &str, subject: &str) -> String {
        const LOG: &str = "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }";
        let input = json!({ "type": "NOTE", "subject": subject, "dealId": deal });
        self.create("communication", &org.token, LOG, input).await
    }

    /// A company, two contacts at it, a deal with both and two notes on the deal.
    pub async fn deal_world(&self, org: &Org, label: &str) -> DealWorld {
        let company = self.create_company(org, &format!("{label} Inc")).await;
        let mut contacts = Vec::new();
        for n in 1..=2 {
            contacts.push(self.create_contact(org, &format!("{label} contact {n}"), Some(&company)).await);
        }
        let contact_ids: Vec<&str> = contacts.iter().map(String::as_str).collect();
        let deal = self.create_deal(org, &format!("{label} deal"), &contact_ids).await;
        let mut activities = Vec::new();
        for n in 1..=2 {
            activities.push(self.log_note(org, &deal, &format!("{label} note {n}")).await);
        }
        DealWorld { company, contacts, deal, activities }
    }

    /// The one `bigint` (a `count(*)`, say) a statement returns, run as the application role
    /// outside any tenant scope (so it names global tables with `crm.`).
    pub async fn count(&self, sql: &str, values: Vec<SqlValue>) -> i64 {
        let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
        let row = self.db.conn().query_one(statement).await.expect("count query").expect("a row");
        row.try_get_by_index(0).expect("a bigint")
    }

    /// Like [`TestStack::count`], inside `org`'s tenant scope, where its tables need no schema.
    pub async fn count_in(&self, org: &Org, sql: &str, values: Vec<SqlValue>) -> i64 {
        let tx = TenantTx::begin(&self.db, org.tenant()).await.expect("tenant transaction");
        let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
        let row = tx.query_one(statement).await.expect("count query").expect("a row");
        row.try_get_by_index(0).expect("a bigint")
    }
}

impl Org {
    pub fn tenant(&self) -> TenantId {
        TenantId(self.tenant_id.parse().expect("tenant id"))
    }

    /// The name of the organization's schema.
    pub fn schema(&self) -> String {
        self.tenant().schema().as_str().to_owned()
    }
}

/// Waits until `check` holds, polling every 100 ms for up to `within`; panics naming `what`.
pub async fn eventually(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
