//! `/health` in the seed's shape and `/health/live` on every subgraph.

use crm_testkit::TestStack;

#[tokio::test]
async fn every_subgraph_reports_health_in_the_seed_shape() {
    let stack = TestStack::subgraphs().await;
    let http = reqwest::Client::new();
    for name in crm_subgraphs::names() {
        // NATS connects in the background (the API serves while it is down): until it has,
        // the report is "degraded", still 200.
        let mut body = serde_json::Value::Null;
        for _ in 0..100 {
            let response =
                http.get(format!("{}/health", stack.subgraph_url(name))).send().await.expect("sent");
            assert_eq!(response.status(), 200, "{name}");
            body = response.json().await.expect("json");
            if body["status"] == "healthy" {
                break;
            }
            assert_eq!(body["status"], "degraded", "{name}: {body}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(body["status"], "healthy", "{name}: {body}");
        assert!(body["timestamp"].is_string() && body["version"].is_string());
        assert_eq!(body["database"]["healthy"], true);
        assert!(body["database"]["response_time"].as_str().is_some_and(|t| t.ends_with("ms")));
        for stat in ["max_conns", "total_conns", "idle_conns", "acquired_conns"] {
            assert!(body["database"]["stats"][stat].is_u64(), "{name}: {stat} in {body}");
        }
        let live = http.get(format!("{}/health/live", stack.subgraph_url(name))).send().await.expect("sent");
        assert_eq!(live.status(), 200);
    }
}

#[tokio::test]
async fn health_is_503_while_the_database_is_down_and_liveness_stays_up() {
    use crm_platform::serve::{Services, app, serve};
    // Nothing listens on port 1: the lazy pool starts anyway and every use fails fast.
    let db = crm_platform::Db::connect_lazy("postgres://postgres@127.0.0.1:1/crm_down", 2)
        .await
        .expect("lazy pool");
    let services =
        Services::with_db(crm_testkit::test_config("http://127.0.0.1:1/jwks"), db).await.expect("services");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(serve(app(&crm_contact::SUBGRAPH, &services), listener, shutdown.clone()));

    let http = reqwest::Client::new();
    let health = http.get(format!("{base}/health")).send().await.expect("sent");
    assert_eq!(health.status(), 503);
    let body: serde_json::Value = health.json().await.expect("json");
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["database"]["healthy"], false);
    assert_eq!(body["database"]["error"], "database unreachable", "no connection details leak: {body}");
    let live = http.get(format!("{base}/health/live")).send().await.expect("sent");
    assert_eq!(live.status(), 200);
    shutdown.cancel();
}
