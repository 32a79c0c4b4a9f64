//! End-to-end tests: the five subgraphs in-process and the real router, against real
//! PostgreSQL, NATS and Redis, driven the way a client drives them (HTTP and
//! graphql-transport-ws). One binary, one module per domain; every test registers its own
//! organizations, so tests run side by side in one database of this run's own.

mod communication;
mod contacts;
mod deal;
mod events;
mod identity;
mod router;
mod tenancy;

/// The `crm` binary, which runs the router for the stacks that need one.
pub const CRM: &str = env!("CARGO_BIN_EXE_crm");
