use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Invitation tokens are stored only as SHA-256 hashes; at most one open invitation per address.
const UP: &str = r#"
CREATE TABLE crm.invitations (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES crm.tenants (id) ON DELETE CASCADE,
    email        text NOT NULL,
    role         text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    token_hash   bytea NOT NULL UNIQUE,
    invited_by   uuid NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    revoked_at   timestamptz
);
CREATE UNIQUE INDEX invitations_open_key ON crm.invitations (tenant_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
"#;

sql_migration!(UP, "DROP TABLE crm.invitations");
