//! `crm up`: the whole product on one machine.

use std::process::{ExitCode, Stdio};
use std::time::Duration;

use crm_platform::serve::{Services, run_with, shutdown_signal};
use crm_platform::{Config, telemetry};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::database;

const ROUTER_PORT: u16 = 4000;

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
    let config = Config::from_env()?;
    telemetry::init(&config);
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

    println!();
    println!("MTenant CRM is running:");
    println!("  GraphQL API and GraphiQL  http://localhost:{ROUTER_PORT}/graphql");
    println!("  Subscriptions (ws)        ws://localhost:{ROUTER_PORT}/graphql");
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
