//! Dynamic algorithm input and the spec's "normalize an algorithm" step.
//!
//! A JS binding fills an [`AlgorithmIdentifier`] from the JS value with one
//! rule per JS type, and this module does the rest (registered-name lookup,
//! required members, WebIDL number ranges, nested `hash`):
//!
//! | JS value                                   | [`Member`]           |
//! |--------------------------------------------|----------------------|
//! | string                                     | `String`             |
//! | number                                     | `Number`             |
//! | `ArrayBuffer`, typed array, `DataView`     | `Bytes` (a copy)     |
//! | `CryptoKey`                                | `Key`                |
//! | other object (e.g. `hash: {name: ...}`)    | `Object`             |
//! | `null`                                     | `Null`               |
//! | `undefined` / absent                       | leave the member out |
//!
//! The algorithm argument itself is `AlgorithmIdentifier::Name` for a string
//! and `AlgorithmIdentifier::Object` for an object.

use std::collections::BTreeMap;

use crate::algorithm::*;
use crate::error::{not_supported, type_error, Result};
use crate::key::CryptoKey;

/// One member of an algorithm dictionary, converted from JS.
#[derive(Debug, Clone)]
pub enum Member {
    String(String),
    Number(f64),
    Bytes(Vec<u8>),
    Key(CryptoKey),
    Object(AlgorithmInput),
    Null,
}

/// An algorithm dictionary: `name` plus the other members.
#[derive(Debug, Clone, Default)]
pub struct AlgorithmInput {
    pub name: Option<String>,
    pub members: BTreeMap<String, Member>,
}

/// WebCrypto's `AlgorithmIdentifier = (object or DOMString)`.
#[derive(Debug, Clone)]
pub enum AlgorithmIdentifier {
    Name(String),
    Object(AlgorithmInput),
}

impl From<&str> for AlgorithmIdentifier {
    fn from(s: &str) -> Self {
        AlgorithmIdentifier::Name(s.to_owned())
    }
}

impl From<AlgorithmInput> for AlgorithmIdentifier {
    fn from(a: AlgorithmInput) -> Self {
        AlgorithmIdentifier::Object(a)
    }
}

impl AlgorithmInput {
    /// A dictionary with this `name`.
    pub fn new(name: &str) -> Self {
        AlgorithmInput { name: Some(name.to_owned()), members: BTreeMap::new() }
    }

    /// Builder: sets a member.
    pub fn with(mut self, key: &str, value: Member) -> Self {
        self.members.insert(key.to_owned(), value);
        self
    }
    pub fn with_str(self, key: &str, v: &str) -> Self {
        self.with(key, Member::String(v.to_owned()))
    }
    pub fn with_bytes(self, key: &str, v: impl Into<Vec<u8>>) -> Self {
        self.with(key, Member::Bytes(v.into()))
    }
    pub fn with_number(self, key: &str, v: f64) -> Self {
        self.with(key, Member::Number(v))
    }
    pub fn with_key(self, key: &str, v: CryptoKey) -> Self {
        self.with(key, Member::Key(v))
    }

    fn get(&self, key: &str) -> Option<&Member> {
        self.members.get(key)
    }

    fn required(&self, key: &str, dict: &str) -> Result<&Member> {
        self.get(key).ok_or_else(|| type_error(format!("{dict}: required member '{key}' is missing")))
    }

    fn bytes(&self, key: &str, dict: &str) -> Result<Vec<u8>> {
        match self.required(key, dict)? {
            Member::Bytes(b) => Ok(b.clone()),
            _ => Err(type_error(format!("{dict}.{key} must be a BufferSource"))),
        }
    }

