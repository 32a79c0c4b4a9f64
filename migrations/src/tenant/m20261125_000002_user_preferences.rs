use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Events a durable consumer has handled for this tenant, written in the same transaction as
-- the handler's effect, so a redelivery is recognised and skipped.
CREATE TABLE processed_events (
    consumer      text NOT NULL,
    event_id      uuid NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- A member's own preferences in this organization. NULL timezone/locale follow the organization.
CREATE TABLE user_preferences (
    user_id              uuid PRIMARY KEY,
    email_notifications  boolean NOT NULL DEFAULT true,
    digest               text NOT NULL DEFAULT 'weekly' CHECK (digest IN ('daily', 'weekly', 'never')),
    timezone             text,
    locale               text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
"#;

const DOWN: &str = "DROP TABLE user_preferences; DROP TABLE processed_events;";

sql_migration!(UP, DOWN);
