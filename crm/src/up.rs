//! `crm up`: the whole product on one machine.

use std::process::{ExitCode, Stdio};
use std::time::Duration;

use crm_platform::serve::{Services, run_with, shutdown_signal};
use crm_platform::{Config, telemetry};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::database;

const ROUTER_PORT: u16 = 4000;
/// The one origin people open: the app, with the API paths behind it.
const WEB_PORT: u16 = 3000;

pub async fn run() -> ExitCode {
    match run_inner().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_inner() -> anyhow::Result<()> {
    let mut config = Config::from_env()?;
    telemetry::init(&config, "crm");
    ensure_services(&config)?;
    // Upload, download and tracking links point at the one origin, which forwards those paths.
    let origin = format!("http://localhost:{WEB_PORT}");
    if std::env::var_os("FILES_BASE_URL").is_none() {
        config.files_base_url = origin.clone();
    }
    if std::env::var_os("TRACKING_BASE_URL").is_none() {
        config.mail.tracking_base_url = origin;
    }
    let mail = match &config.mail.smtp_url {
        Some(_) => crm_communication::mail::transport::Transport::from_settings(&config.mail)
            .map(|transport| transport.describe())
            .map_err(|err| anyhow::anyhow!(err))?,
        None => {
            let dir = std::env::current_dir()?.join(&config.mail.dir);
            format!("no SMTP_URL set: each email is written as an .eml file into {}", dir.display())
        }
    };
    database::prepare(&config.database_url).await?;
    let services = Services::connect(config).await?;

    let stop = CancellationToken::new();
    let subgraphs = tokio::spawn({
        let stop = stop.clone();
        async move { run_with(crm_subgraphs::ALL, services, stop.cancelled_owned()).await }
    });
    wait_for_jwks(&format!("http://127.0.0.1:{}/.well-known/jwks.json", crm_auth::SUBGRAPH.default_port))
        .await?;

    let run_dir = std::env::temp_dir().join(format!("crm-router-{}", std::process::id()));
    let config_path = crm_router::write_run_dir(&run_dir)?;
    let mut router = spawn_router(&config_path)?;

    let app = web_app()?;
    let origin = crate::web::routes(crate::web::Upstreams {
        graphql: format!("http://127.0.0.1:{ROUTER_PORT}"),
        files: format!("http://127.0.0.1:{}", crm_contact::SUBGRAPH.default_port),
        tracking: format!("http://127.0.0.1:{}", crm_communication::SUBGRAPH.default_port),
        app,
    });
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", WEB_PORT)).await?;
    let web = tokio::spawn({
        let stop = stop.clone();
        let service = origin.into_make_service_with_connect_info::<std::net::SocketAddr>();
        async move {
            axum::serve(crm_platform::serve::without_delay(listener), service)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        }
    });

    println!();
    println!("MTenant CRM is running:");
    println!("  The app                   http://localhost:{WEB_PORT}");
    println!(
        "  GraphQL API               http://localhost:{WEB_PORT}/graphql (the router: http://localhost:{ROUTER_PORT}/graphql)"
    );
    println!("  Subscriptions (ws)        ws://localhost:{WEB_PORT}/graphql");
    for subgraph in crm_subgraphs::ALL {
        println!("  {:<13} subgraph     http://localhost:{}/graphql", subgraph.name, subgraph.default_port);
    }
    println!("  Email                     {mail}");
    println!("Press Ctrl-C to stop.");

    let outcome = tokio::select! {
        () = shutdown_signal() => Ok(()),
        status = router.wait() => Err(anyhow::anyhow!("the router stopped: {status:?}")),
    };
    stop_router(&mut router).await;
    stop.cancel();
    let _ = web.await;
    let served = subgraphs.await?;
    let _ = std::fs::remove_dir_all(&run_dir);
    outcome.and(served)
}

fn spawn_router(config_path: &std::path::Path) -> anyhow::Result<Child> {
    Ok(Command::new(std::env::current_exe()?)
        .arg("router")
        .env(crm_router::CONFIG_PATH_VAR, config_path)
        .env("PORT", ROUTER_PORT.to_string())
        // The router has its own log settings; ours may use a filter syntax it does not accept.
        .env_remove("LOG_LEVEL")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()?)
}

/// PostgreSQL, Redis and NATS on this machine (the URLs name localhost) must answer; when one
/// does not, `scripts/services` installs (as root) or starts what is missing, or says how.
fn ensure_services(config: &Config) -> anyhow::Result<()> {
    let down: Vec<&str> = [
        ("PostgreSQL", config.database_url.as_str(), 5432),
        ("Redis", config.redis_url.as_str(), 6379),
        ("NATS", config.nats_url.as_str(), 4222),
    ]
    .into_iter()
    .filter(|(_, url, default_port)| {
        let Ok(url) = url::Url::parse(url) else { return false };
        let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "::1" | "[::1]"));
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], url.port().unwrap_or(*default_port)));
        local && std::net::TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_err()
    })
    .map(|(name, _, _)| name)
    .collect();
    if down.is_empty() {
        return Ok(());
    }
    let script = std::path::Path::new("scripts/services");
    anyhow::ensure!(script.exists(), "not answering on this machine: {}", down.join(", "));
    println!("Not answering: {}. Running scripts/services…", down.join(", "));
    let status = std::process::Command::new(script).status()?;
    anyhow::ensure!(status.success(), "scripts/services could not start {}", down.join(", "));
    Ok(())
}

/// The built web app (`web/dist`, or `WEB_DIST`), built first when it is missing or older than
/// its sources and npm is at hand.
fn web_app() -> anyhow::Result<std::path::PathBuf> {
    if let Ok(dist) = std::env::var("WEB_DIST") {
        return Ok(dist.into());
    }
    let web = std::path::PathBuf::from("web");
    let dist = web.join("dist");
    if !web.join("package.json").exists() {
        return Ok(dist);
    }
    let built = std::fs::metadata(dist.join("index.html")).and_then(|m| m.modified()).ok();
    let stale = match built {
        None => true,
        Some(built) => newest_change(&web.join("src")).is_some_and(|changed| changed > built),
    };
    if stale {
        println!("Building the web app (web/dist)…");
        let npm = |args: &[&str]| std::process::Command::new("npm").args(args).current_dir(&web).status();
        if !web.join("node_modules").exists() {
            npm(&["ci", "--no-audit", "--no-fund"])?;
        }
        let status = npm(&["run", "build"])?;
        anyhow::ensure!(status.success(), "building the web app failed ({status})");
    }
    Ok(dist)
}

fn newest_change(dir: &std::path::Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let changed = if path.is_dir() {
            newest_change(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(changed);
    }
    newest
}

/// SIGTERM lets the router drain; if it is still there after the grace period it is killed.
async fn stop_router(router: &mut Child) {
    if let Some(pid) = router.id() {
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
    }
    if tokio::time::timeout(Duration::from_secs(10), router.wait()).await.is_err() {
        let _ = router.kill().await;
    }
}

/// The router fetches the JWKS at start, so auth must be serving it first.
async fn wait_for_jwks(url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the auth subgraph did not serve {url} within 10 s")
}
