mod emails;
mod mutation;
mod query;
mod tasks;
mod templates;
mod types;

pub use mutation::MutationRoot;
pub use query::QueryRoot;
