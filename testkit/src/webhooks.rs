//! Webhooks for tests: the delivery workers and the fan-out consumer of a stack, with retries
//! a test can wait for, and a receiver process that checks every delivery's signature with the
//! `standardwebhooks` package from PyPI.

use std::process::Stdio;
use std::time::Duration;

use crm_communication::webhooks::{deliver::Deliverer, fan_out};
use crm_platform::config::WebhookSettings;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::stack::TestStack;

/// Loopback only: the test receivers run there.
pub const ALLOWED_NETWORKS: &str = "127.0.0.0/8,::1";

/// Settings for tests: loopback allowed, 5 s per attempt, retries a fifth of a second apart.
pub fn test_settings() -> WebhookSettings {
    WebhookSettings {
        allowed_networks: ALLOWED_NETWORKS.parse().expect("networks"),
        timeout: Duration::from_secs(5),
        first_retry: Duration::from_millis(200),
        ..WebhookSettings::default()
    }
}

impl TestStack {
    /// Runs the webhook fan-out consumer and the delivery workers for this stack's lifetime.
    pub fn start_webhooks(&self) {
        let deliverer = Deliverer::new(self.db.clone(), &test_settings()).expect("webhook client");
        tokio::spawn(deliverer.run(self.shutdown.clone()));
        self.start_webhook_fan_out();
    }

    /// Runs only the fan-out consumer: deliveries are queued, and the test runs deliverers.
    pub fn start_webhook_fan_out(&self) {
        let consumer = crm_platform::consumer::run(
            self.db.clone(),
            self.services.nats.clone(),
            fan_out::CONSUMER,
            self.shutdown.clone(),
        );
        tokio::spawn(consumer);
    }
}

/// The receiver process (`testkit/webhook_receiver.py`).
pub struct Receiver {
    pub base: String,
    http: reqwest::Client,
    _process: Child,
}

impl Receiver {
    pub async fn start() -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/webhook_receiver.py");
        let mut process = Command::new("python3")
            .arg(script)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the webhook receiver");
        let stdout = process.stdout.take().expect("stdout");
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(20), BufReader::new(stdout).read_line(&mut line))
            .await
            .expect("the receiver starts (is standardwebhooks installed? scripts/test installs it)")
            .expect("its port");
        let port: u16 = line.trim().parse().expect("a port on the first line");
        Self { base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new(), _process: process }
    }

    /// Registers a webhook of `org` to `path` here, through the API, and verifies its deliveries
    /// with the secret the API answered; returns the webhook's id.
    pub async fn register(&self, stack: &TestStack, org: &crate::Org, path: &str, events: &[&str]) -> String {
        const CREATE: &str =
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { id } } }";
        let input = serde_json::json!({ "i": { "url": format!("{}{path}", self.base), "events": events } });
        let created = stack.subgraph("communication", Some(&org.token), CREATE, input).await;
        let created = &created.ok()["createWebhook"];
        let secret = created["secret"].as_str().expect("secret");
        assert!(secret.starts_with("whsec_"));
        self.set_secret(path, secret).await;
        created["webhook"]["id"].as_str().expect("id").to_owned()
    }

    /// Deliveries under `path_prefix` are verified with `secret` from now on.
    pub async fn set_secret(&self, path_prefix: &str, secret: &str) {
        let control = serde_json::json!({ "path_prefix": path_prefix, "secret": secret });
        self.http.post(format!("{}/_secret", self.base)).json(&control).send().await.expect("control");
    }

    /// Every request received so far.
    pub async fn received(&self) -> Vec<Value> {
        let response = self.http.get(format!("{}/_received", self.base)).send().await.expect("received");
        response.json().await.expect("json")
    }

    /// The requests on paths starting with `prefix`, once at least `count` have arrived (or 20 s).
    pub async fn wait_for(&self, prefix: &str, count: usize) -> Vec<Value> {
        self.wait_for_within(prefix, count, Duration::from_secs(20)).await
    }

    /// Like [`Receiver::wait_for`], waiting at most `limit`.
    pub async fn wait_for_within(&self, prefix: &str, count: usize, limit: Duration) -> Vec<Value> {
        let mut matching = Vec::new();
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            matching = self
                .received()
                .await
                .into_iter()
                .filter(|request| request["path"].as_str().is_some_and(|p| p.starts_with(prefix)))
                .collect();
            if matching.len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        matching
    }
}
