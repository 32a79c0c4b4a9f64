//! One person, one identity, several organizations: founding a second organization with the same
//! account, switching between them, profile and password changes.

use crm_testkit::TestStack;
use serde_json::json;

const REGISTER: &str = "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } user { id } } }";

#[tokio::test]
async fn one_identity_belongs_to_several_organizations() {
    let stack = TestStack::subgraphs().await;
    let first = stack.register_org("First org").await;
    let subdomain = format!("second-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let owner = |password: &str| json!({ "i": { "name": "Second org", "subdomain": subdomain, "owner": { "email": first.email, "password": password, "name": "Ignored" } } });

    let wrong = stack.subgraph("tenant", None, REGISTER, owner("not the account password")).await;
    assert_eq!(wrong.error_codes(), ["CONFLICT"], "an existing account must prove itself");
    let second = stack.subgraph("tenant", None, REGISTER, owner(&first.password)).await;
    let second = second.ok()["registerOrganization"].clone();
    assert_eq!(second["user"]["id"], first.user_id.as_str(), "the same identity, not a new user");
    let second_tenant = second["tenant"]["id"].as_str().expect("id").to_owned();

    // Sign in to either organization with the one password.
    let token_b = stack.login(&first.email, &first.password, &subdomain).await;
    let current = stack.subgraph("tenant", Some(&token_b), "{ currentTenant { id } }", json!({})).await;
    assert_eq!(current.ok()["currentTenant"]["id"], second_tenant.as_str());

    // Switch from the first organization to the second, and back.
    let switch = "mutation($t: ID!) { switchTenant(tenantId: $t) { accessToken user { role } } }";
    let switched = stack.subgraph("auth", Some(&first.token), switch, json!({ "t": second_tenant })).await;
    let switched = switched.ok()["switchTenant"].clone();
    assert_eq!(switched["user"]["role"], "OWNER");
    let token = switched["accessToken"].as_str().expect("token");
    let current = stack.subgraph("tenant", Some(token), "{ currentTenant { id } }", json!({})).await;
    assert_eq!(current.ok()["currentTenant"]["id"], second_tenant.as_str());

    // Both organizations are listed for either token; a stranger's are not.
    let stranger = stack.register_org("Stranger org").await;
    let mine = "{ myOrganizations { role tenant { id name } } }";
    for token in [first.token.as_str(), token] {
        let listed = stack.subgraph("tenant", Some(token), mine, json!({})).await;
        let ids: Vec<&str> = listed.ok()["myOrganizations"]
            .as_array()
            .expect("list")
            .iter()
            .map(|m| m["tenant"]["id"].as_str().expect("id"))
            .collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert!(ids.contains(&first.tenant_id.as_str()) && ids.contains(&second_tenant.as_str()));
    }
    let theirs = stack.subgraph("tenant", Some(&stranger.token), mine, json!({})).await;
    assert_eq!(
        theirs.ok()["myOrganizations"],
        json!([{ "role": "OWNER", "tenant": { "id": stranger.tenant_id, "name": "Stranger org" } }])
    );

    // An organization the person does not belong to looks like none at all.
    let denied = stack.subgraph("auth", Some(&first.token), switch, json!({ "t": stranger.tenant_id })).await;
    assert_eq!(denied.error_codes(), ["NOT_FOUND"]);
    let missing =
        stack.subgraph("auth", Some(&first.token), switch, json!({ "t": uuid::Uuid::now_v7() })).await;
    assert_eq!(denied.body, missing.body);
}

#[tokio::test]
async fn profile_and_password_changes() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Account").await;
    let other_session = stack.login(&org.email, &org.password, &org.subdomain).await;

    let renamed = stack
        .subgraph(
            "auth",
            Some(&org.token),
            "mutation { updateProfile(input: { name: \"Ada L.\" }) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(renamed.ok()["updateProfile"]["name"], "Ada L.");
    let me = stack.subgraph("auth", Some(&other_session), "{ me { name } }", json!({})).await;
    assert_eq!(me.ok()["me"]["name"], "Ada L.");

    let change = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }";
    let wrong = stack
        .subgraph(
            "auth",
            Some(&org.token),
            change,
            json!({ "i": { "currentPassword": "nope nope nope", "newPassword": "a brand new password" } }),
        )
        .await;
    assert_eq!(wrong.error_codes(), ["BAD_USER_INPUT"]);
    let changed = stack
        .subgraph(
            "auth",
            Some(&org.token),
            change,
            json!({ "i": { "currentPassword": org.password, "newPassword": "a brand new password" } }),
        )
        .await;
    assert_eq!(changed.ok()["changePassword"], true);

    let me = "{ me { id } }";
    assert!(
        stack.subgraph("auth", Some(&org.token), me, json!({})).await.error_codes().is_empty(),
        "this session stays"
    );
    assert_eq!(
        stack.subgraph("auth", Some(&other_session), me, json!({})).await.error_codes(),
        ["UNAUTHENTICATED"]
    );
    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let old = stack
        .subgraph(
            "auth",
            None,
            login,
            json!({ "i": { "email": org.email, "password": org.password, "subdomain": org.subdomain } }),
        )
        .await;
    assert_eq!(old.error_codes(), ["UNAUTHENTICATED"]);
    stack.login(&org.email, "a brand new password", &org.subdomain).await;
}

