//! RELIABILITY F1, F2, F12: PostgreSQL killed under writes, down when the API starts, and a
//! pool with every connection held. Each time the client gets a coded, retriable error
//! (SERVICE_UNAVAILABLE) within seconds, never an internal error or a hang, and service comes
//! back by itself without restarting anything.

use std::time::{Duration, Instant};

use crm_platform::serve::{Services, app, serve};
use crm_testkit::TestStack;
use crm_testkit::private::PrivatePostgres;
use sea_orm::TransactionTrait;
use serde_json::json;

const CREATE: &str = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }";

/// What one writer saw.
#[derive(Default)]
struct Seen {
    acked: Vec<String>,
    refused: usize,
    slowest: Duration,
    /// When each write was acknowledged.
    acked_at: Vec<Instant>,
}

#[tokio::test]
async fn postgres_killed_under_writes_fails_fast_with_a_retriable_code_and_recovers() {
    let cluster = PrivatePostgres::start().await;
    let url = cluster.migrated_database("crm_faults").await;
    let stack = TestStack::subgraphs_at(&url).await.shared();
    let org = stack.register_org("Killed database").await;
    let stop = tokio_util::sync::CancellationToken::new();

    // Four clients writing without pause through the kill and the restart.
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (stack, token, stop) = (stack.clone(), org.token.clone(), stop.clone());
            tokio::spawn(async move {
                let mut seen = Seen::default();
                let mut n = 0;
                while !stop.is_cancelled() {
                    n += 1;
                    let started = Instant::now();
                    let input = json!({ "i": { "firstName": format!("Writer {writer} row {n}") } });
                    let response = stack.subgraph("contact", Some(&token), CREATE, input).await;
                    seen.slowest = seen.slowest.max(started.elapsed());
                    assert_eq!(response.status, 200, "{}", response.body);
                    if response.error_codes().is_empty() {
                        seen.acked
                            .push(response.ok()["createContact"]["id"].as_str().expect("id").to_owned());
                        seen.acked_at.push(Instant::now());
                    } else {
                        assert_eq!(response.error_codes(), ["SERVICE_UNAVAILABLE"], "{}", response.body);
                        let text = response.body.to_string();
                        assert!(!text.contains("sqlx") && !text.contains("pool"), "no internals: {text}");
                        seen.refused += 1;
                    }
                }
                seen
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.kill().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let restarted = Instant::now();
    cluster.start_server().await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    stop.cancel();

    let mut all = Seen::default();
    let mut recovered = Duration::MAX;
    for writer in writers {
        let seen = writer.await.expect("the writer saw only success or SERVICE_UNAVAILABLE");
        let back = seen.acked_at.iter().find_map(|at| at.checked_duration_since(restarted));
        recovered = recovered.min(back.unwrap_or(Duration::MAX));
        all.acked.extend(seen.acked);
        all.refused += seen.refused;
        all.slowest = all.slowest.max(seen.slowest);
    }
    println!(
        "PostgreSQL SIGKILL under 4 writers: {} writes acknowledged, {} refused with SERVICE_UNAVAILABLE, \
         slowest answer {:?}; writes succeed again {:?} after the restart began",
        all.acked.len(),
        all.refused,
        all.slowest,
        recovered
    );
    assert!(all.refused > 0, "the kill was noticed");
    assert!(all.slowest < Duration::from_secs(6), "an answer took {:?}", all.slowest);
    assert!(recovered < Duration::from_secs(8), "writing again without a restart of the API");

    // Every acknowledged write is there.
    let mut ids = std::collections::HashSet::new();
    let mut after: Option<String> = None;
    loop {
        let page = stack
            .subgraph(
                "contact",
                Some(&org.token),
                "query($after: String) { contacts(first: 100, after: $after) {
                    edges { node { id } } pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after }),
            )
            .await;
        let contacts = &page.ok()["contacts"];
        for edge in contacts["edges"].as_array().expect("edges") {
            ids.insert(edge["node"]["id"].as_str().expect("id").to_owned());
        }
        if contacts["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = contacts["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let missing: Vec<_> = all.acked.iter().filter(|id| !ids.contains(*id)).collect();
    assert!(missing.is_empty(), "acknowledged but missing: {missing:?}");
}

#[tokio::test]
async fn an_api_started_while_postgres_is_down_serves_once_it_is_up() {
    let cluster = PrivatePostgres::start().await;
    let url = cluster.migrated_database("crm_faults").await;
    cluster.kill().await;

    let config = crm_testkit::stack::config_for(&url, "http://127.0.0.1:1/jwks");
    let services = Services::connect(config).await.expect("starts with the database down");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(serve(app(&crm_contact::SUBGRAPH, &services), listener, shutdown.clone()));
    let http = reqwest::Client::new();

    let health = http.get(format!("{base}/health")).send().await.expect("answers");
    assert_eq!(health.status(), 503, "not ready");
    let live = http.get(format!("{base}/health/live")).send().await.expect("answers");
    assert_eq!(live.status(), 200, "alive: an orchestrator must not restart it");

    cluster.start_server().await;
    let mut ready = false;
    for _ in 0..100 {
        let health = http.get(format!("{base}/health")).send().await.expect("answers");
        if health.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "ready once the database is up, with no restart");
    shutdown.cancel();
}

#[tokio::test]
async fn an_exhausted_pool_answers_a_coded_error_within_the_acquire_timeout() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Exhausted pool").await;
    let query = "{ contacts(first: 5) { edges { node { id } } } }";
    stack.subgraph("contact", Some(&org.token), query, json!({})).await.ok();

    // Every connection of the subgraphs' pool held in a long transaction.
    let max = stack.db.pool_stats().max_conns as usize;
    let mut held = Vec::new();
    for _ in 0..max {
        held.push(stack.db.conn().begin().await.expect("a pooled connection"));
    }
    let started = Instant::now();
    let responses = futures::future::join_all(
        (0..5).map(|_| stack.subgraph("contact", Some(&org.token), query, json!({}))),
    )
    .await;
    let took = started.elapsed();
    for response in &responses {
        assert_eq!(response.error_codes(), ["SERVICE_UNAVAILABLE"], "{}", response.body);
    }
    // The acquire timeout is 3 s; all five waited side by side, not in a queue one after another.
    assert!(took < Duration::from_secs(6), "answered after {took:?}");

    drop(held);
    stack.subgraph("contact", Some(&org.token), query, json!({})).await.ok();
}

/// RELIABILITY G9: a statement past the 10 s statement timeout is cut by PostgreSQL, the caller
/// gets SERVICE_UNAVAILABLE, and the pooled connection goes back clean: the next transaction
/// on it (a pool of one) runs normally and nothing of the tenant scope is left on it.
#[tokio::test]
async fn a_statement_past_the_timeout_is_cut_and_its_connection_comes_back_clean() {
    use crm_platform::{ApiError, TenantId, TenantTx};
    use sea_orm::ConnectionTrait;

    let url = crm_testkit::stack::migrated_database().await;
    let db = crm_platform::Db::connect(&url, 1).await.expect("a pool of one connection");
    let tx = TenantTx::begin(&db, TenantId::new()).await.expect("begin");
    let started = Instant::now();
    let cut = tx.execute_unprepared("SELECT pg_sleep(30)").await.expect_err("cut off");
    let took = started.elapsed();
    assert!((Duration::from_secs(9)..Duration::from_secs(13)).contains(&took), "cut after {took:?}");
    let error = ApiError::from(cut);
    assert_eq!(error.code(), "SERVICE_UNAVAILABLE", "{error:?}");
    drop(tx);

    let row = db
        .conn()
        .query_one(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT current_setting('search_path') AS path, current_setting('statement_timeout') AS timeout",
        ))
        .await
        .expect("the same connection answers")
        .expect("a row");
    let path: String = row.try_get("", "path").expect("path");
    let timeout: String = row.try_get("", "timeout").expect("timeout");
    assert_eq!(
        (path.as_str(), timeout.as_str()),
        ("pg_catalog", "0"),
        "the tenant scope ended with its transaction"
    );
}

