use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- The relay deletes published events once the stream no longer keeps them (7 days): this finds
-- them without reading the whole outbox.
CREATE INDEX outbox_published_idx ON crm.outbox (published_at) WHERE published_at IS NOT NULL;
"#;

sql_migration!(UP, "DROP INDEX crm.outbox_published_idx;");
