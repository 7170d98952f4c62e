//! `SubtleCrypto` methods taking JS-shaped arguments: an
//! [`AlgorithmIdentifier`], format and usage strings. This is the surface a
//! JS binding calls; each function normalizes, then runs [`crate::subtle`].
//! Argument conversion errors come first, as WebIDL conversion precedes the
//! method steps.

use crate::input::*;
use crate::key::{CryptoKey, ExportedKey, GeneratedKey, KeyData, KeyFormat};
use crate::subtle;
use crate::usage::KeyUsages;
use crate::Result;

pub fn digest(alg: &AlgorithmIdentifier, data: &[u8]) -> Result<Vec<u8>> {
    Ok(subtle::digest(normalize_digest(alg)?, data))
}

pub fn generate_key<S: AsRef<str>>(alg: &AlgorithmIdentifier, extractable: bool, usages: &[S]) -> Result<GeneratedKey> {
    let usages = KeyUsages::parse(usages)?;
    subtle::generate_key(&normalize_generate_key(alg)?, extractable, usages)
}

pub fn import_key<S: AsRef<str>>(
    format: &str,
    key_data: &KeyData,
    alg: &AlgorithmIdentifier,
    extractable: bool,
    usages: &[S],
) -> Result<CryptoKey> {
    let format = KeyFormat::parse(format)?;
    let usages = KeyUsages::parse(usages)?;
    subtle::import_key(format, key_data, &normalize_import_key(alg)?, extractable, usages)
}

pub fn export_key(format: &str, key: &CryptoKey) -> Result<ExportedKey> {
    subtle::export_key(KeyFormat::parse(format)?, key)
}

pub fn sign(alg: &AlgorithmIdentifier, key: &CryptoKey, data: &[u8]) -> Result<Vec<u8>> {
    subtle::sign(&normalize_sign(alg)?, key, data)
}

pub fn verify(alg: &AlgorithmIdentifier, key: &CryptoKey, signature: &[u8], data: &[u8]) -> Result<bool> {
    subtle::verify(&normalize_sign(alg)?, key, signature, data)
}

pub fn encrypt(alg: &AlgorithmIdentifier, key: &CryptoKey, data: &[u8]) -> Result<Vec<u8>> {
    subtle::encrypt(&normalize_encrypt(alg)?, key, data)
}

pub fn decrypt(alg: &AlgorithmIdentifier, key: &CryptoKey, data: &[u8]) -> Result<Vec<u8>> {
    subtle::decrypt(&normalize_encrypt(alg)?, key, data)
}

pub fn derive_bits(alg: &AlgorithmIdentifier, base_key: &CryptoKey, length: Option<u32>) -> Result<Vec<u8>> {
    subtle::derive_bits(&normalize_derive(alg)?, base_key, length)
}

pub fn derive_key<S: AsRef<str>>(
    alg: &AlgorithmIdentifier,
    base_key: &CryptoKey,
    derived_key_type: &AlgorithmIdentifier,
    extractable: bool,
    usages: &[S],
) -> Result<CryptoKey> {
    let usages = KeyUsages::parse(usages)?;
    let alg = normalize_derive(alg)?;
    // deriveKey normalizes derivedKeyType for importKey, then for get key length.
    normalize_import_key(derived_key_type)?;
    let derived = normalize_derived_key_type(derived_key_type)?;
    subtle::derive_key(&alg, base_key, &derived, extractable, usages)
}

pub fn wrap_key(format: &str, key: &CryptoKey, wrapping_key: &CryptoKey, alg: &AlgorithmIdentifier) -> Result<Vec<u8>> {
    let format = KeyFormat::parse(format)?;
    subtle::wrap_key(format, key, wrapping_key, &normalize_wrap(alg)?)
}

#[allow(clippy::too_many_arguments)]
pub fn unwrap_key<S: AsRef<str>>(
    format: &str,
    wrapped_key: &[u8],
    unwrapping_key: &CryptoKey,
    unwrap_alg: &AlgorithmIdentifier,
    unwrapped_key_alg: &AlgorithmIdentifier,
    extractable: bool,
    usages: &[S],
) -> Result<CryptoKey> {
    let format = KeyFormat::parse(format)?;
    let usages = KeyUsages::parse(usages)?;
    let alg = normalize_wrap(unwrap_alg)?;
    let import = normalize_import_key(unwrapped_key_alg)?;
    subtle::unwrap_key(format, wrapped_key, unwrapping_key, &alg, &import, extractable, usages)
}
