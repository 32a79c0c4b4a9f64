use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Tasks are activities too; an activity may be about a company alone; who logged it, how long
-- it took, how it went and who took part.
ALTER TABLE activities
    DROP CONSTRAINT activities_kind_check,
    ADD CONSTRAINT activities_kind_check CHECK (kind IN ('note', 'call', 'email', 'meeting', 'task')),
    ADD COLUMN company_id       uuid CONSTRAINT activities_company_id_fkey REFERENCES companies (id) ON DELETE CASCADE,
    ADD COLUMN author_id        uuid,
    ADD COLUMN duration_minutes integer CHECK (duration_minutes BETWEEN 0 AND 10080),
    ADD COLUMN outcome          text,
    ADD COLUMN participants     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now(),
    DROP CONSTRAINT activities_has_subject_record,
    ADD CONSTRAINT activities_has_subject_record
        CHECK (deal_id IS NOT NULL OR contact_id IS NOT NULL OR company_id IS NOT NULL);
UPDATE activities SET updated_at = created_at;
CREATE INDEX activities_company_idx ON activities (company_id, occurred_at DESC, id DESC);
CREATE INDEX activities_author_idx ON activities (author_id, occurred_at DESC, id DESC);
"#;

const DOWN: &str = r#"
DROP INDEX activities_author_idx;
DROP INDEX activities_company_idx;
DELETE FROM activities WHERE kind = 'task' OR (deal_id IS NULL AND contact_id IS NULL);
ALTER TABLE activities
    DROP CONSTRAINT activities_has_subject_record,
    ADD CONSTRAINT activities_has_subject_record CHECK (deal_id IS NOT NULL OR contact_id IS NOT NULL),
    DROP COLUMN company_id, DROP COLUMN author_id, DROP COLUMN duration_minutes, DROP COLUMN outcome,
    DROP COLUMN participants, DROP COLUMN updated_at,
    DROP CONSTRAINT activities_kind_check,
    ADD CONSTRAINT activities_kind_check CHECK (kind IN ('note', 'call', 'email', 'meeting'));
"#;

sql_migration!(UP, DOWN);
