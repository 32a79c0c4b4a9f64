//! The tenant scope lives and dies with its transaction (RELIABILITY T1–T3): with a pool of one
//! connection, a search_path never survives a commit, a rollback, a savepoint rollback or a
//! cancelled request. The whole suite runs as a role whose own search_path holds no tables (T5),
//! so an unscoped query fails loudly.

use std::time::Duration;

use crm_platform::tenancy::{SchemaName, scope_to_schema};
use crm_platform::{Db, TenantId, TenantTx};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

/// The test role's own search_path (see `crm_testkit::stack::APP_ROLE`).
const DEFAULT_SEARCH_PATH: &str = "pg_catalog";

/// A tenant schema and a same-named table in `public`, so a leaked or missing scope shows up as
/// reading the wrong table.
struct Fixture {
    db: Db,
    a: TenantId,
    b: TenantId,
    table: String,
}

impl Fixture {
    async fn new() -> Self {
        let url = crm_testkit::stack::migrated_database().await;
        let db = Db::connect(&url, 1).await.expect("pool of one");
        let table = format!("marker_{}", uuid::Uuid::new_v4().simple());
        let (a, b) = (TenantId::new(), TenantId::new());
        for schema in [a.schema(), b.schema()] {
            exec(&db, &format!("CREATE SCHEMA {}", schema.quoted())).await;
            exec(&db, &format!("CREATE TABLE {}.{table} (tag text NOT NULL)", schema.quoted())).await;
        }
        exec(&db, &format!("CREATE TABLE public.{table} (tag text NOT NULL)")).await;
        Self { db, a, b, table }
    }

    async fn search_path(&self) -> String {
        let row = self
            .db
            .conn()
            .query_one(Statement::from_string(DbBackend::Postgres, "SHOW search_path"))
            .await
            .expect("show");
        row.expect("row").try_get_by_index(0).expect("text")
    }

    /// Reads the marker table with no scope and no schema: `None` when the name resolves to
    /// nothing (the role's path holds no tables), which is what T5 wants.
    async fn count_unscoped(&self) -> Option<i64> {
        let sql = format!("SELECT count(*) FROM {}", self.table);
        match self.db.conn().query_one(Statement::from_string(DbBackend::Postgres, sql)).await {
            Ok(row) => Some(row.expect("row").try_get_by_index(0).expect("count")),
            Err(err) => {
                assert!(err.to_string().contains("does not exist"), "{err}");
                None
            }
        }
    }

    async fn cleanup(self) {
        for schema in [self.a.schema(), self.b.schema()] {
            exec(&self.db, &format!("DROP SCHEMA {} CASCADE", schema.quoted())).await;
        }
        exec(&self.db, &format!("DROP TABLE public.{}", self.table)).await;
    }
}

