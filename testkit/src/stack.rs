use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use crm_platform::config::{Config, MailSettings};
use crm_platform::serve::{Services, app, serve};
use crm_platform::{Db, events};
use sea_orm::ConnectionTrait;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use crate::smtp::SmtpServer;

/// The role tests run as by default: no superuser, no BYPASSRLS, and a search_path that holds no
/// tables at all (RELIABILITY T5), so a query that is not scoped to a tenant or qualified with
/// `crm.` fails loudly instead of reading something else.
pub const APP_ROLE: &str = "crm_app";

/// Prefix of the databases test processes create for themselves.
const RUN_DATABASE_PREFIX: &str = "crm_test_";

/// The database this test process uses: its own, `crm_test_<pid>_<random>`, created on first
/// use and migrated, so every run starts from an empty database and no run sees another's
/// organizations. `TEST_DATABASE_URL` names one to use instead (created if missing, never
/// dropped).
pub fn test_database() -> String {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
            let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
            let name = format!("{RUN_DATABASE_PREFIX}{}_{suffix}", std::process::id());
            format!("postgres://{APP_ROLE}@127.0.0.1:5432/{name}")
        })
    })
    .clone()
}

/// Drops the databases of earlier test processes that have ended. A database still in use
/// cannot be dropped (no FORCE), so a run in progress is never disturbed; what cannot be dropped
/// now is dropped by a later run.
async fn drop_finished_runs(admin: &sea_orm::DatabaseConnection) {
    // Whether a run has ended is read from /proc; without it, nothing is dropped.
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let rows = admin
        .query_all(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            [RUN_DATABASE_PREFIX.into()],
        ))
        .await
        .unwrap_or_default();
    // The one shared test database of earlier versions, where organizations piled up.
    let _ = admin.execute_unprepared("DROP DATABASE IF EXISTS crm_app_test").await;
    for row in rows {
        let Ok(name) = row.try_get_by_index::<String>(0) else { continue };
        let pid = name.strip_prefix(RUN_DATABASE_PREFIX).and_then(|rest| rest.split('_').next());
        let running = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !running {
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await;
        }
    }
}

