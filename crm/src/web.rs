//! The product's one origin (`crm up`, :3000): the built web app, and the paths an ingress
//! routes in production — `/graphql` (HTTP and websockets) to the router, `/files/…` to the
//! contact subgraph, `/track/…` to the communication subgraph.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::extract::ws::{Message as ClientMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as UpstreamMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Where each path goes.
#[derive(Clone)]
pub struct Upstreams {
    /// `http://host:port` of the router.
    pub graphql: String,
    pub files: String,
    pub tracking: String,
    /// The built app (`web/dist`).
    pub app: PathBuf,
}

#[derive(Clone)]
struct Origin {
    upstreams: Upstreams,
    http: reqwest::Client,
}

/// `crm web`: the origin on its own, its upstreams from the environment (service names in a
/// deployment, this machine's ports by default); stops on SIGTERM or Ctrl-C.
pub async fn serve_from_env() -> anyhow::Result<()> {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let upstreams = Upstreams {
        graphql: var("ROUTER_URL", "http://127.0.0.1:4000"),
        files: var("FILES_URL", "http://127.0.0.1:8082"),
        tracking: var("TRACKING_URL", "http://127.0.0.1:8084"),
        app: var("WEB_DIST", "web/dist").into(),
    };
    let port: u16 = var("WEB_PORT", "3000").parse()?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    println!("serving the web app on :{port}");
    let service = routes(upstreams).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(crm_platform::serve::without_delay(listener), service)
        .with_graceful_shutdown(crm_platform::serve::shutdown_signal())
        .await?;
    Ok(())
}

pub fn routes(upstreams: Upstreams) -> Router {
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http client");
    Router::new().fallback(handle).with_state(Origin { upstreams, http })
}

/// The services behind this origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Graphql,
    Files,
    Tracking,
}

fn target_of(path: &str) -> Option<Target> {
    if path == "/graphql" {
        Some(Target::Graphql)
    } else if path.starts_with("/files/") {
        Some(Target::Files)
    } else if path.starts_with("/track/") {
        Some(Target::Tracking)
    } else {
        None
    }
}

async fn handle(State(origin): State<Origin>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let upstream = target_of(&path).map(|target| match target {
        Target::Graphql => &origin.upstreams.graphql,
        Target::Files => &origin.upstreams.files,
        Target::Tracking => &origin.upstreams.tracking,
    });
    // A person opening the API's URL in a browser gets the playground, which works offline.
    if path == "/graphql" && request.method() == axum::http::Method::GET && wants_html(request.headers()) {
        return axum::response::Redirect::to("/graphiql").into_response();
    }
    match upstream {
        Some(base) if is_websocket(request.headers()) => websocket(base.clone(), request).await,
        Some(base) => forward(&origin.http, base, request).await,
        None => static_file(&origin.upstreams.app, &path).await,
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

fn is_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn client_address(request: &Request) -> Option<String> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip().to_string())
}

/// `X-Forwarded-For` with the peer's address appended, as proxies do: the router believes the
/// chain only as far as its trusted proxies go, so what a remote client wrote is ignored.
fn forwarded_for(headers: &HeaderMap, peer: Option<String>) -> Option<HeaderValue> {
    let peer = peer?;
    let chain = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(earlier) if !earlier.trim().is_empty() => format!("{earlier}, {peer}"),
        _ => peer,
    };
    HeaderValue::from_str(&chain).ok()
}

/// Headers that belong to one connection, not to the request.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    header::HOST,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::TE,
    header::PROXY_AUTHORIZATION,
];

