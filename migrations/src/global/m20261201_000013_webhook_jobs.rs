use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Webhook deliveries waiting for an attempt, across tenants, so deliverers find work without
-- visiting every tenant's schema. The time of the event (`event_at`, then the delivery id)
-- orders the deliveries of one record to one endpoint (`webhook_id`, `ordering_key`): a later
-- one waits until the earlier ones are done. A lease that runs out (the deliverer died) makes
-- the job available again.
CREATE TABLE crm.webhook_jobs (
    delivery_id   uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES crm.tenants (id) ON DELETE CASCADE,
    webhook_id    uuid NOT NULL,
    ordering_key  text NOT NULL,
    event_at      timestamptz NOT NULL,
    due_at        timestamptz NOT NULL,
    lease_until   timestamptz
);
CREATE INDEX webhook_jobs_due_idx ON crm.webhook_jobs (due_at);
CREATE INDEX webhook_jobs_order_idx ON crm.webhook_jobs (webhook_id, ordering_key, event_at, delivery_id);
"#;

sql_migration!(UP, "DROP TABLE crm.webhook_jobs;");
