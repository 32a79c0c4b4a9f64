//! Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes a `whsec_` secret encodes.
//! While a rotated-out secret is still honoured, each delivery carries both signatures,
//! space-separated, so a receiver holding either verifies it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of key in a new secret.
const SECRET_BYTES: usize = 32;

/// A new random secret, as shown to its owner once.
pub fn new_secret() -> String {
    let mut key = [0_u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// `v1,<signature>` of one message with one secret; `None` for a secret that is not ours.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().filter_map(|secret| sign(secret, id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_the_hmac_of_id_timestamp_and_body_under_the_decoded_key() {
        let secret = format!("{SECRET_PREFIX}{}", STANDARD.encode(b"key"));
        let signature = sign(&secret, "msg_1", 1_700_000_000, b"{}").expect("our secret");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").expect("key");
        mac.update(b"msg_1.1700000000.{}");
        assert_eq!(signature, format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())));
        // Any change of id, time or body changes it.
        assert_ne!(sign(&secret, "msg_2", 1_700_000_000, b"{}"), Some(signature.clone()));
        assert_ne!(sign(&secret, "msg_1", 1_700_000_001, b"{}"), Some(signature.clone()));
        assert_ne!(sign(&secret, "msg_1", 1_700_000_000, b"{ }"), Some(signature));
    }

    #[test]
    fn new_secrets_differ_and_carry_the_prefix_and_32_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        let key = STANDARD.decode(a.strip_prefix(SECRET_PREFIX).expect("prefix")).expect("base64");
        assert_eq!(key.len(), 32);
        assert_eq!(sign("not a secret", "m", 1, b""), None);
        let both = signature_header(&[&a, &b], "m", 1, b"x");
        assert_eq!(both.split(' ').count(), 2);
    }
}
