//! The deal subgraph: pipelines with ordered stages, deals moving through them, the deals of a
//! contact or company, and the live `dealChanged` subscription fed from NATS.

mod analytics;
mod deals;
mod graphql;
pub mod merges;
mod pipelines;
mod relocate;

use async_graphql::{Schema, SchemaBuilder};
use crm_platform::config::Environment;
use crm_platform::{Services, Subgraph};

pub use graphql::{MutationRoot, QueryRoot, SubscriptionRoot};

pub type DealSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

pub const SUBGRAPH: Subgraph = Subgraph {
    name: "deal",
    default_port: 8083,
    routes,
    sdl,
    background: None,
    consumers: &merges::CONSUMERS,
    files: None,
};

pub fn schema_builder(environment: Environment) -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    crm_platform::graphql::harden(
        Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot),
        environment,
    )
    .enable_subscription_in_federation()
}

fn sdl() -> String {
    crm_platform::graphql::federation_sdl(schema_builder(Environment::Development))
}

fn routes(services: &Services) -> axum::Router {
    let shared_events = std::sync::Arc::new(graphql::SharedEvents::default());
    let schema =
        schema_builder(services.config.environment).data(services.clone()).data(shared_events).finish();
    crm_platform::graphql::routes(schema, services)
}