/// RELIABILITY F9: PostgreSQL stopped with SIGSTOP for twice the acquire timeout: requests get
/// a coded answer within the subgraph's bounds instead of hanging, and once it continues the
/// API serves again without a restart.
#[tokio::test]
async fn a_paused_postgres_costs_bounded_waits_and_recovers_by_itself() {
    let cluster = PrivatePostgres::start().await;
    let url = cluster.migrated_database("crm_faults").await;
    let stack = TestStack::subgraphs_at(&url).await;
    let org = stack.register_org("Paused database").await;
    let query = "{ contacts(first: 5) { edges { node { id } } } }";
    stack.subgraph("contact", Some(&org.token), query, json!({})).await.ok();

    cluster.pause();
    let started = Instant::now();
    let paused = stack.subgraph("contact", Some(&org.token), query, json!({})).await;
    let took = started.elapsed();
    cluster.resume();
    // Pooled connections wait on the stopped server until the subgraph's 15 s request timeout
    // (the router gives up on a subgraph after 5 s); a request never waits longer than that.
    assert!(took < Duration::from_secs(20), "answered after {took:?}");
    assert!(
        paused.status == 408 || paused.error_codes() == ["SERVICE_UNAVAILABLE"],
        "HTTP {}: {}",
        paused.status,
        paused.body
    );
    let mut back = false;
    for _ in 0..50 {
        if stack.subgraph("contact", Some(&org.token), query, json!({})).await.error_codes().is_empty() {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(back, "serving again once PostgreSQL continues");
    println!(
        "PostgreSQL SIGSTOP: a request during the pause answered after {took:?} (HTTP {})",
        paused.status
    );
}

/// RELIABILITY F10: the network between the API and PostgreSQL blackholed (connections stay
/// open, nothing arrives, no reset) by a proxy in between: a request ends at the subgraph's 15 s
/// request timeout, not after the operating system's minutes, and once the network heals the
/// API serves again by itself.
#[tokio::test]
async fn a_blackholed_database_network_costs_bounded_waits_and_heals_by_itself() {
    use crm_testkit::fault_proxy::{Behaviour, FaultProxy};

    let database = crm_testkit::PrivateDatabase::create("blackhole").await;
    let proxy = FaultProxy::start("127.0.0.1:5432").await;
    let through_proxy = database.url.replace("127.0.0.1:5432", proxy.url().trim_start_matches("http://"));
    let stack = TestStack::subgraphs_at(&through_proxy).await;
    let org = stack.register_org("Blackholed").await;
    let query = "{ contacts(first: 5) { edges { node { id } } } }";
    stack.subgraph("contact", Some(&org.token), query, json!({})).await.ok();

    proxy.set(Behaviour::Blackhole);
    let started = Instant::now();
    let cut_off = stack.subgraph("contact", Some(&org.token), query, json!({})).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "answered after {took:?}");
    assert!(
        cut_off.status == 408 || cut_off.error_codes() == ["SERVICE_UNAVAILABLE"],
        "HTTP {}: {}",
        cut_off.status,
        cut_off.body
    );

    proxy.set(Behaviour::Healthy);
    let healed = Instant::now();
    let mut back = None;
    for _ in 0..100 {
        if stack.subgraph("contact", Some(&org.token), query, json!({})).await.error_codes().is_empty() {
            back = Some(healed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let back = back.expect("serving again once the network heals");
    println!(
        "PostgreSQL network blackholed: a request answered after {took:?} (HTTP {}); serving {back:?} after it healed",
        cut_off.status
    );
    drop(stack);
    database.drop_database().await;
}
