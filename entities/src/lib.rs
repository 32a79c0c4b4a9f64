//! The CRM's data model, shared by the subgraphs: SeaORM entities, the typed ids of CRM records,
//! the closed sets their columns hold (as Rust enums: an unknown stored value is an error, never
//! a default) and the event payloads (`events`, catalogued in `docs/events.md`).
//!
//! `global` tables live in the `crm` schema and are always schema-qualified; `tenant` tables
//! carry no schema and resolve through the transaction-local search_path of a tenant transaction —
//! used anywhere else they fail with "relation does not exist".

pub mod custom_fields;
pub mod events;
pub mod global;
pub mod ids;
pub mod tenant;
