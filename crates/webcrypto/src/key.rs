//! `CryptoKey`: algorithm, type, extractability, usages and the material.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::algorithm::{KeyAlgorithm, NamedCurve};
use crate::usage::KeyUsages;

/// `KeyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    Secret,
    Public,
    Private,
}

impl KeyType {
    /// The JS string: `"secret"`, `"public"` or `"private"`.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Secret => "secret",
            KeyType::Public => "public",
            KeyType::Private => "private",
        }
    }
}

/// Key material. Private variants zeroize on drop (the RustCrypto and dalek
/// key types do so themselves; raw secrets sit in `Zeroizing`).
pub(crate) enum KeyMaterial {
    /// HMAC, AES, HKDF and PBKDF2 keys.
    Secret(Zeroizing<Vec<u8>>),
    EcPrivate(EcPrivate),
    EcPublic(EcPublic),
    Ed25519Private(ed25519_dalek::SigningKey),
    /// Kept as bytes: browsers accept any 32 bytes on import and fail at verify.
    Ed25519Public([u8; 32]),
    X25519Private(x25519_dalek::StaticSecret),
    X25519Public([u8; 32]),
}

pub(crate) enum EcPrivate {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) enum EcPublic {
    P256(p256::PublicKey),
    P384(p384::PublicKey),
    P521(p521::PublicKey),
}

impl EcPrivate {
    pub(crate) fn curve(&self) -> NamedCurve {
        match self {
            EcPrivate::P256(_) => NamedCurve::P256,
            EcPrivate::P384(_) => NamedCurve::P384,
            EcPrivate::P521(_) => NamedCurve::P521,
        }
    }
    pub(crate) fn public(&self) -> EcPublic {
        match self {
            EcPrivate::P256(k) => EcPublic::P256(k.public_key()),
            EcPrivate::P384(k) => EcPublic::P384(k.public_key()),
            EcPrivate::P521(k) => EcPublic::P521(k.public_key()),
        }
    }
}

impl EcPublic {
    pub(crate) fn curve(&self) -> NamedCurve {
        match self {
            EcPublic::P256(_) => NamedCurve::P256,
            EcPublic::P384(_) => NamedCurve::P384,
            EcPublic::P521(_) => NamedCurve::P521,
        }
    }
}

/// A WebCrypto `CryptoKey`. Cloning is cheap and shares the material, as
/// two JS references to one key do. The fields are read-only: a key's
/// algorithm, type and material are consistent by construction.
#[derive(Clone)]
pub struct CryptoKey {
    pub(crate) algorithm: KeyAlgorithm,
    pub(crate) key_type: KeyType,
    pub(crate) extractable: bool,
    pub(crate) usages: KeyUsages,
    pub(crate) material: Arc<KeyMaterial>,
}

impl CryptoKey {
    pub(crate) fn new(
        algorithm: KeyAlgorithm,
        key_type: KeyType,
        extractable: bool,
        usages: KeyUsages,
        material: KeyMaterial,
    ) -> Self {
        CryptoKey { algorithm, key_type, extractable, usages, material: Arc::new(material) }
    }

    /// `CryptoKey.algorithm`.
    pub fn algorithm(&self) -> &KeyAlgorithm {
        &self.algorithm
    }
    /// `CryptoKey.type`.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }
    /// `CryptoKey.extractable`.
    pub fn extractable(&self) -> bool {
        self.extractable
    }
    /// `CryptoKey.usages`.
    pub fn usages(&self) -> KeyUsages {
        self.usages
    }
}

/// Never prints material.
impl std::fmt::Debug for CryptoKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CryptoKey")
            .field("type", &self.key_type.name())
            .field("algorithm", &self.algorithm)
            .field("extractable", &self.extractable)
            .field("usages", &self.usages.names())
            .finish_non_exhaustive()
    }
}

/// `CryptoKeyPair`.
#[derive(Debug, Clone)]
pub struct CryptoKeyPair {
    pub public_key: CryptoKey,
    pub private_key: CryptoKey,
}

/// What `generateKey` returns: one secret key or a key pair.
#[derive(Debug, Clone)]
pub enum GeneratedKey {
    Key(CryptoKey),
    Pair(CryptoKeyPair),
}

impl GeneratedKey {
    /// The secret key, if this is one.
    pub fn into_key(self) -> Option<CryptoKey> {
        match self {
            GeneratedKey::Key(k) => Some(k),
            GeneratedKey::Pair(_) => None,
        }
    }
    /// The key pair, if this is one.
    pub fn into_pair(self) -> Option<CryptoKeyPair> {
        match self {
            GeneratedKey::Pair(p) => Some(p),
            GeneratedKey::Key(_) => None,
        }
    }
}

/// `KeyFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyFormat {
    Raw,
    Pkcs8,
    Spki,
    Jwk,
}

impl KeyFormat {
    /// Parses the JS string; anything else is a `TypeError` (WebIDL enum).
    pub fn parse(s: &str) -> crate::Result<Self> {
        match s {
            "raw" => Ok(KeyFormat::Raw),
            "pkcs8" => Ok(KeyFormat::Pkcs8),
            "spki" => Ok(KeyFormat::Spki),
            "jwk" => Ok(KeyFormat::Jwk),
            other => Err(crate::error::type_error(format!("'{other}' is not a valid KeyFormat"))),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            KeyFormat::Raw => "raw",
            KeyFormat::Pkcs8 => "pkcs8",
            KeyFormat::Spki => "spki",
            KeyFormat::Jwk => "jwk",
        }
    }
}

/// Key data for `importKey`: bytes for raw/pkcs8/spki, a JWK for jwk.
// Short-lived argument values: boxing the JWK would only cost an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum KeyData {
    Bytes(Zeroizing<Vec<u8>>),
    Jwk(crate::jwk::JsonWebKey),
}

impl KeyData {
    pub fn bytes(b: impl Into<Vec<u8>>) -> Self {
        KeyData::Bytes(Zeroizing::new(b.into()))
    }
}

/// What `exportKey` returns.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum ExportedKey {
    Bytes(Zeroizing<Vec<u8>>),
    Jwk(crate::jwk::JsonWebKey),
}

impl ExportedKey {
    /// The bytes of a raw/pkcs8/spki export.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            ExportedKey::Bytes(b) => Some(b),
            ExportedKey::Jwk(_) => None,
        }
    }
    /// The JWK of a jwk export.
    pub fn as_jwk(&self) -> Option<&crate::jwk::JsonWebKey> {
        match self {
            ExportedKey::Jwk(j) => Some(j),
            ExportedKey::Bytes(_) => None,
        }
    }
}

/// Shows lengths only: key data may be secret.
impl std::fmt::Debug for KeyData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyData::Bytes(b) => write!(f, "KeyData::Bytes({} bytes)", b.len()),
            KeyData::Jwk(j) => f.debug_tuple("KeyData::Jwk").field(j).finish(),
        }
    }
}

/// Shows lengths only: exported keys may be secret.
impl std::fmt::Debug for ExportedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportedKey::Bytes(b) => write!(f, "ExportedKey::Bytes({} bytes)", b.len()),
            ExportedKey::Jwk(j) => f.debug_tuple("ExportedKey::Jwk").field(j).finish(),
        }
    }
}
