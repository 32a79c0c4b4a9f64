//! The platform every subgraph stands on: configuration, tracing, the database pool and the
//! tenant-scoped transaction, token verification, error codes, events (outbox and relay), health
//! and the hardened HTTP/GraphQL server.
//!
//! It must never know about CRM concepts (contacts, deals…): those belong to the subgraphs.
//! Tenant data is reachable only through [`tenancy::TenantTx`].

pub mod auth;
pub mod batching;
pub mod client_address;
pub mod config;
pub mod consumer;
pub mod date;
pub mod db;
pub mod dead_letters;
pub mod error;
pub mod error_codes;
pub mod events;
pub mod filter;
pub mod graphql;
pub mod health;
pub mod ids;
pub mod keyset;
pub mod kv;
pub mod metrics;
pub mod outbox;
pub mod pagination;
pub mod paging;
pub mod password;
pub mod patch;
pub mod rate_limit;
pub mod serve;
pub mod sessions;
pub mod shared_load;
pub mod sign_out;
pub mod sql;
pub mod stored_enum;
pub mod telemetry;
pub mod tenancy;
pub mod text;
pub mod user_ref;
pub mod verified_tokens;
pub mod websocket;

pub use auth::{Caller, Claims, JwtVerifier, Role};
pub use config::Config;
pub use db::Db;
pub use error::{ApiError, ApiResult};
pub use serve::{Services, Subgraph};
pub use tenancy::{TenantId, TenantTx};