async fn forward(http: &reqwest::Client, base: &str, request: Request) -> Response {
    let address = client_address(&request);
    let (parts, body) = request.into_parts();
    let target = format!("{base}{}", parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    let mut headers = parts.headers.clone();
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    if let Some(value) = forwarded_for(&headers, address) {
        headers.insert(HeaderName::from_static("x-forwarded-for"), value);
    }
    let body = reqwest::Body::wrap_stream(body.into_data_stream());
    let sent = http.request(parts.method, target).headers(headers).body(body).send().await;
    let upstream = match sent {
        Ok(upstream) => upstream,
        Err(err) => {
            tracing::warn!(error = %err, "the web origin could not reach {base}");
            return (StatusCode::BAD_GATEWAY, "the service behind this path is not answering")
                .into_response();
        }
    };
    let mut response = Response::builder().status(upstream.status());
    for (name, value) in upstream.headers() {
        if !HOP_BY_HOP.contains(name) {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from_stream(upstream.bytes_stream()))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

async fn websocket(base: String, request: Request) -> Response {
    let address = client_address(&request);
    let (mut parts, _) = request.into_parts();
    let forwarded = forwarded_for(&parts.headers, address);
    let protocols: Vec<String> = parts
        .headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').map(|p| p.trim().to_owned()).collect())
        .unwrap_or_default();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let target = format!(
        "{}{}",
        base.replacen("http", "ws", 1),
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    upgrade.protocols(protocols.clone()).on_upgrade(move |socket| pump(socket, target, protocols, forwarded))
}

/// Joins the browser's socket to one opened to the router, message for message, until either
/// side closes.
async fn pump(client: WebSocket, target: String, protocols: Vec<String>, forwarded_for: Option<HeaderValue>) {
    let Ok(mut request) = target.as_str().into_client_request() else { return };
    if let Some(value) =
        (!protocols.is_empty()).then(|| protocols.join(", ")).and_then(|p| HeaderValue::from_str(&p).ok())
    {
        request.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    if let Some(value) = forwarded_for {
        request.headers_mut().insert(HeaderName::from_static("x-forwarded-for"), value);
    }
    let Ok((upstream, _)) = tokio_tungstenite::connect_async(request).await else {
        tracing::warn!("the web origin could not open a websocket to {target}");
        return;
    };
    let (mut to_upstream, mut from_upstream) = upstream.split();
    let (mut to_client, mut from_client) = client.split();
    let outbound = async {
        while let Some(Ok(message)) = from_client.next().await {
            let message = match message {
                ClientMessage::Text(text) => UpstreamMessage::text(text.as_str()),
                ClientMessage::Binary(data) => UpstreamMessage::binary(data.to_vec()),
                ClientMessage::Ping(data) => UpstreamMessage::Ping(data.to_vec().into()),
                ClientMessage::Pong(data) => UpstreamMessage::Pong(data.to_vec().into()),
                ClientMessage::Close(_) => break,
            };
            if to_upstream.send(message).await.is_err() {
                break;
            }
        }
        let _ = to_upstream.close().await;
    };
    let inbound = async {
        while let Some(Ok(message)) = from_upstream.next().await {
            let message = match message {
                UpstreamMessage::Text(text) => ClientMessage::text(text.as_str()),
                UpstreamMessage::Binary(data) => ClientMessage::binary(data.to_vec()),
                UpstreamMessage::Ping(data) => ClientMessage::Ping(data.to_vec().into()),
                UpstreamMessage::Pong(data) => ClientMessage::Pong(data.to_vec().into()),
                UpstreamMessage::Close(frame) => {
                    let frame = frame.map(|f| axum::extract::ws::CloseFrame {
                        code: f.code.into(),
                        reason: f.reason.as_str().into(),
                    });
                    let _ = to_client.send(ClientMessage::Close(frame)).await;
                    break;
                }
                UpstreamMessage::Frame(_) => continue,
            };
            if to_client.send(message).await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        () = outbound => {}
        () = inbound => {}
    }
}

/// A file of the built app; any other path is the app's own route, answered with index.html.
async fn static_file(root: &Path, path: &str) -> Response {
    let relative = path.trim_start_matches('/');
    // Only plain names below the root: no `..`, no absolute paths.
    let safe = !relative.split('/').any(|part| part == ".." || part.contains('\\'));
    let candidate = root.join(relative);
    let file =
        if safe && !relative.is_empty() && tokio::fs::metadata(&candidate).await.is_ok_and(|m| m.is_file()) {
            candidate
        } else if relative.starts_with("assets/") {
            return (StatusCode::NOT_FOUND, "no such file").into_response();
        } else {
            root.join("index.html")
        };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let cache = if relative.starts_with("assets/") {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            ([(header::CONTENT_TYPE, content_type(&file)), (header::CACHE_CONTROL, cache)], bytes)
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the web app is not built: run `npm ci && npm run build` in web/",
        )
            .into_response(),
    }
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_is_appended_to_the_forwarded_chain() {
        let mut headers = HeaderMap::new();
        assert_eq!(forwarded_for(&headers, Some("10.0.0.9".into())).expect("value"), "10.0.0.9");
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7"));
        assert_eq!(forwarded_for(&headers, Some("10.0.0.9".into())).expect("value"), "203.0.113.7, 10.0.0.9");
    }

    #[test]
    fn api_paths_are_forwarded_and_the_rest_is_the_app() {
        assert_eq!(target_of("/graphql"), Some(Target::Graphql));
        assert_eq!(target_of("/files/exports/abc"), Some(Target::Files));
        assert_eq!(target_of("/track/open/x.gif"), Some(Target::Tracking));
        for path in ["/", "/board", "/assets/index.js", "/graphqlx", "/files"] {
            assert_eq!(target_of(path), None, "{path}");
        }
    }
}
