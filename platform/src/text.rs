//! Validated text from clients: trimmed, bounded in characters, and free of NUL (which Postgres
//! rejects with an internal error) and other control characters.

use unicode_normalization::UnicodeNormalization;

use crate::error::{ApiError, ApiResult};

/// A required single-line text field, trimmed, 1..=`max_chars` characters.
pub fn required(field: &str, value: &str, max_chars: usize) -> ApiResult<String> {
    let value = optional(field, Some(value), max_chars)?.unwrap_or_default();
    if value.is_empty() {
        return Err(ApiError::bad_input(field.to_owned(), format!("{field} must not be empty")));
    }
    Ok(value)
}

/// An optional text field; blank becomes `None`.
pub fn optional(field: &str, value: Option<&str>, max_chars: usize) -> ApiResult<Option<String>> {
    let Some(value) = value.map(str::trim) else {
        return Ok(None);
    };
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(ApiError::bad_input(field.to_owned(), format!("{field} contains control characters")));
    }
    if value.chars().count() > max_chars {
        return Err(ApiError::bad_input(
            field.to_owned(),
            format!("{field} must be at most {max_chars} characters"),
        ));
    }
    Ok((!value.is_empty()).then(|| value.nfc().collect()))
}

/// An email address normalized to NFC and lowercase, so one mailbox has one spelling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &str, raw: &str) -> ApiResult<Self> {
        let invalid =
            || ApiError::bad_input(field.to_owned(), format!("{field} is not a valid email address"));
        let email = required(field, raw, 254)?.nfc().collect::<String>().to_lowercase();
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let plausible = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.chars().any(char::is_whitespace)
            && email.matches('@').count() == 1;
        if plausible { Ok(Self(email)) } else { Err(invalid()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_to_one_spelling() {
        let nfd = EmailAddress::parse("email", "Jose\u{301}@Example.COM").expect("valid");
        let nfc = EmailAddress::parse("email", "jos\u{e9}@example.com").expect("valid");
        assert_eq!(nfd, nfc);
        for bad in ["", "no-at-sign", "a@b", "a@@b.com", "a b@c.com", "@example.com"] {
            assert!(EmailAddress::parse("email", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nul_and_oversized_text_are_bad_input() {
        assert_eq!(required("name", "a\0b", 10).expect_err("nul").code(), "BAD_USER_INPUT");
        assert!(required("name", &"x".repeat(11), 10).is_err());
        assert!(required("name", "   ", 10).is_err());
        assert_eq!(optional("name", Some("  "), 10).expect("blank"), None);
    }
}
