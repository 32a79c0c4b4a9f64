mod inputs;
mod mutation;
mod query;
mod types;

pub use mutation::MutationRoot;
pub use query::QueryRoot;
