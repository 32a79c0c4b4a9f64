//! Upload and download links: a random token in the URL, its hash in `crm.file_tokens` with the
//! tenant and the record it opens. A token works once and for a short while; the tenant of the
//! transfer is the token's, never anything the request says.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use crm_platform::sql::Sql;
use crm_platform::{ApiResult, Db, TenantId};
use rand::RngCore;
use sea_orm::{ConnectionTrait, DbErr};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long a link works.
pub const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    ImportUpload,
    ExportDownload,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::ImportUpload => "import_upload",
            Self::ExportDownload => "export_download",
        }
    }
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new token for `record` of `tenant`, written in the caller's transaction.
pub async fn issue(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    purpose: Purpose,
    record: Uuid,
) -> ApiResult<(String, DateTime<Utc>)> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let expires_at = Utc::now() + TOKEN_TTL;
    let mut sql = Sql::new(
        "INSERT INTO crm.file_tokens (token_hash, tenant_id, purpose, record_id, expires_at) VALUES (",
    );
    sql.bind(hash(&token)).push(", ").bind(tenant.0).push(", ").bind(purpose.as_str()).push(", ");
    sql.bind(record).push(", ").bind(expires_at).push(")");
    conn.execute(sql.statement()).await?;
    Ok((token, expires_at))
}

/// Uses up `token`: the tenant and record it opens, or None when it is unknown, expired, used,
/// for another purpose, or its organization is gone.
pub async fn redeem(db: &Db, purpose: Purpose, token: &str) -> Result<Option<(TenantId, Uuid)>, DbErr> {
    if token.len() > 100 {
        return Ok(None);
    }
    let mut sql =
        Sql::new("UPDATE crm.file_tokens f SET used_at = now() FROM crm.tenants t WHERE f.token_hash = ");
    sql.bind(hash(token)).push(" AND f.purpose = ").bind(purpose.as_str());
    sql.push(
        " AND f.used_at IS NULL AND f.expires_at > now() AND t.id = f.tenant_id AND t.deleted_at IS NULL",
    );
    sql.push(" RETURNING f.tenant_id, f.record_id");
    let row = db.conn().query_one(sql.statement()).await?;
    row.map(|row| Ok((TenantId(row.try_get("", "tenant_id")?), row.try_get("", "record_id")?))).transpose()
}
