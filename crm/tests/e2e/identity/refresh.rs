//! Refresh tokens (RELIABILITY A6–A8): rotation, family revocation on reuse, exactly one rotation
//! under a race, only hashes at rest, and logout revoking them.

use crm_testkit::{Org, TestStack};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }";
const REFRESH: &str =
    "mutation($t: String!) { refreshToken(token: $t) { accessToken refreshToken user { email } } }";

async fn login(stack: &TestStack, org: &Org) -> (String, String) {
    let response = stack
        .subgraph(
            "auth",
            None,
            LOGIN,
            json!({ "i": { "email": org.email, "password": org.password, "subdomain": org.subdomain } }),
        )
        .await;
    let data = response.ok()["login"].clone();
    (
        data["accessToken"].as_str().expect("access").to_owned(),
        data["refreshToken"].as_str().expect("refresh").to_owned(),
    )
}

async fn refresh(stack: &TestStack, token: &str) -> Result<(String, String), Vec<String>> {
    let response = stack.subgraph("auth", None, REFRESH, json!({ "t": token })).await;
    if !response.error_codes().is_empty() {
        return Err(response.error_codes());
    }
    let data: Value = response.body["data"]["refreshToken"].clone();
    Ok((
        data["accessToken"].as_str().expect("access").to_owned(),
        data["refreshToken"].as_str().expect("refresh").to_owned(),
    ))
}

async fn works(stack: &TestStack, access: &str) -> bool {
    stack
        .subgraph("contact", Some(access), "{ contacts { edges { node { id } } } }", json!({}))
        .await
        .error_codes()
        .is_empty()
}

#[tokio::test]
async fn rotation_and_reuse_revokes_the_whole_family() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Refresh").await;
    let (_, rt1) = login(&stack, &org).await;
    let (access2, rt2) = refresh(&stack, &rt1).await.expect("first use rotates");
    assert_ne!(rt1, rt2);
    assert!(works(&stack, &access2).await, "the new access token works");

    assert_eq!(refresh(&stack, &rt1).await.expect_err("spent"), ["UNAUTHENTICATED"]);
    assert_eq!(
        refresh(&stack, &rt2).await.expect_err("family revoked"),
        ["UNAUTHENTICATED"],
        "RT2 dies with its family"
    );
    assert!(!works(&stack, &access2).await, "the family's session ended too");
    assert_eq!(refresh(&stack, "not-a-token").await.expect_err("garbage"), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn parallel_refreshes_rotate_exactly_once() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Race").await;
    for _ in 0..5 {
        let (_, rt) = login(&stack, &org).await;
        let results = futures::future::join_all((0..4).map(|_| refresh(&stack, &rt))).await;
        let rotated = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(rotated, 1, "{results:?}");
        let rows = stack
            .db
            .conn()
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT count(*) FROM crm.refresh_tokens
                 WHERE family_id = (SELECT family_id FROM crm.refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')))",
                [rt.clone().into()],
            ))
            .await
            .expect("query")
            .expect("row");
        assert_eq!(rows.try_get_by_index::<i64>(0).expect("count"), 2, "one successor was issued, no more");
    }
}

#[tokio::test]
async fn only_hashes_are_stored_and_logout_revokes() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("At rest").await;
    let (access, rt) = login(&stack, &org).await;
    assert!(rt.len() >= 43, "256 bits of randomness, base64url");
    let row = stack
        .db
        .conn()
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) FILTER (WHERE token_hash = sha256(convert_to($1, 'UTF8'))),
                    count(*) FILTER (WHERE token_hash = convert_to($1, 'UTF8'))
             FROM crm.refresh_tokens",
            [rt.clone().into()],
        ))
        .await
        .expect("query")
        .expect("row");
    assert_eq!(row.try_get_by_index::<i64>(0).expect("hashed"), 1);
    assert_eq!(row.try_get_by_index::<i64>(1).expect("plain"), 0);

    let logout = stack.subgraph("auth", Some(&access), "mutation { logout }", json!({})).await;
    assert_eq!(logout.ok()["logout"], true);
    assert_eq!(refresh(&stack, &rt).await.expect_err("revoked by logout"), ["UNAUTHENTICATED"]);
}
