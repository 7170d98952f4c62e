//! `JsonWebKey` (RFC 7517 members used by WebCrypto) and base64url helpers.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{data, Result};
use crate::usage::KeyUsages;

/// `RsaOtherPrimesInfo` (carried for completeness; RSA is not implemented).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct RsaOtherPrimesInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub t: Option<String>,
}

/// WebCrypto's `JsonWebKey` dictionary. Unknown members are ignored on
/// input, as WebIDL dictionaries do. Private members are zeroized on drop
/// and never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonWebKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kty: Option<String>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dq: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oth: Option<Vec<RsaOtherPrimesInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
}

impl Drop for JsonWebKey {
    fn drop(&mut self) {
        self.d.zeroize();
        self.p.zeroize();
        self.q.zeroize();
        self.dp.zeroize();
        self.dq.zeroize();
        self.qi.zeroize();
        self.oth.zeroize();
        self.k.zeroize();
    }
}

impl std::fmt::Debug for JsonWebKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("JsonWebKey")
            .field("kty", &self.kty)
            .field("use", &self.use_)
            .field("key_ops", &self.key_ops)
            .field("alg", &self.alg)
            .field("ext", &self.ext)
            .field("crv", &self.crv)
            .field("x", &self.x)
            .field("y", &self.y)
            .field("n", &self.n)
            .field("e", &self.e)
            .field("d", &redact(&self.d))
            .field("k", &redact(&self.k))
            .field("p", &redact(&self.p))
            .finish_non_exhaustive()
    }
}

impl JsonWebKey {
    /// Parses a JWK from JSON text (what `JSON.stringify(jwk)` yields).
    /// Malformed JSON or a member of the wrong type is a `DataError`.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| data(format!("invalid JWK JSON: {e}")))
    }

    /// Parses a JWK from a JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Self> {
        Self::deserialize(value).map_err(|e| data(format!("invalid JWK: {e}")))
    }

    /// Serializes to JSON text with only the present members. The result
    /// holds private material for private keys.
    pub fn to_json(&self) -> Zeroizing<String> {
        // Serializing a struct of strings, bools and vectors cannot fail.
        Zeroizing::new(serde_json::to_string(self).unwrap_or_default())
    }

    /// Serializes to a JSON value (holds private material for private keys).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Decodes a required base64url member, or `DataError` naming it.
    pub(crate) fn decode_member(&self, name: &str, value: &Option<String>) -> Result<Zeroizing<Vec<u8>>> {
        match value {
            Some(v) => b64_decode(v).map_err(|_| data(format!("JWK member '{name}' is not valid base64url"))),
            None => Err(data(format!("JWK member '{name}' is missing"))),
        }
    }

    /// Checks the members every import checks: `kty`, `use`, `key_ops`, `ext`.
    pub(crate) fn check_common(
        &self,
        kty: &str,
        expected_use: &str,
        usages: KeyUsages,
        extractable: bool,
    ) -> Result<()> {
        match self.kty.as_deref() {
            Some(k) if k == kty => {}
            Some(k) => return Err(data(format!("JWK 'kty' is '{k}', expected '{kty}'"))),
            None => return Err(data("JWK member 'kty' is missing")),
        }
        if !usages.is_empty() {
            if let Some(u) = &self.use_ {
                if u != expected_use {
                    return Err(data(format!("JWK 'use' is '{u}', expected '{expected_use}'")));
                }
            }
        }
        if let Some(ops) = &self.key_ops {
            let mut seen = KeyUsages::empty();
            for op in ops {
                // Unknown operations are allowed by RFC 7517; duplicates are not.
                if let Ok(u) = KeyUsages::parse_one(op) {
                    if seen.contains(u) {
                        return Err(data(format!("JWK 'key_ops' lists '{op}' twice")));
                    }
                    seen |= u;
                }
            }
            if !seen.contains(usages) {
                return Err(data(format!(
                    "JWK 'key_ops' {ops:?} does not include all requested usages {:?}",
                    usages.names()
                )));
            }
        }
        if self.ext == Some(false) && extractable {
            return Err(data("JWK 'ext' is false but an extractable key was requested"));
        }
        Ok(())
    }
}

/// base64url without padding, as JWK uses.
pub(crate) fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

pub(crate) fn b64_decode(s: &str) -> std::result::Result<Zeroizing<Vec<u8>>, base64ct::Error> {
    Base64UrlUnpadded::decode_vec(s).map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_private_members() {
        let mut jwk = JsonWebKey::default();
        jwk.kty = Some("oct".into());
        jwk.k = Some("c2VjcmV0LXNlY3JldA".into());
        jwk.d = Some("ZGRkZA".into());
        let s = format!("{jwk:?}");
        assert!(!s.contains("c2VjcmV0"), "{s}");
        assert!(!s.contains("ZGRkZA"), "{s}");
        assert!(s.contains("<redacted>"));
    }

    #[test]
    fn json_round_trip_keeps_only_present_members() {
        let text = r#"{"kty":"oct","k":"AAEC","alg":"HS256","ext":true,"key_ops":["sign"],"use":"sig","unknown":1}"#;
        let jwk = JsonWebKey::from_json(text).unwrap();
        assert_eq!(jwk.use_.as_deref(), Some("sig"));
        let v: serde_json::Value = serde_json::from_str(&jwk.to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kty":"oct","k":"AAEC","alg":"HS256","ext":true,"key_ops":["sign"],"use":"sig"})
        );
    }

    #[test]
    fn wrong_member_type_is_data_error() {
        let e = JsonWebKey::from_json(r#"{"kty":1}"#).unwrap_err();
        assert_eq!(e.dom_name(), "DataError");
    }
}
