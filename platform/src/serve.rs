//! The one bootstrap: connect to Postgres, NATS and Redis, mount a subgraph's routes behind the
//! shared limits, serve until a shutdown signal, and drain.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum::serve::{ListenerExt, TapIo};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::JwtVerifier;
use crate::config::Config;
use crate::consumer::{self, Consumer};
use crate::db::Db;
use crate::kv::Kv;
use crate::sessions::SessionStore;
use crate::{events, health, telemetry};

/// How long a stopping process waits for its websockets to send their close frames.
const SOCKET_CLOSE_GRACE: Duration = Duration::from_secs(5);
/// Largest request body a subgraph reads (the router allows 2 MiB too).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// A request still running after this is cut off (408): a statement ends by its 10 s timeout
/// first, so this catches waits outside the database's own clock, such as a stopped server.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Connections every subgraph shares.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: Db,
    pub nats: async_nats::Client,
    pub redis: redis::Client,
    pub sessions: Arc<SessionStore>,
    /// The shared Redis connection, for anything else kept in Redis (login throttling, caches).
    pub kv: Arc<Kv>,
    pub verifier: Arc<JwtVerifier>,
    /// Fires when the process is told to stop: open websockets close with 1001 then.
    pub shutdown: CancellationToken,
    /// The open websockets, so a stopping process waits for their close frames to go out.
    pub sockets: TaskTracker,
}

impl Services {
    /// The services a schema was built with.
    pub fn of<'a>(ctx: &'a async_graphql::Context<'_>) -> crate::ApiResult<&'a Services> {
        ctx.data::<Services>()
            .map_err(|_| crate::ApiError::internal(anyhow::anyhow!("schema was built without Services data")))
    }

    pub async fn connect(config: Config) -> anyhow::Result<Self> {
        let db =
            Db::connect_lazy(&config.database_url, config.db_max_connections, config.db_connection_lifetime)
                .await?;
        Self::with_db(config, db).await
    }

    /// Builds the services around an existing pool (tests share one to count statements).
    pub async fn with_db(config: Config, db: Db) -> anyhow::Result<Self> {
        // Retrying in the background keeps the API up while NATS is down; the outbox holds events.
        let nats = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connect(config.nats_url.as_str())
            .await?;
        crate::events::set_stream_replicas(config.nats_stream_replicas);
        let redis = redis::Client::open(config.redis_url.as_str())?;
        let sessions = Arc::new(SessionStore::new(Kv::new(redis.clone())));
        let kv = Arc::new(Kv::new(redis.clone()));
        let verifier = Arc::new(JwtVerifier::new(config.jwt.clone()));
        Ok(Self {
            config: Arc::new(config),
            db,
            nats,
            redis,
            sessions,
            kv,
            verifier,
            shutdown: CancellationToken::new(),
            sockets: TaskTracker::new(),
        })
    }
}

/// Work a subgraph runs beside its server until shutdown.
pub type BackgroundTask = fn(Services, CancellationToken) -> futures::future::BoxFuture<'static, ()>;

/// A subgraph as the bootstrap sees it: a name, its port, its routes, its federation SDL (for
/// composition), its event consumers and its other background work.
#[derive(Clone, Copy)]
pub struct Subgraph {
    pub name: &'static str,
    pub default_port: u16,
    pub routes: fn(&Services) -> Router,
    pub sdl: fn() -> String,
    pub background: Option<BackgroundTask>,
    /// Its durable event consumers, run wherever the subgraph runs; named here so that
    /// `crm events replay --consumer NAME` finds them.
    pub consumers: &'static [Consumer],
    /// Plain-HTTP file transfer (uploads, downloads) outside the GraphQL request limits; these
    /// routes set their own.
    pub files: Option<fn(&Services) -> Router>,
}

impl Subgraph {
    /// The variable the router reads this subgraph's URL from (`AUTH_URL` for `auth`).
    pub fn url_var(&self) -> String {
        format!("{}_URL", self.name.to_ascii_uppercase())
    }
}

