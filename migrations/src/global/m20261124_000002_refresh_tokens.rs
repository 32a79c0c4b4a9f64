use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Only SHA-256 hashes of the opaque tokens are stored: a dump of this table cannot be replayed.
// A family is everything rotated from one login; reuse of a spent token revokes the family.
const UP: &str = r#"
CREATE TABLE crm.refresh_tokens (
    token_hash   bytea PRIMARY KEY,
    family_id    uuid NOT NULL,
    session_id   uuid NOT NULL,
    user_id      uuid NOT NULL REFERENCES crm.users (id) ON DELETE CASCADE,
    tenant_id    uuid NOT NULL REFERENCES crm.tenants (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON crm.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_session_idx ON crm.refresh_tokens (session_id);
CREATE INDEX refresh_tokens_member_idx ON crm.refresh_tokens (tenant_id, user_id);
"#;

sql_migration!(UP, "DROP TABLE crm.refresh_tokens");
