//! An event pipeline of a test's own: a database (with one tenant), a private nats-server, the
//! outbox relay and consumers, as `crm serve` runs them, plus a probe event whose handler
//! records every time it runs, so "exactly once" is counted where it matters: in the handler.

use std::time::Duration;

use crm_platform::consumer::{Consumer, Retry};
use crm_platform::events::{self, DomainEvent, Envelope};
use crm_platform::tenancy::{TenantId, TenantTx};
use crm_platform::{Db, consumer};
use crm_testkit::PrivateDatabase;
use crm_testkit::private::PrivateNats;
use futures::FutureExt;
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// The event the fault tests write: a number, so what arrived can be compared with what was
/// written.
#[derive(Serialize, Deserialize)]
pub struct Probe {
    pub n: i64,
}

impl DomainEvent for Probe {
    const TYPE: &'static str = "test.probe";
}

/// Retries fast enough for a test: three deliveries, a fifth of a second apart.
pub const QUICK: Retry =
    Retry { attempts: 3, backoff: &[Duration::from_millis(200)], ack_wait: Duration::from_secs(2) };

/// Records each run of the handler: a duplicate shows as a second row.
pub const RECORDER: Consumer = Consumer::of::<Probe>("fault-probe-recorder", record).retrying(QUICK);

fn record<'a>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    async move {
        let probe: Probe = event.payload()?;
        tx.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO probe_runs (event_id, n) VALUES ($1, $2)",
            [event.id.into_uuid().into(), probe.n.into()],
        ))
        .await?;
        Ok(())
    }
    .boxed()
}

pub struct Rig {
    pub database: PrivateDatabase,
    pub db: Db,
    pub nats: PrivateNats,
    pub client: async_nats::Client,
    pub tenant: TenantId,
    pub shutdown: CancellationToken,
}

impl Rig {
    pub async fn start(name: &str) -> Self {
        let database = PrivateDatabase::create(name).await;
        let db = Db::connect(&database.url, 8).await.expect("pool");
        let nats = PrivateNats::start().await;
        // As the services connect: retrying forever, so an outage is ridden out.
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connect(nats.url())
            .await
            .expect("nats client");
        let tenant = TenantId::new();
        let txn = db.conn().begin().await.expect("begin");
        txn.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO crm.tenants (id, name, subdomain) VALUES ($1, 'Faults', $2)",
            [tenant.0.into(), format!("faults-{}", tenant.0.simple()).into()],
        ))
        .await
        .expect("tenant");
        crm_migrations::migrate_tenant_schema(&txn, &tenant.schema()).await.expect("tenant schema");
        txn.execute_unprepared(&format!(
            "CREATE TABLE {}.probe_runs (event_id uuid NOT NULL, n bigint NOT NULL)",
            tenant.schema().quoted()
        ))
        .await
        .expect("probe table");
        txn.commit().await.expect("commit");
        Self { database, db, nats, client, tenant, shutdown: CancellationToken::new() }
    }

    pub fn run_relay(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(events::run_relay(self.db.clone(), self.client.clone(), self.shutdown.clone()))
    }

    pub fn run_consumer(&self, consumer: Consumer) -> tokio::task::JoinHandle<()> {
        tokio::spawn(consumer::run(self.db.clone(), self.client.clone(), consumer, self.shutdown.clone()))
    }

    /// Writes probe `n` as a mutation does: its event in the outbox, in the same transaction.
    pub async fn write(&self, n: i64) -> Envelope {
        let envelope = Envelope::new(self.tenant, None, &Probe { n }).expect("envelope");
        let tx = TenantTx::begin(&self.db, self.tenant).await.expect("begin");
        events::enqueue(&*tx, &envelope).await.expect("enqueue");
        tx.commit().await.expect("commit");
        envelope
    }

    /// How many times the handler ran for each probe number, in number order.
    pub async fn runs(&self) -> Vec<(i64, i64)> {
        let rows = self
            .db
            .conn()
            .query_all(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT n, count(*) FROM {}.probe_runs GROUP BY n ORDER BY n",
                    self.tenant.schema().quoted()
                ),
            ))
            .await
            .expect("runs");
        rows.iter()
            .map(|row| (row.try_get_by_index(0).expect("n"), row.try_get_by_index(1).expect("count")))
            .collect()
    }

    /// Waits until the handler has run for `expected` distinct probes (or `limit` passes).
    pub async fn wait_for_runs(&self, expected: usize, limit: Duration) -> Vec<(i64, i64)> {
        let started = std::time::Instant::now();
        loop {
            let runs = self.runs().await;
            if runs.len() >= expected || started.elapsed() > limit {
                return runs;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn backlog(&self) -> events::Backlog {
        events::outbox_backlog(&self.db).await.expect("backlog")
    }

    pub fn jetstream(&self) -> async_nats::jetstream::Context {
        async_nats::jetstream::new(self.client.clone())
    }

    pub async fn finish(self) {
        self.shutdown.cancel();
        drop(self.db);
        self.database.drop_database().await;
    }
}
