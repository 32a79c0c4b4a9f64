//! Access tokens: EdDSA, with `kid`, and the claims every verifier requires.

use chrono::Utc;
use crm_platform::auth::TOKEN_ALGORITHM;
use crm_platform::config::JwtSettings;
use crm_platform::ids::{SessionId, UserId};
use crm_platform::{ApiError, ApiResult, Claims, Role, TenantId};
use jsonwebtoken::Header;

use crate::keys::Keyring;

pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

pub fn issue_access_token(
    keyring: &Keyring,
    settings: &JwtSettings,
    user: UserId,
    tenant: TenantId,
    role: Role,
    sid: SessionId,
) -> ApiResult<AccessToken> {
    let now = Utc::now().timestamp();
    let ttl = i64::try_from(settings.access_ttl.as_secs()).unwrap_or(900);
    let claims = Claims {
        sub: user,
        tenant,
        role,
        sid,
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        iat: now,
        nbf: now,
        exp: now + ttl,
    };
    let (kid, key) = keyring.signing();
    let mut header = Header::new(TOKEN_ALGORITHM);
    header.kid = Some(kid.to_owned());
    let token = jsonwebtoken::encode(&header, &claims, key)
        .map_err(|err| ApiError::internal(anyhow::anyhow!("signing token: {err}")))?;
    Ok(AccessToken { token, expires_in: ttl })
}
