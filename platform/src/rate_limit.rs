//! Fixed-window counters in Redis, for throttling what anonymous callers can trigger (sign-in
//! attempts, reset emails, registrations). Every key is counted in one atomic round trip; the
//! window starts with a key's first hit and the key expires with it, so limits recover by
//! themselves and nothing is locked for good.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use crate::client_address::ClientAddress;
use crate::error::{ApiError, ApiResult};
use crate::kv::Kv;

/// One counter: what it limits (in words for the client, e.g. "sign-in attempts from this
/// address"), its key and how many hits its window allows.
pub struct Limit {
    pub what: &'static str,
    pub key: String,
    pub max: u64,
}

/// Counts one hit on every limit; RATE_LIMITED (naming the exceeded limit whose window ends last,
/// with the seconds until then) when any is over.
pub async fn hit(kv: &Kv, limits: &[Limit], window: Duration) -> ApiResult<()> {
    let mut pipeline = redis::pipe();
    pipeline.atomic();
    for limit in limits {
        let key = &limit.key;
        pipeline.incr(key, 1).cmd("EXPIRE").arg(key).arg(window.as_secs()).arg("NX").ignore().ttl(key);
    }
    let counts: Vec<(u64, i64)> = kv.run(&pipeline).await?;
    let exceeded = limits
        .iter()
        .zip(&counts)
        .filter(|(limit, (hits, _))| *hits > limit.max)
        .map(|(limit, (_, ttl))| (limit.what, (*ttl).max(1) as u64))
        .max_by_key(|(_, retry_after)| *retry_after);
    match exceeded {
        Some((limit, retry_after_secs)) => Err(ApiError::RateLimited { limit, retry_after_secs }),
        None => Ok(()),
    }
}

/// The part of a client address a limit counts: the address itself, or for IPv6 its /64, since
/// one host usually holds a whole /64.
pub fn address_bucket(client: ClientAddress) -> String {
    match client.0 {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("{}/64", Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64() {
        let bucket = |raw: &str| address_bucket(ClientAddress(raw.parse().expect("ip")));
        assert_eq!(bucket("2001:db8:1:2:aaaa::1"), bucket("2001:db8:1:2:bbbb::9"));
        assert_ne!(bucket("2001:db8:1:2::1"), bucket("2001:db8:1:3::1"));
        assert_eq!(bucket("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(bucket("192.0.2.1"), "192.0.2.1");
    }
}
