//! The communication subgraph: activities (notes, calls, emails, meetings) and the timelines of
//! deals and contacts (`Deal.activities`, `Contact.activities`).

mod activities;
mod analytics;
pub mod emails;
pub mod flows;
mod graphql;
pub mod mail;
pub mod reminders;
mod tasks;
mod timeline;
mod track;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use crm_platform::config::Environment;
use crm_platform::{Services, Subgraph};
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

pub use graphql::{MutationRoot, QueryRoot};

pub type CommunicationSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

pub const SUBGRAPH: Subgraph = Subgraph {
    name: "communication",
    default_port: 8084,
    routes,
    sdl,
    background: Some(background),
    consumers: &flows::CONSUMERS,
    files: Some(track::routes),
};

pub fn schema_builder(environment: Environment) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    crm_platform::graphql::harden(
        Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription),
        environment,
    )
}

/// Sends queued mail; fires task reminders.
fn background(services: Services, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
    let reminders = reminders::run(services.db.clone(), shutdown.clone());
    let sender = match mail::sender::Sender::new(services.db.clone(), &services.config.mail) {
        Ok(sender) => {
            tracing::info!(to = %sender.describe(), "sending mail");
            Some(sender.run(shutdown.clone()))
        }
        Err(err) => {
            tracing::error!(error = %err, "mail is not sent: the mail settings are invalid");
            None
        }
    };
    Box::pin(async move {
        let sender = async move {
            if let Some(sender) = sender {
                sender.await;
            }
        };
        futures::future::join(reminders, sender).await;
    })
}

fn sdl() -> String {
    crm_platform::graphql::federation_sdl(schema_builder(Environment::Development))
}

fn routes(services: &Services) -> axum::Router {
    let schema = schema_builder(services.config.environment).data(services.clone()).finish();
    crm_platform::graphql::routes(schema, services)
}
