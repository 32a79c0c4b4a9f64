//! Operations that change what every test shares — signing keys, migrations over many tenants,
//! processes killed mid-write — each in a database of its own, so nothing else runs against
//! what they change.

mod import_crash;
mod keys;
mod migrate;
mod provisioning_crash;

/// The `crm` binary, run as operators run it.
pub const CRM: &str = env!("CARGO_BIN_EXE_crm");
