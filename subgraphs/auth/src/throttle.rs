//! Login throttling (RELIABILITY A14–A15): every attempt on an account counts — each alias of a
//! `login` in one operation is its own attempt — and past the limit attempts are refused, without
//! checking the password, until the window ends. A window, not a lockout: the account recovers by
//! itself. Redis trouble refuses logins (they need a session in Redis anyway).

use std::time::Duration;

use crm_platform::kv::Kv;
use crm_platform::{ApiError, ApiResult};

/// Attempts allowed per account within one window.
pub const ACCOUNT_LIMIT: u64 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

fn account_key(subdomain: &str, email: &str) -> String {
    format!("login:{subdomain}:{email}")
}

/// Counts one attempt; refuses it when the account is over its limit.
pub async fn count_attempt(kv: &Kv, subdomain: &str, email: &str) -> ApiResult<()> {
    let key = account_key(subdomain, &email.trim().to_lowercase());
    let mut pipeline = redis::pipe();
    pipeline
        .atomic()
        .incr(&key, 1)
        .cmd("EXPIRE")
        .arg(&key)
        .arg(WINDOW.as_secs())
        .arg("NX")
        .ignore()
        .ttl(&key);
    let (attempts, ttl): (u64, i64) = kv.run(&pipeline).await?;
    if attempts > ACCOUNT_LIMIT {
        return Err(ApiError::Throttled { retry_after_secs: ttl.max(1) as u64 });
    }
    Ok(())
}

/// A successful login clears the account's count.
pub async fn clear(kv: &Kv, subdomain: &str, email: &str) -> ApiResult<()> {
    let mut pipeline = redis::pipe();
    pipeline.del(account_key(subdomain, &email.trim().to_lowercase())).ignore();
    Ok(kv.run::<()>(&pipeline).await?)
}
