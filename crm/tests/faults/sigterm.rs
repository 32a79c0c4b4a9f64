//! RELIABILITY F11: `crm serve deal` gets SIGTERM with requests in flight and a subscription
//! open. The requests it had read are answered in full (the others are refused at the
//! connection, for the client to retry), the subscriber's socket is closed with 1001 (going
//! away: reconnect elsewhere) rather than dropped, and the process exits cleanly.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crm_testkit::ws::{WsClient, WsEvent};
use crm_testkit::{PrivateDatabase, TestStack};
use serde_json::json;
use tokio::process::Command;

#[tokio::test]
async fn sigterm_answers_accepted_requests_closes_sockets_with_1001_and_exits_cleanly() {
    let database = PrivateDatabase::create("sigterm").await;
    let stack = TestStack::subgraphs_on(&database).await;
    let org = stack.register_org("Stopping").await;
    let port = crm_testkit::private::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(["serve", "deal"])
        .env("DATABASE_URL", &database.url)
        .env("PORT", port.to_string())
        .env("JWKS_URL", format!("{}/.well-known/jwks.json", stack.subgraph_url("auth")))
        .env("LOG_LEVEL", "error")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("crm serve deal");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut live = false;
    for _ in 0..200 {
        if http.get(format!("{base}/health/live")).send().await.is_ok_and(|r| r.status().is_success()) {
            live = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(live, "the deal subgraph started");

    let mut socket =
        WsClient::connect(&format!("ws://127.0.0.1:{port}/ws"), Some(&org.token)).await.expect("socket");
    socket.subscribe("moves", "subscription { dealChanged { kind } }", json!({})).await.expect("subscribed");

    // Twenty requests in flight, then SIGTERM. A request the server had read is answered in
    // full; one still waiting in the kernel's queue when the listener closed is refused at the
    // connection (a client retries it elsewhere). Never a 5xx, never a cut-off answer.
    let query = json!({ "query": "{ pipelines { id stages { id } } }" });
    let http = reqwest::Client::new();
    let requests: Vec<_> = (0..20)
        .map(|_| {
            let request = http.post(format!("{base}/graphql")).bearer_auth(&org.token).json(&query);
            async move {
                let response = request.send().await?;
                let status = response.status();
                let body: serde_json::Value = response.json().await?;
                Ok::<_, reqwest::Error>((status, body))
            }
        })
        .collect();
    let in_flight = futures::future::join_all(requests);
    let terminate = async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        crm_testkit::private::signal(child.id().expect("running"), "TERM");
    };
    let (answers, ()) = tokio::join!(in_flight, terminate);
    let mut answered = 0;
    for answer in &answers {
        match answer {
            Ok((status, body)) => {
                assert_eq!(status.as_u16(), 200, "{body}");
                assert!(body["data"]["pipelines"].is_array(), "a whole answer: {body}");
                answered += 1;
            }
            Err(err) => assert!(
                err.is_connect() || err.is_request(),
                "refused at the connection, not cut off: {err:?}"
            ),
        }
    }

    let stopped = Instant::now();
    let closed = socket.next_event(Duration::from_secs(10)).await;
    assert_eq!(closed, WsEvent::Closed(Some(1001)), "the subscriber is told the server is going away");
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("the process exits after SIGTERM")
        .expect("status");
    assert!(status.success(), "a clean exit: {status:?}");
    println!(
        "SIGTERM: {answered} of 20 requests answered whole, the rest refused at the connection; socket closed 1001; exit after {:?}",
        stopped.elapsed()
    );
    drop(stack);
    database.drop_database().await;
}
