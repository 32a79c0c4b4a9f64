//! Subdomain rules: 3–63 lowercase letters, digits and hyphens, no hyphen at either end, and not
//! a name the product itself needs.

use crm_platform::{ApiError, ApiResult};

const RESERVED: &[&str] = &[
    "www",
    "api",
    "app",
    "admin",
    "mail",
    "smtp",
    "imap",
    "pop",
    "ftp",
    "auth",
    "login",
    "static",
    "assets",
    "cdn",
    "status",
    "help",
    "support",
    "docs",
    "blog",
    "billing",
    "dashboard",
    "graphql",
    "ws",
    "dev",
    "staging",
    "test",
    "internal",
    "root",
    "system",
    "crm",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subdomain(String);

impl Subdomain {
    pub fn parse(raw: &str) -> ApiResult<Self> {
        let bad = |why: &str| ApiError::bad_input("subdomain", format!("subdomain {why}"));
        let len = raw.len();
        if !(3..=63).contains(&len) {
            return Err(bad("must be 3 to 63 characters long"));
        }
        if !raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(bad("may contain only lowercase letters, digits and hyphens"));
        }
        if raw.starts_with('-') || raw.ends_with('-') {
            return Err(bad("must not start or end with a hyphen"));
        }
        if RESERVED.contains(&raw) {
            return Err(bad("is reserved"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain_rule_table() {
        let cases = [
            ("acme", true),
            ("acme-corp", true),
            ("a1b", true),
            (&"a".repeat(63)[..], true),
            ("ab", false),
            (&"a".repeat(64)[..], false),
            ("Acme", false),
            ("acme_corp", false),
            ("acme.corp", false),
            ("-acme", false),
            ("acme-", false),
            ("www", false),
            ("api", false),
            ("admin", false),
            ("mail", false),
            ("app", false),
            ("ac me", false),
            ("äcme", false),
        ];
        for (raw, ok) in cases {
            assert_eq!(Subdomain::parse(raw).is_ok(), ok, "{raw:?}");
        }
    }
}
