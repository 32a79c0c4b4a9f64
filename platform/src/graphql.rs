//! The GraphQL endpoint every subgraph exposes, closed by default: POST with `application/json`
//! only (no GET execution, no form posts: CSRF), one operation per request (no batches), bounded
//! depth, complexity and directives, no suggestions, and introspection off in production.

use std::sync::Arc;

use async_graphql::{Executor, ObjectType, Schema, SchemaBuilder, SubscriptionType};
use axum::Router;
use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tracing::Instrument;

use crate::auth::{Caller, RequestAuth};
use crate::batching;
use crate::client_address::{ClientAddress, FORWARDED_FOR};
use crate::config::Environment;
use crate::error_codes::Coded;
use crate::serve::Services;
use crate::websocket;

pub const MAX_DEPTH: usize = 15;
pub const MAX_COMPLEXITY: usize = 5_000;
pub const MAX_DIRECTIVES: usize = 50;
pub const MAX_RECURSIVE_DEPTH: usize = 32;
pub use crate::error_codes::{MAX_ALIASES, PARSE_FAILED, VALIDATION_FAILED};
pub const BAD_REQUEST: &str = "BAD_REQUEST";

/// Applies the shared limits and federation to a subgraph's schema.
pub fn harden<Q, M, S>(builder: SchemaBuilder<Q, M, S>, environment: Environment) -> SchemaBuilder<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let builder = builder
        .enable_federation()
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_directives(MAX_DIRECTIVES)
        .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
        .disable_suggestions();
    match environment {
        Environment::Production => builder.disable_introspection(),
        Environment::Development | Environment::Test => builder,
    }
}

/// The federation SDL of a subgraph's schema, as composition reads it (development settings, so
/// nothing is hidden from the composer).
pub fn federation_sdl<Q, M, S>(builder: SchemaBuilder<Q, M, S>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    builder.finish().sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}

struct Endpoint<Q, M, S> {
    schema: Coded<Schema<Q, M, S>>,
    services: Services,
}

impl<Q, M, S> Clone for Endpoint<Q, M, S> {
    fn clone(&self) -> Self {
        Self { schema: self.schema.clone(), services: self.services.clone() }
    }
}

/// `POST /graphql`, and `GET /ws` (graphql-transport-ws) when the schema has subscriptions.
pub fn routes<Q, M, S>(schema: Schema<Q, M, S>, services: &Services) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let endpoint = Endpoint { schema: Coded(schema), services: services.clone() };
    let mut router = Router::new().route("/graphql", get(refuse_get).post(execute::<Q, M, S>));
    if !S::is_empty() {
        router = router.route("/ws", get(subscribe::<Q, M, S>));
    }
    router.with_state(endpoint)
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}

async fn refuse_get() -> Response {
    let mut response = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        BAD_REQUEST,
        "send GraphQL operations with POST and Content-Type: application/json",
    );
    response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

async fn execute<Q, M, S>(
    State(endpoint): State<Endpoint<Q, M, S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    if !is_json(&headers) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BAD_REQUEST,
            "Content-Type must be application/json",
        );
    }
    let Ok(mut request) = serde_json::from_slice::<async_graphql::Request>(&body) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            BAD_REQUEST,
            "the body must be one JSON object with a query (batches are not accepted)",
        );
    };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let auth = authenticate(&endpoint.services, authorization).await;
    // 200, as GraphQL over application/json answers execution errors: the router would
    // otherwise add a transport error to the client's UNAUTHENTICATED.
    match auth {
        RequestAuth::Rejected => {
            return error_response(StatusCode::OK, "UNAUTHENTICATED", "invalid or expired token");
        }
        RequestAuth::SessionsUnavailable => {
            return error_response(
                StatusCode::OK,
                "UNAUTHENTICATED",
                "sessions cannot be checked right now (session store unavailable); try again shortly",
            );
        }
        RequestAuth::Anonymous | RequestAuth::Verified(_) => {}
    }
    let client = client_address(&endpoint.services, peer, &headers);
    let scope = match &auth {
        RequestAuth::Verified(caller) => Some((caller.load_queue(), caller.reads())),
        _ => None,
    };
    // Reads share a transaction only in queries: a mutation may take locks (a custom field's
    // index) that a read transaction of the same request, open until its end, would wait on.
    let queries = only_queries(&mut request);
    if queries {
        scope.iter().for_each(|(_, reads)| reads.share());
    }
    let metrics = &*crate::metrics::METRICS;
    let operation = metrics.operation_label(operation_name(&mut request).as_deref());
    let kind = if queries { "query" } else { "mutation" };
    let span = tracing::info_span!(
        target: crate::telemetry::OPERATION,
        "graphql",
        otel.name = %format_args!("{kind} {operation}"),
        graphql.operation.name = %operation,
        graphql.operation.type = kind,
    );
    let started = std::time::Instant::now();
    let execution = batching::drive(scope, endpoint.schema.execute(request.data(auth).data(client)));
    let response = execution.instrument(span).await;
    metrics.requests.with_label_values(&[operation.as_str(), kind]).observe(started.elapsed().as_secs_f64());
    for error in &response.errors {
        let code = error.extensions.as_ref().and_then(|x| x.get("code")).map(|code| match code {
            async_graphql::Value::String(code) => code.clone(),
            other => other.to_string(),
        });
        metrics.errors.with_label_values(&[code.as_deref().unwrap_or("NONE")]).inc();
    }
    // GraphQL over HTTP: request errors are 4xx for `application/graphql-response+json` clients;
    // `application/json` clients (the router among them) get 200 with the errors.
    let status = if is_request_error(&response) && accepts_graphql_response(&headers) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (status, axum::Json(response)).into_response()
}

