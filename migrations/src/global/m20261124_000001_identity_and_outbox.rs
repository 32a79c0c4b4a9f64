use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE crm.tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    subdomain   text NOT NULL CONSTRAINT tenants_subdomain_key UNIQUE,
    plan        text NOT NULL DEFAULT 'free',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crm.users (
    id             uuid PRIMARY KEY,
    email          text NOT NULL CONSTRAINT users_email_key UNIQUE,
    password_hash  text NOT NULL,
    name           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crm.memberships (
    tenant_id   uuid NOT NULL REFERENCES crm.tenants (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON crm.memberships (user_id);

-- Events wait here until the relay has JetStream's acknowledgement.
CREATE TABLE crm.outbox (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    subject       text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_pending_idx ON crm.outbox (created_at, id) WHERE published_at IS NULL;

-- Token signing keys; the newest signs, all are published in the JWKS.
CREATE TABLE crm.signing_keys (
    kid          text PRIMARY KEY,
    private_key  bytea NOT NULL,
    public_key   bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
"#;

const DOWN: &str = r#"
DROP TABLE crm.signing_keys;
DROP TABLE crm.outbox;
DROP TABLE crm.memberships;
DROP TABLE crm.users;
DROP TABLE crm.tenants;
"#;

sql_migration!(UP, DOWN);
