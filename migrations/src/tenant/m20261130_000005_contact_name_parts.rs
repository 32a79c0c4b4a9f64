use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- Typo-tolerant search compares each typed word with the tenant's distinct first and last names
-- (a few thousand short strings even at a hundred thousand contacts), then finds the contacts
-- bearing the similar names through the name indexes, instead of comparing it with every contact.
CREATE TABLE contact_name_parts (part text PRIMARY KEY);
CREATE INDEX contact_name_parts_trgm_idx ON contact_name_parts USING gin (part extensions.gin_trgm_ops);

-- Once per statement, so a thousand-row import adds its few new names in one insert. In order,
-- so two writers adding the same new names wait for each other instead of deadlocking. The
-- table is named in the trigger's own schema, whatever search_path the writing statement has.
CREATE FUNCTION contact_name_parts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO %I.contact_name_parts (part)
         SELECT DISTINCT n.part FROM written_rows w,
             LATERAL (VALUES (lower(w.first_name)), (lower(w.last_name))) AS n(part)
         WHERE n.part <> '''' ORDER BY n.part
         ON CONFLICT DO NOTHING', TG_TABLE_SCHEMA);
    RETURN NULL;
END $$;
CREATE TRIGGER contact_name_parts_insert AFTER INSERT ON contacts
    REFERENCING NEW TABLE AS written_rows FOR EACH STATEMENT EXECUTE FUNCTION contact_name_parts_add();
CREATE TRIGGER contact_name_parts_update AFTER UPDATE ON contacts
    REFERENCING NEW TABLE AS written_rows FOR EACH STATEMENT EXECUTE FUNCTION contact_name_parts_add();

INSERT INTO contact_name_parts (part)
SELECT DISTINCT n.part FROM contacts c,
    LATERAL (VALUES (lower(c.first_name)), (lower(c.last_name))) AS n(part)
WHERE n.part <> ''
ON CONFLICT DO NOTHING;

-- Replaced by the names above; one trigram index fewer to write on every contact insert.
DROP INDEX contacts_name_trgm_idx;
"#;

const DOWN: &str = r#"
CREATE INDEX contacts_name_trgm_idx ON contacts
    USING gin ((lower(first_name || ' ' || last_name)) extensions.gin_trgm_ops);
DROP TRIGGER contact_name_parts_update ON contacts;
DROP TRIGGER contact_name_parts_insert ON contacts;
DROP FUNCTION contact_name_parts_add();
DROP TABLE contact_name_parts;
"#;

sql_migration!(UP, DOWN);
