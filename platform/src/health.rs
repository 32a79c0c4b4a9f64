//! `GET /health` in the seed's shape and `GET /health/live`, which only says the process is up,
//! so an orchestrator never restarts us for an outage of something else.
//!
//! `/health` is the readiness answer: 503 ("unhealthy") when the database or Redis is down,
//! because every authenticated request needs both (Redis holds the sessions) and is refused
//! without them; 200 "degraded" when only NATS is down, because writes go on and their events
//! wait in the outbox, whose backlog is shown under `events`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

use crate::serve::Services;

const DEPENDENCY_TIMEOUT: Duration = Duration::from_millis(500);

pub async fn health(State(services): State<Services>) -> (StatusCode, Json<serde_json::Value>) {
    let ping = tokio::time::timeout(DEPENDENCY_TIMEOUT, services.db.ping()).await;
    let mut database = json!({ "stats": services.db.pool_stats() });
    let db_healthy = match ping {
        Ok(Ok(elapsed)) => {
            database["response_time"] = json!(format!("{:.1}ms", elapsed.as_secs_f64() * 1000.0));
            true
        }
        Ok(Err(_)) | Err(_) => {
            database["response_time"] = json!(format!("{}ms", DEPENDENCY_TIMEOUT.as_millis()));
            database["error"] = json!("database unreachable");
            false
        }
    };
    database["healthy"] = json!(db_healthy);

    let nats_ok = matches!(services.nats.connection_state(), async_nats::connection::State::Connected);
    let redis_ok = redis_ping(&services.redis).await;
    let mut external = json!({ "nats": { "healthy": nats_ok }, "redis": { "healthy": redis_ok } });
    if !nats_ok {
        external["nats"]["error"] = json!("not connected");
    }
    if !redis_ok {
        external["redis"]["error"] = json!("not reachable");
    }

    let (status, http) = match (db_healthy && redis_ok, nats_ok) {
        (false, _) => ("unhealthy", StatusCode::SERVICE_UNAVAILABLE),
        (true, false) => ("degraded", StatusCode::OK),
        (true, true) => ("healthy", StatusCode::OK),
    };
    let events = if db_healthy { event_details(&services).await } else { json!(null) };
    let body = json!({
        "status": status,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "version": env!("CARGO_PKG_VERSION"),
        "database": database,
        "external_services": external,
        "events": events,
    });
    (http, Json(body))
}

pub async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "alive" }))
}

async fn redis_ping(client: &redis::Client) -> bool {
    let attempt = async {
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING").query_async::<String>(&mut conn).await.ok()
    };
    matches!(tokio::time::timeout(DEPENDENCY_TIMEOUT, attempt).await, Ok(Some(_)))
}

/// The outbox backlog (for every subgraph: it is one table), and what this process's relay and
/// consumers did since it started.
async fn event_details(services: &Services) -> serde_json::Value {
    let backlog = tokio::time::timeout(DEPENDENCY_TIMEOUT, crate::events::outbox_backlog(&services.db)).await;
    let outbox = match backlog {
        Ok(Ok(backlog)) => json!({
            "pending": backlog.pending,
            "oldest_pending_age_seconds": backlog.oldest_age.map(|age| age.as_secs()),
        }),
        Ok(Err(_)) | Err(_) => json!({ "error": "backlog unavailable" }),
    };
    use crate::metrics::{METRICS, Metrics};
    let consumers = |outcome| Metrics::count(&METRICS.consumer_events, outcome);
    json!({
        "outbox": outbox,
        "relay": {
            "published": Metrics::count(&METRICS.relay, "published"),
            "failed_batches": Metrics::count(&METRICS.relay, "failed_batch"),
        },
        "consumers": {
            "handled": consumers("handled"),
            "skipped": consumers("skipped"),
            "failed": consumers("failed"),
            "dead_lettered": consumers("dead_lettered"),
        },
    })
}
