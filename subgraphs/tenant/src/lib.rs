//! The tenant subgraph: organizations and their provisioning. Registering an organization
//! creates its row, its owner, its schema from the tenant template and a default pipeline in one
//! transaction, so an organization either fully exists or not at all.

pub mod deletion;
mod graphql;
pub mod invitations;
mod members;
pub mod preferences;
mod provisioning;
mod registration;
pub mod settings;
mod subdomain;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use crm_platform::config::Environment;
use crm_platform::{Services, Subgraph};
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

pub use graphql::{MutationRoot, QueryRoot};
pub use registration::{Registration, register_organization};
pub use subdomain::Subdomain;

pub type TenantSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

pub const SUBGRAPH: Subgraph = Subgraph {
    name: "tenant",
    default_port: 8081,
    routes,
    sdl,
    background: Some(background),
    consumers: &preferences::CONSUMERS,
    files: None,
};

/// The purge of deleted organizations.
fn background(services: Services, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
    Box::pin(deletion::run_purger(services, shutdown))
}

pub fn schema_builder(environment: Environment) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    crm_platform::graphql::harden(Schema::build(QueryRoot, MutationRoot, EmptySubscription), environment)
}

fn sdl() -> String {
    crm_platform::graphql::federation_sdl(schema_builder(Environment::Development))
}

fn routes(services: &Services) -> axum::Router {
    let schema = schema_builder(services.config.environment).data(services.clone()).finish();
    crm_platform::graphql::routes(schema, services)
}
