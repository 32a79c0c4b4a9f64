use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE companies (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    domain      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contacts (
    id             uuid PRIMARY KEY,
    first_name     text NOT NULL,
    last_name      text NOT NULL DEFAULT '',
    email          text,
    phone          text,
    company_id     uuid CONSTRAINT contacts_company_id_fkey REFERENCES companies (id) ON DELETE SET NULL,
    custom_fields  jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_email_key ON contacts (email) WHERE email IS NOT NULL;
CREATE INDEX contacts_company_idx ON contacts (company_id);

CREATE TABLE pipelines (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pipelines_single_default ON pipelines (is_default) WHERE is_default;

CREATE TABLE pipeline_stages (
    id           uuid PRIMARY KEY,
    pipeline_id  uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    name         text NOT NULL,
    position     integer NOT NULL,
    probability  integer NOT NULL CHECK (probability BETWEEN 0 AND 100),
    kind         text NOT NULL DEFAULT 'open' CHECK (kind IN ('open', 'won', 'lost')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pipeline_stages_position_key UNIQUE (pipeline_id, position),
    -- Lets deals reference (pipeline, stage) together, so a deal's stage is always in its pipeline.
    CONSTRAINT pipeline_stages_pipeline_stage_key UNIQUE (pipeline_id, id)
);

CREATE TABLE deals (
    id           uuid PRIMARY KEY,
    title        text NOT NULL,
    amount       numeric(18, 2),
    currency     char(3) NOT NULL,
    pipeline_id  uuid NOT NULL,
    stage_id     uuid NOT NULL,
    company_id   uuid CONSTRAINT deals_company_id_fkey REFERENCES companies (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deals_stage_fkey FOREIGN KEY (pipeline_id, stage_id)
        REFERENCES pipeline_stages (pipeline_id, id)
);
CREATE INDEX deals_stage_idx ON deals (pipeline_id, stage_id);
CREATE INDEX deals_company_idx ON deals (company_id);

CREATE TABLE deal_contacts (
    deal_id     uuid NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    contact_id  uuid NOT NULL CONSTRAINT deal_contacts_contact_id_fkey REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (deal_id, contact_id)
);
CREATE INDEX deal_contacts_contact_idx ON deal_contacts (contact_id);

CREATE TABLE activities (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('note', 'call', 'email', 'meeting')),
    subject      text NOT NULL,
    body         text,
    deal_id      uuid CONSTRAINT activities_deal_id_fkey REFERENCES deals (id) ON DELETE CASCADE,
    contact_id   uuid CONSTRAINT activities_contact_id_fkey REFERENCES contacts (id) ON DELETE CASCADE,
    occurred_at  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT activities_has_subject_record CHECK (deal_id IS NOT NULL OR contact_id IS NOT NULL)
);
CREATE INDEX activities_deal_idx ON activities (deal_id, occurred_at DESC, id DESC);
CREATE INDEX activities_contact_idx ON activities (contact_id, occurred_at DESC, id DESC);
"#;

const DOWN: &str = r#"
DROP TABLE activities;
DROP TABLE deal_contacts;
DROP TABLE deals;
DROP TABLE pipeline_stages;
DROP TABLE pipelines;
DROP TABLE contacts;
DROP TABLE companies;
"#;

sql_migration!(UP, DOWN);
