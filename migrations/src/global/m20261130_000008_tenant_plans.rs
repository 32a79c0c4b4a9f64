use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The plans the code knows (`Plan`), held by the database too, like every other stored closed
// set: a value outside them would make the organization unreadable.
const UP: &str = r#"
ALTER TABLE crm.tenants
    ADD CONSTRAINT tenants_plan_check CHECK (plan IN ('free', 'team', 'enterprise'));
"#;

sql_migration!(UP, "ALTER TABLE crm.tenants DROP CONSTRAINT tenants_plan_check");
