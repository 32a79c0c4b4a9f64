//! The product as a Deployment of two pods per subgraph: two `crm serve <subgraph>` processes of
//! each of the five, each pair behind a round-robin balancer (a Service), the router in front,
//! on a database and a nats-server of the test's own (both replicas' relays and consumers on
//! it), with the shared Redis, as every replica in a deployment shares one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crm_testkit::PrivateDatabase;
use crm_testkit::balancer::Balancer;
use crm_testkit::private::{PrivateNats, free_port};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

const CRM: &str = env!("CARGO_BIN_EXE_crm");
pub const SUBGRAPHS: [&str; 5] = ["auth", "tenant", "contact", "deal", "communication"];
pub const REPLICAS: usize = 2;

pub struct Replica {
    pub port: u16,
    _process: Child,
}

pub struct ReplicaSet {
    pub database: PrivateDatabase,
    pub mail_dir: PathBuf,
    pub replicas: HashMap<&'static str, Vec<Replica>>,
    _nats: PrivateNats,
    _balancers: Vec<Balancer>,
    _router: Child,
    router_port: u16,
    run_dir: PathBuf,
    http: reqwest::Client,
}

/// A client address of the test's own (the router believes X-Forwarded-For from loopback), so
/// per-address limits count this test's requests only.
pub fn address() -> String {
    let [a, b, c, ..] = *uuid::Uuid::new_v4().as_bytes();
    format!("10.{a}.{b}.{c}")
}

impl ReplicaSet {
    /// `env`: more variables for every subgraph process.
    pub async fn start(name: &str, env: &[(&str, &str)]) -> Self {
        let database = PrivateDatabase::create(name).await;
        let nats = PrivateNats::start().await;
        let run_dir = std::env::temp_dir().join(format!("crm-replicas-{}", uuid::Uuid::new_v4().simple()));
        let mail_dir = run_dir.join("mail");
        std::fs::create_dir_all(&mail_dir).expect("mail dir");
        let ports: HashMap<&str, Vec<u16>> =
            SUBGRAPHS.iter().map(|name| (*name, (0..REPLICAS).map(|_| free_port()).collect())).collect();
        let mut balancers = Vec::new();
        let mut urls = HashMap::new();
        for name in SUBGRAPHS {
            let balancer = Balancer::start(ports[name].clone()).await;
            urls.insert(name, balancer.url());
            balancers.push(balancer);
        }
        let jwks = format!("{}/.well-known/jwks.json", urls["auth"]);
        let mail = mail_dir.to_string_lossy().into_owned();
        let mut replicas = HashMap::new();
        for name in SUBGRAPHS {
            let mut started = Vec::new();
            for &port in &ports[name] {
                let process = Command::new(CRM)
                    .args(["serve", name])
                    .env("DATABASE_URL", &database.url)
                    .env("NATS_URL", nats.url())
                    .env("PORT", port.to_string())
                    .env("JWKS_URL", &jwks)
                    .env("MAIL_DIR", &mail)
                    .env("FILES_BASE_URL", &urls["contact"])
                    .env("LOG_LEVEL", "error")
                    .envs(env.iter().copied())
                    .stdout(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                    .expect("crm serve");
                started.push(Replica { port, _process: process });
            }
            replicas.insert(name, started);
        }
        for name in SUBGRAPHS {
            for replica in &replicas[name] {
                wait_live(replica.port).await;
            }
        }
        let config = crm_router::write_run_dir(&run_dir).expect("router run dir");
        let router_port = free_port();
        let mut router = Command::new(CRM);
        router
            .arg("router")
            .env(crm_router::CONFIG_PATH_VAR, &config)
            .env("PORT", router_port.to_string())
            .env("ROUTER_HOST", "127.0.0.1")
            .env("JWKS_URL", &jwks)
            .env("LOG_LEVEL", "warn")
            .env("CARGO", "1")
            .stdout(Stdio::null())
            .kill_on_drop(true);
        for name in SUBGRAPHS {
            router.env(format!("{}_URL", name.to_ascii_uppercase()), format!("{}/graphql", urls[name]));
        }
        let router = router.spawn().expect("crm router");
        let set = Self {
            database,
            mail_dir,
            replicas,
            _nats: nats,
            _balancers: balancers,
            _router: router,
            router_port,
            run_dir,
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client"),
        };
        for _ in 0..300 {
            let probe =
                set.http.post(set.router_url()).json(&json!({ "query": "{ __typename }" })).send().await;
            if probe.is_ok_and(|r| r.status().is_success()) {
                return set;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the router did not answer");
    }

    pub fn router_url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.router_port)
    }

    /// The `index`th replica of `subgraph`, straight (the router keeps its connections open, so
    /// it may well reach one replica only).
    pub fn replica_url(&self, subgraph: &str, index: usize) -> String {
        format!("http://127.0.0.1:{}/graphql", self.replicas[subgraph][index].port)
    }

    /// A GraphQL request to `url` as a client at `address`; the whole response body.
    pub async fn post(
        &self,
        url: &str,
        token: Option<&str>,
        address: &str,
        query: &str,
        variables: Value,
    ) -> Value {
        let mut request = self
            .http
            .post(url)
            .header("x-forwarded-for", address)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request").json().await.expect("json")
    }

    /// Through the router; panics on errors and returns `data`.
    pub async fn ok(&self, token: Option<&str>, address: &str, query: &str, variables: Value) -> Value {
        let body = self.post(&self.router_url(), token, address, query, variables).await;
        assert!(body.get("errors").is_none(), "{query}: {body}");
        body["data"].clone()
    }

    /// Registers an organization and signs its owner in: (token, email, password, subdomain).
    pub async fn register(&self, address: &str) -> (String, String, String, String) {
        let subdomain = format!("replicas-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let email = format!("owner@{subdomain}.example.com");
        let password = "replica set password".to_owned();
        self.ok(
            None,
            address,
            "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }",
            json!({ "i": { "name": "Replicated", "subdomain": subdomain, "owner": { "email": email, "password": password, "name": "Owner" } } }),
        )
        .await;
        let login = self
            .ok(
                None,
                address,
                "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "password": password, "subdomain": subdomain } }),
            )
            .await;
        let token = login["login"]["accessToken"].as_str().expect("token").to_owned();
        (token, email, password, subdomain)
    }

    pub async fn finish(self) {
        let Self { database, run_dir, replicas, _router, .. } = self;
        drop((replicas, _router));
        std::fs::remove_dir_all(run_dir).ok();
        database.drop_database().await;
    }
}

async fn wait_live(port: u16) {
    for _ in 0..400 {
        if reqwest::get(format!("http://127.0.0.1:{port}/health/live"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("a replica on port {port} did not start");
}
