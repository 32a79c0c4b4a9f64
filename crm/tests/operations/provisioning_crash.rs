//! T12: the tenant subgraph is killed (SIGKILL) at points spread over a registration, in a
//! database of its own. Every organization that exists afterwards is complete, and nothing of the
//! others remains: no schema, no user, no membership, no event.

use std::time::{Duration, Instant};

use crm_migrations::TenantMigrator;
use crm_testkit::{PrivateDatabase, random_client_address};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;
use serde_json::json;

use crate::start_subgraph;
const REGISTER: &str =
    "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }";

async fn register(base: &str, n: u32) -> reqwest::Result<reqwest::Response> {
    let subdomain = format!("crash-{n}");
    let input = json!({ "i": { "name": "Crash", "subdomain": subdomain,
        "owner": { "email": format!("owner@{subdomain}.example.com"), "password": "a long enough password", "name": "O" } } });
    // Each registration from an address of its own, as a proxy in front would report it: the
    // per-address registration limit must not be what stops them.
    reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .header("x-forwarded-for", random_client_address())
        .json(&json!({ "query": REGISTER, "variables": input }))
        .send()
        .await
}

async fn scalar(conn: &DatabaseConnection, sql: &str) -> i64 {
    let row = conn.query_one(Statement::from_string(DbBackend::Postgres, sql)).await.expect("query");
    row.expect("row").try_get_by_index(0).expect("bigint")
}

/// Waits until the killed processes' backends are gone, so what they left is final.
async fn settle(conn: &DatabaseConnection) {
    for _ in 0..100 {
        let others = scalar(
            conn,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
        if others == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("backends of killed processes linger");
}

#[tokio::test]
async fn t12_killing_the_process_mid_registration_leaves_whole_organizations_or_nothing() {
    let db = PrivateDatabase::create("crm_crash").await;
    let (url, conn) = (db.url.clone(), &db.conn);

    // How long one registration takes here, to spread the kills over it.
    let (mut child, base) = start_subgraph("tenant", &url).await;
    let started = Instant::now();
    let first: serde_json::Value = register(&base, 0).await.expect("sent").json().await.expect("json");
    assert!(first["data"]["registerOrganization"]["tenant"]["id"].is_string(), "registered: {first}");
    let duration = started.elapsed();
    child.kill().await.expect("kill");

    // Rounds of 12 kills spread over a registration, until one has landed inside the
    // transaction (at most 4 rounds). Rows inserted into crm.tenants, committed or not, tell:
    // the transaction inserts the organization first, so an insert beyond the committed rows is
    // a registration killed after that insert and before its commit. The killed backends have
    // exited (settle), so their counts have reached the statistics.
    let mut killed = 0;
    let (mut tenants, mut inserted) = (0, 0);
    for round in 0..4u32 {
        for n in 1..=12u32 {
            let (mut child, base) = start_subgraph("tenant", &url).await;
            let request = tokio::spawn(async move { register(&base, round * 100 + n).await });
            tokio::time::sleep(duration * (n - 1) / 10).await;
            child.kill().await.expect("kill");
            let _ = request.await;
            killed += 1;
        }
        settle(conn).await;
        tenants = scalar(conn, "SELECT count(*) FROM crm.tenants").await;
        inserted = scalar(conn, "SELECT pg_stat_get_tuples_inserted('crm.tenants'::regclass)").await;
        if inserted > tenants {
            break;
        }
    }
    assert!(
        inserted > tenants,
        "no kill landed inside a registration transaction ({inserted} inserted, {tenants} committed)"
    );
    let schemas =
        scalar(conn, "SELECT count(*) FROM pg_namespace WHERE nspname ~ '^tenant_[0-9a-f]{32}$'").await;
    eprintln!(
        "registration took {duration:?}; of {killed} killed registrations {} committed and {} died \
         inside their transaction",
        tenants - 1,
        inserted - tenants
    );
    assert_eq!(schemas, tenants, "every schema belongs to a committed organization and vice versa");
    let matched = scalar(
        conn,
        "SELECT count(*) FROM crm.tenants t JOIN pg_namespace n ON n.nspname = 'tenant_' || replace(t.id::text, '-', '')",
    )
    .await;
    assert_eq!(matched, tenants);
    assert_eq!(scalar(conn, "SELECT count(*) FROM crm.users u WHERE NOT EXISTS (SELECT 1 FROM crm.memberships m WHERE m.user_id = u.id)").await, 0, "no user without a membership");
    assert_eq!(scalar(conn, "SELECT count(*) FROM crm.outbox o WHERE NOT EXISTS (SELECT 1 FROM crm.tenants t WHERE t.id = o.tenant_id)").await, 0, "no event of an organization that does not exist");

    // Each committed organization is whole: the full template and its default pipeline.
    let template = TenantMigrator::migrations().len() as i64;
    let ids = conn
        .query_all(Statement::from_string(DbBackend::Postgres, "SELECT id FROM crm.tenants"))
        .await
        .expect("tenants");
    for row in ids {
        let id: uuid::Uuid = row.try_get_by_index(0).expect("id");
        let schema = format!("tenant_{}", id.simple());
        let applied = scalar(conn, &format!("SELECT count(*) FROM {schema}.seaql_migrations")).await;
        let stages = scalar(conn, &format!("SELECT count(*) FROM {schema}.pipeline_stages")).await;
        assert_eq!((applied, stages), (template, 6), "{schema} is incomplete");
    }
    db.drop_database().await;
}
