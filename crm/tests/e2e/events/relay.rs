//! The relay keeps its head down while the database is unusable: it retries with a growing
//! pause instead of spinning (a hot loop here once wrote 65 warnings a second), and it stops on
//! shutdown even then.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crm_platform::{Db, events};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A loopback proxy in front of the shared PostgreSQL that counts the connections made through
/// it: each one is an attempt of the relay's.
async fn counting_proxy() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (port, count)
}

#[tokio::test]
async fn the_relay_backs_off_while_the_database_refuses_it_and_stops_on_shutdown() {
    let (port, attempts) = counting_proxy().await;
    // A database that does not exist: every connection is refused by the server itself.
    let url = format!("postgres://{}@127.0.0.1:{port}/crm_no_such_database", crm_testkit::stack::APP_ROLE);
    let db = Db::connect_lazy(&url, 2, std::time::Duration::from_secs(3600)).await.expect("lazy pool");
    let nats = async_nats::connect("127.0.0.1:4222").await.expect("nats");
    let shutdown = CancellationToken::new();
    let relay = tokio::spawn(events::run_relay(db, nats, shutdown.clone()));

    tokio::time::sleep(Duration::from_millis(4500)).await;
    let made = attempts.load(Ordering::SeqCst);
    // Waits of 1, 2 and 4 s leave room for three or four rounds, each a pool connection and a
    // listener connection; a relay without a pause makes hundreds in this time.
    assert!((1..=10).contains(&made), "{made} connection attempts in 4.5 s");

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(2), relay)
        .await
        .expect("the relay stops within 2 s of shutdown, database down or not")
        .expect("the relay task did not panic");
}
