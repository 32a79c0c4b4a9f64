//! A loopback TCP proxy in front of one subgraph that a test switches between behaving and
//! failing the ways a real subgraph fails (RELIABILITY F5–F7, F9): refusing connections,
//! accepting and never answering (a stopped or overloaded process), or answering garbage.
//! Switching cuts every open connection, as a crash would.

use std::sync::{Arc, Mutex};

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
        let open = Arc::new(Mutex::new(Vec::<tokio::task::JoinHandle<()>>::new()));
        let task = tokio::spawn(async move {
            let mut changes = watcher.clone();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        let now = *watcher.borrow();
                        let connection = tokio::spawn(handle(client, target.clone(), now));
                        let mut open = open.lock().expect("lock");
                        open.retain(|task| !task.is_finished());
                        open.push(connection);
                    }
                    changed = changes.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        for connection in open.lock().expect("lock").drain(..) {
                            connection.abort();
                        }
                    }
                }
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

async fn handle(mut client: TcpStream, target: String, behaviour: Behaviour) {
    let canned = |status: &str, content_type: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let answer = match behaviour {
        Behaviour::Healthy => {
            if let Ok(mut server) = TcpStream::connect(&target).await {
                let _ = server.set_nodelay(true);
                let _ = client.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
            return;
        }
        Behaviour::Down => return,
        Behaviour::Silent => {
            let mut sink = [0_u8; 4096];
            while client.read(&mut sink).await.is_ok_and(|n| n > 0) {}
            return;
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
