use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Number, decimal and currency fields defined from now on get an index on their value, highest
// first (the contact subgraph's fields module); these are the ones defined before. The
// expressions are the ones filters and sorts use, so the planner matches them.
const UP: &str = r#"
DO $$
DECLARE
    field record;
BEGIN
    FOR field IN
        SELECT id, object, key, field_type FROM custom_field_definitions
        WHERE field_type IN ('number', 'decimal', 'currency')
    LOOP
        EXECUTE format('CREATE INDEX %I ON %I ((%s) DESC NULLS LAST)',
            'custom_field_' || replace(field.id::text, '-', '') || '_idx',
            CASE field.object WHEN 'contact' THEN 'contacts' WHEN 'company' THEN 'companies' ELSE 'deals' END,
            CASE field.field_type
                WHEN 'currency' THEN format('(custom_fields->%L->>''amount'')::numeric', field.key)
                ELSE format('(custom_fields->>%L)::numeric', field.key)
            END);
    END LOOP;
END $$;
"#;

const DOWN: &str = r#"
DO $$
DECLARE
    name text;
BEGIN
    FOR name IN SELECT indexname FROM pg_indexes
        WHERE schemaname = current_schema() AND indexname LIKE 'custom\_field\_%\_idx'
    LOOP
        EXECUTE format('DROP INDEX %I', name);
    END LOOP;
END $$;
"#;

sql_migration!(UP, DOWN);
