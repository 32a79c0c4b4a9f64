//! A round-robin TCP balancer on loopback, in front of replicas of one subgraph, as a
//! Kubernetes Service is in front of its pods: each new connection goes to the next backend,
//! and a backend that refuses is skipped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};

pub struct Balancer {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Balancer {
    /// Balances over the loopback ports `backends`.
    pub async fn start(backends: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind balancer");
        let port = listener.local_addr().expect("addr").port();
        let next = Arc::new(AtomicUsize::new(0));
        let backends = Arc::new(backends);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (next, backends) = (Arc::clone(&next), Arc::clone(&backends));
                tokio::spawn(async move {
                    for _ in 0..backends.len() {
                        let backend = backends[next.fetch_add(1, Ordering::Relaxed) % backends.len()];
                        if let Ok(mut server) = TcpStream::connect(("127.0.0.1", backend)).await {
                            let _ = server.set_nodelay(true);
                            let _ = client.set_nodelay(true);
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            return;
                        }
                    }
                });
            }
        });
        Self { port, task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
