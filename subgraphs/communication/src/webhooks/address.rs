//! Where webhooks may go (RELIABILITY W1): only to public addresses, so a webhook cannot be
//! turned on the network the service runs in (its database, the cloud metadata service, an
//! admin port on loopback). Checked when a URL is saved and again for every attempt after DNS,
//! by the resolver the delivery client uses, so a name that later resolves to a private address
//! is refused too. Redirects are never followed. An operator may open private networks for their
//! own receivers (`WEBHOOK_ALLOWED_NETWORKS`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use crm_platform::client_address::Networks;
use url::{Host, Url};

/// Whether `ip` is an address of the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            // Addresses that carry an IPv4 address are judged by it.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = v6.segments();
            let embedded_v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
            match segments {
                // NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
                [0x64, 0xff9b, 0, 0, 0, 0, high, low] => is_public_v4(embedded_v4(high, low)),
                [0x2002, high, low, ..] => is_public_v4(embedded_v4(high, low)),
                _ => is_public_v6(v6),
            }
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16: the cloud metadata service lives here
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254 is a metadata address)
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x2001 && ip.segments()[1] == 0 // Teredo: hides an IPv4 address
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

/// The addresses webhooks may reach: public ones and the operator's allowed networks.
#[derive(Clone, Debug, Default)]
pub struct AddressRule {
    allowed: Networks,
}

impl AddressRule {
    pub fn new(allowed: Networks) -> Self {
        Self { allowed }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.contains(ip)
    }

    /// Resolves `url`'s host and checks every address it names; the reason it is refused.
    pub async fn check(&self, url: &Url) -> Result<(), String> {
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses: Vec<IpAddr> = match url.host() {
            Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            Some(Host::Domain(name)) => tokio::net::lookup_host((name, port))
                .await
                .map_err(|_| format!("{name} does not resolve"))?
                .map(|address| address.ip())
                .collect(),
            None => return Err("the URL has no host".to_owned()),
        };
        if addresses.is_empty() {
            return Err("the host has no address".to_owned());
        }
        match addresses.iter().find(|ip| !self.permits(**ip)) {
            Some(ip) => Err(format!("{ip} is not a public address")),
            None => Ok(()),
        }
    }
}

/// What a webhook URL may look like: http(s), a host, no credentials.
pub fn parse_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|_| "not a valid URL".to_owned())?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an http or https URL".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password (they would be logged)".to_owned());
    }
    if url.host().is_none() {
        return Err("must name a host".to_owned());
    }
    Ok(url)
}

/// The delivery client's resolver: a name resolving to any address the rule does not permit
/// is refused, so DNS cannot send a delivery somewhere the URL check would have refused.
pub struct GuardedResolver(pub Arc<AddressRule>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let rule = Arc::clone(&self.0);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addresses.is_empty() || addresses.iter().any(|address| !rule.permits(address.ip())) {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves to an address webhooks may not reach").into();
                return Err(refused);
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().expect("ip")
    }

    #[test]
    fn private_loopback_link_local_metadata_and_their_ipv6_forms_are_refused() {
        for refused in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "198.18.0.1",
            "192.0.0.1",
            "192.0.2.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:7f00:1::",
            "2001:0:4136:e378::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(refused)), "{refused} must be refused");
        }
        for public in
            ["1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "64:ff9b::808:808"]
        {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn an_operator_allow_list_opens_only_its_networks() {
        let rule = AddressRule::new("127.0.0.0/8".parse().expect("networks"));
        assert!(rule.permits(ip("127.0.0.1")));
        assert!(rule.permits(ip("::ffff:127.0.0.1")));
        assert!(!rule.permits(ip("10.0.0.1")));
        assert!(!rule.permits(ip("169.254.169.254")));
        assert!(!AddressRule::default().permits(ip("127.0.0.1")));
    }

    #[test]
    fn urls_must_be_http_with_a_host_and_no_credentials() {
        assert!(parse_url("https://hooks.example.com/in").is_ok());
        assert!(parse_url("http://127.0.0.1:8080/x").is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "https://user:pw@example.com/",
            "not a url",
            "gopher://x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn literal_and_named_loopback_urls_are_refused_without_the_allow_list() {
        let rule = AddressRule::default();
        for url in [
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://localhost/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let url = parse_url(url).expect("url");
            assert!(rule.check(&url).await.is_err(), "{url}");
        }
        let open = AddressRule::new("127.0.0.0/8,::1".parse().expect("networks"));
        assert!(open.check(&parse_url("http://127.0.0.1:9/").expect("url")).await.is_ok());
    }
}
