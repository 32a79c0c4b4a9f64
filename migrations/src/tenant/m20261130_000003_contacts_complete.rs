use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Email is a duplicate signal, not a wall: two contacts may share one after a declined merge.
DROP INDEX contacts_email_key;

ALTER TABLE contacts
    ADD COLUMN additional_emails  text[] NOT NULL DEFAULT '{}',
    ADD COLUMN additional_phones  text[] NOT NULL DEFAULT '{}',
    ADD COLUMN job_title          text,
    ADD COLUMN owner_id           uuid,
    ADD COLUMN tags               text[] NOT NULL DEFAULT '{}',
    ADD COLUMN lifecycle_stage    text NOT NULL DEFAULT 'lead'
        CHECK (lifecycle_stage IN ('lead', 'prospect', 'customer', 'churned', 'other')),
    ADD COLUMN source             text,
    ADD COLUMN address            jsonb,
    ADD COLUMN notes              text,
    ADD COLUMN created_by         uuid,
    ADD COLUMN updated_by         uuid,
    ADD COLUMN deleted_at         timestamptz,
    ADD COLUMN merged_into        uuid REFERENCES contacts (id) ON DELETE SET NULL,
    -- Kept by the trigger below: the digits of every phone number (duplicates and upserts
    -- compare these), and what `search` matches (lowercase, phones also as bare digits).
    ADD COLUMN phone_digits       text[] NOT NULL DEFAULT '{}',
    ADD COLUMN search_text        text NOT NULL DEFAULT '';

CREATE FUNCTION contacts_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.phone_digits := ARRAY(
        SELECT digits FROM (
            SELECT regexp_replace(p, '[^0-9]', '', 'g') AS digits
            FROM unnest(array_prepend(NEW.phone, NEW.additional_phones)) AS p
        ) numbers
        WHERE length(digits) >= 3);
    NEW.search_text := lower(concat_ws(' ',
        NEW.first_name, NEW.last_name, NEW.email, array_to_string(NEW.additional_emails, ' '),
        NEW.phone, array_to_string(NEW.additional_phones, ' '), array_to_string(NEW.phone_digits, ' '),
        NEW.job_title, NEW.notes));
    RETURN NEW;
END $$;
CREATE TRIGGER contacts_search_text BEFORE INSERT OR UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_search_text();
UPDATE contacts SET search_text = '';

CREATE INDEX contacts_email_idx ON contacts (email);
-- Looked up with many keys at once (imports, upserts): without a pending list to scan.
CREATE INDEX contacts_additional_emails_idx ON contacts USING gin (additional_emails) WITH (fastupdate = off);
CREATE INDEX contacts_tags_idx ON contacts USING gin (tags);
CREATE INDEX contacts_phone_digits_idx ON contacts USING gin (phone_digits) WITH (fastupdate = off);
CREATE INDEX contacts_search_idx ON contacts USING gin (search_text extensions.gin_trgm_ops);
-- Typo-tolerant matching looks at names only: short texts, quick to compare.
CREATE INDEX contacts_name_trgm_idx ON contacts
    USING gin ((lower(first_name || ' ' || last_name)) extensions.gin_trgm_ops);
CREATE INDEX contacts_owner_idx ON contacts (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX contacts_name_idx ON contacts (lower(last_name), lower(first_name));
CREATE INDEX contacts_first_name_idx ON contacts (lower(first_name));
CREATE INDEX contacts_trash_idx ON contacts (deleted_at) WHERE deleted_at IS NOT NULL;

ALTER TABLE companies
    ADD COLUMN industry       text,
    ADD COLUMN size           integer CHECK (size >= 0),
    ADD COLUMN website        text,
    ADD COLUMN address        jsonb,
    ADD COLUMN owner_id       uuid,
    ADD COLUMN parent_id      uuid CONSTRAINT companies_parent_id_fkey REFERENCES companies (id),
    ADD COLUMN custom_fields  jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN created_by     uuid,
    ADD COLUMN updated_by     uuid,
    ADD COLUMN deleted_at     timestamptz,
    ADD CONSTRAINT companies_not_own_parent CHECK (parent_id <> id);

-- Domains were free text before they became unique: keep the oldest holder of each, and move
-- the others' into their website so nothing is lost.
UPDATE companies SET website = coalesce(website, domain), domain = NULL
WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY lower(domain) ORDER BY created_at, id) AS n
        FROM companies WHERE domain IS NOT NULL
    ) ranked WHERE n > 1
);
UPDATE companies SET domain = lower(domain) WHERE domain IS NOT NULL;
CREATE UNIQUE INDEX companies_domain_key ON companies (domain)
    WHERE domain IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX companies_parent_idx ON companies (parent_id);
CREATE INDEX companies_name_idx ON companies USING gin (lower(name) extensions.gin_trgm_ops);
CREATE INDEX companies_trash_idx ON companies (deleted_at) WHERE deleted_at IS NOT NULL;

-- Deals take custom fields and the trash too (the deal subgraph's own columns come with it).
ALTER TABLE deals
    ADD COLUMN custom_fields  jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN deleted_at     timestamptz;

-- Tenant-defined fields of contacts, companies and deals. Values live in each record's
-- `custom_fields` object under `key`, validated against these definitions on every write.
CREATE TABLE custom_field_definitions (
    id          uuid PRIMARY KEY,
    object      text NOT NULL CHECK (object IN ('contact', 'company', 'deal')),
    key         text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
    label       text NOT NULL,
    field_type  text NOT NULL CHECK (field_type IN ('text', 'longtext', 'number', 'decimal',
                    'currency', 'date', 'datetime', 'boolean', 'select', 'multiselect', 'url',
                    'email', 'phone')),
    required    boolean NOT NULL DEFAULT false,
    is_unique   boolean NOT NULL DEFAULT false,
    options     jsonb NOT NULL DEFAULT '[]'::jsonb,
    position    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT custom_field_definitions_key UNIQUE (object, key)
);
"#;

const DOWN: &str = r#"
DROP TABLE custom_field_definitions;
ALTER TABLE deals DROP COLUMN custom_fields, DROP COLUMN deleted_at;
DROP INDEX companies_domain_key;
ALTER TABLE companies DROP CONSTRAINT companies_not_own_parent,
    DROP COLUMN industry, DROP COLUMN size, DROP COLUMN website, DROP COLUMN address,
    DROP COLUMN owner_id, DROP COLUMN parent_id, DROP COLUMN custom_fields, DROP COLUMN created_by,
    DROP COLUMN updated_by, DROP COLUMN deleted_at;
DROP TRIGGER contacts_search_text ON contacts;
DROP FUNCTION contacts_search_text();
ALTER TABLE contacts DROP COLUMN additional_emails, DROP COLUMN additional_phones,
    DROP COLUMN job_title, DROP COLUMN owner_id, DROP COLUMN tags, DROP COLUMN lifecycle_stage,
    DROP COLUMN source, DROP COLUMN address, DROP COLUMN notes, DROP COLUMN created_by,
    DROP COLUMN updated_by, DROP COLUMN deleted_at, DROP COLUMN merged_into, DROP COLUMN phone_digits,
    DROP COLUMN search_text;
CREATE UNIQUE INDEX contacts_email_key ON contacts (email) WHERE email IS NOT NULL;
"#;

sql_migration!(UP, DOWN);
