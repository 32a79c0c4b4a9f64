mod analytics;
mod mutation;
mod pipelines;
mod query;
mod subscription;
mod types;

pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub(crate) use subscription::SharedEvents;
pub use subscription::SubscriptionRoot;
