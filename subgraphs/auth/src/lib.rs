//! The auth subgraph: signs access tokens with its Ed25519 keys, publishes the public halves as a
//! JWKS, and answers `login` and `me`. It never stores or logs a password or a token.

mod account;
mod graphql;
mod keys;
mod login;
mod refresh;
mod reset;
mod throttle;
mod tokens;
mod users;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use crm_platform::config::Environment;
use crm_platform::{Services, Subgraph};

pub use graphql::{MutationRoot, QueryRoot};
pub use keys::AuthKeys;

pub type AuthSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

pub const SUBGRAPH: Subgraph = Subgraph { name: "auth", default_port: 8080, routes, background: None };

pub fn schema_builder(environment: Environment) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    crm_platform::graphql::harden(Schema::build(QueryRoot, MutationRoot, EmptySubscription), environment)
}

fn routes(services: &Services) -> axum::Router {
    let keys = Arc::new(AuthKeys::new(services.db.clone()));
    let schema =
        schema_builder(services.config.environment).data(services.clone()).data(Arc::clone(&keys)).finish();
    crm_platform::graphql::routes(schema, services)
        .merge(axum::Router::new().route("/.well-known/jwks.json", get(jwks)).with_state(keys))
}

async fn jwks(State(keys): State<Arc<AuthKeys>>) -> Result<Json<jsonwebtoken::jwk::JwkSet>, StatusCode> {
    match keys.keyring().await {
        Ok(keyring) => Ok(Json(keyring.jwks().clone())),
        Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE),
    }
}
