mod analytics;
mod mutation;
mod pipelines;
mod query;
mod subscription;
mod types;

pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;
