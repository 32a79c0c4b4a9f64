use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// A key is published from creation and signs from `activates_at`, so verifiers learn it before
// the first token it signs; it stays published until the tokens it signed have expired.
const UP: &str = r#"
ALTER TABLE crm.signing_keys ADD COLUMN activates_at timestamptz NOT NULL DEFAULT now();
UPDATE crm.signing_keys SET activates_at = created_at;
CREATE INDEX signing_keys_activates_at_idx ON crm.signing_keys (activates_at DESC);
"#;

const DOWN: &str = "ALTER TABLE crm.signing_keys DROP COLUMN activates_at;";

sql_migration!(UP, DOWN);
