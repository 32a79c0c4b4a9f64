//! `/health` in the seed's shape and `/health/live` on every subgraph.

use crm_testkit::TestStack;

#[tokio::test]
async fn every_subgraph_reports_health_in_the_seed_shape() {
    let stack = TestStack::subgraphs().await;
    let http = reqwest::Client::new();
    for name in ["auth", "tenant", "contact", "deal", "communication"] {
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
