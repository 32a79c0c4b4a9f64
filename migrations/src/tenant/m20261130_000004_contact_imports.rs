use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- A CSV import: its file (in chunks), how far it got (the byte offset and line of the next row,
-- moved in the same transaction as each batch's rows, so a resumed import neither repeats nor
-- skips a row), its counts and every row it did not take.
CREATE TABLE contact_imports (
    id           uuid PRIMARY KEY,
    file_name    text NOT NULL,
    status       text NOT NULL CHECK (status IN ('waiting', 'queued', 'running', 'done', 'failed')),
    dedupe       text NOT NULL CHECK (dedupe IN ('none', 'skip', 'update')),
    dry_run      boolean NOT NULL,
    mapping      jsonb NOT NULL DEFAULT '{}'::jsonb,
    columns      jsonb,
    delimiter    text,
    size_bytes   bigint NOT NULL DEFAULT 0,
    sha256       text,
    next_offset  bigint NOT NULL DEFAULT 0,
    next_line    bigint NOT NULL DEFAULT 1,
    total        bigint NOT NULL DEFAULT 0,
    imported     bigint NOT NULL DEFAULT 0,
    updated      bigint NOT NULL DEFAULT 0,
    skipped      bigint NOT NULL DEFAULT 0,
    failed       bigint NOT NULL DEFAULT 0,
    error        text,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz
);

CREATE TABLE contact_import_chunks (
    import_id  uuid NOT NULL REFERENCES contact_imports (id) ON DELETE CASCADE,
    seq        integer NOT NULL,
    data       bytea NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE contact_import_errors (
    import_id    uuid NOT NULL REFERENCES contact_imports (id) ON DELETE CASCADE,
    line         bigint NOT NULL,
    column_name  text,
    reason       text NOT NULL
);
CREATE INDEX contact_import_errors_line_idx ON contact_import_errors (import_id, line);

-- An export's filter and columns, kept for its download link.
CREATE TABLE contact_exports (
    id          uuid PRIMARY KEY,
    filter      jsonb,
    columns     jsonb NOT NULL,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now()
);
"#;

const DOWN: &str = r#"
DROP TABLE contact_exports;
DROP TABLE contact_import_errors;
DROP TABLE contact_import_chunks;
DROP TABLE contact_imports;
"#;

sql_migration!(UP, DOWN);
