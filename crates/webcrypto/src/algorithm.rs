//! Normalized algorithm descriptors: what `normalize an algorithm` yields
//! for each operation, as Rust types. Only valid combinations exist.

use crate::key::CryptoKey;

/// A digest algorithm (`HashAlgorithmIdentifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// The registered name, e.g. `"SHA-256"`.
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "SHA-1",
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha384 => "SHA-384",
            HashAlg::Sha512 => "SHA-512",
        }
    }

    /// Case-insensitive lookup of a registered name.
    pub fn from_name(name: &str) -> Option<Self> {
        [HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512]
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(name))
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// Block size in bits: the default HMAC key length.
    pub fn block_bits(self) -> u32 {
        match self {
            HashAlg::Sha1 | HashAlg::Sha256 => 512,
            HashAlg::Sha384 | HashAlg::Sha512 => 1024,
        }
    }

    /// The JWA `alg` of an HMAC key with this hash.
    pub(crate) fn hmac_jwk_alg(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "HS1",
            HashAlg::Sha256 => "HS256",
            HashAlg::Sha384 => "HS384",
            HashAlg::Sha512 => "HS512",
        }
    }
}

/// A NIST curve (`NamedCurve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamedCurve {
    P256,
    P384,
    P521,
}

impl NamedCurve {
    /// The registered name, e.g. `"P-256"`. Curve names are case-sensitive.
    pub fn name(self) -> &'static str {
        match self {
            NamedCurve::P256 => "P-256",
            NamedCurve::P384 => "P-384",
            NamedCurve::P521 => "P-521",
        }
    }

    /// Exact-match lookup (the spec compares curve names case-sensitively).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "P-256" => Some(NamedCurve::P256),
            "P-384" => Some(NamedCurve::P384),
            "P-521" => Some(NamedCurve::P521),
            _ => None,
        }
    }

    /// Size of a field element / scalar in bytes.
    pub fn field_len(self) -> usize {
        match self {
            NamedCurve::P256 => 32,
            NamedCurve::P384 => 48,
            NamedCurve::P521 => 66,
        }
    }
}

/// An AES mode offered by this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AesMode {
    Gcm,
    Cbc,
    Ctr,
    Kw,
}

impl AesMode {
    pub fn name(self) -> &'static str {
        match self {
            AesMode::Gcm => "AES-GCM",
            AesMode::Cbc => "AES-CBC",
            AesMode::Ctr => "AES-CTR",
            AesMode::Kw => "AES-KW",
        }
    }
}

/// An elliptic-curve algorithm over a NIST curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcAlg {
    Ecdsa,
    Ecdh,
}

impl EcAlg {
    pub fn name(self) -> &'static str {
        match self {
            EcAlg::Ecdsa => "ECDSA",
            EcAlg::Ecdh => "ECDH",
        }
    }
}

/// A Curve25519 algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OkpAlg {
    Ed25519,
    X25519,
}

impl OkpAlg {
    pub fn name(self) -> &'static str {
        match self {
            OkpAlg::Ed25519 => "Ed25519",
            OkpAlg::X25519 => "X25519",
        }
    }
}

/// A key's `[[algorithm]]` slot (`KeyAlgorithm` and its subtypes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// `HmacKeyAlgorithm { name: "HMAC", hash, length }`.
    Hmac { hash: HashAlg, length: u32 },
    /// `AesKeyAlgorithm { name, length }`.
    Aes { mode: AesMode, length: u16 },
    /// `EcKeyAlgorithm { name, namedCurve }`.
    Ec { alg: EcAlg, curve: NamedCurve },
    /// `KeyAlgorithm { name: "Ed25519" | "X25519" }`.
    Okp(OkpAlg),
    /// `KeyAlgorithm { name: "HKDF" }`.
    Hkdf,
    /// `KeyAlgorithm { name: "PBKDF2" }`.
    Pbkdf2,
}

impl KeyAlgorithm {
    /// The `name` member.
    pub fn name(&self) -> &'static str {
        match self {
            KeyAlgorithm::Hmac { .. } => "HMAC",
            KeyAlgorithm::Aes { mode, .. } => mode.name(),
            KeyAlgorithm::Ec { alg, .. } => alg.name(),
            KeyAlgorithm::Okp(a) => a.name(),
            KeyAlgorithm::Hkdf => "HKDF",
            KeyAlgorithm::Pbkdf2 => "PBKDF2",
        }
    }

    /// The dictionary as JSON, as `CryptoKey.algorithm` shows it in JS:
    /// `{"name":"HMAC","hash":{"name":"SHA-256"},"length":512}`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            KeyAlgorithm::Hmac { hash, length } => {
                json!({"name": "HMAC", "hash": {"name": hash.name()}, "length": length})
            }
            KeyAlgorithm::Aes { mode, length } => json!({"name": mode.name(), "length": length}),
            KeyAlgorithm::Ec { alg, curve } => {
                json!({"name": alg.name(), "namedCurve": curve.name()})
            }
            other => json!({"name": other.name()}),
        }
    }
}

/// `algorithm` argument of `generateKey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerateKeyAlgorithm {
    /// `HmacKeyGenParams`; `length` defaults to the hash block size.
    Hmac { hash: HashAlg, length: Option<u32> },
    /// `AesKeyGenParams`.
    Aes { mode: AesMode, length: u16 },
    /// `EcKeyGenParams`.
    Ec { alg: EcAlg, curve: NamedCurve },
    /// Ed25519 / X25519 (no parameters).
    Okp(OkpAlg),
}