    fn opt_bytes(&self, key: &str, dict: &str) -> Result<Option<Vec<u8>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Member::Bytes(b)) => Ok(Some(b.clone())),
            Some(_) => Err(type_error(format!("{dict}.{key} must be a BufferSource"))),
        }
    }

    fn string(&self, key: &str, dict: &str) -> Result<&str> {
        match self.required(key, dict)? {
            Member::String(s) => Ok(s),
            _ => Err(type_error(format!("{dict}.{key} must be a string"))),
        }
    }

    fn key(&self, key: &str, dict: &str) -> Result<CryptoKey> {
        match self.required(key, dict)? {
            Member::Key(k) => Ok(k.clone()),
            _ => Err(type_error(format!("{dict}.{key} must be a CryptoKey"))),
        }
    }

    /// `[EnforceRange]` integer in `0..=max`.
    fn int(&self, key: &str, dict: &str, max: u32) -> Result<Option<u32>> {
        match self.get(key) {
            None => Ok(None),
            Some(Member::Number(n)) => enforce_range(*n, max)
                .map(Some)
                .ok_or_else(|| type_error(format!("{dict}.{key} = {n} is outside 0..={max}"))),
            Some(_) => Err(type_error(format!("{dict}.{key} must be a number"))),
        }
    }

    fn required_int(&self, key: &str, dict: &str, max: u32) -> Result<u32> {
        self.int(key, dict, max)?.ok_or_else(|| type_error(format!("{dict}: required member '{key}' is missing")))
    }

    fn hash(&self, dict: &str) -> Result<HashAlg> {
        match self.required("hash", dict)? {
            Member::String(s) => normalize_hash_name(s),
            Member::Object(o) => normalize_hash_name(input_name(o)?),
            _ => Err(type_error(format!("{dict}.hash must be a string or an Algorithm"))),
        }
    }

    fn curve(&self, dict: &str) -> Result<NamedCurve> {
        let c = self.string("namedCurve", dict)?;
        NamedCurve::from_name(c).ok_or_else(|| not_supported(format!("named curve '{c}' is not supported")))
    }
}

/// WebIDL `[EnforceRange]`: finite, truncated toward zero, within range.
fn enforce_range(n: f64, max: u32) -> Option<u32> {
    if !n.is_finite() {
        return None;
    }
    let t = n.trunc();
    if t < 0.0 || t > f64::from(max) {
        return None;
    }
    Some(t as u32)
}

fn input_name(o: &AlgorithmInput) -> Result<&str> {
    o.name.as_deref().ok_or_else(|| type_error("Algorithm: required member 'name' is missing"))
}

fn normalize_hash_name(name: &str) -> Result<HashAlg> {
    HashAlg::from_name(name).ok_or_else(|| not_supported(format!("hash '{name}' is not supported")))
}

/// The operations that normalize an algorithm, each with its registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Digest,
    GenerateKey,
    ImportKey,
    Sign,
    Encrypt,
    WrapKey,
    DeriveBits,
    GetKeyLength,
}

const REGISTRY: &[(&str, &[Op])] = &[
    ("SHA-1", &[Op::Digest]),
    ("SHA-256", &[Op::Digest]),
    ("SHA-384", &[Op::Digest]),
    ("SHA-512", &[Op::Digest]),
    ("HMAC", &[Op::GenerateKey, Op::ImportKey, Op::Sign, Op::GetKeyLength]),
    ("AES-GCM", &[Op::GenerateKey, Op::ImportKey, Op::Encrypt, Op::GetKeyLength]),
    ("AES-CBC", &[Op::GenerateKey, Op::ImportKey, Op::Encrypt, Op::GetKeyLength]),
    ("AES-CTR", &[Op::GenerateKey, Op::ImportKey, Op::Encrypt, Op::GetKeyLength]),
    ("AES-KW", &[Op::GenerateKey, Op::ImportKey, Op::WrapKey, Op::GetKeyLength]),
    ("ECDSA", &[Op::GenerateKey, Op::ImportKey, Op::Sign]),
    ("ECDH", &[Op::GenerateKey, Op::ImportKey, Op::DeriveBits]),
    ("Ed25519", &[Op::GenerateKey, Op::ImportKey, Op::Sign]),
    ("X25519", &[Op::GenerateKey, Op::ImportKey, Op::DeriveBits]),
    ("HKDF", &[Op::ImportKey, Op::DeriveBits, Op::GetKeyLength]),
    ("PBKDF2", &[Op::ImportKey, Op::DeriveBits, Op::GetKeyLength]),
];

