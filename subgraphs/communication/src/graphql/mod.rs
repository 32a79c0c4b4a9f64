mod mutation;
mod query;
mod templates;
mod types;

pub use mutation::MutationRoot;
pub use query::QueryRoot;
