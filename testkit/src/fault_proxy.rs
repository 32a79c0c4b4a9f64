//! A loopback TCP proxy in front of a subgraph (or a database) that a test switches between
//! behaving and failing the ways they fail (RELIABILITY F5–F7, F9, F10): refusing connections,
//! accepting and never answering (a stopped or overloaded process), answering garbage, or a
//! blackholed network. Switching to a failure cuts every open connection, as a crash would,
//! except a blackhole, which holds them open and forwards nothing until it heals.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How the subgraph behind the proxy behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Forwards everything.
    Healthy,
    /// Closes every connection at once: the process is gone.
    Down,
    /// Accepts and reads, never answers: a process stopped with SIGSTOP, or stuck.
    Silent,
    /// Answers every request with HTTP 500 and an HTML page.
    ServerError,
    /// Answers HTTP 200 with a body that is not JSON.
    NotJson,
    /// Open connections stay open and carry nothing, new ones are accepted and carry nothing,
    /// until it is healed (back to `Healthy`): packets dropped on the way, no reset.
    Blackhole,
}

pub struct FaultProxy {
    port: u16,
    behaviour: watch::Sender<Behaviour>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy to `target` (`http://127.0.0.1:PORT`, as [`crate::TestStack::subgraph_url`] gives).
    pub async fn start(target: &str) -> Self {
        let target = target.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let (behaviour, watcher) = watch::channel(Behaviour::Healthy);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(handle(client, target.clone(), watcher.clone()));
            }
        });
        Self { port, behaviour, task }
    }

    /// The URL to give the router instead of the subgraph's.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, behaviour: Behaviour) {
        self.behaviour.send_replace(behaviour);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(mut client: TcpStream, target: String, mut behaviour: watch::Receiver<Behaviour>) {
    let canned = |status: &str, content_type: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let now = *behaviour.borrow_and_update();
    let answer = match now {
        Behaviour::Healthy | Behaviour::Blackhole => return forward(client, &target, behaviour).await,
        Behaviour::Down => return,
        Behaviour::Silent => {
            let mut sink = [0_u8; 4096];
            loop {
                tokio::select! {
                    read = client.read(&mut sink) => if !read.is_ok_and(|n| n > 0) { return },
                    // Any change ends the connection, as the process behind it would.
                    _ = behaviour.changed() => return,
                }
            }
        }
        Behaviour::ServerError => canned(
            "500 Internal Server Error",
            "text/html",
            "<html><body>Traceback: db.internal:5432</body></html>",
        ),
        Behaviour::NotJson => canned("200 OK", "application/json", "{\"data\": {\"_entities\": [tru"),
    };
    // Read the request head before answering, as a server would.
    let mut head = [0_u8; 8192];
    let _ = client.read(&mut head).await;
    let _ = client.write_all(answer.as_bytes()).await;
    let _ = client.shutdown().await;
}

/// Carries bytes both ways while healthy, nothing (holding the connection) while blackholed,
/// and ends the connection on any other behaviour.
async fn forward(mut client: TcpStream, target: &str, mut behaviour: watch::Receiver<Behaviour>) {
    // A blackholed connection attempt waits for the network to heal before it reaches the target.
    while *behaviour.borrow_and_update() == Behaviour::Blackhole {
        if behaviour.changed().await.is_err() {
            return;
        }
    }
    if *behaviour.borrow() != Behaviour::Healthy {
        return;
    }
    let Ok(mut server) = TcpStream::connect(target).await else { return };
    let _ = server.set_nodelay(true);
    let _ = client.set_nodelay(true);
    let (mut to_client, mut to_server) = ([0_u8; 16 * 1024], [0_u8; 16 * 1024]);
    loop {
        let now = *behaviour.borrow_and_update();
        match now {
            Behaviour::Healthy => {}
            Behaviour::Blackhole => {
                if behaviour.changed().await.is_err() {
                    return;
                }
                continue;
            }
            _ => return,
        }
        tokio::select! {
            read = client.read(&mut to_server) => match read {
                Ok(n) if n > 0 => if server.write_all(&to_server[..n]).await.is_err() { return },
                _ => return,
            },
            read = server.read(&mut to_client) => match read {
                Ok(n) if n > 0 => if client.write_all(&to_client[..n]).await.is_err() { return },
                _ => return,
            },
            changed = behaviour.changed() => if changed.is_err() { return },
        }
    }
}
