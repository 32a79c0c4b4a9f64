use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Typo-tolerant search (trigram similarity) comes from pg_trgm, a trusted contrib extension. It
// lives in its own schema so tenant schemas never shadow it; tenant SQL names it qualified
// (`extensions.gin_trgm_ops`, `OPERATOR(extensions.<%)`). An install made earlier into another
// schema is moved here.
const UP: &str = r#"
CREATE SCHEMA IF NOT EXISTS extensions;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        ALTER EXTENSION pg_trgm SET SCHEMA extensions;
    ELSE
        CREATE EXTENSION pg_trgm WITH SCHEMA extensions;
    END IF;
END $$;
"#;

sql_migration!(UP, "DROP EXTENSION IF EXISTS pg_trgm");
