use sea_orm::entity::prelude::*;

crm_platform::stored_enum! {
    /// Where an import stands: waiting for its file, queued for a worker, running, done (every
    /// row accounted for) or failed (the file as a whole could not be read).
    pub enum ImportStatus {
        Waiting,
        Queued,
        Running,
        Done,
        Failed,
    }
}

crm_platform::stored_enum! {
    /// What an import does with a row a contact already matches (by email; without one, by
    /// name at the same company): NONE imports it anyway, SKIP leaves the contact alone and
    /// counts the row as skipped, UPDATE updates the contact with the row's values.
    pub enum Dedupe {
        None,
        Skip,
        Update,
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_imports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub file_name: String,
    pub status: ImportStatus,
    pub dedupe: Dedupe,
    pub dry_run: bool,
    /// Overrides of the automatic column mapping: CSV header → field name.
    pub mapping: Json,
    /// The resolved target of each CSV column, once the header was read.
    pub columns: Option<Json>,
    pub delimiter: Option<String>,
    pub size_bytes: i64,
    pub sha256: Option<String>,
    /// Byte offset and line number of the next row to read.
    pub next_offset: i64,
    pub next_line: i64,
    pub total: i64,
    pub imported: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    /// Why the file as a whole failed.
    pub error: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
