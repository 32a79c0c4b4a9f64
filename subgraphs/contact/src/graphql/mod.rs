mod inputs;
mod mutation;
mod query;
mod transfers;
mod types;

pub use mutation::MutationRoot;
pub use query::QueryRoot;