/// A superuser connection for test setup; `TEST_ADMIN_DATABASE_URL` overrides it.
pub fn admin_database() -> String {
    std::env::var("TEST_ADMIN_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Creates the application role, once per machine, and clears away finished runs' databases.
/// The role's default search_path is `pg_catalog` (RELIABILITY T5 verbatim): a default for
/// connections that have not been scoped, never a tenant scope, which is only ever
/// `set_config(…, true)` inside a transaction.
async fn ensure_app_role() {
    let admin = sea_orm::Database::connect(admin_database()).await.expect("connect as the admin role");
    drop_finished_runs(&admin).await;
    admin
        .execute_unprepared(&format!(
            "DO $$ BEGIN
                 CREATE ROLE {APP_ROLE} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS;
             EXCEPTION WHEN duplicate_object THEN NULL;
             END $$;
             ALTER ROLE {APP_ROLE} SET search_path = pg_catalog;"
        ))
        .await
        .expect("create the application role");
}

/// Configuration for tests: the test database and verification against `jwks_url`.
pub fn test_config(jwks_url: &str) -> Config {
    config_for(&test_database(), jwks_url)
}

/// Like [`test_config`], on another database.
pub fn config_for(database: &str, jwks_url: &str) -> Config {
    let database = database.to_owned();
    let jwks_url = jwks_url.to_owned();
    Config::from_lookup(move |key| match key {
        "DATABASE_URL" => Some(database.clone()),
        "JWKS_URL" => Some(jwks_url.clone()),
        "ENVIRONMENT" => Some("test".to_owned()),
        "DB_MAX_CONNECTIONS" => Some("8".to_owned()),
        "WEBHOOK_ALLOWED_NETWORKS" => Some(crate::webhooks::ALLOWED_NETWORKS.to_owned()),
        "WEBHOOK_TIMEOUT_SECS" => Some("2".to_owned()),
        "LOG_LEVEL" => Some(std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".to_owned())),
        _ => None,
    })
    .expect("test configuration is valid")
}

/// Sets up the machine for this process's tests once: the role, and no leftovers of earlier runs.
async fn prepare_once() {
    static PREPARED: OnceCell<()> = OnceCell::const_new();
    PREPARED
        .get_or_init(|| async {
            if std::env::var("TEST_DATABASE_URL").is_err() {
                ensure_app_role().await;
            }
        })
        .await;
}

static MIGRATED: OnceCell<()> = OnceCell::const_new();

/// Creates and migrates the test database once per test process.
pub async fn migrated_database() -> String {
    let url = test_database();
    MIGRATED
        .get_or_init(|| async {
            prepare_once().await;
            crm_migrations::ensure_database(&url).await.expect("create test database");
            let conn = sea_orm::Database::connect(&url).await.expect("connect to test database");
            crm_migrations::migrate_global(&conn).await.expect("global migrations");
        })
        .await;
    url
}

pub struct TestStack {
    /// The pool every subgraph uses: its statement counter covers all their SQL.
    pub db: Db,
    pub services: Services,
    subgraph_urls: HashMap<&'static str, String>,
    router_port: Option<u16>,
    router: Option<Child>,
    run_dir: Option<PathBuf>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) http: reqwest::Client,
    /// The client address this stack's requests come from, unique per stack so per-address
    /// login limits never couple tests.
    pub client_address: String,
}

/// A random address in 10.0.0.0/8, as a client behind the test's "proxy".
pub fn random_client_address() -> String {
    let [a, b, c, ..] = *uuid::Uuid::new_v4().as_bytes();
    format!("10.{a}.{b}.{c}")
}

impl TestStack {
    /// Subgraphs only; requests go straight to them.
    pub async fn subgraphs() -> Self {
        Self::start(None, None).await
    }

    /// Subgraphs and the router, started from the `crm` binary at `crm_bin`.
    pub async fn with_router(crm_bin: &str) -> Self {
        Self::start(None, Some(crm_bin)).await
    }

    /// Subgraphs only, on a database of the test's own (see [`PrivateDatabase`]), for tests that
    /// change what every other test shares (signing keys, say).
    pub async fn subgraphs_on(database: &PrivateDatabase) -> Self {
        Self::start(Some(&database.url), None).await
    }

    /// Subgraphs only, on the database at `url` (a private cluster a fault test kills, say).
    pub async fn subgraphs_at(url: &str) -> Self {
        Self::start(Some(url), None).await
    }

    async fn start(database: Option<&str>, crm_bin: Option<&str>) -> Self {
        let database = match database {
            Some(url) => url.to_owned(),
            None => migrated_database().await,
        };
        let mut listeners = Vec::new();
        for subgraph in crm_subgraphs::ALL {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind subgraph port");
            listeners.push((subgraph, listener));
        }
        let port_of = |name: &str| {
            listeners
                .iter()
                .find(|(s, _)| s.name == name)
                .and_then(|(_, l)| l.local_addr().ok())
                .map(|a| a.port())
                .expect("bound")
        };
        let jwks_url = format!("http://127.0.0.1:{}/.well-known/jwks.json", port_of("auth"));
        let mut config = config_for(&database, &jwks_url);
        config.files_base_url = format!("http://127.0.0.1:{}", port_of("contact"));
        crm_platform::telemetry::init(&config, "crm-test");
        let db = Db::connect(&config.database_url, config.db_max_connections).await.expect("pool");
        let relay_db = Db::connect(&config.database_url, 2).await.expect("relay pool");
        let services = Services::with_db(config, db.clone()).await.expect("services");

        let shutdown = services.shutdown.clone();
        let mut subgraph_urls = HashMap::new();
        for (subgraph, listener) in listeners {
            let port = listener.local_addr().expect("addr").port();
            subgraph_urls.insert(subgraph.name, format!("http://127.0.0.1:{port}"));
            tokio::spawn(serve(app(subgraph, &services), listener, shutdown.clone()));
        }
        // Statements of the relay go through its own pool, so they never disturb counts.
        tokio::spawn(events::run_relay(relay_db, services.nats.clone(), shutdown.clone()));

        let mut stack = Self {
            db,
            services,
            subgraph_urls,
            router_port: None,
            router: None,
            run_dir: None,
            shutdown,
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client"),
            client_address: random_client_address(),
        };
        if let Some(bin) = crm_bin {
            stack.start_router(bin, &jwks_url, &[], &[]).await;
        }
        stack
    }

    /// Starts the router (the `crm` binary `bin`) in front of these subgraphs, reaching the
    /// subgraphs named in `overrides` at the given base URLs instead (a fault proxy, say).
    pub async fn route_through(&mut self, bin: &str, overrides: &[(&str, String)]) {
        self.route_through_with(bin, overrides, &[]).await;
    }

    /// [`Self::route_through`], with more variables in the router's environment.
    pub async fn route_through_with(
        &mut self,
        bin: &str,
        overrides: &[(&str, String)],
        env: &[(&str, &str)],
    ) {
        let jwks_url = format!("{}/.well-known/jwks.json", self.subgraph_url("auth"));
        self.start_router(bin, &jwks_url, overrides, env).await;
    }

    async fn start_router(
        &mut self,
        bin: &str,
        jwks_url: &str,
        overrides: &[(&str, String)],
        env: &[(&str, &str)],
    ) {
        let run_dir = std::env::temp_dir().join(format!("crm-test-router-{}", uuid::Uuid::new_v4().simple()));
        let config = crm_router::write_run_dir(&run_dir).expect("router run dir");
        self.run_dir = Some(run_dir);
        // The router binds a port found free a moment earlier; with many stacks starting side by
        // side another may take it first, so a router that exits during start gets a new port.
        for _ in 0..5 {
            let port = free_port().await;
            let mut command = Command::new(bin);
            command
                .arg("router")
                .env(crm_router::CONFIG_PATH_VAR, &config)
                .env("PORT", port.to_string())
                .env("ROUTER_HOST", "127.0.0.1")
                .env("JWKS_URL", jwks_url)
                .env("LOG_LEVEL", "warn")
                .env("CARGO", "1")
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .kill_on_drop(true);
            for subgraph in crm_subgraphs::ALL {
                let base = overrides
                    .iter()
                    .find(|(name, _)| *name == subgraph.name)
                    .map_or(self.subgraph_urls[subgraph.name].as_str(), |(_, url)| url.as_str());
                command.env(subgraph.url_var(), format!("{base}/graphql"));
            }
            self.router = Some(command.spawn().expect("spawn router"));
            self.router_port = Some(port);
            match self.wait_for_router().await {
                RouterStart::Answering => return,
                RouterStart::Exited(status) => {
                    eprintln!("router on port {port} exited during start ({status}); retrying")
                }
            }
        }
        panic!("the router exited during start five times");
    }

    async fn wait_for_router(&mut self) -> RouterStart {
        let url = self.router_url();
        for _ in 0..300 {
            if let Some(router) = self.router.as_mut()
                && let Ok(Some(status)) = router.try_wait()
            {
                return RouterStart::Exited(status);
            }
            let probe =
                self.http.post(&url).json(&serde_json::json!({ "query": "{ __typename }" })).send().await;
            if probe.is_ok_and(|r| r.status().is_success()) {
                return RouterStart::Answering;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("router did not answer on {url} within 30 s");
    }

    /// `http://127.0.0.1:<port>/graphql` of the router.
    pub fn router_url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.router_port.expect("stack has a router"))
    }

    pub fn router_ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/graphql", self.router_port.expect("stack has a router"))
    }

    /// Base URL (`http://127.0.0.1:<port>`) of one subgraph.
    pub fn subgraph_url(&self, name: &str) -> &str {
        &self.subgraph_urls[name]
    }

    pub fn shared(self) -> Arc<Self> {
        Arc::new(self)
    }

    /// Runs the communication subgraph's mail sender and its event flows (welcome, invitation,
    /// reset, reminder, deal-won and merge consumers) for this stack's lifetime, delivering to
    /// the process's shared test SMTP server, which it returns. Retries come at once and an
    /// email fails after 3 attempts; tracked links point at this stack's communication subgraph.
    pub fn start_mail(&self) -> &'static SmtpServer {
        let server = SmtpServer::shared();
        let settings = MailSettings {
            smtp_url: Some(server.url()),
            from: "MTenant CRM <crm@mtenant.test>".to_owned(),
            dir: std::env::temp_dir(),
            max_attempts: 3,
            retry_after: Duration::ZERO,
            tracking_base_url: self.subgraph_url("communication").to_owned(),
        };
        let sender =
            crm_communication::mail::sender::Sender::new(self.db.clone(), &settings).expect("mail settings");
        tokio::spawn(sender.run(self.shutdown.clone()));
        for consumer in crm_communication::flows::CONSUMERS {
            let run = crm_platform::consumer::run(
                self.db.clone(),
                self.services.nats.clone(),
                consumer,
                self.shutdown.clone(),
            );
            tokio::spawn(run);
        }
        server
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(router) = self.router.as_mut() {
            let _ = router.start_kill();
        }
        if let Some(dir) = &self.run_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

enum RouterStart {
    Answering,
    Exited(std::process::ExitStatus),
}

async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A database of a test's own, with the global schema migrated, for tests that need a world no
/// other test touches (crashes, many tenants). Drop it with [`PrivateDatabase::drop_database`].
pub struct PrivateDatabase {
    pub url: String,
    pub conn: sea_orm::DatabaseConnection,
    name: String,
}

impl PrivateDatabase {
    pub async fn create(prefix: &str) -> Self {
        prepare_once().await;
        let base = test_database();
        // Named like a run's database, so a test that fails before dropping it is swept later.
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let name = format!("{RUN_DATABASE_PREFIX}{}_{prefix}_{suffix}", std::process::id());
        let url = format!("{}/{name}", base.rsplit_once('/').expect("database url").0);
        crm_migrations::ensure_database(&url).await.expect("create database");
        let conn = sea_orm::Database::connect(&url).await.expect("connect");
        crm_migrations::migrate_global(&conn).await.expect("global migrations");
        Self { url, conn, name }
    }

    pub async fn drop_database(self) {
        drop(self.conn);
        let admin = sea_orm::Database::connect(admin_database()).await.expect("admin");
        admin
            .execute_unprepared(&format!("DROP DATABASE \"{}\" WITH (FORCE)", self.name))
            .await
            .expect("drop");
    }
}
