//! Receiving an import's file: streamed into 1 MiB chunks (memory stays flat whatever the size),
//! capped at 100 MB, hashed, then queued for a worker in one transaction.

use axum::body::Bytes;
use chrono::Utc;
use crm_entities::tenant::contact_import::{self, ImportStatus};
use crm_platform::sql::Sql;
use crm_platform::{Db, TenantId, TenantTx};
use futures::{Stream, StreamExt};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QuerySelect};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{CHUNK_BYTES, MAX_FILE_BYTES};

#[derive(Debug)]
pub enum UploadError {
    /// The import is not waiting for a file (it has one already, or failed).
    NotWaiting,
    TooLarge,
    /// The client stopped sending; the import failed and must be started again.
    Interrupted(String),
    Database(DbErr),
}

impl From<DbErr> for UploadError {
    fn from(err: DbErr) -> Self {
        Self::Database(err)
    }
}

async fn write_chunk(db: &Db, tenant: TenantId, import: Uuid, seq: i32, data: Vec<u8>) -> Result<(), DbErr> {
    let tx = TenantTx::begin(db, tenant).await?;
    let mut sql = Sql::new("INSERT INTO contact_import_chunks (import_id, seq, data) VALUES (");
    sql.bind(import).push(", ").bind(seq).push(", ").bind(data).push(")");
    tx.execute(sql.statement()).await?;
    tx.commit().await.map_err(|_| DbErr::Custom("commit failed".to_owned()))
}

/// Marks the import failed and drops what was stored of its file.
pub async fn fail(db: &Db, tenant: TenantId, import: Uuid, reason: &str) -> Result<(), DbErr> {
    let tx = TenantTx::begin(db, tenant).await?;
    let mut sql = Sql::new("DELETE FROM contact_import_chunks WHERE import_id = ");
    sql.bind(import);
    tx.execute(sql.statement()).await?;
    let mut sql = Sql::new("UPDATE contact_imports SET status = 'failed', finished_at = now(), error = ");
    sql.bind(reason.to_owned()).push(" WHERE id = ").bind(import);
    tx.execute(sql.statement()).await?;
    tx.commit().await.map_err(|_| DbErr::Custom("commit failed".to_owned()))
}

/// Stores `body` as the file of `import` (which must be waiting for it) and queues the import.
/// Returns the size in bytes.
pub async fn store_file<S, E>(
    db: &Db,
    tenant: TenantId,
    import: Uuid,
    mut body: S,
) -> Result<u64, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    {
        let tx = TenantTx::begin(db, tenant).await?;
        let row = contact_import::Entity::find_by_id(import).lock_exclusive().one(&*tx).await?;
        if !row.is_some_and(|row| row.status == ImportStatus::Waiting) {
            return Err(UploadError::NotWaiting);
        }
    }
    let mut hasher = Sha256::new();
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
    let mut size: u64 = 0;
    let mut seq: i32 = 0;
    while let Some(piece) = body.next().await {
        let piece = match piece {
            Ok(piece) => piece,
            Err(err) => {
                fail(db, tenant, import, "the upload was interrupted").await?;
                return Err(UploadError::Interrupted(err.to_string()));
            }
        };
        size += piece.len() as u64;
        if size > MAX_FILE_BYTES {
            fail(db, tenant, import, "the file is larger than 100 MB").await?;
            return Err(UploadError::TooLarge);
        }
        hasher.update(&piece);
        let mut rest: &[u8] = &piece;
        while !rest.is_empty() {
            let take = (CHUNK_BYTES - buffer.len()).min(rest.len());
            buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if buffer.len() == CHUNK_BYTES {
                write_chunk(
                    db,
                    tenant,
                    import,
                    seq,
                    std::mem::replace(&mut buffer, Vec::with_capacity(CHUNK_BYTES)),
                )
                .await?;
                seq += 1;
            }
        }
    }
    let tx = TenantTx::begin(db, tenant).await?;
    if !buffer.is_empty() {
        let mut sql = Sql::new("INSERT INTO contact_import_chunks (import_id, seq, data) VALUES (");
        sql.bind(import).push(", ").bind(seq).push(", ").bind(buffer).push(")");
        tx.execute(sql.statement()).await?;
    }
    let row = contact_import::Entity::find_by_id(import).one(&*tx).await?.ok_or(UploadError::NotWaiting)?;
    let mut active = row.into_active_model();
    active.status = sea_orm::Set(ImportStatus::Queued);
    active.size_bytes = sea_orm::Set(size as i64);
    active.sha256 = sea_orm::Set(Some(format!("{:x}", hasher.finalize())));
    active.update(&*tx).await?;
    let mut sql = Sql::new("INSERT INTO crm.import_jobs (import_id, tenant_id, created_at) VALUES (");
    sql.bind(import).push(", ").bind(tenant.0).push(", ").bind(Utc::now()).push(")");
    tx.execute(sql.statement()).await?;
    tx.commit().await.map_err(|_| DbErr::Custom("commit failed".to_owned()))?;
    Ok(size)
}
