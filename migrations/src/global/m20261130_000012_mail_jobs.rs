use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Emails waiting for an attempt, across tenants, so senders find work without visiting every
-- tenant's schema. A sender leases a job while it tries; a lease that runs out (the sender
-- died) makes the job available again, and the email's own status says what happens next.
CREATE TABLE crm.mail_jobs (
    email_id     uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES crm.tenants (id) ON DELETE CASCADE,
    due_at       timestamptz NOT NULL,
    lease_until  timestamptz
);
CREATE INDEX mail_jobs_due_idx ON crm.mail_jobs (due_at);
"#;

sql_migration!(UP, "DROP TABLE crm.mail_jobs;");
