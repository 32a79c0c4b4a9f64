//! Login throttling (RELIABILITY A14–A15): every attempt on an account counts — each alias of a
//! `login` in one operation is its own attempt — and past the limit attempts are refused, without
//! checking the password, until the window ends. A window, not a lockout: the account recovers by
//! itself. Attempts count per account and per client address (see `client_address`). Redis
//! trouble refuses logins (they need a session in Redis anyway).

use std::net::IpAddr;
use std::time::Duration;

use crm_platform::client_address::ClientAddress;
use crm_platform::kv::Kv;
use crm_platform::{ApiError, ApiResult};

/// Attempts allowed per account within one window.
pub const ACCOUNT_LIMIT: u64 = 10;
/// Attempts allowed per client address within one window, whatever the accounts: enough for an
/// office behind one NAT, not for spraying passwords across accounts.
pub const ADDRESS_LIMIT: u64 = 100;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

fn account_key(subdomain: &str, email: &str) -> String {
    format!("login:{subdomain}:{email}")
}

/// One IPv6 host usually holds a whole /64, so that is what counts as one address.
fn address_key(client: ClientAddress) -> String {
    match client.0 {
        IpAddr::V4(v4) => format!("login-address:{v4}"),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            format!("login-address:{}/64", std::net::Ipv6Addr::from(network))
        }
    }
}

/// Counts one attempt against the account and the client address; refuses it when either is
/// over its limit.
pub async fn count_attempt(
    kv: &Kv,
    subdomain: &str,
    email: &str,
    client: Option<ClientAddress>,
) -> ApiResult<()> {
    let mut buckets = vec![(account_key(subdomain, &email.trim().to_lowercase()), ACCOUNT_LIMIT)];
    buckets.extend(client.map(|c| (address_key(c), ADDRESS_LIMIT)));
    match count(kv, &buckets).await? {
        Some(retry_after_secs) => Err(ApiError::Throttled { retry_after_secs }),
        None => Ok(()),
    }
}

/// Reset requests allowed per client address within one window; past it they are refused, which
/// tells nothing about any account.
pub const RESET_ADDRESS_LIMIT: u64 = 20;
/// Reset emails per account within one window; past it requests are answered as usual and no
/// email goes out, so nobody can flood an inbox.
pub const RESET_ACCOUNT_LIMIT: u64 = 3;

pub async fn count_reset_request(kv: &Kv, client: Option<ClientAddress>) -> ApiResult<()> {
    let Some(client) = client else { return Ok(()) };
    let key = format!("reset-address:{}", address_key(client));
    match count(kv, &[(key, RESET_ADDRESS_LIMIT)]).await? {
        Some(retry_after_secs) => Err(ApiError::Throttled { retry_after_secs }),
        None => Ok(()),
    }
}

/// Whether one more reset email may go to this account now.
pub async fn reset_email_allowed(kv: &Kv, subdomain: &str, email: &str) -> ApiResult<bool> {
    let key = format!("reset:{subdomain}:{}", email.trim().to_lowercase());
    Ok(count(kv, &[(key, RESET_ACCOUNT_LIMIT)]).await?.is_none())
}

/// Counts one hit in each `(key, limit)` bucket at once; the seconds until the fullest
/// over-limit bucket empties, if any is over.
async fn count(kv: &Kv, buckets: &[(String, u64)]) -> ApiResult<Option<u64>> {
    let mut pipeline = redis::pipe();
    pipeline.atomic();
    for (key, _) in buckets {
        pipeline.incr(key, 1).cmd("EXPIRE").arg(key).arg(WINDOW.as_secs()).arg("NX").ignore().ttl(key);
    }
    let counts: Vec<(u64, i64)> = kv.run(&pipeline).await?;
    Ok(buckets
        .iter()
        .zip(&counts)
        .filter(|((_, limit), (hits, _))| hits > limit)
        .map(|(_, (_, ttl))| (*ttl).max(1) as u64)
        .max())
}

/// A successful login clears the account's count.
pub async fn clear(kv: &Kv, subdomain: &str, email: &str) -> ApiResult<()> {
    let mut pipeline = redis::pipe();
    pipeline.del(account_key(subdomain, &email.trim().to_lowercase())).ignore();
    Ok(kv.run::<()>(&pipeline).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64() {
        let a = ClientAddress("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = ClientAddress("2001:db8:1:2:bbbb::9".parse().expect("ip"));
        let other = ClientAddress("2001:db8:1:3::1".parse().expect("ip"));
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        assert_eq!(address_key(ClientAddress("192.0.2.1".parse().expect("ip"))), "login-address:192.0.2.1");
    }
}
