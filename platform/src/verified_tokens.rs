//! Tokens this process verified lately, so the same token is not checked against its Ed25519
//! signature again on every request (one client request reaches several subgraphs, and a client
//! sends its token many times). An entry holds for [`KEEP`] at most, and never past the token's
//! expiry; the key-freshness rules of the verifier then apply again. The session check in Redis
//! still runs on every request: a cached verification never outlives a logout.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::auth::Claims;

/// How long a verification is reused.
pub const KEEP: Duration = Duration::from_secs(60);
/// Entries kept at most; when full, the cache starts over (a flood of distinct tokens only costs
/// the verifications it would cost anyway).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<String, (Instant, Claims)>>,
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified less than [`KEEP`] ago and has not expired.
    pub fn get(&self, token: &str) -> Option<Claims> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (verified_at, claims) = entries.get(token)?;
        let fresh = verified_at.elapsed() < KEEP && claims.exp > chrono::Utc::now().timestamp();
        fresh.then(|| claims.clone())
    }

    pub fn insert(&self, token: &str, claims: &Claims) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(token.to_owned(), (Instant::now(), claims.clone()));
    }

    /// Forgets every verification (the published keys changed).
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::auth::Role;
    use crate::ids::{SessionId, UserId};
    use crate::tenancy::TenantId;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: UserId(Uuid::now_v7()),
            tenant: TenantId::new(),
            role: Role::Member,
            sid: SessionId(Uuid::now_v7()),
            iss: "mtenant-crm".into(),
            aud: "mtenant-crm-api".into(),
            iat: 0,
            nbf: 0,
            exp,
        }
    }

    #[test]
    fn a_verified_token_is_reused_until_it_expires() {
        let cache = VerifiedTokens::default();
        let now = chrono::Utc::now().timestamp();
        cache.insert("live", &claims(now + 600));
        cache.insert("expired", &claims(now - 1));
        assert_eq!(cache.get("live").map(|c| c.exp), Some(now + 600));
        assert!(cache.get("expired").is_none(), "an expired token is verified again (and refused)");
        assert!(cache.get("never seen").is_none());
        cache.clear();
        assert!(cache.get("live").is_none(), "a key change forgets every verification");
    }
}
