//! Operations that change what every test shares — signing keys, migrations over many tenants,
//! processes killed mid-write — each in a database of its own, so nothing else runs against
//! what they change.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

mod import_crash;
mod keys;
mod migrate;
mod provisioning_crash;
mod traces;

/// The `crm` binary, run as operators run it.
pub const CRM: &str = env!("CARGO_BIN_EXE_crm");

async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Starts `crm serve <name>` on `url`'s database and a free port, and waits until it is live; a
/// port another process took in the meantime makes the child exit, and the next try picks another.
pub async fn start_subgraph(name: &str, url: &str) -> (Child, String) {
    start_subgraph_with(name, url, &[]).await
}

/// [`start_subgraph`], with more variables in its environment.
pub async fn start_subgraph_with(name: &str, url: &str, env: &[(&str, &str)]) -> (Child, String) {
    for _ in 0..5 {
        let port = free_port().await;
        let mut child = Command::new(CRM)
            .args(["serve", name])
            .env("DATABASE_URL", url)
            .env("PORT", port.to_string())
            .env("LOG_LEVEL", "error")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn");
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if child.try_wait().is_ok_and(|status| status.is_some()) {
                break;
            }
            if reqwest::get(format!("{base}/health/live")).await.is_ok_and(|r| r.status().is_success()) {
                return (child, base);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("the {name} subgraph did not start");
}
