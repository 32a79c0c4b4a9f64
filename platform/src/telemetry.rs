//! Logs and traces.
//!
//! Logs are JSON lines in production (for log shippers), compact text elsewhere; a line written
//! while a request is served carries that request's `trace_id` (in `spans[0]`). Traces are exported over
//! OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and are off otherwise: a request continues
//! the trace of the W3C `traceparent` the router sends, its GraphQL operation is a span of its
//! own, and each SQL statement is a span under it (see [`sql_span`]).

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use axum::extract::MatchedPath;
use axum::http::{HeaderMap, Request};
use opentelemetry::KeyValue;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, TraceId, Tracer as _, TracerProvider as _,
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::{Level, Subscriber};
use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::{Config, Environment};

/// Set once traces are exported; the process flushes it on the way out ([`shutdown`]).
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
/// The tracer SQL spans are made with (the layer's own is inside the subscriber).
static SQL_TRACER: OnceLock<SdkTracer> = OnceLock::new();

/// The target of the span a request is served in: on for the logs at every level.
const REQUEST: &str = "crm::request";
/// The target of a GraphQL operation's span.
pub const OPERATION: &str = "crm::operation";

/// Longest SQL text kept on a span: a statement with a long `IN (…)` list stays readable.
const MAX_STATEMENT_CHARS: usize = 2000;

/// Installs the global subscriber once; later calls (tests, several subgraphs) are no-ops.
/// `service` names this process in traces unless `OTEL_SERVICE_NAME` does.
pub fn init(config: &Config, service: &str) {
    // sqlx logs every statement at INFO: keep that out unless the filter asks for sqlx.
    let directives = if config.log_level.contains("sqlx") {
        config.log_level.clone()
    } else {
        format!("{},sqlx=warn", config.log_level)
    };
    // The request span is always on for the logs, whatever their level, so every line written
    // inside a request carries its trace id.
    let directives = format!("{directives},{REQUEST}=info");
    let filter = EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| EnvFilter::new(format!("info,sqlx=warn,{REQUEST}=info")));
    let provider = config.otlp_endpoint.as_deref().and_then(|endpoint| {
        let name = config.otel_service_name.as_deref().unwrap_or(service);
        match exporting_provider(endpoint, name) {
            Ok(provider) => Some(provider),
            Err(err) => {
                eprintln!("traces are off: the OTLP exporter could not be built: {err}");
                None
            }
        }
    });
    let registry = tracing_subscriber::registry();
    let result = match config.environment {
        Environment::Production => registry
            .with(json_lines(std::io::stdout).with_filter(filter))
            .with(otel_layer(provider.as_ref()))
            .try_init(),
        Environment::Development | Environment::Test => registry
            .with(tracing_subscriber::fmt::layer().with_target(true).compact().with_filter(filter))
            .with(otel_layer(provider.as_ref()))
            .try_init(),
    };
    // The request spans read `traceparent` themselves (`request_span`): no global propagator.
    if result.is_ok()
        && let Some(provider) = provider
    {
        drop(SQL_TRACER.set(provider.tracer("crm-sql")));
        drop(PROVIDER.set(provider));
    }
}

fn exporting_provider(endpoint: &str, service: &str) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
    let endpoint = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .with_timeout(Duration::from_secs(5))
        .build()?;
    // Exports run on a thread of their own, so a slow collector never holds a request.
    let processor =
        BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::TokioCurrentThread).build();
    let resource = opentelemetry_sdk::Resource::builder_empty().with_service_name(service.to_owned()).build();
    Ok(SdkTracerProvider::builder().with_span_processor(processor).with_resource(resource).build())
}

/// One JSON object per line, with the spans it was written in, outermost first, under `spans`:
/// the first is the request's, with its `trace_id`.
fn json_lines<S, W>(writer: W) -> impl tracing_subscriber::Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .with_target(true)
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_writer(writer)
}

/// Spans of ours (targets `crm…`: requests, operations, instrumented domain functions) at INFO
/// and above become trace spans, whatever the log level (the logs have a filter of their own);
/// no library's spans do.
fn otel_layer<S>(provider: Option<&SdkTracerProvider>) -> Option<impl tracing_subscriber::Layer<S>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    provider.map(|provider| {
        let ours = Targets::new().with_target("crm", Level::INFO);
        let layer: OpenTelemetryLayer<S, SdkTracer> =
            tracing_opentelemetry::layer().with_tracer(provider.tracer("crm"));
        layer.with_filter(ours)
    })
}

