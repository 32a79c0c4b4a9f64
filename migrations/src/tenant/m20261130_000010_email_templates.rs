use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- The organization's email templates: a subject, a text body and an optional HTML body, each
-- checked when saved. Names are unique whatever their case.
CREATE TABLE email_templates (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    subject    text NOT NULL,
    text_body  text NOT NULL,
    html_body  text,
    created_by uuid,
    updated_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX email_templates_name_key ON email_templates (lower(name));
"#;

const DOWN: &str = r#"
DROP TABLE email_templates;
"#;

sql_migration!(UP, DOWN);