/// The subgraph's routes plus health, behind the shared HTTP limits.
pub fn app(subgraph: &Subgraph, services: &Services) -> Router {
    let health_routes = Router::new()
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/metrics", get(crate::metrics::serve))
        .with_state(services.clone());
    let mut app = (subgraph.routes)(services)
        .merge(health_routes)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT));
    if let Some(files) = subgraph.files {
        app = app.merge(files(services));
    }
    app.layer(TraceLayer::new_for_http().make_span_with(telemetry::request_span::<axum::body::Body>))
}

/// Serves `app` on `listener` until `shutdown` fires, then lets in-flight requests finish.
pub async fn serve(app: Router, listener: TcpListener, shutdown: CancellationToken) -> std::io::Result<()> {
    // The peer address feeds per-client throttling (see `client_address`).
    axum::serve(without_delay(listener), app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// Accepted connections with TCP_NODELAY: a response written in more than one piece is sent at
/// once instead of waiting for the peer's delayed ACK (tens of milliseconds on Linux).
pub fn without_delay(listener: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    listener.tap_io(set_nodelay)
}

fn set_nodelay(tcp: &mut TcpStream) {
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::debug!("TCP_NODELAY could not be set: {err}");
    }
}

/// Binds `port` on all interfaces (a port of 0 picks a free one).
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Runs the given subgraphs in this process, each on its port, with one outbox relay, until a
/// shutdown signal. Used by each subgraph's own binary and by `crm serve`.
pub async fn run(subgraphs: &[Subgraph]) -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(problems) => {
            eprintln!("{problems}");
            return ExitCode::from(2);
        }
    };
    let service: Vec<&str> = subgraphs.iter().map(|subgraph| subgraph.name).collect();
    telemetry::init(&config, &format!("crm-{}", service.join("+")));
    let services = match Services::connect(config).await {
        Ok(services) => services,
        Err(err) => {
            tracing::error!(error = %err, "could not start");
            return ExitCode::FAILURE;
        }
    };
    let result = run_with(subgraphs, services, shutdown_signal()).await;
    telemetry::shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "stopped with an error");
            ExitCode::FAILURE
        }
    }
}

/// Like [`run`], with services and the stop condition supplied by the caller.
pub async fn run_with(
    subgraphs: &[Subgraph],
    services: Services,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let shutdown = services.shutdown.clone();
    let mut tasks = tokio::task::JoinSet::new();
    let single = subgraphs.len() == 1;
    for subgraph in subgraphs {
        let port = match services.config.port {
            Some(port) if single => port,
            _ => subgraph.default_port,
        };
        let listener = bind(port).await.map_err(|err| {
            anyhow::anyhow!("{} subgraph cannot listen on port {port}: {err}", subgraph.name)
        })?;
        tracing::info!(subgraph = subgraph.name, %port, "listening");
        tasks.spawn(serve(app(subgraph, &services), listener, shutdown.clone()));
    }
    let mut background: Vec<_> = subgraphs
        .iter()
        .filter_map(|s| s.background)
        .map(|task| tokio::spawn(task(services.clone(), shutdown.clone())))
        .collect();
    for subgraph in subgraphs {
        background.push(tokio::spawn(consumer::run_all(
            services.clone(),
            subgraph.consumers,
            shutdown.clone(),
        )));
    }
    let relay = tokio::spawn(events::run_relay(services.db.clone(), services.nats.clone(), shutdown.clone()));

    let mut failure = None;
    tokio::select! {
        () = stop => {},
        Some(finished) = tasks.join_next() => {
            failure = Some(anyhow::anyhow!("a server stopped unexpectedly: {finished:?}"));
        }
    }
    tracing::info!("shutting down");
    shutdown.cancel();
    while tasks.join_next().await.is_some() {}
    // Upgraded sockets outlive the servers' graceful shutdown: give their close frames time.
    services.sockets.close();
    let _ = tokio::time::timeout(SOCKET_CLOSE_GRACE, services.sockets.wait()).await;
    let _ = relay.await;
    for task in background {
        let _ = task.await;
    }
    failure.map_or(Ok(()), Err)
}
