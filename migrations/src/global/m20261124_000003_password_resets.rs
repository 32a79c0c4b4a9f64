use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Reset tokens are single use and stored only as SHA-256 hashes; a new request voids older ones.
const UP: &str = r#"
CREATE TABLE crm.password_resets (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES crm.tenants (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_user_idx ON crm.password_resets (user_id) WHERE used_at IS NULL;
"#;

sql_migration!(UP, "DROP TABLE crm.password_resets");