#[tokio::test]
async fn sign_in_rehashes_passwords_stored_with_weaker_parameters() {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Rehash").await;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).expect("params"),
    )
    .hash_password(org.password.as_bytes(), &SaltString::generate(&mut OsRng))
    .expect("hash")
    .to_string();
    let user = uuid::Uuid::parse_str(&org.user_id).expect("uuid");
    let stored = |stack: &TestStack| {
        let conn = stack.db.conn().clone();
        async move {
            conn.query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT password_hash FROM crm.users WHERE id = $1",
                [user.into()],
            ))
            .await
            .expect("query")
            .expect("row")
            .try_get_by_index::<String>(0)
            .expect("hash")
        }
    };
    stack
        .db
        .conn()
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE crm.users SET password_hash = $2 WHERE id = $1",
            [user.into(), weak.clone().into()],
        ))
        .await
        .expect("weaken");
    assert!(stored(&stack).await.contains("m=4096"));
    stack.login(&org.email, &org.password, &org.subdomain).await;
    let after = stored(&stack).await;
    assert!(after.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{after}");
    stack.login(&org.email, &org.password, &org.subdomain).await;
}

#[tokio::test]
async fn registering_with_an_existing_email_is_no_way_to_guess_its_password() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Guessed").await;
    let url = format!("{}/graphql", stack.subgraph_url("tenant"));
    let attempt = |n: u32, password: &str| {
        let subdomain = format!("guess-{}-{n}", &org.subdomain[1..9]);
        json!({ "i": { "name": "Guess", "subdomain": subdomain,
            "owner": { "email": org.email, "password": password, "name": "Guesser" } } })
    };
    // Ten wrong guesses, each from another address: each is refused as a conflict.
    for n in 0..10 {
        let from = crm_testkit::random_client_address();
        let guess =
            stack.post_from(&from, &url, None, REGISTER, attempt(n, &format!("wrong guess {n}"))).await;
        assert_eq!(guess.error_codes(), ["CONFLICT"], "{}", guess.body);
    }
    // Then even the right password is refused for the rest of the window.
    let from = crm_testkit::random_client_address();
    let right = stack.post_from(&from, &url, None, REGISTER, attempt(10, &org.password)).await;
    assert_eq!(right.error_codes(), ["RATE_LIMITED"], "{}", right.body);
    assert!(right.body["errors"][0]["extensions"]["retryAfter"].as_u64().is_some());
}
