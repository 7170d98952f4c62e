//! `KeyUsage` values as a set.

use crate::error::{syntax, type_error, Result};

bitflags::bitflags! {
    /// A set of WebCrypto key usages. Iteration and [`KeyUsages::names`]
    /// follow the specification's enum order, as Chromium reports them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct KeyUsages: u8 {
        const ENCRYPT = 1 << 0;
        const DECRYPT = 1 << 1;
        const SIGN = 1 << 2;
        const VERIFY = 1 << 3;
        const DERIVE_KEY = 1 << 4;
        const DERIVE_BITS = 1 << 5;
        const WRAP_KEY = 1 << 6;
        const UNWRAP_KEY = 1 << 7;
    }
}

const NAMES: [(KeyUsages, &str); 8] = [
    (KeyUsages::ENCRYPT, "encrypt"),
    (KeyUsages::DECRYPT, "decrypt"),
    (KeyUsages::SIGN, "sign"),
    (KeyUsages::VERIFY, "verify"),
    (KeyUsages::DERIVE_KEY, "deriveKey"),
    (KeyUsages::DERIVE_BITS, "deriveBits"),
    (KeyUsages::WRAP_KEY, "wrapKey"),
    (KeyUsages::UNWRAP_KEY, "unwrapKey"),
];

impl KeyUsages {
    /// Parses a JS `sequence<KeyUsage>`; an unknown string is a `TypeError`
    /// (WebIDL enum conversion). Duplicates collapse.
    pub fn parse<S: AsRef<str>>(usages: &[S]) -> Result<Self> {
        let mut set = KeyUsages::empty();
        for u in usages {
            set |= Self::parse_one(u.as_ref())?;
        }
        Ok(set)
    }

    /// Parses one `KeyUsage` string.
    pub fn parse_one(usage: &str) -> Result<Self> {
        NAMES
            .iter()
            .find(|(_, n)| *n == usage)
            .map(|(f, _)| *f)
            .ok_or_else(|| type_error(format!("'{usage}' is not a valid KeyUsage")))
    }

    /// The usage names in specification order.
    pub fn names(self) -> Vec<&'static str> {
        NAMES.iter().filter(|(f, _)| self.contains(*f)).map(|(_, n)| *n).collect()
    }

    /// Fails with `SyntaxError` if any usage lies outside `allowed`.
    pub(crate) fn check_subset(self, allowed: KeyUsages, what: &str) -> Result<()> {
        let bad = self - allowed;
        if bad.is_empty() {
            Ok(())
        } else {
            Err(syntax(format!("usages {:?} are not allowed for {what} (allowed: {:?})", bad.names(), allowed.names())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_names_round_trip_in_spec_order() {
        let u = KeyUsages::parse(&["verify", "sign", "sign"]).unwrap();
        assert_eq!(u, KeyUsages::SIGN | KeyUsages::VERIFY);
        assert_eq!(u.names(), vec!["sign", "verify"]);
    }

    #[test]
    fn unknown_usage_is_type_error() {
        let e = KeyUsages::parse(&["Sign"]).unwrap_err();
        assert_eq!(e.dom_name(), "TypeError");
    }

    #[test]
    fn subset_check_names_offending_usage() {
        let e = (KeyUsages::ENCRYPT | KeyUsages::SIGN)
            .check_subset(KeyUsages::SIGN | KeyUsages::VERIFY, "HMAC")
            .unwrap_err();
        assert_eq!(e.dom_name(), "SyntaxError");
        assert!(e.message().contains("encrypt"));
    }
}
