//! Prometheus metrics of this process, served at `GET /metrics` on every subgraph port: GraphQL
//! requests and their latency by operation, errors by code, the database pool, the outbox
//! backlog, relay publishes, consumer outcomes, open websockets and subscriptions, email and
//! webhook outcomes. Counters live here, so `/health` and `/metrics` read the same numbers.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::serve::Services;

/// Distinct operation names kept as labels; later ones count as `other`, so a client choosing
/// names cannot grow the metrics without bound.
const MAX_OPERATION_NAMES: usize = 200;

const REQUESTS: &str = "crm_graphql_request_duration_seconds";
const ERRORS: &str = "crm_graphql_errors_total";
const CONSUMER_EVENTS: &str = "crm_consumer_events_total";
const RELAY: &str = "crm_relay_events_total";
const WEBSOCKETS: &str = "crm_websockets_open";
const SUBSCRIPTIONS: &str = "crm_subscriptions_open";
const EMAILS: &str = "crm_emails_total";
const WEBHOOK_ATTEMPTS: &str = "crm_webhook_attempts_total";
const DB_POOL: &str = "crm_db_pool_connections";
const OUTBOX_PENDING: &str = "crm_outbox_pending";
const OUTBOX_OLDEST_AGE: &str = "crm_outbox_oldest_pending_age_seconds";

/// The name of every metric this process exports (a dashboard may use only these and the
/// router's).
pub const NAMES: [&str; 11] = [
    REQUESTS,
    ERRORS,
    CONSUMER_EVENTS,
    RELAY,
    WEBSOCKETS,
    SUBSCRIPTIONS,
    EMAILS,
    WEBHOOK_ATTEMPTS,
    DB_POOL,
    OUTBOX_PENDING,
    OUTBOX_OLDEST_AGE,
];

pub struct Metrics {
    registry: Registry,
    /// GraphQL requests by operation name and kind (`query`, `mutation`), with their duration.
    pub requests: HistogramVec,
    /// Errors in GraphQL responses, by `extensions.code`.
    pub errors: IntCounterVec,
    /// Consumer deliveries by outcome: handled, skipped, failed (retried), dead_lettered.
    pub consumer_events: IntCounterVec,
    /// Relay batches' events by outcome: published, failed_batch.
    pub relay: IntCounterVec,
    pub websockets: IntGauge,
    pub subscriptions: IntGauge,
    /// Emails by outcome: sent, failed, retried.
    pub emails: IntCounterVec,
    /// Webhook attempts by outcome: succeeded, retried, failed.
    pub webhook_attempts: IntCounterVec,
    db_pool: IntGaugeVec,
    outbox_pending: IntGauge,
    outbox_oldest_age: Gauge,
    operation_names: Mutex<HashSet<String>>,
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry.register(Box::new(metric.clone())).expect("registered once");
    metric
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let metric = IntGauge::new(name, help).expect("valid metric");
    registry.register(Box::new(metric.clone())).expect("registered once");
    metric
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new();
    let requests = HistogramVec::new(
        HistogramOpts::new(REQUESTS, "GraphQL requests and their duration")
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
        &["operation", "kind"],
    )
    .expect("valid metric");
    registry.register(Box::new(requests.clone())).expect("registered once");
    let db_pool = IntGaugeVec::new(Opts::new(DB_POOL, "Database pool connections by state"), &["state"])
        .expect("valid metric");
    registry.register(Box::new(db_pool.clone())).expect("registered once");
    let outbox_oldest_age =
        Gauge::new(OUTBOX_OLDEST_AGE, "Age of the oldest unpublished event (0: none)").expect("valid metric");
    registry.register(Box::new(outbox_oldest_age.clone())).expect("registered once");
    Metrics {
        errors: counter(&registry, ERRORS, "Errors in GraphQL responses by code", &["code"]),
        consumer_events: counter(
            &registry,
            CONSUMER_EVENTS,
            "Event deliveries to consumers by outcome",
            &["outcome"],
        ),
        relay: counter(&registry, RELAY, "Outbox relay results by outcome", &["outcome"]),
        websockets: gauge(&registry, WEBSOCKETS, "Open GraphQL websockets"),
        subscriptions: gauge(&registry, SUBSCRIPTIONS, "Open subscriptions"),
        emails: counter(&registry, EMAILS, "Email attempts by outcome", &["outcome"]),
        webhook_attempts: counter(
            &registry,
            WEBHOOK_ATTEMPTS,
            "Webhook delivery attempts by outcome",
            &["outcome"],
        ),
        outbox_pending: gauge(&registry, OUTBOX_PENDING, "Events waiting in the outbox"),
        requests,
        db_pool,
        outbox_oldest_age,
        operation_names: Mutex::new(HashSet::new()),
        registry,
    }
});

impl Metrics {
    /// The label for a request's operation name: the name when it is a plain identifier and one
    /// of the first [`MAX_OPERATION_NAMES`] seen, `anonymous` without one, `other` otherwise.
    pub fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else { return "anonymous".to_owned() };
        let plain = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plain {
            return "other".to_owned();
        }
        let mut seen = self.operation_names.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.contains(name) || seen.len() < MAX_OPERATION_NAMES {
            seen.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    /// The text exposition of every metric, with the pool and the outbox read now.
    pub async fn render(&self, services: &Services) -> String {
        let pool = services.db.pool_stats();
        self.db_pool.with_label_values(&["max"]).set(i64::from(pool.max_conns));
        self.db_pool.with_label_values(&["in_use"]).set(pool.acquired_conns as i64);
        self.db_pool.with_label_values(&["idle"]).set(pool.idle_conns as i64);
        let backlog =
            tokio::time::timeout(Duration::from_millis(500), crate::events::outbox_backlog(&services.db))
                .await;
        if let Ok(Ok(backlog)) = backlog {
            self.outbox_pending.set(backlog.pending);
            self.outbox_oldest_age.set(backlog.oldest_age.map_or(0.0, |age| age.as_secs_f64()));
        }
        let mut text = Vec::new();
        if TextEncoder::new().encode(&self.registry.gather(), &mut text).is_err() {
            return String::new();
        }
        String::from_utf8(text).unwrap_or_default()
    }

    /// One count of `outcome` in `counter`, read back for `/health`.
    pub fn count(counter: &IntCounterVec, outcome: &str) -> u64 {
        counter.with_label_values(&[outcome]).get()
    }
}

/// `GET /metrics`.
pub async fn serve(
    axum::extract::State(services): axum::extract::State<Services>,
) -> ([(axum::http::header::HeaderName, &'static str); 1], String) {
    let text = METRICS.render(&services).await;
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded_identifiers() {
        let metrics = &*METRICS;
        assert_eq!(metrics.operation_label(None), "anonymous");
        assert_eq!(metrics.operation_label(Some("Contacts")), "Contacts");
        assert_eq!(metrics.operation_label(Some("drop table; --")), "other");
        assert_eq!(metrics.operation_label(Some(&"x".repeat(65))), "other");
        for n in 0..MAX_OPERATION_NAMES + 10 {
            metrics.operation_label(Some(&format!("Op{n}")));
        }
        assert_eq!(metrics.operation_label(Some("BrandNewName")), "other");
        assert_eq!(
            metrics.operation_label(Some("Contacts")),
            "Contacts",
            "names seen before keep their label"
        );
    }
}
