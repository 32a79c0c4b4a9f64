//! Open and click tracking. A tracked email carries a 1×1 pixel and has each http(s) link
//! replaced by a redirect through `/track/click/{token}`. A token names the tenant, the email and
//! the link's position, signed (HMAC-SHA-256) with a key of that email alone, so a token cannot
//! be forged, moved to another email or tenant, or pointed at another address: a redirect goes
//! only to a link that was in that email.

use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// The link position that stands for the open pixel.
const PIXEL: u16 = u16::MAX;
const TAG_LEN: usize = 16;
const TOKEN_LEN: usize = 16 + 16 + 2 + TAG_LEN;

/// What a valid-looking token names; the tag still has to be checked with the email's key.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenClaim {
    pub tenant: Uuid,
    pub email: Uuid,
    /// `None`: the open pixel; `Some(i)`: the email's i-th link.
    pub link: Option<usize>,
    tag: [u8; TAG_LEN],
}

fn tag(key: &[u8], tenant: Uuid, email: Uuid, position: u16) -> [u8; TAG_LEN] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(tenant.as_bytes());
    mac.update(email.as_bytes());
    mac.update(&position.to_be_bytes());
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(&full[..TAG_LEN]);
    out
}

fn token(key: &[u8], tenant: Uuid, email: Uuid, position: u16) -> String {
    let mut bytes = Vec::with_capacity(TOKEN_LEN);
    bytes.extend_from_slice(tenant.as_bytes());
    bytes.extend_from_slice(email.as_bytes());
    bytes.extend_from_slice(&position.to_be_bytes());
    bytes.extend_from_slice(&tag(key, tenant, email, position));
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenClaim {
    /// Reads a token's parts; `None` when it is not even shaped like one.
    pub fn parse(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim_end_matches(".gif")).ok()?;
        if bytes.len() != TOKEN_LEN {
            return None;
        }
        let tenant = Uuid::from_slice(&bytes[..16]).ok()?;
        let email = Uuid::from_slice(&bytes[16..32]).ok()?;
        let position = u16::from_be_bytes([bytes[32], bytes[33]]);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&bytes[34..]);
        let link = (position != PIXEL).then_some(usize::from(position));
        Some(Self { tenant, email, link, tag })
    }

    /// Whether the token was signed with `key` (the email's own), compared in constant time.
    pub fn is_signed_by(&self, key: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        let position = self.link.map_or(PIXEL, |i| i as u16);
        tag(key, self.tenant, self.email, position).ct_eq(&self.tag).into()
    }
}

/// The `href` values of `html` (quoted ones), with where each value sits.
fn hrefs(html: &str) -> Vec<(Range<usize>, String)> {
    let lower = html.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("href").map(|i| i + from) {
        from = at + 4;
        // An attribute of its own (not `data-href`), then `=` and a quote.
        if at == 0 || !bytes[at - 1].is_ascii_whitespace() {
            continue;
        }
        let mut i = from;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let Some(&quote) = bytes.get(i).filter(|q| **q == b'"' || **q == b'\'') else { continue };
        let start = i + 1;
        let Some(len) = lower[start..].find(quote as char) else { break };
        let value = &html[start..start + len];
        found.push((start..start + len, decode_entities(value.trim())));
        from = start + len;
    }
    found
}

fn is_followed(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The links of `html` a tracked email redirects, in order.
pub fn links_of(html: &str) -> Vec<String> {
    hrefs(html).into_iter().map(|(_, url)| url).filter(|url| is_followed(url)).collect()
}

/// `html` with each followed link sent through its redirect and the open pixel added.
pub fn rewrite(html: &str, base_url: &str, key: &[u8], tenant: Uuid, email: Uuid) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let mut last = 0;
    let mut position: u16 = 0;
    for (range, url) in hrefs(html) {
        if !is_followed(&url) {
            continue;
        }
        out.push_str(&html[last..range.start]);
        out.push_str(&format!("{base_url}/track/click/{}", token(key, tenant, email, position)));
        last = range.end;
        position = position.saturating_add(1).min(PIXEL - 1);
    }
    out.push_str(&html[last..]);
    let pixel = format!(
        r#"<img src="{base_url}/track/open/{}.gif" width="1" height="1" alt="" style="display:none">"#,
        token(key, tenant, email, PIXEL)
    );
    match out.to_ascii_lowercase().rfind("</body>") {
        Some(at) => out.insert_str(at, &pixel),
        None => out.push_str(&pixel),
    }
    out
}

fn decode_entities(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn links_are_read_in_order_and_only_http_ones_are_followed() {
        let html = r##"<p><a href="https://a.test/x?y=1&amp;z=2">A</a> <a data-href="https://no.test">no</a>
            <A HREF = 'http://b.test'>B</A> <a href="mailto:x@y.test">mail</a> <a href="#top">top</a></p>"##;
        assert_eq!(links_of(html), vec!["https://a.test/x?y=1&z=2", "http://b.test"]);
    }

    #[test]
    fn a_rewritten_email_points_at_signed_redirects_and_a_pixel() {
        let (tenant, email) = (Uuid::now_v7(), Uuid::now_v7());
        let html = r#"<body><a href="https://a.test">A</a><a href="mailto:x@y.test">m</a><a href="http://b.test">B</a></body>"#;
        let out = rewrite(html, "https://t.example", KEY, tenant, email);
        assert!(!out.contains("a.test") && !out.contains("b.test"), "{out}");
        assert!(out.contains("mailto:x@y.test"));
        assert!(
            out.ends_with(".gif\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\"></body>"),
            "{out}"
        );
        let tokens: Vec<&str> = out
            .split("/track/click/")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap_or_default())
            .collect();
        assert_eq!(tokens.len(), 2);
        for (i, raw) in tokens.iter().enumerate() {
            let claim = TokenClaim::parse(raw).expect("well formed");
            assert_eq!((claim.tenant, claim.email, claim.link), (tenant, email, Some(i)));
            assert!(claim.is_signed_by(KEY));
            assert!(!claim.is_signed_by(b"another key"));
        }
    }

    #[test]
    fn a_changed_token_is_not_signed() {
        let (tenant, email) = (Uuid::now_v7(), Uuid::now_v7());
        let good = token(KEY, tenant, email, 0);
        let mut bytes = URL_SAFE_NO_PAD.decode(&good).expect("base64");
        bytes[33] = 1; // another link
        let moved = TokenClaim::parse(&URL_SAFE_NO_PAD.encode(&bytes)).expect("well formed");
        assert!(!moved.is_signed_by(KEY));
        bytes[33] = 0;
        bytes[0] ^= 1; // another tenant
        let foreign = TokenClaim::parse(&URL_SAFE_NO_PAD.encode(&bytes)).expect("well formed");
        assert!(!foreign.is_signed_by(KEY));
        assert!(TokenClaim::parse("not-a-token").is_none());
    }
}