/// Registered-name lookup (case-insensitive); returns the canonical name
/// and the dictionary (empty for a bare string).
fn lookup(alg: &AlgorithmIdentifier, op: Op) -> Result<(&'static str, AlgorithmInput)> {
    let (name, dict) = match alg {
        AlgorithmIdentifier::Name(n) => (n.as_str(), AlgorithmInput::default()),
        AlgorithmIdentifier::Object(o) => (input_name(o)?, o.clone()),
    };
    REGISTRY
        .iter()
        .find(|(n, ops)| n.eq_ignore_ascii_case(name) && ops.contains(&op))
        .map(|(n, _)| (*n, dict))
        .ok_or_else(|| not_supported(format!("algorithm '{name}' is not supported for {op:?}")))
}

/// Normalizes the `digest` algorithm.
pub fn normalize_digest(alg: &AlgorithmIdentifier) -> Result<HashAlg> {
    let (name, _) = lookup(alg, Op::Digest)?;
    normalize_hash_name(name)
}

/// Normalizes the `generateKey` algorithm.
pub fn normalize_generate_key(alg: &AlgorithmIdentifier) -> Result<GenerateKeyAlgorithm> {
    let (name, d) = lookup(alg, Op::GenerateKey)?;
    Ok(match name {
        "HMAC" => GenerateKeyAlgorithm::Hmac {
            hash: d.hash("HmacKeyGenParams")?,
            length: d.int("length", "HmacKeyGenParams", u32::MAX)?,
        },
        "AES-GCM" | "AES-CBC" | "AES-CTR" | "AES-KW" => GenerateKeyAlgorithm::Aes {
            mode: aes_mode(name),
            length: d.required_int("length", "AesKeyGenParams", u16::MAX.into())? as u16,
        },
        "ECDSA" | "ECDH" => GenerateKeyAlgorithm::Ec { alg: ec_alg(name), curve: d.curve("EcKeyGenParams")? },
        "Ed25519" => GenerateKeyAlgorithm::Okp(OkpAlg::Ed25519),
        _ => GenerateKeyAlgorithm::Okp(OkpAlg::X25519),
    })
}

/// Normalizes the `importKey` algorithm (also `unwrapKey`'s unwrapped-key algorithm).
pub fn normalize_import_key(alg: &AlgorithmIdentifier) -> Result<ImportAlgorithm> {
    let (name, d) = lookup(alg, Op::ImportKey)?;
    Ok(match name {
        "HMAC" => ImportAlgorithm::Hmac {
            hash: d.hash("HmacImportParams")?,
            length: d.int("length", "HmacImportParams", u32::MAX)?,
        },
        "AES-GCM" | "AES-CBC" | "AES-CTR" | "AES-KW" => ImportAlgorithm::Aes(aes_mode(name)),
        "ECDSA" | "ECDH" => ImportAlgorithm::Ec { alg: ec_alg(name), curve: d.curve("EcKeyImportParams")? },
        "Ed25519" => ImportAlgorithm::Okp(OkpAlg::Ed25519),
        "X25519" => ImportAlgorithm::Okp(OkpAlg::X25519),
        "HKDF" => ImportAlgorithm::Hkdf,
        _ => ImportAlgorithm::Pbkdf2,
    })
}

