use serde_json::{Value, json};

use crate::stack::TestStack;

/// A GraphQL response with its HTTP status.
#[derive(Debug)]
pub struct GraphqlResponse {
    pub status: u16,
    pub body: Value,
}

impl GraphqlResponse {
    /// `data`, after asserting there are no errors.
    pub fn ok(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none_or(Value::is_null) && self.status == 200,
            "expected success, got HTTP {}: {}",
            self.status,
            self.body
        );
        &self.body["data"]
    }

    /// `extensions.code` of every error, in order.
    pub fn error_codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["extensions"]["code"].as_str().unwrap_or("<no code>").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A registered organization with a signed-in owner.
#[derive(Clone, Debug)]
pub struct Org {
    pub subdomain: String,
    pub email: String,
    pub password: String,
    pub tenant_id: String,
    pub user_id: String,
    pub token: String,
}

impl TestStack {
    pub async fn post(
        &self,
        url: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> GraphqlResponse {
        self.post_from(&self.client_address, url, token, query, variables).await
    }

    /// Like [`TestStack::post`], as the client at `address`. The test process plays a trusted
    /// proxy (loopback), so the router and the subgraphs take the address from `X-Forwarded-For`.
    pub async fn post_from(
        &self,
        address: &str,
        url: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> GraphqlResponse {
        // What current GraphQL clients send: request errors then come back as HTTP 4xx.
        let mut request = self
            .http
            .post(url)
            .header("x-forwarded-for", address)
            .header("accept", "application/graphql-response+json, application/json;q=0.9")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        GraphqlResponse { status, body }
    }

    /// Through the router, as a client would.
    pub async fn router(&self, token: Option<&str>, query: &str, variables: Value) -> GraphqlResponse {
        self.post(&self.router_url(), token, query, variables).await
    }

    /// Straight to one subgraph.
    pub async fn subgraph(
        &self,
        name: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> GraphqlResponse {
        let url = format!("{}/graphql", self.subgraph_url(name));
        self.post(&url, token, query, variables).await
    }

    /// Registers an organization and signs its owner in, straight through the tenant and auth
    /// subgraphs (the router path is exercised by the end-to-end tests themselves).
    pub async fn register_org(&self, name: &str) -> Org {
        let subdomain = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let email = format!("owner@{subdomain}.example.com");
        let password = "correct horse battery staple".to_owned();
        let registered = self
            .subgraph(
                "tenant",
                None,
                "mutation($input: RegisterOrganizationInput!) {
                    registerOrganization(input: $input) { tenant { id } user { id } }
                }",
                json!({ "input": {
                    "name": name,
                    "subdomain": subdomain,
                    "owner": { "email": email, "password": password, "name": format!("{name} Owner") }
                }}),
            )
            .await;
        let data = registered.ok().clone();
        let token = self.login(&email, &password, &subdomain).await;
        Org {
            tenant_id: data["registerOrganization"]["tenant"]["id"].as_str().expect("tenant id").to_owned(),
            user_id: data["registerOrganization"]["user"]["id"].as_str().expect("user id").to_owned(),
            subdomain,
            email,
            password,
            token,
        }
    }

    pub async fn login(&self, email: &str, password: &str, subdomain: &str) -> String {
        let response = self
            .subgraph(
                "auth",
                None,
                "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
                json!({ "input": { "email": email, "password": password, "subdomain": subdomain } }),
            )
            .await;
        response.ok()["login"]["accessToken"].as_str().expect("access token").to_owned()
    }
}
