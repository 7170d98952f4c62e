//! W3C Web Cryptography API (`crypto.subtle`) semantics in pure Rust.
//!
//! The crate maps one-to-one onto `SubtleCrypto`: [`subtle`] holds one
//! function per method, taking normalized algorithms ([`algorithm`]); the
//! [`dynamic`] module takes the loosely typed [`AlgorithmIdentifier`] a JS
//! binding builds from JS values and normalizes it first, as the spec does.
//! Errors carry the `DOMException` name to throw ([`Error::dom_name`]).
//!
//! Algorithms: SHA-1/256/384/512, HMAC, HKDF, PBKDF2, AES-GCM, AES-CBC, AES-CTR, AES-KW,
//! ECDSA and ECDH on P-256/P-384/P-521, Ed25519, X25519. Formats: raw, pkcs8,
//! spki, jwk. All primitives come from RustCrypto and dalek crates.
//!
//! ```
//! use sworn_webcrypto::{dynamic, AlgorithmIdentifier, AlgorithmInput};
//!
//! // crypto.subtle.generateKey({name: "HMAC", hash: "SHA-256"}, false, ["sign", "verify"])
//! let alg = AlgorithmIdentifier::Object(AlgorithmInput::new("HMAC").with_str("hash", "SHA-256"));
//! let key = dynamic::generate_key(&alg, false, &["sign", "verify"])?.into_key().unwrap();
//! assert_eq!(key.algorithm().to_json()["length"], 512);
//!
//! let mac = dynamic::sign(&"HMAC".into(), &key, b"hello")?;
//! assert!(dynamic::verify(&"HMAC".into(), &key, &mac, b"hello")?);
//!
//! // Errors carry the DOMException name to throw.
//! let err = dynamic::export_key("raw", &key).unwrap_err();
//! assert_eq!(err.dom_name(), "InvalidAccessError");
//! # Ok::<(), sworn_webcrypto::Error>(())
//! ```

#![forbid(unsafe_code)]

pub mod algorithm;
pub mod dynamic;
pub mod error;
pub mod input;
pub mod jwk;
pub mod key;
mod ops;
pub mod random;
pub mod subtle;
pub mod usage;

pub use algorithm::*;
pub use error::{Error, Result};
pub use input::{AlgorithmIdentifier, AlgorithmInput, Member};
pub use jwk::JsonWebKey;
pub use key::{CryptoKey, CryptoKeyPair, ExportedKey, GeneratedKey, KeyData, KeyFormat, KeyType};
pub use random::{get_random_values, random_uuid};
pub use usage::KeyUsages;

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync + 'static>() {}

    /// A binding may move keys and arguments to a blocking thread (PBKDF2).
    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<crate::CryptoKey>();
        assert_send_sync::<crate::GeneratedKey>();
        assert_send_sync::<crate::KeyData>();
        assert_send_sync::<crate::ExportedKey>();
        assert_send_sync::<crate::AlgorithmIdentifier>();
        assert_send_sync::<crate::Error>();
    }
}
