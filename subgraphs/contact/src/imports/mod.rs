//! CSV imports of contacts. An import is created with its options and an upload link; the
//! uploaded file is stored in the tenant's schema in chunks and queued; a worker (any replica of
//! the contact subgraph) reads it in batches, each committed together with the import's progress,
//! so a crash loses at most the batch in flight and the next worker resumes after the last
//! committed row. Every row ends up imported, updated, skipped as a duplicate, or reported with
//! its line and reason.

pub mod cli;
pub mod columns;
pub mod upload;
pub mod worker;

use chrono::{DateTime, Utc};
use crm_entities::custom_fields::Definitions;
use crm_entities::tenant::contact_import::{self, Dedupe, ImportStatus};
use crm_entities::tenant::custom_field_definition::CustomFieldObject;
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx, text};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::tokens::{self, Purpose};

/// Largest file an import takes.
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;
/// Files are kept in pieces of this size.
pub const CHUNK_BYTES: usize = 1024 * 1024;

pub struct NewImport {
    pub file_name: String,
    pub mapping: Map<String, Value>,
    pub dedupe: Dedupe,
    pub dry_run: bool,
}

/// An import waiting for its file, and the link to upload it to.
pub struct Created {
    pub import: contact_import::Model,
    pub upload_token: String,
    pub upload_expires_at: DateTime<Utc>,
}

pub async fn create_import(tx: &TenantTx, actor: UserId, new: NewImport) -> ApiResult<Created> {
    let file_name = text::required("fileName", &new.file_name, 255)?;
    let defs = Definitions::load(&**tx, CustomFieldObject::Contact).await?;
    columns::check_mapping(&new.mapping, &defs)?;
    let import = contact_import::Model {
        id: Uuid::now_v7(),
        file_name,
        status: ImportStatus::Waiting,
        dedupe: new.dedupe,
        dry_run: new.dry_run,
        mapping: Value::Object(new.mapping),
        columns: None,
        delimiter: None,
        size_bytes: 0,
        sha256: None,
        next_offset: 0,
        next_line: 1,
        total: 0,
        imported: 0,
        updated: 0,
        skipped: 0,
        failed: 0,
        error: None,
        created_by: Some(actor.0),
        created_at: Utc::now(),
        started_at: None,
        finished_at: None,
    }
    .into_active_model()
    .reset_all()
    .insert(&**tx)
    .await?;
    let (upload_token, upload_expires_at) =
        tokens::issue(&**tx, tx.tenant(), Purpose::ImportUpload, import.id).await?;
    Ok(Created { import, upload_token, upload_expires_at })
}

pub async fn find_import(tx: &impl ConnectionTrait, id: Uuid) -> ApiResult<contact_import::Model> {
    contact_import::Entity::find_by_id(id).one(tx).await?.ok_or(ApiError::NotFound("contact import"))
}

/// The newest imports first.
pub async fn recent_imports(tx: &TenantTx, limit: u64) -> ApiResult<Vec<contact_import::Model>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(contact_import::Entity::find()
        .order_by_desc(contact_import::Column::Id)
        .limit(limit)
        .all(&**tx)
        .await?)
}

/// A row an import did not take.
pub struct ReportedRow {
    pub line: i64,
    pub column: Option<String>,
    pub reason: String,
}

/// Reported rows in line order, from `after_line` on.
pub async fn reported_rows(
    tx: &TenantTx,
    import: Uuid,
    after_line: i64,
    limit: u64,
) -> ApiResult<Vec<ReportedRow>> {
    let mut sql = Sql::new("SELECT line, column_name, reason FROM contact_import_errors WHERE import_id = ");
    sql.bind(import).push(" AND line > ").bind(after_line).push(&format!(" ORDER BY line LIMIT {limit}"));
    let rows = tx.query_all(sql.statement()).await?;
    rows.iter()
        .map(|row| {
            Ok(ReportedRow {
                line: row.try_get("", "line")?,
                column: row.try_get("", "column_name")?,
                reason: row.try_get("", "reason")?,
            })
        })
        .collect()
}
