//! Fault tests (RELIABILITY.md E and F rows): NATS, PostgreSQL and Redis of each test's own
//! ([`crm_testkit::private`]) are killed, paused and restarted under load, never the shared
//! services the other suites use. Each test names the rows it proves.

mod replica_set;
mod rig;

mod dead_letters;
mod health;
mod nats_outage;
mod postgres;
mod relay_crash;
mod replicas;
mod sigterm;
mod subgraphs;
mod webhook_crash;
