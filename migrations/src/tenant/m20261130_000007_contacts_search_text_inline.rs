use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The same values as before, from expressions alone: a query inside a row trigger (the digits
// were collected with a sub-select) is planned and run for every row, which made it most of the
// cost of inserting a contact. Phones are joined with a unit separator, which no phone holds;
// runs of fewer than three digits are dropped as before.
const UP: &str = r#"
CREATE OR REPLACE FUNCTION contacts_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    digits text;
BEGIN
    digits := btrim(regexp_replace(
        regexp_replace(array_to_string(array_prepend(NEW.phone, NEW.additional_phones), E'\x1f'),
                       E'[^0-9\x1f]', '', 'g'),
        E'(^|\x1f)[0-9]{0,2}(?=\x1f|$)', '', 'g'), E'\x1f');
    NEW.phone_digits := CASE WHEN digits = '' THEN '{}'::text[] ELSE string_to_array(digits, E'\x1f') END;
    NEW.search_text := lower(concat_ws(' ',
        NEW.first_name, NEW.last_name, NEW.email, array_to_string(NEW.additional_emails, ' '),
        NEW.phone, array_to_string(NEW.additional_phones, ' '), array_to_string(NEW.phone_digits, ' '),
        NEW.job_title, NEW.notes));
    RETURN NEW;
END $$;
"#;

const DOWN: &str = r#"
CREATE OR REPLACE FUNCTION contacts_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
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
"#;

sql_migration!(UP, DOWN);
