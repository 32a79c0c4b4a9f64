//! `crm import contacts`: the same import an upload starts, run from a file by an operator. If a
//! running contact subgraph takes the job first, this follows its progress instead.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use crm_entities::tenant::contact_import::{self, Dedupe, ImportStatus};
use crm_platform::ids::UserId;
use crm_platform::kv::Kv;
use crm_platform::sql::Sql;
use crm_platform::{Db, TenantId, TenantTx};
use sea_orm::ConnectionTrait;
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

use super::upload::store_file;
use super::worker::{self, Progress};
use super::{NewImport, ReportedRow, create_import, find_import, reported_rows};

/// What an operator's import ended with.
pub struct Outcome {
    pub import: contact_import::Model,
    /// The first reported rows, in line order.
    pub reported: Vec<ReportedRow>,
}

async fn organization(db: &Db, subdomain: &str) -> anyhow::Result<(TenantId, UserId)> {
    let mut sql = Sql::new(
        "SELECT t.id, m.user_id FROM crm.tenants t JOIN crm.memberships m ON m.tenant_id = t.id AND m.role = 'owner'
         WHERE t.subdomain = ",
    );
    sql.bind(subdomain.to_lowercase()).push(" AND t.deleted_at IS NULL ORDER BY m.created_at LIMIT 1");
    let row = db.conn().query_one(sql.statement()).await?;
    let row = row.ok_or_else(|| anyhow::anyhow!("no organization with subdomain {subdomain:?}"))?;
    Ok((TenantId(row.try_get("", "id")?), UserId(row.try_get("", "user_id")?)))
}

/// Imports `path` into the organization at `subdomain`; `on_progress` sees every batch.
pub async fn import_file(
    db: &Db,
    kv: Arc<Kv>,
    subdomain: &str,
    path: &Path,
    dedupe: Dedupe,
    dry_run: bool,
    on_progress: Progress,
) -> anyhow::Result<Outcome> {
    let (tenant, owner) = organization(db, subdomain).await?;
    let file_name =
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "import.csv".to_owned());
    let tx = TenantTx::begin(db, tenant).await?;
    let new = NewImport { file_name, mapping: serde_json::Map::new(), dedupe, dry_run };
    let created = create_import(&tx, owner, new).await.map_err(|err| anyhow::anyhow!(err.message()))?;
    tx.commit().await.map_err(|err| anyhow::anyhow!(err.message()))?;
    let id = created.import.id;

    let file = tokio::fs::File::open(path).await?;
    let chunks = futures::stream::unfold(file, |mut file| async move {
        let mut buffer = vec![0u8; 256 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buffer)), file))
            }
            Err(err) => Some((Err(err), file)),
        }
    });
    store_file(db, tenant, id, Box::pin(chunks))
        .await
        .map_err(|err| anyhow::anyhow!("storing the file: {err:?}"))?;

    match worker::claim_import(db, id).await? {
        Some(job) => worker::process(db, Some(kv), job, CancellationToken::new(), Some(on_progress)).await?,
        None => follow(db, tenant, id, &on_progress).await?,
    }
    let tx = TenantTx::begin(db, tenant).await?;
    let import = find_import(&*tx, id).await.map_err(|err| anyhow::anyhow!(err.message()))?;
    let reported = reported_rows(&tx, id, 0, 1000).await.map_err(|err| anyhow::anyhow!(err.message()))?;
    Ok(Outcome { import, reported })
}

/// Watches an import another worker runs until it ends.
async fn follow(db: &Db, tenant: TenantId, id: uuid::Uuid, on_progress: &Progress) -> anyhow::Result<()> {
    loop {
        let tx = TenantTx::begin(db, tenant).await?;
        let import = find_import(&*tx, id).await.map_err(|err| anyhow::anyhow!(err.message()))?;
        on_progress(&import);
        if matches!(import.status, ImportStatus::Done | ImportStatus::Failed) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
