//! SeaORM entities. `global` tables live in the `crm` schema and are always schema-qualified;
//! `tenant` tables carry no schema and resolve through the transaction-local search_path of a
//! tenant transaction — used anywhere else they fail with "relation does not exist".

pub mod global;
pub mod tenant;
