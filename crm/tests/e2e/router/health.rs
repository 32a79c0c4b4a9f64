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
    let db = crm_platform::Db::connect_lazy(
        "postgres://postgres@127.0.0.1:1/crm_down",
        2,
        std::time::Duration::from_secs(3600),
    )
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

/// `/metrics` on every subgraph, in the Prometheus text format: requests by operation with
/// their latency, errors by code, the pool, the outbox; labels never name a tenant.
#[tokio::test]
async fn every_subgraph_serves_prometheus_metrics_without_tenant_labels() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Measured").await;
    let named = "query MetricsProbe { contacts(first: 1) { totalCount } }";
    stack.subgraph("contact", Some(&org.token), named, serde_json::json!({})).await.ok();
    let refused = stack
        .subgraph(
            "contact",
            Some(&org.token),
            "query Bad { contacts(first: 1000) { totalCount } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(refused.error_codes(), ["BAD_USER_INPUT"]);
    let http = reqwest::Client::new();
    for name in crm_subgraphs::names() {
        let response = http.get(format!("{}/metrics", stack.subgraph_url(name))).send().await.expect("sent");
        assert_eq!(response.status(), 200, "{name}");
        assert!(response.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("text/plain")));
        let text = response.text().await.expect("text");
        for metric in
            ["crm_graphql_request_duration_seconds", "crm_db_pool_connections", "crm_outbox_pending"]
        {
            assert!(text.contains(metric), "{name}: {metric} missing");
        }
        assert!(!text.contains(&org.tenant_id), "{name}: a tenant id in the metrics");
    }
    let text = http
        .get(format!("{}/metrics", stack.subgraph_url("contact")))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(r#"crm_graphql_request_duration_seconds_count{kind="query",operation="MetricsProbe"}"#),
        "{text}"
    );
    assert!(text.contains(r#"crm_graphql_errors_total{code="BAD_USER_INPUT"}"#), "{text}");
}

/// The router serves its own Prometheus metrics (Hive Router's exporter) at `/metrics`.
#[tokio::test]
async fn the_router_serves_prometheus_metrics() {
    let stack = TestStack::with_router(crate::CRM).await;
    stack.router(None, "{ __typename }", serde_json::json!({})).await.ok();
    let base = stack.router_url().trim_end_matches("/graphql").to_owned();
    let response = reqwest::get(format!("{base}/metrics")).await.expect("sent");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    for metric in [
        "http_server_request_duration_seconds",
        "http_client_request_duration_seconds",
        "hive_router_circuit_breaker_state",
    ] {
        assert!(text.contains(&format!("# TYPE {metric}")), "{metric} missing: {text}");
    }
}

/// The Grafana dashboard in `deploy/grafana/` queries only metrics the subgraphs declare or the
/// router exports.
#[tokio::test]
async fn the_dashboard_queries_only_metrics_that_exist() {
    let stack = TestStack::with_router(crate::CRM).await;
    stack.router(None, "{ __typename }", serde_json::json!({})).await.ok();
    let base = stack.router_url().trim_end_matches("/graphql").to_owned();
    let router = reqwest::get(format!("{base}/metrics")).await.expect("sent").text().await.expect("text");
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../../../deploy/grafana/mtenant-crm.json")).expect("JSON");
    let mut checked = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            let names = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|word| ["crm_", "http_", "hive_"].iter().any(|p| word.starts_with(p)));
            for name in names {
                let family =
                    ["_bucket", "_count", "_sum"].iter().fold(name, |n, s| n.strip_suffix(s).unwrap_or(n));
                let known = crm_platform::metrics::NAMES.contains(&family)
                    || router.contains(&format!("# TYPE {family} "));
                assert!(known, "{} queries {family}, which nothing exports", panel["title"]);
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "the dashboard queries {checked} metrics");
}
