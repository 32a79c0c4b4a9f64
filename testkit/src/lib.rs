//! The real product for tests: the five subgraphs in-process on free ports (sharing one pool, so
//! tests can count SQL statements), the router as a child process, real Postgres, NATS and
//! Redis. Each test registers its own organizations with unique subdomains, so tests run in
//! parallel against one database without seeing each other.

pub mod balancer;
mod client;
pub mod fault_proxy;
mod fixtures;
pub mod otlp;
mod outbox;
pub mod private;
pub mod raw_http;
pub mod smtp;
pub mod stack;
pub mod webhooks;

mod tokens;
pub mod ws;

pub use client::{GraphqlResponse, Org};
pub use fixtures::{DealWorld, MEMBER_PASSWORD, Member, Team, eventually};
pub use outbox::{link_token, outbox_events};
pub use stack::{PrivateDatabase, TestStack, random_client_address, test_config, test_database};
pub use tokens::{mint_role_token, mint_token, mint_token_with};