async fn exec(db: &Db, sql: &str) {
    db.conn().execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(conn: &impl ConnectionTrait, table: &str) -> i64 {
    let row = conn
        .query_one(Statement::from_string(DbBackend::Postgres, format!("SELECT count(*) FROM {table}")))
        .await
        .expect("count")
        .expect("row");
    row.try_get_by_index(0).expect("count")
}

async fn insert(tx: &TenantTx, table: &str) {
    tx.execute_unprepared(&format!("INSERT INTO {table} (tag) VALUES ('{}')", tx.tenant()))
        .await
        .expect("insert");
}

#[tokio::test]
async fn t1_scope_never_reaches_the_next_request_on_the_connection() {
    let f = Fixture::new().await;
    let tx = TenantTx::begin(&f.db, f.a).await.expect("begin");
    insert(&tx, &f.table).await;
    assert_eq!(count(&*tx, &f.table).await, 1, "inside the scope the tenant's table is read");
    tx.commit().await.expect("commit");

    assert_eq!(f.search_path().await, DEFAULT_SEARCH_PATH);
    assert_eq!(f.count_unscoped().await, None, "an unscoped request finds no table, none of A's rows");
    let tx = TenantTx::begin(&f.db, f.b).await.expect("begin");
    assert_eq!(count(&*tx, &f.table).await, 0, "tenant B sees none of A's rows");
    tx.commit().await.expect("commit");
    f.cleanup().await;
}

#[tokio::test]
async fn t2_scope_ends_at_commit_rollback_and_savepoint_rollback() {
    let f = Fixture::new().await;
    let tx = TenantTx::begin(&f.db, f.a).await.expect("begin");
    tx.commit().await.expect("commit");
    assert_eq!(f.search_path().await, DEFAULT_SEARCH_PATH, "after COMMIT");

    let tx = TenantTx::begin(&f.db, f.a).await.expect("begin");
    insert(&tx, &f.table).await;
    drop(tx);
    assert_eq!(f.search_path().await, DEFAULT_SEARCH_PATH, "after ROLLBACK");
    let tx = TenantTx::begin(&f.db, f.a).await.expect("begin");
    assert_eq!(count(&*tx, &f.table).await, 0, "the rolled back insert is gone");
    drop(tx);

    let txn = f.db.conn().begin().await.expect("begin");
    txn.execute_unprepared("SAVEPOINT s").await.expect("savepoint");
    scope_to_schema(&txn, &f.a.schema()).await.expect("scope");
    txn.execute_unprepared("ROLLBACK TO SAVEPOINT s").await.expect("rollback to");
    let row = txn
        .query_one(Statement::from_string(DbBackend::Postgres, "SELECT current_setting('search_path')"))
        .await
        .expect("setting")
        .expect("row");
    let path: String = row.try_get_by_index(0).expect("text");
    assert_eq!(path, DEFAULT_SEARCH_PATH, "after ROLLBACK TO SAVEPOINT, inside the transaction");
    txn.commit().await.expect("commit");
    f.cleanup().await;
}

#[tokio::test]
async fn t3_a_cancelled_request_leaves_no_transaction_scope_or_write() {
    let f = Fixture::new().await;
    let cancelled = tokio::time::timeout(Duration::from_millis(200), async {
        let tx = TenantTx::begin(&f.db, f.a).await.expect("begin");
        insert(&tx, &f.table).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        tx.commit().await.expect("never reached");
    })
    .await;
    assert!(cancelled.is_err(), "the request was cut off before committing");

    assert_eq!(f.search_path().await, DEFAULT_SEARCH_PATH);
    let row =
        f.db.conn()
            // The cancelled transaction had written, so it held an xid; a fresh one has none.
            .query_one(Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_current_xact_id_if_assigned() IS NULL",
            ))
            .await
            .expect("query")
            .expect("row");
    let fresh: bool = row.try_get_by_index(0).expect("bool");
    assert!(fresh, "no transaction was left open on the connection");
    let tx = TenantTx::begin(&f.db, f.a).await.expect("begin");
    assert_eq!(count(&*tx, &f.table).await, 0, "nothing of the cancelled request was written");
    drop(tx);
    f.cleanup().await;
}

#[test]
fn t7_a_schema_list_is_never_a_tenant_schema() {
    let a = TenantId::new().schema();
    let b = TenantId::new().schema();
    assert!(SchemaName::parse(&format!("{},{}", a.as_str(), b.as_str())).is_err());
    assert!(SchemaName::parse(&format!("{}, public", a.as_str())).is_err());
}

#[tokio::test]
async fn t13_nobody_may_create_objects_in_public() {
    let url = crm_testkit::stack::migrated_database().await;
    let db = Db::connect(&url, 1).await.expect("pool");
    let row = db
        .conn()
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            "SELECT has_schema_privilege('public', 'public', 'CREATE')",
        ))
        .await
        .expect("query")
        .expect("row");
    let public_can_create: bool = row.try_get_by_index(0).expect("bool");
    assert!(!public_can_create, "PUBLIC must not hold CREATE on schema public (CVE-2018-1058)");
}

