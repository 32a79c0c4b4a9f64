//! Throttling of what anonymous callers can trigger in auth (RELIABILITY A14–A15, A10).
//!
//! Sign-in: every attempt counts, per account and per client address (see `client_address`),
//! each alias of a `login` in one operation being its own attempt; past a limit attempts are
//! refused without checking the password until the window ends. A window, not a lockout.
//! Password-reset requests: per address they are refused past a limit (which says nothing about
//! any account); per account, emails stop while requests are still answered as usual.
//! Redis trouble refuses both (sign-in needs a session in Redis anyway).

use std::time::Duration;

use crm_platform::client_address::ClientAddress;
use crm_platform::kv::Kv;
use crm_platform::rate_limit::{Limit, address_bucket, hit};
use crm_platform::{ApiError, ApiResult};

/// Attempts allowed per account within one window.
pub const ACCOUNT_LIMIT: u64 = 10;
/// Attempts allowed per client address within one window, whatever the accounts: enough for an
/// office behind one NAT, not for spraying passwords across accounts.
pub const ADDRESS_LIMIT: u64 = 100;
/// Reset requests per client address within one window.
pub const RESET_ADDRESS_LIMIT: u64 = 20;
/// Reset emails per account within one window, so nobody can flood an inbox.
pub const RESET_ACCOUNT_LIMIT: u64 = 3;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

fn account(subdomain: &str, email: &str) -> String {
    format!("{subdomain}:{}", email.trim().to_lowercase())
}

/// Counts one sign-in attempt against the account and the client address.
pub async fn count_attempt(
    kv: &Kv,
    subdomain: &str,
    email: &str,
    client: Option<ClientAddress>,
) -> ApiResult<()> {
    let mut limits = vec![Limit {
        what: "sign-in attempts for this account",
        key: format!("login:{}", account(subdomain, email)),
        max: ACCOUNT_LIMIT,
    }];
    limits.extend(client.map(|c| Limit {
        what: "sign-in attempts from this address",
        key: format!("login-address:{}", address_bucket(c)),
        max: ADDRESS_LIMIT,
    }));
    hit(kv, &limits, WINDOW).await
}

/// A successful sign-in clears the account's count (not the address's).
pub async fn clear(kv: &Kv, subdomain: &str, email: &str) -> ApiResult<()> {
    let mut pipeline = redis::pipe();
    pipeline.del(format!("login:{}", account(subdomain, email))).ignore();
    Ok(kv.run::<()>(&pipeline).await?)
}

pub async fn count_reset_request(kv: &Kv, client: Option<ClientAddress>) -> ApiResult<()> {
    let Some(client) = client else { return Ok(()) };
    let limit = Limit {
        what: "password reset requests from this address",
        key: format!("reset-address:{}", address_bucket(client)),
        max: RESET_ADDRESS_LIMIT,
    };
    hit(kv, &[limit], WINDOW).await
}

/// Whether one more reset email may go to this account now.
pub async fn reset_email_allowed(kv: &Kv, subdomain: &str, email: &str) -> ApiResult<bool> {
    let limit = Limit {
        what: "password reset emails for this account",
        key: format!("reset:{}", account(subdomain, email)),
        max: RESET_ACCOUNT_LIMIT,
    };
    match hit(kv, &[limit], WINDOW).await {
        Ok(()) => Ok(true),
        Err(ApiError::RateLimited { .. }) => Ok(false),
        Err(err) => Err(err),
    }
}
