use crm_platform::TenantId;
use crm_platform::ids::{SessionId, UserId};

use crate::stack::TestStack;
use crm_entities::global::signing_key;
use crm_platform::auth::TOKEN_ALGORITHM;
use jsonwebtoken::{EncodingKey, Header};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

/// Signs `claims` with the auth subgraph's current key, for tokens no client could obtain
/// (expired ones, say), and opens the session they name when they name one.
pub async fn mint_token(stack: &TestStack, claims: &Value) -> String {
    mint_token_with(stack, None, claims).await
}

/// Like [`mint_token`], with the header's `kid` replaced when `kid` is given.
pub async fn mint_token_with(stack: &TestStack, kid_override: Option<&str>, claims: &Value) -> String {
    let db = &stack.db;
    let ids = |key: &str| claims[key].as_str().and_then(|v| uuid::Uuid::parse_str(v).ok());
    if let (Some(tenant), Some(user), Some(sid)) = (ids("tenant"), ids("sub"), ids("sid")) {
        stack
            .services
            .sessions
            .open(TenantId(tenant), UserId(user), SessionId(sid))
            .await
            .expect("session store reachable");
    }
    let key = signing_key::Entity::find()
        .filter(signing_key::Column::ActivatesAt.lte(chrono::Utc::now()))
        .order_by_desc(signing_key::Column::ActivatesAt)
        .order_by_asc(signing_key::Column::Kid)
        .one(db.conn())
        .await
        .expect("query signing key")
        .expect("a signing key exists (log someone in first)");
    let mut header = Header::new(TOKEN_ALGORITHM);
    header.kid = Some(kid_override.map_or(key.kid, str::to_owned));
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&key.private_key)).expect("sign")
}

/// A valid token (with a live session) for `org`'s owner, claiming `role` in `org`.
pub async fn mint_role_token(stack: &TestStack, org: &crate::Org, role: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "sub": org.user_id, "tenant": org.tenant_id, "role": role, "sid": uuid::Uuid::now_v7(),
        "iss": "mtenant-crm", "aud": "mtenant-crm-api", "iat": now, "nbf": now, "exp": now + 600,
    });
    mint_token(stack, &claims).await
}
