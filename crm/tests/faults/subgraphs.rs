//! RELIABILITY F5, F6, F7, F9 through the router: the communication subgraph goes down, goes
//! silent (as under SIGSTOP), answers HTTP 500 with an HTML page, or answers something that is
//! not JSON, behind a fault proxy. Queries that do not need it are untouched; queries that do
//! get the rest of their data with a coded error (the fields it owns are nullable for this),
//! within the router's subgraph timeout, and nothing of the garbage leaks. After repeated
//! failures the router's circuit breaker refuses calls at once, and when the subgraph behaves
//! again, so does everything, with no restart.

use std::time::{Duration, Instant};

use crm_testkit::fault_proxy::{Behaviour, FaultProxy};
use crm_testkit::{GraphqlResponse, TestStack};
use serde_json::json;

const CRM: &str = env!("CARGO_BIN_EXE_crm");
const WITH_ACTIVITIES: &str =
    "{ contacts(first: 5) { edges { node { firstName activities { subject } } } } }";
const CONTACTS_ONLY: &str = "{ contacts(first: 5) { edges { node { firstName } } } }";

/// The contact's own data is there and its activities are null, with one error for them.
fn partial(response: &GraphqlResponse, code: &str) {
    assert_eq!(response.status, 200, "{}", response.body);
    let node = &response.body["data"]["contacts"]["edges"][0]["node"];
    assert_eq!(node["firstName"], "Ada", "the rest of the data is kept: {}", response.body);
    assert!(node["activities"].is_null(), "{}", response.body);
    assert_eq!(response.error_codes(), [code], "{}", response.body);
    assert_eq!(response.body["errors"][0]["extensions"]["service"], "communication");
    let text = response.body.to_string();
    for leak in ["Traceback", "5432", "[tru", "text/html", "SendRequest"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
}

#[tokio::test]
async fn a_failing_subgraph_costs_only_its_own_fields() {
    let mut stack = TestStack::subgraphs().await;
    let proxy = FaultProxy::start(stack.subgraph_url("communication")).await;
    stack.route_through(CRM, &[("communication", proxy.url())]).await;
    let org = stack.register_org("Failing subgraph").await;
    let token = Some(org.token.as_str());
    stack
        .router(token, "mutation { createContact(input: { firstName: \"Ada\" }) { id } }", json!({}))
        .await
        .ok();
    let whole = stack.router(token, WITH_ACTIVITIES, json!({})).await;
    assert_eq!(whole.ok()["contacts"]["edges"][0]["node"]["activities"], json!([]));

    for (behaviour, code) in [
        (Behaviour::Down, "SUBREQUEST_HTTP_ERROR"),
        (Behaviour::ServerError, "SUBREQUEST_MALFORMED_RESPONSE"),
        (Behaviour::NotJson, "SUBREQUEST_MALFORMED_RESPONSE"),
        (Behaviour::Silent, "SUBGRAPH_REQUEST_TIMEOUT"),
    ] {
        proxy.set(behaviour);
        let started = Instant::now();
        let response = stack.router(token, WITH_ACTIVITIES, json!({})).await;
        let took = started.elapsed();
        partial(&response, code);
        // The router's subgraph timeout is 5 s; nothing else waits.
        let bound =
            if behaviour == Behaviour::Silent { Duration::from_secs(8) } else { Duration::from_secs(2) };
        assert!(took < bound, "{behaviour:?}: answered after {took:?}");
        let untouched = stack.router(token, CONTACTS_ONLY, json!({})).await;
        assert_eq!(untouched.ok()["contacts"]["edges"][0]["node"]["firstName"], "Ada", "{behaviour:?}");
    }
    proxy.set(Behaviour::Healthy);
    stack.router(token, WITH_ACTIVITIES, json!({})).await.ok();

    // Down for good: after enough failures the breaker answers at once without calling it.
    proxy.set(Behaviour::Down);
    let mut rejected = None;
    for _ in 0..40 {
        let started = Instant::now();
        let response = stack.router(token, WITH_ACTIVITIES, json!({})).await;
        if response.error_codes() == ["SUBGRAPH_CIRCUIT_BREAKER_REJECTED"] {
            partial(&response, "SUBGRAPH_CIRCUIT_BREAKER_REJECTED");
            rejected = Some(started.elapsed());
            break;
        }
        partial(&response, "SUBREQUEST_HTTP_ERROR");
    }
    let rejected = rejected.expect("the circuit breaker opened");
    assert!(rejected < Duration::from_secs(1), "refused at once, took {rejected:?}");

    // Back: the breaker lets probes through after its reset timeout and closes.
    proxy.set(Behaviour::Healthy);
    let back = Instant::now();
    let mut recovered = None;
    while back.elapsed() < Duration::from_secs(40) {
        let response = stack.router(token, WITH_ACTIVITIES, json!({})).await;
        if response.error_codes().is_empty() {
            recovered = Some(back.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let recovered = recovered.expect("whole answers again without a restart");
    println!(
        "subgraph faults: breaker refused in {rejected:?}; whole answers again {recovered:?} after recovery"
    );
}
