//! The auth subgraph: signs access tokens with its Ed25519 keys, publishes the public halves as a
//! JWKS, and answers `login` and `me`. It never stores or logs a password or a token.

mod account;
mod graphql;
pub mod keys;
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
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

pub use graphql::{MutationRoot, QueryRoot};
pub use keys::AuthKeys;

pub type AuthSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

pub const SUBGRAPH: Subgraph = Subgraph {
    name: "auth",
    default_port: 8080,
    routes,
    sdl,
    background: Some(rotate_signing_keys),
    consumers: &[],
    files: None,
};

/// Replaces the signing key on the configured schedule (see `keys`).
fn rotate_signing_keys(services: Services, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
    match services.config.signing_key_rotation {
        Some(every) => Box::pin(keys::run_rotation(services.db.clone(), every, shutdown)),
        None => Box::pin(async {}),
    }
}

pub fn schema_builder(environment: Environment) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    crm_platform::graphql::harden(Schema::build(QueryRoot, MutationRoot, EmptySubscription), environment)
}

fn sdl() -> String {
    crm_platform::graphql::federation_sdl(schema_builder(Environment::Development))
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
