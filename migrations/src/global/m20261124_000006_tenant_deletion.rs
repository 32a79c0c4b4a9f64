use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// A deleted organization stops serving at once and is purged after the retention period.
const UP: &str = "ALTER TABLE crm.tenants ADD COLUMN deleted_at timestamptz;";

sql_migration!(UP, "ALTER TABLE crm.tenants DROP COLUMN deleted_at");
