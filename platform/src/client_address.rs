//! The address of the client behind a request, for per-address throttling. `X-Forwarded-For` is
//! believed only as far as it was written by proxies we trust (`TRUSTED_PROXIES`): reading it
//! from the right, the first address that is not a trusted proxy is the client. A request from an
//! untrusted peer is that peer, whatever headers it sends.
//!
//! The router applies this to its own peers and forwards the one address it settled on; each
//! subgraph applies it again with the router as the trusted peer.

use std::net::IpAddr;
use std::str::FromStr;

pub const FORWARDED_FOR: &str = "x-forwarded-for";
/// Loopback only: the router and the subgraphs on one machine.
pub const DEFAULT_TRUSTED_PROXIES: &str = "127.0.0.0/8,::1/128";

/// The client's address, resolved once per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A list of IP networks (`10.0.0.0/8`, `::1`), parsed from a comma-separated setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Networks(Vec<Network>);

/// Networks whose `X-Forwarded-For` entries are believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Networks);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                masked(u32::from(base).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => masked(u128::from(base), u128::from(ip), self.prefix, 128),
            _ => false,
        }
    }
}

fn masked(base: u128, ip: u128, prefix: u8, bits: u8) -> bool {
    // Parsing keeps `prefix <= bits`; the checked shift keeps a mistake from trusting everyone.
    let Some(shift) = bits.checked_sub(prefix).map(u32::from) else { return false };
    prefix == 0 || base.checked_shr(shift) == ip.checked_shr(shift)
}

/// IPv4 peers reach a dual-stack listener as `::ffff:a.b.c.d`; compare them as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for Networks {
    type Err = String;

    /// A comma-separated list of addresses and CIDR networks; empty holds none.
    fn from_str(raw: &str) -> Result<Self, String> {
        let mut networks = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, prefix) = item.split_once('/').map_or((item, None), |(a, p)| (a, Some(p)));
            let base =
                IpAddr::from_str(addr).map_err(|_| format!("{item:?} is not an IP address or network"))?;
            let max = if base.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => max,
                Some(p) => {
                    p.parse::<u8>().ok().filter(|p| *p <= max).ok_or(format!("{item:?} has a bad prefix"))?
                }
            };
            // `::ffff:a.b.c.d/n` is an IPv4 network; peers are compared as IPv4 too.
            let network = match (base, canonical(base)) {
                (IpAddr::V6(_), v4 @ IpAddr::V4(_)) => {
                    let prefix = prefix
                        .checked_sub(96)
                        .ok_or(format!("{item:?} is wider than the IPv4-mapped range"))?;
                    Network { base: v4, prefix }
                }
                (_, base) => Network { base, prefix },
            };
            networks.push(network);
        }
        Ok(Self(networks))
    }
}

impl Networks {
    /// Whether `ip` (an IPv4-mapped IPv6 address counts as IPv4) is in one of them.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of addresses and CIDR networks; empty trusts no one.
    fn from_str(raw: &str) -> Result<Self, String> {
        Networks::from_str(raw).map(Self)
    }
}

impl TrustedProxies {
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.contains(ip)
    }

    /// The client behind `peer`, given the `X-Forwarded-For` values the request carried.
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> ClientAddress {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return ClientAddress(peer);
        }
        let hops: Vec<&str> = forwarded_for.into_iter().flat_map(|value| value.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                // A malformed entry ends what we can believe; the last good hop is the client.
                break;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        ClientAddress(client)
    }
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    IpAddr::from_str(hop)
        .ok()
        .or_else(|| std::net::SocketAddr::from_str(hop).ok().map(|addr| addr.ip()))
        .or_else(|| IpAddr::from_str(hop.strip_prefix('[')?.strip_suffix(']')?).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().expect("ip")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted: TrustedProxies = DEFAULT_TRUSTED_PROXIES.parse().expect("parse");
        let client = trusted.client(ip("203.0.113.9"), ["198.51.100.1"]);
        assert_eq!(client, ClientAddress(ip("203.0.113.9")));
    }

    #[test]
    fn trusted_hops_are_skipped_from_the_right() {
        let trusted: TrustedProxies = "127.0.0.1, 10.0.0.0/8".parse().expect("parse");
        // A client-written entry at the left cannot win: the proxy appended the real peer.
        let client = trusted.client(ip("127.0.0.1"), ["6.6.6.6, 198.51.100.7, 10.1.2.3"]);
        assert_eq!(client, ClientAddress(ip("198.51.100.7")));
        // No header: the trusted peer itself (a local tool).
        assert_eq!(trusted.client(ip("127.0.0.1"), []), ClientAddress(ip("127.0.0.1")));
        // Garbage stops the walk at the last good hop.
        assert_eq!(trusted.client(ip("10.0.0.5"), ["nonsense, 10.0.0.7"]), ClientAddress(ip("10.0.0.7")));
        // IPv4-mapped IPv6 peers compare as IPv4.
        assert_eq!(trusted.client(ip("::ffff:127.0.0.1"), ["192.0.2.4"]), ClientAddress(ip("192.0.2.4")));
    }

    #[test]
    fn ipv4_mapped_networks_are_ipv4_networks() {
        let mapped: TrustedProxies = "::ffff:127.0.0.1, ::ffff:10.0.0.0/104".parse().expect("parse");
        assert!(mapped.trusts(ip("127.0.0.1")));
        assert!(mapped.trusts(ip("10.200.0.1")));
        assert!(!mapped.trusts(ip("127.0.0.2")));
        assert!(!mapped.trusts(ip("203.0.113.9")), "a mapped entry must not trust every IPv4 peer");
        assert!("::ffff:10.0.0.0/64".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn forwarded_entries_may_carry_ports() {
        let trusted: TrustedProxies = DEFAULT_TRUSTED_PROXIES.parse().expect("parse");
        assert_eq!(trusted.client(ip("127.0.0.1"), ["198.51.100.7:4711"]), ClientAddress(ip("198.51.100.7")));
        assert_eq!(trusted.client(ip("127.0.0.1"), ["[2001:db8::1]:443"]), ClientAddress(ip("2001:db8::1")));
        assert_eq!(trusted.client(ip("127.0.0.1"), ["[2001:db8::2]"]), ClientAddress(ip("2001:db8::2")));
    }

    #[test]
    fn networks_parse_strictly() {
        assert!("".parse::<TrustedProxies>().expect("empty").0.0.is_empty());
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("example.com".parse::<TrustedProxies>().is_err());
        let v6: TrustedProxies = "fd00::/8".parse().expect("v6");
        assert!(v6.trusts(ip("fd12::1")));
        assert!(!v6.trusts(ip("fe80::1")));
        let all: TrustedProxies = "0.0.0.0/0".parse().expect("all");
        assert!(all.trusts(ip("8.8.8.8")));
    }
}
