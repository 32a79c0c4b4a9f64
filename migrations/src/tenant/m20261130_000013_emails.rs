use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Every email the organization sends, from the moment it is queued. `status` is the sender's
-- state machine: queued -> sending (an attempt holds it) -> delivering (the server is receiving
-- the message) -> sent | failed | bounced; an attempt that dies in `sending` is tried again, one
-- that dies in `delivering` is never sent again (`delivery_unconfirmed`).
CREATE TABLE emails (
    id                    uuid PRIMARY KEY,
    message_id            text UNIQUE,
    purpose               text NOT NULL CHECK (purpose IN
                              ('crm', 'followup', 'welcome', 'invitation', 'reset', 'reminder')),
    status                text NOT NULL DEFAULT 'queued' CHECK (status IN
                              ('queued', 'sending', 'delivering', 'sent', 'failed', 'bounced')),
    to_address            text NOT NULL,
    to_name               text,
    contact_id            uuid CONSTRAINT emails_contact_id_fkey REFERENCES contacts (id) ON DELETE SET NULL,
    company_id            uuid CONSTRAINT emails_company_id_fkey REFERENCES companies (id) ON DELETE SET NULL,
    deal_id               uuid CONSTRAINT emails_deal_id_fkey REFERENCES deals (id) ON DELETE SET NULL,
    template_id           uuid CONSTRAINT emails_template_id_fkey REFERENCES email_templates (id) ON DELETE SET NULL,
    sender_id             uuid,
    subject               text NOT NULL,
    text_body             text NOT NULL,
    html_body             text,
    -- The HTML's links in order: a click redirect goes only to one of these.
    links                 text[] NOT NULL DEFAULT '{}',
    -- Key of this email's open and click tokens; NULL when it is not tracked.
    tracking_key          bytea,
    attempts              integer NOT NULL DEFAULT 0,
    next_attempt_at       timestamptz,
    last_error            text,
    delivery_unconfirmed  boolean NOT NULL DEFAULT false,
    queued_at             timestamptz NOT NULL DEFAULT now(),
    delivering_at        timestamptz,
    sent_at               timestamptz,
    failed_at             timestamptz,
    opened_at             timestamptz,
    open_count            integer NOT NULL DEFAULT 0,
    click_count           integer NOT NULL DEFAULT 0
);
CREATE INDEX emails_contact_idx ON emails (contact_id, queued_at DESC, id DESC);
CREATE INDEX emails_company_idx ON emails (company_id, queued_at DESC, id DESC);
CREATE INDEX emails_deal_idx ON emails (deal_id, queued_at DESC, id DESC);
CREATE INDEX emails_sender_idx ON emails (sender_id, queued_at DESC);
CREATE INDEX emails_queued_idx ON emails (queued_at DESC, id DESC);

-- Opens and clicks, as they came.
CREATE TABLE email_tracking (
    id          uuid PRIMARY KEY,
    email_id    uuid NOT NULL REFERENCES emails (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('open', 'click')),
    url         text,
    user_agent  text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_tracking_email_idx ON email_tracking (email_id, at);
CREATE INDEX email_tracking_at_idx ON email_tracking (at);

-- The organization's mail settings (one row, written on first change).
CREATE TABLE mail_settings (
    id                      boolean PRIMARY KEY DEFAULT true CHECK (id),
    tracking                boolean NOT NULL DEFAULT true,
    deal_won_follow_up      boolean NOT NULL DEFAULT true,
    deal_won_template_id    uuid CONSTRAINT mail_settings_template_fkey REFERENCES email_templates (id) ON DELETE SET NULL,
    updated_at              timestamptz NOT NULL DEFAULT now()
);
"#;

const DOWN: &str = "DROP TABLE mail_settings; DROP TABLE email_tracking; DROP TABLE emails;";

sql_migration!(UP, DOWN);