/// Normalizes `deriveKey`'s `derivedKeyType` (import + "get key length").
pub fn normalize_derived_key_type(alg: &AlgorithmIdentifier) -> Result<DerivedKeyType> {
    let (name, d) = lookup(alg, Op::GetKeyLength)?;
    Ok(match name {
        "HMAC" => DerivedKeyType::Hmac {
            hash: d.hash("HmacImportParams")?,
            length: d.int("length", "HmacImportParams", u32::MAX)?,
        },
        "AES-GCM" | "AES-CBC" | "AES-CTR" | "AES-KW" => DerivedKeyType::Aes {
            mode: aes_mode(name),
            length: d.required_int("length", "AesDerivedKeyParams", u16::MAX.into())? as u16,
        },
        "HKDF" => DerivedKeyType::Hkdf,
        _ => DerivedKeyType::Pbkdf2,
    })
}

/// Normalizes the `sign`/`verify` algorithm.
pub fn normalize_sign(alg: &AlgorithmIdentifier) -> Result<SignAlgorithm> {
    let (name, d) = lookup(alg, Op::Sign)?;
    Ok(match name {
        "HMAC" => SignAlgorithm::Hmac,
        "ECDSA" => SignAlgorithm::Ecdsa { hash: d.hash("EcdsaParams")? },
        _ => SignAlgorithm::Ed25519,
    })
}

/// Normalizes the `encrypt`/`decrypt` (and `wrapKey`/`unwrapKey`) algorithm.
pub fn normalize_encrypt(alg: &AlgorithmIdentifier) -> Result<EncryptAlgorithm> {
    let (name, d) = lookup(alg, Op::Encrypt)?;
    Ok(match name {
        "AES-GCM" => EncryptAlgorithm::AesGcm(AesGcmParams {
            iv: d.bytes("iv", "AesGcmParams")?,
            additional_data: d.opt_bytes("additionalData", "AesGcmParams")?,
            tag_length: d.int("tagLength", "AesGcmParams", u8::MAX.into())?.map(|t| t as u8),
        }),
        "AES-CTR" => EncryptAlgorithm::AesCtr(AesCtrParams {
            counter: d.bytes("counter", "AesCtrParams")?,
            length: d.required_int("length", "AesCtrParams", u8::MAX.into())? as u8,
        }),
        _ => EncryptAlgorithm::AesCbc(AesCbcParams { iv: d.bytes("iv", "AesCbcParams")? }),
    })
}

/// Normalizes the `wrapKey`/`unwrapKey` algorithm: the algorithms
/// registered for wrapping (AES-KW), else those for `encrypt`, as the spec
/// says.
pub fn normalize_wrap(alg: &AlgorithmIdentifier) -> Result<EncryptAlgorithm> {
    match lookup(alg, Op::WrapKey) {
        Ok(_) => Ok(EncryptAlgorithm::AesKw),
        Err(_) => normalize_encrypt(alg),
    }
}

/// Normalizes the `deriveBits`/`deriveKey` algorithm.
pub fn normalize_derive(alg: &AlgorithmIdentifier) -> Result<DeriveAlgorithm> {
    let (name, d) = lookup(alg, Op::DeriveBits)?;
    Ok(match name {
        "ECDH" => DeriveAlgorithm::Ecdh { public: d.key("public", "EcdhKeyDeriveParams")? },
        "X25519" => DeriveAlgorithm::X25519 { public: d.key("public", "EcdhKeyDeriveParams")? },
        "HKDF" => DeriveAlgorithm::Hkdf(HkdfParams {
            hash: d.hash("HkdfParams")?,
            salt: d.bytes("salt", "HkdfParams")?,
            info: d.bytes("info", "HkdfParams")?,
        }),
        _ => DeriveAlgorithm::Pbkdf2(Pbkdf2Params {
            hash: d.hash("Pbkdf2Params")?,
            salt: d.bytes("salt", "Pbkdf2Params")?,
            iterations: d.required_int("iterations", "Pbkdf2Params", u32::MAX)?,
        }),
    })
}

fn aes_mode(name: &str) -> AesMode {
    match name {
        "AES-GCM" => AesMode::Gcm,
        "AES-CTR" => AesMode::Ctr,
        "AES-KW" => AesMode::Kw,
        _ => AesMode::Cbc,
    }
}

