//! The contact subgraph: contacts and companies of the caller's tenant. It owns the `Contact` and
//! `Company` entities; other subgraphs extend them (`Contact.deals`, `Contact.activities`).

mod cache;
mod companies;
mod contacts;
mod fields;
mod filters;
mod graphql;
mod paging;
mod records;
mod upsert;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use crm_platform::config::Environment;
use crm_platform::{Services, Subgraph};

pub use graphql::{MutationRoot, QueryRoot};

pub type ContactSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

pub const SUBGRAPH: Subgraph =
    Subgraph { name: "contact", default_port: 8082, routes, sdl, background: None };

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