/// Sends the spans still buffered (a stopping process would lose its last second of traces).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(err) = provider.shutdown()
    {
        tracing::debug!("traces were not all flushed: {err}");
    }
}

/// The span an HTTP request is served in: named by its route, continuing the caller's trace, and
/// carrying the trace id for the log lines written inside it. Health probes and metric scrapes
/// get none.
pub fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
    // Probes and scrapes every few seconds would bury the requests' traces.
    if matches!(route, "/health" | "/health/live" | "/metrics") {
        return tracing::Span::none();
    }
    let method = request.method().as_str();
    let span = tracing::info_span!(
        target: REQUEST,
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        trace_id = tracing::field::Empty,
    );
    let parent = TraceContextPropagator::new().extract(&Headers(request.headers()));
    let trace_id = if PROVIDER.get().is_some() {
        drop(span.set_parent(parent));
        span.context().span().span_context().trace_id()
    } else {
        // Not exporting: the logs still name the trace the router started, when it sent one.
        parent.span().span_context().trace_id()
    };
    if trace_id != TraceId::INVALID {
        span.record("trace_id", tracing::field::display(trace_id));
    }
    span
}

/// A finished SQL statement as a span under whatever span is current (the GraphQL operation),
/// from SeaORM's per-statement callback. The text has placeholders, never the values. Work
/// outside any traced request (relay polling, consumers) makes none: it would be a trace per
/// statement.
pub fn sql_span(sql: &str, elapsed: Duration, failed: bool) {
    let Some(tracer) = SQL_TRACER.get() else { return };
    // The innermost span that is traced (the layer makes it current on entry); the current
    // `tracing` span may be one of a library's, unknown to the trace.
    let parent = opentelemetry::Context::current();
    if !parent.span().span_context().is_valid() {
        return;
    }
    let end = SystemTime::now();
    let start = end.checked_sub(elapsed).unwrap_or(end);
    let operation = sql.split_whitespace().next().unwrap_or("SQL").to_ascii_uppercase();
    let text: String = sql.chars().take(MAX_STATEMENT_CHARS).collect();
    let mut span = tracer
        .span_builder(operation.clone())
        .with_kind(SpanKind::Client)
        .with_start_time(start)
        .with_attributes([
            KeyValue::new("db.system.name", "postgresql"),
            KeyValue::new("db.operation.name", operation),
            KeyValue::new("db.query.text", text),
        ])
        .start_with_context(tracer, &parent);
    if failed {
        span.set_status(Status::error("statement failed"));
    }
    span.end_with_timestamp(end);
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(axum::http::HeaderName::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lines").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged_inside(request: &Request<()>) -> serde_json::Value {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry().with(json_lines(move || writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = request_span(request);
            let _inside = span.enter();
            let operation =
                tracing::info_span!(target: OPERATION, "graphql", graphql.operation.name = "Contacts");
            let _operation = operation.enter();
            let domain = tracing::info_span!("list_contacts");
            let _domain = domain.enter();
            tracing::info!(contacts = 3, "served");
        });
        let bytes = lines.0.lock().expect("lines").clone();
        serde_json::from_slice(&bytes).expect("one JSON line")
    }

    #[test]
    fn log_lines_inside_a_request_carry_the_trace_id_of_its_traceparent() {
        let request = Request::builder()
            .uri("/graphql")
            .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .body(())
            .expect("request");
        let line = logged_inside(&request);
        assert_eq!(line["spans"][0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736", "{line}");
        assert_eq!(line["spans"][1]["graphql.operation.name"], "Contacts", "{line}");
        assert_eq!(line["spans"][2]["name"], "list_contacts", "{line}");
        assert_eq!(line["message"], "served");
        assert_eq!(line["contacts"], 3);
    }

    #[test]
    fn a_request_without_a_valid_traceparent_logs_no_trace_id() {
        for traceparent in
            [None, Some("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), Some("garbage")]
        {
            let mut request = Request::builder().uri("/graphql");
            if let Some(value) = traceparent {
                request = request.header("traceparent", value);
            }
            let line = logged_inside(&request.body(()).expect("request"));
            assert!(line["spans"][0].get("trace_id").is_none(), "{traceparent:?}: {line}");
            assert_eq!(line["spans"][0]["name"], "request", "{line}");
        }
    }
}