fn ec_alg(name: &str) -> EcAlg {
    if name == "ECDSA" {
        EcAlg::Ecdsa
    } else {
        EcAlg::Ecdh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(normalize_digest(&"sha-256".into()).unwrap(), HashAlg::Sha256);
        let a = AlgorithmInput::new("hmac").with_str("hash", "sha-384");
        assert_eq!(
            normalize_import_key(&a.into()).unwrap(),
            ImportAlgorithm::Hmac { hash: HashAlg::Sha384, length: None }
        );
    }

    #[test]
    fn unknown_or_misregistered_name_is_not_supported() {
        assert_eq!(normalize_digest(&"MD5".into()).unwrap_err().dom_name(), "NotSupportedError");
        // HKDF has no generateKey; AES-GCM has no sign.
        assert_eq!(normalize_generate_key(&"HKDF".into()).unwrap_err().dom_name(), "NotSupportedError");
        assert_eq!(normalize_sign(&"AES-GCM".into()).unwrap_err().dom_name(), "NotSupportedError");
    }

    #[test]
    fn missing_or_mistyped_members_are_type_errors() {
        let e = normalize_generate_key(&AlgorithmInput::new("AES-GCM").into()).unwrap_err();
        assert_eq!(e.dom_name(), "TypeError");
        assert!(e.message().contains("length"));
        let e = normalize_encrypt(&AlgorithmInput::new("AES-CBC").with_str("iv", "x").into()).unwrap_err();
        assert_eq!(e.dom_name(), "TypeError");
        let e = normalize_sign(&"ECDSA".into()).unwrap_err();
        assert_eq!(e.dom_name(), "TypeError");
        let e = normalize_derive(&AlgorithmInput::new("ECDH").with_str("public", "k").into()).unwrap_err();
        assert_eq!(e.dom_name(), "TypeError");
        let obj: AlgorithmIdentifier = AlgorithmInput::default().into();
        assert_eq!(normalize_digest(&obj).unwrap_err().dom_name(), "TypeError");
    }

    #[test]
    fn enforce_range_rejects_out_of_range_numbers() {
        for bad in [-1.0, f64::NAN, f64::INFINITY, 256.0] {
            let a = AlgorithmInput::new("AES-GCM").with_bytes("iv", vec![0; 12]).with_number("tagLength", bad);
            assert_eq!(normalize_encrypt(&a.into()).unwrap_err().dom_name(), "TypeError", "{bad}");
        }
        let a = AlgorithmInput::new("AES-GCM").with_bytes("iv", vec![0; 12]).with_number("tagLength", 96.7);
        match normalize_encrypt(&a.into()).unwrap() {
            EncryptAlgorithm::AesGcm(p) => assert_eq!(p.tag_length, Some(96)),
            other => panic!("{other:?}"),
        }
        let a = AlgorithmInput::new("PBKDF2")
            .with_str("hash", "SHA-256")
            .with_bytes("salt", b"s".to_vec())
            .with_number("iterations", 4294967296.0);
        assert_eq!(normalize_derive(&a.into()).unwrap_err().dom_name(), "TypeError");
    }

    #[test]
    fn nested_hash_object_and_unknown_curve() {
        let a = AlgorithmInput::new("ECDSA").with("hash", Member::Object(AlgorithmInput::new("SHA-512")));
        assert_eq!(normalize_sign(&a.into()).unwrap(), SignAlgorithm::Ecdsa { hash: HashAlg::Sha512 });
        let a = AlgorithmInput::new("ECDSA").with_str("hash", "SHA-3");
        assert_eq!(normalize_sign(&a.into()).unwrap_err().dom_name(), "NotSupportedError");
        let a = AlgorithmInput::new("ECDH").with_str("namedCurve", "P-192");
        assert_eq!(normalize_generate_key(&a.into()).unwrap_err().dom_name(), "NotSupportedError");
    }
}
