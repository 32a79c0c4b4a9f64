//! Password hashing: argon2id at the OWASP minimum (m=19456 KiB, t=2, p=1), stored as PHC
//! strings so parameters can rise later. Hashing runs on the blocking pool: it takes tens of ms.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{ApiError, ApiResult};

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Bounded so a megabyte "password" cannot make hashing a denial of service.
pub const MAX_PASSWORD_BYTES: usize = 256;

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

pub fn check_password_rules(password: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_input(
            "password",
            format!("password must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::bad_input(
            "password",
            format!("password must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| ApiError::internal(anyhow::anyhow!("hashing failed: {err}")))
    })
    .await
    .map_err(ApiError::internal)?
}

/// True when `stored` was hashed with weaker settings than today's (or another algorithm), so a
/// successful sign-in should store a fresh hash.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return true;
    };
    let current = Params::default();
    let param = |name: &str| hash.params.get_decimal(name).unwrap_or(0);
    hash.algorithm.as_str() != "argon2id"
        || param("m") < current.m_cost()
        || param("t") < current.t_cost()
        || param("p") < current.p_cost()
}

/// A valid PHC hash of a password nobody knows: verifying against it when the account does not
/// exist makes a failed login take as long as a wrong password.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3jvyKRVXEBc0Ow6rnaGfXmL3zcpM5xHdkGXz6cbnLqk";

/// Checks `password` against `stored`, or against a decoy when there is no account.
pub async fn verify_password(password: String, stored: Option<String>) -> bool {
    let exists = stored.is_some();
    let stored = stored.unwrap_or_else(|| DECOY_HASH.to_owned());
    let verified = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|hash| hasher().verify_password(password.as_bytes(), &hash).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    exists && verified
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_record_argon2id_parameters() {
        let hash = hash_password("correct horse battery".into()).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong horse battery".into(), Some(hash)).await);
        assert!(!verify_password("anything at all".into(), None).await);
    }

    #[test]
    fn weaker_hashes_are_flagged_for_rehash() {
        let weak = "$argon2id$v=19$m=4096,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$3jvyKRVXEBc0Ow6rnaGfXmL3zcpM5xHdkGXz6cbnLqk";
        assert!(needs_rehash(weak));
        assert!(!needs_rehash(DECOY_HASH));
        assert!(needs_rehash("$2b$12$not-argon2"));
    }

    #[test]
    fn length_bounds_are_enforced() {
        assert!(check_password_rules("short").is_err());
        assert!(check_password_rules(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(check_password_rules("long enough password").is_ok());
    }
}
