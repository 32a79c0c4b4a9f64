use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Things to do, for a member, maybe about a contact, company or deal; a reminder at `remind_at`
-- (`reminded_at` says it went out).
CREATE TABLE tasks (
    id           uuid PRIMARY KEY,
    title        text NOT NULL,
    notes        text,
    due_at       timestamptz,
    remind_at    timestamptz,
    reminded_at  timestamptz,
    assignee_id  uuid,
    priority     text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    completed_at timestamptz,
    completed_by uuid,
    contact_id   uuid CONSTRAINT tasks_contact_id_fkey REFERENCES contacts (id) ON DELETE CASCADE,
    company_id   uuid CONSTRAINT tasks_company_id_fkey REFERENCES companies (id) ON DELETE CASCADE,
    deal_id      uuid CONSTRAINT tasks_deal_id_fkey REFERENCES deals (id) ON DELETE CASCADE,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id, status, due_at);
CREATE INDEX tasks_due_idx ON tasks (status, due_at, id);
CREATE INDEX tasks_contact_idx ON tasks (contact_id);
CREATE INDEX tasks_company_idx ON tasks (company_id);
CREATE INDEX tasks_deal_idx ON tasks (deal_id);
CREATE INDEX tasks_reminder_idx ON tasks (remind_at) WHERE reminded_at IS NULL AND status = 'open';
"#;

const DOWN: &str = r#"
DROP TABLE tasks;
"#;

sql_migration!(UP, DOWN);