#[tokio::test]
async fn t5_the_application_role_finds_no_table_without_a_scope() {
    let f = Fixture::new().await;
    assert_eq!(f.search_path().await, DEFAULT_SEARCH_PATH);
    // The marker table exists in public and in both tenant schemas; unscoped, none is found.
    assert_eq!(f.count_unscoped().await, None);
    let unscoped_crm =
        f.db.conn().query_one(Statement::from_string(DbBackend::Postgres, "SELECT 1 FROM tenants")).await;
    assert!(unscoped_crm.is_err_and(|e| e.to_string().contains("does not exist")));
    // Neither superuser nor BYPASSRLS: the role is subject to every privilege and policy.
    let row =
        f.db.conn()
            .query_one(Statement::from_string(
                DbBackend::Postgres,
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
            ))
            .await
            .expect("query")
            .expect("row");
    let flags: (bool, bool) =
        (row.try_get_by_index(0).expect("bool"), row.try_get_by_index(1).expect("bool"));
    assert_eq!(flags, (false, false));
    f.cleanup().await;
}

/// A small deterministic generator, so a failing soak can be replayed from its seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

#[tokio::test]
async fn t4_ten_thousand_mixed_tasks_over_a_small_pool_never_cross_tenants() {
    use futures::StreamExt;
    const TENANTS: usize = 8;
    const TASKS: usize = 10_000;
    let url = crm_testkit::stack::migrated_database().await;
    let db = Db::connect(&url, 3).await.expect("pool of three");
    let table = format!("soak_{}", uuid::Uuid::new_v4().simple());
    let tenants: Vec<TenantId> = (0..TENANTS).map(|_| TenantId::new()).collect();
    for tenant in &tenants {
        exec(&db, &format!("CREATE SCHEMA {}", tenant.schema().quoted())).await;
        exec(&db, &format!("CREATE TABLE {}.{table} (tag text NOT NULL)", tenant.schema().quoted())).await;
    }
    let seed = u64::from(std::process::id()) ^ 0x5eed;
    let mut rng = Lcg(seed);
    let plan: Vec<(usize, u64)> =
        (0..TASKS).map(|_| ((rng.next() as usize) % TENANTS, rng.next() % 10)).collect();

    let violations = futures::stream::iter(plan)
        .map(|(t, action)| {
            let (db, table, tenant) = (db.clone(), table.clone(), tenants[t]);
            async move {
                let tx = TenantTx::begin(&db, tenant).await.expect("begin");
                match action {
                    // Writes, some of which are abandoned mid-transaction (a cancelled request).
                    0..=2 => {
                        insert(&tx, &table).await;
                        tx.commit().await.expect("commit");
                        0
                    }
                    3 => {
                        insert(&tx, &table).await;
                        drop(tx);
                        0
                    }
                    // Reads: every row must carry the reader's own tag.
                    _ => {
                        let sql = format!("SELECT count(*) FROM {table} WHERE tag <> $1");
                        let row = tx
                            .query_one(Statement::from_sql_and_values(
                                DbBackend::Postgres,
                                sql,
                                [tenant.to_string().into()],
                            ))
                            .await
                            .expect("read")
                            .expect("row");
                        let foreign: i64 = row.try_get_by_index(0).expect("count");
                        tx.commit().await.expect("commit");
                        foreign
                    }
                }
            }
        })
        .buffer_unordered(24)
        .fold(0i64, |sum, foreign| async move { sum + foreign })
        .await;
    assert_eq!(violations, 0, "rows of another tenant were read (seed {seed})");

    // And at rest: each schema holds only its own tenant's rows, and some of them.
    for tenant in &tenants {
        let tx = TenantTx::begin(&db, *tenant).await.expect("begin");
        let own = count(&*tx, &table).await;
        let sql = format!("SELECT count(*) FROM {table} WHERE tag <> '{tenant}'");
        let row =
            tx.query_one(Statement::from_string(DbBackend::Postgres, sql)).await.expect("q").expect("row");
        let foreign: i64 = row.try_get_by_index(0).expect("count");
        assert!(own > 0 && foreign == 0, "{tenant}: {own} rows, {foreign} foreign");
        drop(tx);
        exec(&db, &format!("DROP SCHEMA {} CASCADE", tenant.schema().quoted())).await;
    }
}
