use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Reminders still to fire, across tenants, so the reminder worker finds them without visiting
-- every tenant's schema. The task's own `reminded_at` decides, in the tenant's transaction,
-- that a reminder fires once.
CREATE TABLE crm.task_reminders (
    task_id    uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES crm.tenants (id) ON DELETE CASCADE,
    remind_at  timestamptz NOT NULL
);
CREATE INDEX task_reminders_due_idx ON crm.task_reminders (remind_at);
"#;

sql_migration!(UP, "DROP TABLE crm.task_reminders;");
