use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE crm.tenants
    ADD COLUMN timezone text NOT NULL DEFAULT 'UTC',
    ADD COLUMN currency char(3) NOT NULL DEFAULT 'USD',
    ADD COLUMN locale text NOT NULL DEFAULT 'en-US',
    ADD COLUMN fiscal_year_start_month smallint NOT NULL DEFAULT 1
        CHECK (fiscal_year_start_month BETWEEN 1 AND 12);
"#;

const DOWN: &str = r#"
ALTER TABLE crm.tenants
    DROP COLUMN timezone, DROP COLUMN currency, DROP COLUMN locale, DROP COLUMN fiscal_year_start_month;
"#;

sql_migration!(UP, DOWN);
