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
pub mod webhooks;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use crm_platform::config::Environment;
use crm_platform::consumer::Consumer;
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
    consumers: &CONSUMERS,
    files: Some(track::routes),
};

/// The event consumers: the mail flows and the webhook fan-out.
const CONSUMERS: [Consumer; 7] = {
    let [merged, welcome, invitation, reset, reminder, won] = flows::CONSUMERS;
    [merged, welcome, invitation, reset, reminder, won, webhooks::fan_out::CONSUMER]
};

pub fn schema_builder(environment: Environment) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    crm_platform::graphql::harden(
        Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription),
        environment,
    )
}

/// Sends queued mail and webhooks; fires task reminders.
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
    let deliverer = match webhooks::deliver::Deliverer::new(services.db.clone(), &services.config.webhooks) {
        Ok(deliverer) => Some(deliverer.run(shutdown.clone())),
        Err(err) => {
            tracing::error!(error = %err, "webhooks are not sent");
            None
        }
    };
    Box::pin(async move {
        let sender = async move {
            if let Some(sender) = sender {
                sender.await;
            }
        };
        let deliverer = async move {
            if let Some(deliverer) = deliverer {
                deliverer.await;
            }
        };
        futures::future::join3(reminders, sender, deliverer).await;
    })
}

fn sdl() -> String {
    crm_platform::graphql::federation_sdl(schema_builder(Environment::Development))
}

fn routes(services: &Services) -> axum::Router {
    let schema = schema_builder(services.config.environment).data(services.clone()).finish();
    crm_platform::graphql::routes(schema, services)
}
