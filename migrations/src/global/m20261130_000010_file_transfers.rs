use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Short-lived, single-use links for uploading an import file or downloading an export. Only a
-- hash of the token is kept; the tenant comes from here, never from the request.
CREATE TABLE crm.file_tokens (
    token_hash  bytea PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES crm.tenants (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('import_upload', 'export_download')),
    record_id   uuid NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX file_tokens_expiry_idx ON crm.file_tokens (expires_at);

-- Imports waiting for or held by a worker, across tenants. A worker holds a job while its lease
-- runs; a job whose lease ran out (its worker died) is taken up again where it stopped.
CREATE TABLE crm.import_jobs (
    import_id    uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES crm.tenants (id) ON DELETE CASCADE,
    lease_until  timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_jobs_lease_idx ON crm.import_jobs (lease_until NULLS FIRST, created_at);
"#;

sql_migration!(UP, "DROP TABLE crm.import_jobs; DROP TABLE crm.file_tokens;");
