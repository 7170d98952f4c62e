//! W3C Web Cryptography API (`crypto.subtle`) semantics in pure Rust.
//!
//! The crate maps one-to-one onto `SubtleCrypto`: [`subtle`] holds one
//! function per method, taking normalized algorithms ([`algorithm`]); the
//! [`dynamic`] module takes the loosely typed [`AlgorithmIdentifier`] a JS
//! binding builds from JS values and normalizes it first, as the spec does.
//! Errors carry the `DOMException` name to throw ([`Error::dom_name`]).
//!
//! Algorithms: SHA-1/256/384/512, HMAC, HKDF, PBKDF2, AES-GCM, AES-CBC,
//! ECDSA and ECDH on P-256/P-384, Ed25519, X25519. Formats: raw, pkcs8,
//! spki, jwk. All primitives come from RustCrypto and dalek crates.

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
