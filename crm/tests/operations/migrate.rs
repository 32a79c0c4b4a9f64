//! `crm migrate` over many tenants, in a database of its own: one broken tenant fails and is
//! reported while the others finish; a re-run after the fix completes; another run changes nothing.
//! A column added to every table under running subgraphs breaks none of their statements.

use std::process::Command;

use crm_testkit::TestStack;
use crm_testkit::stack::PrivateDatabase;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::CRM;

fn run_migrate(url: &str) -> (bool, String) {
    let output = Command::new(CRM)
        .arg("migrate")
        .env("DATABASE_URL", url)
        .env("LOG_LEVEL", "warn")
        .output()
        .expect("run");
    // Not a terminal: no progress redraws, only the summary lines.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains('\r') && !stderr.contains("tenant schemas:"),
        "progress drawn into a pipe: {stderr:?}"
    );
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test]
async fn migrate_fifty_tenants_with_one_failing() {
    let db = PrivateDatabase::create("crm_migrate").await;
    let (url, conn) = (db.url.clone(), &db.conn);

    // Fifty registered tenants whose schemas never got the template (as after a new migration).
    let mut broken = String::new();
    for n in 0..50 {
        let id = uuid::Uuid::now_v7();
        conn.execute_unprepared(&format!(
            "INSERT INTO crm.tenants (id, name, subdomain) VALUES ('{id}', 'T{n}', 'migrate-{n}')"
        ))
        .await
        .expect("tenant");
        if n == 17 {
            // A table in the way makes this tenant's template migration fail.
            broken = format!("tenant_{}", id.simple());
            conn.execute_unprepared(&format!(
                "CREATE SCHEMA {broken}; CREATE TABLE {broken}.companies (x int)"
            ))
            .await
            .expect("obstacle");
        }
    }

    let (ok, out) = run_migrate(&url);
    assert!(!ok, "a failed tenant fails the run");
    assert!(out.contains("49 migrated") && out.contains("1 failed"), "{out}");
    assert!(out.contains(&broken), "the failure names the tenant: {out}");

    conn.execute_unprepared(&format!("DROP TABLE {broken}.companies")).await.expect("fix");
    let (ok, out) = run_migrate(&url);
    assert!(ok, "{out}");
    assert!(out.contains("1 migrated, 49 already up to date, 0 failed"), "the re-run resumes: {out}");

    let (ok, out) = run_migrate(&url);
    assert!(ok && out.contains("0 migrated, 50 already up to date, 0 failed"), "idempotent: {out}");

    db.drop_database().await;
}

/// Reads and writes whose statements a pooled connection has prepared, each as a subgraph and a
/// query: run before and after a migration adds columns.
const STATEMENTS: [(&str, &str); 12] = [
    ("contact", "{ contacts(first: 5) { edges { node { id } } } }"),
    ("contact", "{ companies(first: 5) { edges { node { id } } } }"),
    ("deal", "{ deals(first: 5) { edges { node { id } } } }"),
    (
        "deal",
        "query($c: ID!) { _entities(representations: [{ __typename: \"Contact\", id: $c }]) { ... on Contact { deals { id } } } }",
    ),
    ("communication", "{ activities(first: 5) { id } }"),
    (
        "communication",
        "query($d: ID!) { _entities(representations: [{ __typename: \"Deal\", id: $d }]) { ... on Deal { activities { id } } } }",
    ),
    ("communication", "{ tasks(first: 5) { id } }"),
    ("communication", "{ emails(first: 5) { id } }"),
    ("communication", "{ webhooks { id } }"),
    ("communication", "query($c: ID!) { timeline(contactId: $c, first: 5) { entries { __typename } } }"),
    ("contact", "query($c: ID!) { contactDuplicates(id: $c) { score } }"),
    ("tenant", "{ invitations { id } }"),
];

#[tokio::test]
async fn a_column_added_to_every_table_breaks_no_statement_a_running_subgraph_has_prepared() {
    let db = PrivateDatabase::create("crm_add_column").await;
    let stack = TestStack::subgraphs_on(&db).await;
    let org = stack.register_org("Growing").await;
    let token = Some(org.token.as_str());
    let contact = stack
        .subgraph("contact", token, "mutation { createContact(input: { firstName: \"Ada\", email: \"ada@growing.example.com\" }) { id } }", json!({}))
        .await;
    let contact = contact.ok()["createContact"]["id"].as_str().expect("contact").to_owned();
    let deal = stack
        .subgraph("deal", token, "mutation($c: ID!) { createDeal(input: { title: \"Growth\", currency: \"USD\", contactIds: [$c] }) { id } }", json!({ "c": contact }))
        .await;
    let deal = deal.ok()["createDeal"]["id"].as_str().expect("deal").to_owned();
    stack
        .subgraph(
            "communication",
            token,
            "mutation($d: ID!) { logActivity(input: { type: NOTE, subject: \"grown\", dealId: $d }) { id } }",
            json!({ "d": deal }),
        )
        .await
        .ok();
    let variables = json!({ "c": contact, "d": deal });
    let run_all = async |round: &str| {
        // Sequential requests reuse the pool's idle connections, which keep what they prepared.
        for _ in 0..3 {
            for (subgraph, query) in STATEMENTS {
                let response = stack.subgraph(subgraph, token, query, variables.clone()).await;
                assert!(response.error_codes().is_empty(), "{round}, {subgraph}: {query}: {}", response.body);
            }
        }
    };
    run_all("before the migration").await;
    writes(&stack, &org, "before").await;

    // What a migration adding a column does, to every table of the tenant's schema and to the
    // global tables read with RETURNING.
    db.conn
        .execute_unprepared(&format!(
            "DO $$ DECLARE t record; BEGIN
               FOR t IN SELECT schemaname, tablename FROM pg_tables
                        WHERE schemaname IN ('tenant_{}', 'crm') LOOP
                 EXECUTE format('ALTER TABLE %I.%I ADD COLUMN added_later text', t.schemaname, t.tablename);
               END LOOP;
             END $$",
            org.tenant_id.replace('-', "")
        ))
        .await
        .expect("add a column everywhere");

    run_all("after the migration").await;
    writes(&stack, &org, "after").await;
    drop(stack);
    db.drop_database().await;
}

/// Writes that read back the rows they wrote (RETURNING), each run before and after.
async fn writes(stack: &TestStack, org: &crm_testkit::Org, round: &str) {
    let token = Some(org.token.as_str());
    let invited = stack
        .subgraph(
            "tenant",
            token,
            "mutation($e: String!) { inviteUser(input: { email: $e, role: MEMBER }) { id } }",
            json!({ "e": format!("{round}@growing.example.com") }),
        )
        .await;
    invited.ok();
    let webhook = stack
        .subgraph(
            "communication",
            token,
            "mutation($u: String!) { createWebhook(input: { url: $u, events: [\"contact.created\"] }) { webhook { id } } }",
            json!({ "u": format!("http://127.0.0.1:9/{round}") }),
        )
        .await;
    webhook.ok();
    let session = stack
        .subgraph(
            "auth",
            None,
            "mutation($i: LoginInput!) { login(input: $i) { refreshToken } }",
            json!({ "i": { "email": org.email, "password": org.password, "subdomain": org.subdomain } }),
        )
        .await;
    let refresh = session.ok()["login"]["refreshToken"].as_str().expect("refresh token").to_owned();
    let rotated = stack
        .subgraph(
            "auth",
            None,
            "mutation($t: String!) { refreshToken(token: $t) { accessToken } }",
            json!({ "t": refresh }),
        )
        .await;
    rotated.ok();
}