/// `algorithm` argument of `importKey` (and `derivedKeyType` of `deriveKey`,
/// `unwrappedKeyAlgorithm` of `unwrapKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportAlgorithm {
    /// `HmacImportParams`.
    Hmac {
        hash: HashAlg,
        length: Option<u32>,
    },
    /// AES-GCM / AES-CBC take no import parameters; the length comes from the data.
    Aes(AesMode),
    /// `EcKeyImportParams`.
    Ec {
        alg: EcAlg,
        curve: NamedCurve,
    },
    Okp(OkpAlg),
    Hkdf,
    Pbkdf2,
}

/// `derivedKeyType` of `deriveKey`: import parameters plus, for AES, the
/// `length` the "get key length" operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivedKeyType {
    Hmac {
        hash: HashAlg,
        length: Option<u32>,
    },
    /// `AesDerivedKeyParams { length }`.
    Aes {
        mode: AesMode,
        length: u16,
    },
    Hkdf,
    Pbkdf2,
}

/// `AesGcmParams`.
#[derive(Clone, PartialEq, Eq)]
pub struct AesGcmParams {
    pub iv: Vec<u8>,
    pub additional_data: Option<Vec<u8>>,
    /// Tag length in bits; `None` means the default, 128.
    pub tag_length: Option<u8>,
}

/// `AesCbcParams`.
#[derive(Clone, PartialEq, Eq)]
pub struct AesCbcParams {
    pub iv: Vec<u8>,
}

/// `AesCtrParams`: the initial counter block and how many of its
/// rightmost bits are the counter (the rest is a fixed nonce).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AesCtrParams {
    pub counter: Vec<u8>,
    pub length: u8,
}

// IVs are not secret, but keep Debug output short and uniform.
impl std::fmt::Debug for AesGcmParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AesGcmParams")
            .field("iv_len", &self.iv.len())
            .field("additional_data_len", &self.additional_data.as_ref().map(Vec::len))
            .field("tag_length", &self.tag_length)
            .finish()
    }
}
impl std::fmt::Debug for AesCbcParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AesCbcParams").field("iv_len", &self.iv.len()).finish()
    }
}

/// `algorithm` argument of `encrypt`/`decrypt` and of `wrapKey`/`unwrapKey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncryptAlgorithm {
    AesGcm(AesGcmParams),
    AesCbc(AesCbcParams),
    AesCtr(AesCtrParams),
    /// RFC 3394 key wrap: `wrapKey`/`unwrapKey` only, never `encrypt`.
    AesKw,
}

impl EncryptAlgorithm {
    pub fn name(&self) -> &'static str {
        match self {
            EncryptAlgorithm::AesGcm(_) => "AES-GCM",
            EncryptAlgorithm::AesCbc(_) => "AES-CBC",
            EncryptAlgorithm::AesCtr(_) => "AES-CTR",
            EncryptAlgorithm::AesKw => "AES-KW",
        }
    }
}

/// `algorithm` argument of `sign`/`verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAlgorithm {
    Hmac,
    /// `EcdsaParams { hash }`.
    Ecdsa {
        hash: HashAlg,
    },
    Ed25519,
}

impl SignAlgorithm {
    pub fn name(&self) -> &'static str {
        match self {
            SignAlgorithm::Hmac => "HMAC",
            SignAlgorithm::Ecdsa { .. } => "ECDSA",
            SignAlgorithm::Ed25519 => "Ed25519",
        }
    }
}

/// `HkdfParams`.
#[derive(Clone, PartialEq, Eq)]
pub struct HkdfParams {
    pub hash: HashAlg,
    pub salt: Vec<u8>,
    pub info: Vec<u8>,
}

/// `Pbkdf2Params`.
#[derive(Clone, PartialEq, Eq)]
pub struct Pbkdf2Params {
    pub hash: HashAlg,
    pub salt: Vec<u8>,
    pub iterations: u32,
}

impl std::fmt::Debug for HkdfParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HkdfParams")
            .field("hash", &self.hash)
            .field("salt_len", &self.salt.len())
            .field("info_len", &self.info.len())
            .finish()
    }
}
impl std::fmt::Debug for Pbkdf2Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pbkdf2Params")
            .field("hash", &self.hash)
            .field("salt_len", &self.salt.len())
            .field("iterations", &self.iterations)
            .finish()
    }
}

/// `algorithm` argument of `deriveBits`/`deriveKey`.
#[derive(Debug, Clone)]
pub enum DeriveAlgorithm {
    /// `EcdhKeyDeriveParams { public }`: the peer's ECDH public key.
    Ecdh {
        public: CryptoKey,
    },
    /// `EcdhKeyDeriveParams { public }` for X25519.
    X25519 {
        public: CryptoKey,
    },
    Hkdf(HkdfParams),
    Pbkdf2(Pbkdf2Params),
}

impl DeriveAlgorithm {
    pub fn name(&self) -> &'static str {
        match self {
            DeriveAlgorithm::Ecdh { .. } => "ECDH",
            DeriveAlgorithm::X25519 { .. } => "X25519",
            DeriveAlgorithm::Hkdf(_) => "HKDF",
            DeriveAlgorithm::Pbkdf2(_) => "PBKDF2",
        }
    }
}
