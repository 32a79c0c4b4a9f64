use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Endpoints an organization's integrations receive its events at.
CREATE TABLE webhooks (
    id                         uuid PRIMARY KEY,
    url                        text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2000),
    -- Event types or patterns (`deal.*`, `*`).
    events                     text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 100),
    description                text CHECK (char_length(description) <= 500),
    -- `whsec_` + base64 of the signing key.
    secret                     text NOT NULL,
    -- After a rotation, deliveries are signed with both until this passes.
    previous_secret            text,
    previous_secret_until      timestamptz,
    enabled                    boolean NOT NULL DEFAULT true,
    disabled_reason            text,
    -- When its current run of failed attempts began (none while it succeeds).
    failing_since              timestamptz,
    created_by                 uuid,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);

-- One delivery per (webhook, event): its attempts retry the same message.
CREATE TABLE webhook_deliveries (
    id                uuid PRIMARY KEY,
    webhook_id        uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id          uuid NOT NULL,
    event_type        text NOT NULL,
    -- Deliveries with the same key (the record the event is about) go out in order.
    ordering_key      text NOT NULL,
    -- The exact body sent on every attempt.
    body              text NOT NULL,
    status            text NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz,
    -- When the current run of failed attempts began: a day later the delivery is given up.
    retrying_since    timestamptz,
    response_code     integer,
    latency_ms        integer,
    error             text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_attempt_at   timestamptz,
    delivered_at      timestamptz,
    CONSTRAINT webhook_deliveries_event_key UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);

-- Every attempt, for the delivery log.
CREATE TABLE webhook_attempts (
    delivery_id     uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt         integer NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    response_code   integer,
    latency_ms      integer,
    error           text,
    PRIMARY KEY (delivery_id, attempt)
);

-- Notices to members about their organization's setup (a webhook disabled, say).
ALTER TABLE emails DROP CONSTRAINT emails_purpose_check;
ALTER TABLE emails ADD CONSTRAINT emails_purpose_check CHECK (purpose IN
    ('crm', 'followup', 'welcome', 'invitation', 'reset', 'reminder', 'notice'));
"#;

const DOWN: &str = "DELETE FROM emails WHERE purpose = 'notice';
ALTER TABLE emails DROP CONSTRAINT emails_purpose_check;
ALTER TABLE emails ADD CONSTRAINT emails_purpose_check CHECK (purpose IN
    ('crm', 'followup', 'welcome', 'invitation', 'reset', 'reminder'));
DROP TABLE webhook_attempts; DROP TABLE webhook_deliveries; DROP TABLE webhooks;";

sql_migration!(UP, DOWN);