/// The operation's name: the one the request asks for, or that of the document's only operation.
fn operation_name(request: &mut async_graphql::Request) -> Option<String> {
    use async_graphql::parser::types::DocumentOperations;
    if let Some(name) = &request.operation_name {
        return Some(name.clone());
    }
    match &request.parsed_query().ok()?.operations {
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(|name| name.to_string())
        }
        _ => None,
    }
}

/// True when every operation of the document is a query (false when it does not parse).
fn only_queries(request: &mut async_graphql::Request) -> bool {
    use async_graphql::parser::types::OperationType;
    request.parsed_query().is_ok_and(|document| {
        document.operations.iter().all(|(_, operation)| operation.node.ty == OperationType::Query)
    })
}

/// Who sent the request (see `client_address`), for per-address limits.
fn client_address(services: &Services, peer: SocketAddr, headers: &HeaderMap) -> ClientAddress {
    let forwarded = headers.get_all(FORWARDED_FOR).iter().filter_map(|v| v.to_str().ok());
    services.config.trusted_proxies.client(peer.ip(), forwarded)
}

fn accepts_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/graphql-response+json"))
}

/// A response that failed before execution (parse or validation) is a client error: 400.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|code| {
                    matches!(code, async_graphql::Value::String(c) if c == PARSE_FAILED || c == VALIDATION_FAILED)
                })
        })
}

/// Verifies a `Bearer` credential. No credential is anonymous; a bad one is rejected outright.
pub async fn authenticate(services: &Services, authorization: Option<&str>) -> RequestAuth {
    let Some(value) = authorization else {
        return RequestAuth::Anonymous;
    };
    let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) else {
        return RequestAuth::Rejected;
    };
    let Ok(claims) = services.verifier.verify(token.trim()).await else {
        return RequestAuth::Rejected;
    };
    // A valid signature is not enough: the session must still exist (logout ends it at once).
    match services.sessions.touch(claims.tenant, claims.sub, claims.sid).await {
        Ok(true) => {
            RequestAuth::Verified(Arc::new(Caller::new(claims, services.db.clone(), services.kv.clone())))
        }
        Ok(false) => RequestAuth::Rejected,
        Err(_) => RequestAuth::SessionsUnavailable,
    }
}

async fn subscribe<Q, M, S>(
    State(endpoint): State<Endpoint<Q, M, S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|protocol| protocol.trim() == websocket::PROTOCOL);
    if !offered {
        let message = format!("subscriptions need the {} subprotocol", websocket::PROTOCOL);
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let client = client_address(&endpoint.services, peer, &headers);
    upgrade.protocols([websocket::PROTOCOL]).on_upgrade(move |socket| {
        let sockets = endpoint.services.sockets.clone();
        sockets.track_future(websocket::serve(socket, endpoint.schema, endpoint.services, client))
    })
}

/// The router forwards the client's `Authorization` header into `connection_init`; clients
/// talking to a subgraph directly may send it under either spelling.
pub(crate) fn authorization_from_payload(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    let from = |map: &serde_json::Map<String, serde_json::Value>| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.as_str().map(str::to_owned))
    };
    from(object).or_else(|| object.get("headers")?.as_object().and_then(from))
}
