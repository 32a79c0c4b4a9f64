//! Imports and exports as the API shows them.

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::tenant::contact_import::{self, Dedupe, ImportStatus};
use crm_platform::Caller;
use serde_json::Value;

use crate::imports::reported_rows;

#[derive(InputObject)]
pub struct CreateContactImportInput {
    pub file_name: String,
    /// Overrides of the automatic mapping: `{"CSV header": "firstName" | "custom:key" | null}`.
    pub mapping: Option<Json<Value>>,
    /// What to do with rows matching an existing contact (default SKIP).
    pub dedupe: Option<Dedupe>,
    /// Count and check every row, write nothing (default false).
    pub dry_run: Option<bool>,
}

/// A column of the file and the field it fills (null: ignored).
#[derive(SimpleObject)]
pub struct ImportColumn {
    pub header: String,
    pub field: Option<String>,
}

/// A row the import did not take.
#[derive(SimpleObject)]
pub struct ImportRowError {
    /// Line of the file where the row starts (the header is line 1).
    pub line: i64,
    pub column: Option<String>,
    pub reason: String,
}

/// A CSV import of contacts. Upload the file to `uploadUrl` (PUT or POST, the raw CSV as the
/// body, at most 100 MB, within 15 minutes, once); then read the counts here while it runs.
pub struct ContactImport {
    pub model: contact_import::Model,
    pub upload: Option<(String, DateTime<Utc>)>,
}

#[Object]
impl ContactImport {
    async fn id(&self) -> ID {
        self.model.id.into()
    }
    async fn file_name(&self) -> &str {
        &self.model.file_name
    }
    async fn status(&self) -> ImportStatus {
        self.model.status
    }
    async fn dedupe(&self) -> Dedupe {
        self.model.dedupe
    }
    async fn dry_run(&self) -> bool {
        self.model.dry_run
    }
    /// Only in the answer to `createContactImport`: the link works once.
    async fn upload_url(&self) -> Option<&str> {
        self.upload.as_ref().map(|(url, _)| url.as_str())
    }
    async fn upload_expires_at(&self) -> Option<DateTime<Utc>> {
        self.upload.as_ref().map(|(_, at)| *at)
    }
    async fn size_bytes(&self) -> i64 {
        self.model.size_bytes
    }
    /// Rows read so far: imported + updated + skipped + failed.
    async fn total(&self) -> i64 {
        self.model.total
    }
    async fn imported(&self) -> i64 {
        self.model.imported
    }
    async fn updated(&self) -> i64 {
        self.model.updated
    }
    /// Rows that matched an existing contact (or an earlier row) under dedupe SKIP.
    async fn skipped(&self) -> i64 {
        self.model.skipped
    }
    /// Rows reported in `errors`.
    async fn failed(&self) -> i64 {
        self.model.failed
    }
    /// Share of the file read, 0 to 1.
    async fn progress(&self) -> f64 {
        match self.model.status {
            ImportStatus::Done => 1.0,
            _ if self.model.size_bytes > 0 => self.model.next_offset as f64 / self.model.size_bytes as f64,
            _ => 0.0,
        }
    }
    /// Why the file as a whole could not be imported (status FAILED).
    async fn error(&self) -> Option<&str> {
        self.model.error.as_deref()
    }
    async fn columns(&self) -> Vec<ImportColumn> {
        let layout = self.model.columns.clone().unwrap_or(Value::Null);
        let headers = layout["headers"].as_array().cloned().unwrap_or_default();
        let targets = layout["targets"].as_array().cloned().unwrap_or_default();
        headers
            .iter()
            .zip(targets)
            .map(|(header, target)| ImportColumn {
                header: header.as_str().unwrap_or_default().to_owned(),
                field: match target {
                    Value::String(name) => Some(name),
                    Value::Object(custom) => {
                        custom.get("custom").and_then(Value::as_str).map(|key| format!("custom:{key}"))
                    }
                    _ => None,
                },
            })
            .collect()
    }
    /// Rows not taken, by line; page with `afterLine`.
    async fn errors(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
        #[graphql(default = 0)] after_line: i64,
    ) -> async_graphql::Result<Vec<ImportRowError>> {
        let caller = Caller::of(ctx)?;
        let tx = caller.tx().await?;
        let rows = reported_rows(&tx, self.model.id, after_line, first.clamp(1, 1000) as u64).await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|r| ImportRowError { line: r.line, column: r.column, reason: r.reason })
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.model.started_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.model.finished_at
    }
}

/// A CSV export. Download it from `downloadUrl` (GET, within 15 minutes, once).
#[derive(SimpleObject)]
pub struct ContactExport {
    pub id: ID,
    pub download_url: String,
    pub expires_at: DateTime<Utc>,
    pub columns: Vec<String>,
}
