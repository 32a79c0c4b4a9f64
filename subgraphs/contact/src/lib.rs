//! The contact subgraph: contacts and companies of the caller's tenant. It owns the `Contact` and
//! `Company` entities; other subgraphs extend them (`Contact.deals`, `Contact.activities`).

mod cache;
mod companies;
mod contacts;
mod exports;
mod fields;
mod files;
mod filters;
mod graphql;
pub mod imports;
mod records;
mod tokens;
pub mod trash;
mod upsert;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use crm_platform::config::Environment;
use crm_platform::{Services, Subgraph};
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

pub use graphql::{MutationRoot, QueryRoot};

pub type ContactSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

pub const SUBGRAPH: Subgraph = Subgraph {
    name: "contact",
    default_port: 8082,
    routes,
    sdl,
    background: Some(background),
    consumers: &[],
    files: Some(files::routes),
};

/// The import worker and the emptying of the trash.
fn background(services: Services, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
    let imports = imports::worker::run(services.db.clone(), services.kv.clone(), shutdown.clone());
    Box::pin(async move {
        tokio::join!(imports, trash::run(services, shutdown));
    })
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
