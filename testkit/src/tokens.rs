use crm_platform::Db;
use crm_platform::auth::TOKEN_ALGORITHM;
use jsonwebtoken::{EncodingKey, Header};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::Value;

/// Signs `claims` with the auth subgraph's current key, for tokens no client could obtain
/// (expired ones, say).
pub async fn mint_token(db: &Db, claims: &Value) -> String {
    let row = db
        .conn()
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            "SELECT kid, private_key FROM crm.signing_keys ORDER BY created_at DESC, kid LIMIT 1",
        ))
        .await
        .expect("query signing key")
        .expect("a signing key exists (log someone in first)");
    let kid: String = row.try_get("", "kid").expect("kid");
    let private_key: Vec<u8> = row.try_get("", "private_key").expect("key");
    let mut header = Header::new(TOKEN_ALGORITHM);
    header.kid = Some(kid);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&private_key)).expect("sign")
}
