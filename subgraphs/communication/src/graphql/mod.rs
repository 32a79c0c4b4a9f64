mod analytics;
mod emails;
mod mutation;
mod query;
mod tasks;
mod templates;
mod timeline;
mod types;
mod webhooks;

pub use mutation::MutationRoot;
pub use query::QueryRoot;
