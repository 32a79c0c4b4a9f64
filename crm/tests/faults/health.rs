//! `/health` tells the truth (RELIABILITY F3, F4, F9): NATS down leaves the API serving
//! ("degraded", 200, with the outbox backlog); Redis down or hung refuses every authenticated
//! request, so the subgraph is not ready (503) until Redis answers again; a hung Redis costs the
//! check its timeout, never a hang.

use std::time::{Duration, Instant};

use crm_platform::serve::{Services, app, serve};
use crm_testkit::private::{PrivateNats, PrivateRedis};

async fn health(http: &reqwest::Client, base: &str) -> (u16, serde_json::Value) {
    let response = http.get(format!("{base}/health")).send().await.expect("answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

/// Polls until `/health` says `status` (the client reconnects in the background).
async fn wait_for(http: &reqwest::Client, base: &str, status: &str) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..150 {
        let (_, body) = health(http, base).await;
        if body["status"] == status {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/health never said {status}: {last}");
}

#[tokio::test]
async fn health_is_degraded_without_nats_and_not_ready_without_redis() {
    let mut nats = PrivateNats::start().await;
    let mut redis = PrivateRedis::start().await;
    let database = crm_testkit::stack::migrated_database().await;
    let mut config = crm_testkit::stack::config_for(&database, "http://127.0.0.1:1/jwks");
    config.nats_url = nats.url();
    config.redis_url = redis.url();
    let services = Services::connect(config).await.expect("services");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(serve(app(&crm_deal::SUBGRAPH, &services), listener, shutdown.clone()));
    let http = reqwest::Client::new();

    let body = wait_for(&http, &base, "healthy").await;
    assert!(body["events"]["outbox"]["pending"].is_i64(), "the backlog is shown: {body}");
    assert!(body["events"]["consumers"]["dead_lettered"].is_u64(), "{body}");

    nats.kill().await;
    let body = wait_for(&http, &base, "degraded").await;
    assert_eq!(health(&http, &base).await.0, 200, "writes go on: still ready");
    assert_eq!(body["external_services"]["nats"]["healthy"], false);
    nats.start().await;
    wait_for(&http, &base, "healthy").await;

    redis.kill().await;
    let (status, body) = health(&http, &base).await;
    assert_eq!((status, body["status"].as_str()), (503, Some("unhealthy")), "{body}");
    assert_eq!(body["external_services"]["redis"]["healthy"], false);
    redis.start().await;
    wait_for(&http, &base, "healthy").await;

    redis.pause();
    let started = Instant::now();
    let (status, _) = health(&http, &base).await;
    let took = started.elapsed();
    redis.resume();
    assert_eq!(status, 503, "a hung Redis is as good as none");
    assert!(took < Duration::from_secs(2), "the check waited {took:?}");
    wait_for(&http, &base, "healthy").await;
    shutdown.cancel();
}
