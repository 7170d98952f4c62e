//! The `SubtleCrypto` methods, taking normalized algorithms.
//!
//! Each function follows the method's steps in the W3C Web Cryptography
//! API (and the Ed25519/X25519 text merged into it): the generic checks of
//! the method (algorithm name against the key, usages, extractable), then
//! the algorithm's own steps. Errors carry the `DOMException` name the
//! specification throws at that step.

use zeroize::Zeroizing;

use crate::algorithm::*;
use crate::error::{data, invalid_access, not_supported, operation, syntax, type_error, Result};
use crate::jwk::{b64, JsonWebKey};
use crate::key::*;
use crate::ops::{aes, ec, hash, kdf, okp, truncate_bits};
use crate::usage::KeyUsages;

const SIGN_VERIFY: KeyUsages = KeyUsages::SIGN.union(KeyUsages::VERIFY);
const AES_USAGES: KeyUsages =
    KeyUsages::ENCRYPT.union(KeyUsages::DECRYPT).union(KeyUsages::WRAP_KEY).union(KeyUsages::UNWRAP_KEY);
/// AES-KW keys only wrap and unwrap.
const AES_KW_USAGES: KeyUsages = KeyUsages::WRAP_KEY.union(KeyUsages::UNWRAP_KEY);

fn aes_usages(mode: AesMode) -> KeyUsages {
    if mode == AesMode::Kw {
        AES_KW_USAGES
    } else {
        AES_USAGES
    }
}
const DERIVE: KeyUsages = KeyUsages::DERIVE_KEY.union(KeyUsages::DERIVE_BITS);

/// Upper bound on key material this crate allocates on a script's say-so
/// (HMAC `generateKey` length, PBKDF2 `deriveBits` length): 2^20 bits,
/// 128 KiB. The specification sets none; without one a script could make
/// the enclave allocate 512 MiB in one call, and an allocation failure
/// aborts the process. No real key comes near it.
pub const MAX_DERIVED_BITS: u32 = 1 << 20;

/// Most PBKDF2 iterations `deriveBits`/`deriveKey` accept: 100,000, the
/// limit Cloudflare Workers apply (NotSupportedError above it). The
/// specification sets none, and a count of 2^32 - 1 would keep a thread busy
/// for hours.
pub const MAX_PBKDF2_ITERATIONS: u32 = 100_000;

/// Most PBKDF2 work one call may do, in iterations x output blocks (a block
/// is one hash output; each block runs every iteration, so the cost is
/// linear in both). 1,000,000 is 10 blocks at the iteration limit (320
/// bytes of SHA-256 output), far beyond what key derivation needs, and
/// keeps one call, which a JS runtime cannot interrupt, at about 0.6 s of
/// CPU for the slowest hashes: SHA-384/512 took 50-60 ms per 100,000
/// iteration-blocks in a release build on the (AMD EPYC) development
/// machine, SHA-1 and SHA-256 (SHA-NI) about 11 ms. Beyond it:
/// OperationError.
pub const MAX_PBKDF2_WORK: u64 = 1_000_000;

/// `digest(algorithm, data)`.
pub fn digest(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    hash::digest(alg, data)
}

fn random_secret(len: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut v = Zeroizing::new(vec![0u8; len]);
    crate::random::fill(&mut v)?;
    Ok(v)
}

/// `generateKey(algorithm, extractable, keyUsages)`.
pub fn generate_key(alg: &GenerateKeyAlgorithm, extractable: bool, usages: KeyUsages) -> Result<GeneratedKey> {
    let result = match *alg {
        GenerateKeyAlgorithm::Hmac { hash, length } => {
            usages.check_subset(SIGN_VERIFY, "HMAC")?;
            let length = match length {
                None => hash.block_bits(),
                Some(0) => return Err(operation("HMAC: length must not be zero")),
                Some(l) if l > MAX_DERIVED_BITS => {
                    return Err(operation(format!(
                        "HMAC: length {l} exceeds this implementation's limit of {MAX_DERIVED_BITS} bits"
                    )))
                }
                Some(l) => l,
            };
            let mut secret = random_secret(length.div_ceil(8) as usize)?;
            truncate_bits(&mut secret, length as usize);
            GeneratedKey::Key(CryptoKey::new(
                KeyAlgorithm::Hmac { hash, length },
                KeyType::Secret,
                extractable,
                usages,
                KeyMaterial::Secret(secret),
            ))
        }
        GenerateKeyAlgorithm::Aes { mode, length } => {
            usages.check_subset(aes_usages(mode), mode.name())?;
            if !matches!(length, 128 | 192 | 256) {
                return Err(operation(format!("{}: length {length} is not 128, 192 or 256", mode.name())));
            }
            let secret = random_secret(usize::from(length / 8))?;
            GeneratedKey::Key(CryptoKey::new(
                KeyAlgorithm::Aes { mode, length },
                KeyType::Secret,
                extractable,
                usages,
                KeyMaterial::Secret(secret),
            ))
        }
        GenerateKeyAlgorithm::Ec { alg, curve } => {
            let (allowed, public_usages) = match alg {
                EcAlg::Ecdsa => (SIGN_VERIFY, usages & KeyUsages::VERIFY),
                EcAlg::Ecdh => (DERIVE, KeyUsages::empty()),
            };
            usages.check_subset(allowed, alg.name())?;
            let private_usages = match alg {
                EcAlg::Ecdsa => usages & KeyUsages::SIGN,
                EcAlg::Ecdh => usages,
            };
            let sk = ec::generate(curve)?;
            let algorithm = KeyAlgorithm::Ec { alg, curve };
            let public_key =
                CryptoKey::new(algorithm, KeyType::Public, true, public_usages, KeyMaterial::EcPublic(sk.public()));
            let private_key =
                CryptoKey::new(algorithm, KeyType::Private, extractable, private_usages, KeyMaterial::EcPrivate(sk));
            GeneratedKey::Pair(CryptoKeyPair { public_key, private_key })
        }
        GenerateKeyAlgorithm::Okp(alg) => {
            let (allowed, public_usages, private_usages) = match alg {
                OkpAlg::Ed25519 => (SIGN_VERIFY, usages & KeyUsages::VERIFY, usages & KeyUsages::SIGN),
                OkpAlg::X25519 => (DERIVE, KeyUsages::empty(), usages),
            };
            usages.check_subset(allowed, alg.name())?;
            let seed = okp::random_seed()?;
            let (public, private) = match alg {
                OkpAlg::Ed25519 => {
                    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
                    (KeyMaterial::Ed25519Public(okp::ed25519_public(&sk)), KeyMaterial::Ed25519Private(sk))
                }
                OkpAlg::X25519 => {
                    let sk = x25519_dalek::StaticSecret::from(*seed);
                    (KeyMaterial::X25519Public(okp::x25519_public(&sk)), KeyMaterial::X25519Private(sk))
                }
            };
            let algorithm = KeyAlgorithm::Okp(alg);
            GeneratedKey::Pair(CryptoKeyPair {
                public_key: CryptoKey::new(algorithm, KeyType::Public, true, public_usages, public),
                private_key: CryptoKey::new(algorithm, KeyType::Private, extractable, private_usages, private),
            })
        }
    };
    match &result {
        GeneratedKey::Key(k) if k.usages.is_empty() => {
            Err(syntax("generateKey: usages must not be empty for a secret key"))
        }
        GeneratedKey::Pair(p) if p.private_key.usages.is_empty() => {
            Err(syntax("generateKey: the private key would have no usages"))
        }
        _ => Ok(result),
    }
}

fn expect_bytes(format: KeyFormat, key_data: &KeyData) -> Result<&[u8]> {
    match key_data {
        KeyData::Bytes(b) => Ok(b),
        KeyData::Jwk(_) => Err(type_error(format!("importKey: '{}' key data must be a BufferSource", format.name()))),
    }
}

fn expect_jwk(key_data: &KeyData) -> Result<&JsonWebKey> {
    match key_data {
        KeyData::Jwk(j) => Ok(j),
        KeyData::Bytes(_) => Err(type_error("importKey: 'jwk' key data must be a JsonWebKey")),
    }
}

/// `importKey(format, keyData, algorithm, extractable, keyUsages)`.
pub fn import_key(
    format: KeyFormat,
    key_data: &KeyData,
    alg: &ImportAlgorithm,
    extractable: bool,
    usages: KeyUsages,
) -> Result<CryptoKey> {
    // Generic step: raw/pkcs8/spki take bytes, jwk takes a JsonWebKey.
    if format != KeyFormat::Jwk {
        expect_bytes(format, key_data)?;
    } else {
        expect_jwk(key_data)?;
    }
    let key = match *alg {
        ImportAlgorithm::Hmac { hash, length } => import_hmac(format, key_data, hash, length, extractable, usages)?,
        ImportAlgorithm::Aes(mode) => import_aes(format, key_data, mode, extractable, usages)?,
        ImportAlgorithm::Ec { alg, curve } => import_ec(format, key_data, alg, curve, extractable, usages)?,
        ImportAlgorithm::Okp(alg) => import_okp(format, key_data, alg, extractable, usages)?,
        ImportAlgorithm::Hkdf | ImportAlgorithm::Pbkdf2 => {
            let (name, algorithm) = match alg {
                ImportAlgorithm::Hkdf => ("HKDF", KeyAlgorithm::Hkdf),
                _ => ("PBKDF2", KeyAlgorithm::Pbkdf2),
            };
            if format != KeyFormat::Raw {
                return Err(not_supported(format!("{name}: only 'raw' import is supported")));
            }
            usages.check_subset(DERIVE, name)?;
            if extractable {
                return Err(syntax(format!("{name}: keys cannot be extractable")));
            }
            let bytes = expect_bytes(format, key_data)?;
            CryptoKey::new(
                algorithm,
                KeyType::Secret,
                false,
                usages,
                KeyMaterial::Secret(Zeroizing::new(bytes.to_vec())),
            )
        }
    };
    if matches!(key.key_type, KeyType::Secret | KeyType::Private) && key.usages.is_empty() {
        return Err(syntax(format!("importKey: usages must not be empty for a {} key", key.key_type.name())));
    }
    Ok(key)
}

fn import_hmac(
    format: KeyFormat,
    key_data: &KeyData,
    hash: HashAlg,
    length: Option<u32>,
    extractable: bool,
    usages: KeyUsages,
) -> Result<CryptoKey> {
    usages.check_subset(SIGN_VERIFY, "HMAC")?;
    let bytes = match format {
        KeyFormat::Raw => Zeroizing::new(expect_bytes(format, key_data)?.to_vec()),
        KeyFormat::Jwk => {
            let jwk = expect_jwk(key_data)?;
            if jwk.kty.as_deref() != Some("oct") {
                return Err(data("HMAC: JWK 'kty' must be 'oct'"));
            }
            let k = jwk.decode_member("k", &jwk.k)?;
            if let Some(a) = &jwk.alg {
                if a != hash.hmac_jwk_alg() {
                    return Err(data(format!("HMAC: JWK 'alg' is '{a}', expected '{}'", hash.hmac_jwk_alg())));
                }
            }
            jwk.check_common("oct", "sig", usages, extractable)?;
            k
        }
        f => return Err(not_supported(format!("HMAC: format '{}' is not supported", f.name()))),
    };
    let data_bits = bytes.len() as u64 * 8;
    if data_bits == 0 {
        return Err(data("HMAC: key data is empty"));
    }
    let length = match length {
        None => data_bits,
        Some(l) => {
            let l = u64::from(l);
            if l > data_bits {
                return Err(data(format!("HMAC: length {l} exceeds the {data_bits} bits of key data")));
            }
            if l <= data_bits - 8 {
                return Err(data(format!(
                    "HMAC: length {l} leaves a whole unused byte of the {data_bits}-bit key data"
                )));
            }
            l
        }
    };
    let length = u32::try_from(length).map_err(|_| data("HMAC: key data is larger than 2^32 bits"))?;
    Ok(CryptoKey::new(
        KeyAlgorithm::Hmac { hash, length },
        KeyType::Secret,
        extractable,
        usages,
        KeyMaterial::Secret(bytes),
    ))
}

fn aes_jwk_alg(mode: AesMode, bits: usize) -> String {
    let suffix = match mode {
        AesMode::Gcm => "GCM",
        AesMode::Cbc => "CBC",
        AesMode::Ctr => "CTR",
        AesMode::Kw => "KW",
    };
    format!("A{bits}{suffix}")
}

fn import_aes(
    format: KeyFormat,
    key_data: &KeyData,
    mode: AesMode,
    extractable: bool,
    usages: KeyUsages,
) -> Result<CryptoKey> {
    usages.check_subset(aes_usages(mode), mode.name())?;
    let bytes = match format {
        KeyFormat::Raw => Zeroizing::new(expect_bytes(format, key_data)?.to_vec()),
        KeyFormat::Jwk => {
            let jwk = expect_jwk(key_data)?;
            if jwk.kty.as_deref() != Some("oct") {
                return Err(data(format!("{}: JWK 'kty' must be 'oct'", mode.name())));
            }
            let k = jwk.decode_member("k", &jwk.k)?;
            if !matches!(k.len(), 16 | 24 | 32) {
                return Err(data(format!(
                    "{}: JWK 'k' is {} bits; expected 128, 192 or 256",
                    mode.name(),
                    k.len() * 8
                )));
            }
            let expected = aes_jwk_alg(mode, k.len() * 8);
            if let Some(a) = &jwk.alg {
                if *a != expected {
                    return Err(data(format!("{}: JWK 'alg' is '{a}', expected '{expected}'", mode.name())));
                }
            }
            jwk.check_common("oct", "enc", usages, extractable)?;
            k
        }
        f => return Err(not_supported(format!("{}: format '{}' is not supported", mode.name(), f.name()))),
    };
    if !matches!(bytes.len(), 16 | 24 | 32) {
        return Err(data(format!("{}: key is {} bits; expected 128, 192 or 256", mode.name(), bytes.len() * 8)));
    }
    let length = (bytes.len() * 8) as u16;
    Ok(CryptoKey::new(
        KeyAlgorithm::Aes { mode, length },
        KeyType::Secret,
        extractable,
        usages,
        KeyMaterial::Secret(bytes),
    ))
}

/// Allowed usages of (public, private) keys of an EC or OKP algorithm.
fn asymmetric_usages(name: &str) -> (KeyUsages, KeyUsages) {
    match name {
        "ECDSA" | "Ed25519" => (KeyUsages::VERIFY, KeyUsages::SIGN),
        _ => (KeyUsages::empty(), DERIVE),
    }
}

fn check_asymmetric_usages(name: &str, private: bool, usages: KeyUsages) -> Result<()> {
    let (public_allowed, private_allowed) = asymmetric_usages(name);
    let (allowed, what) = if private {
        (private_allowed, format!("a {name} private key"))
    } else {
        (public_allowed, format!("a {name} public key"))
    };
    usages.check_subset(allowed, &what)
}

fn import_ec(
    format: KeyFormat,
    key_data: &KeyData,
    alg: EcAlg,
    curve: NamedCurve,
    extractable: bool,
    usages: KeyUsages,
) -> Result<CryptoKey> {
    let algorithm = KeyAlgorithm::Ec { alg, curve };
    let public =
        |k: EcPublic| CryptoKey::new(algorithm, KeyType::Public, extractable, usages, KeyMaterial::EcPublic(k));
    let private =
        |k: EcPrivate| CryptoKey::new(algorithm, KeyType::Private, extractable, usages, KeyMaterial::EcPrivate(k));
    match format {
        KeyFormat::Spki => {
            check_asymmetric_usages(alg.name(), false, usages)?;
            Ok(public(ec::spki_decode(curve, expect_bytes(format, key_data)?)?))
        }
        KeyFormat::Raw => {
            check_asymmetric_usages(alg.name(), false, usages)?;
            Ok(public(ec::public_from_sec1(curve, expect_bytes(format, key_data)?)?))
        }
        KeyFormat::Pkcs8 => {
            check_asymmetric_usages(alg.name(), true, usages)?;
            Ok(private(ec::pkcs8_decode(curve, expect_bytes(format, key_data)?)?))
        }
        KeyFormat::Jwk => {
            let jwk = expect_jwk(key_data)?;
            let is_private = jwk.d.is_some();
            check_asymmetric_usages(alg.name(), is_private, usages)?;
            let expected_use = if alg == EcAlg::Ecdsa { "sig" } else { "enc" };
            jwk.check_common("EC", expected_use, usages, extractable)?;
            match jwk.crv.as_deref() {
                Some(c) if c == curve.name() => {}
                Some(c) => {
                    return Err(data(format!("{}: JWK 'crv' is '{c}', expected '{}'", alg.name(), curve.name())))
                }
                None => return Err(data(format!("{}: JWK member 'crv' is missing", alg.name()))),
            }
            if alg == EcAlg::Ecdsa {
                // ECDH ignores 'alg' (WPT: "alg is ignored for ECDH import").
                if let Some(a) = &jwk.alg {
                    let expected = match curve {
                        NamedCurve::P256 => "ES256",
                        NamedCurve::P384 => "ES384",
                        NamedCurve::P521 => "ES512",
                    };
                    if a != expected {
                        return Err(data(format!("ECDSA: JWK 'alg' is '{a}', expected '{expected}'")));
                    }
                }
            }
            let x = jwk.decode_member("x", &jwk.x)?;
            let y = jwk.decode_member("y", &jwk.y)?;
            let n = curve.field_len();
            if x.len() != n || y.len() != n {
                return Err(data(format!("{}: JWK 'x' and 'y' must be {n} bytes each", alg.name())));
            }
            let mut point = Vec::with_capacity(1 + 2 * n);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let pk = ec::public_from_sec1(curve, &point)?;
            if is_private {
                let d = jwk.decode_member("d", &jwk.d)?;
                let sk = ec::private_from_scalar(curve, &d)?;
                if sk.public() != pk {
                    return Err(data(format!("{}: JWK 'x'/'y' do not match 'd'", alg.name())));
                }
                Ok(private(sk))
            } else {
                Ok(public(pk))
            }
        }
    }
}

fn import_okp(
    format: KeyFormat,
    key_data: &KeyData,
    alg: OkpAlg,
    extractable: bool,
    usages: KeyUsages,
) -> Result<CryptoKey> {
    let algorithm = KeyAlgorithm::Okp(alg);
    let public = |pk: [u8; 32]| {
        let m = match alg {
            OkpAlg::Ed25519 => KeyMaterial::Ed25519Public(pk),
            OkpAlg::X25519 => KeyMaterial::X25519Public(pk),
        };
        CryptoKey::new(algorithm, KeyType::Public, extractable, usages, m)
    };
    let private = |seed: &[u8; 32]| {
        let m = match alg {
            OkpAlg::Ed25519 => KeyMaterial::Ed25519Private(ed25519_dalek::SigningKey::from_bytes(seed)),
            OkpAlg::X25519 => KeyMaterial::X25519Private(x25519_dalek::StaticSecret::from(*seed)),
        };
        CryptoKey::new(algorithm, KeyType::Private, extractable, usages, m)
    };
    match format {
        KeyFormat::Spki => {
            check_asymmetric_usages(alg.name(), false, usages)?;
            Ok(public(okp::spki_decode(alg, expect_bytes(format, key_data)?)?))
        }
        KeyFormat::Raw => {
            check_asymmetric_usages(alg.name(), false, usages)?;
            Ok(public(okp::to32(expect_bytes(format, key_data)?, &format!("{} raw public key", alg.name()))?))
        }
        KeyFormat::Pkcs8 => {
            check_asymmetric_usages(alg.name(), true, usages)?;
            let seed = okp::pkcs8_decode(alg, expect_bytes(format, key_data)?)?;
            Ok(private(&seed))
        }
        KeyFormat::Jwk => {
            let jwk = expect_jwk(key_data)?;
            let is_private = jwk.d.is_some();
            check_asymmetric_usages(alg.name(), is_private, usages)?;
            let expected_use = if alg == OkpAlg::Ed25519 { "sig" } else { "enc" };
            jwk.check_common("OKP", expected_use, usages, extractable)?;
            match jwk.crv.as_deref() {
                Some(c) if c == alg.name() => {}
                Some(c) => return Err(data(format!("{}: JWK 'crv' is '{c}', expected '{}'", alg.name(), alg.name()))),
                None => return Err(data(format!("{}: JWK member 'crv' is missing", alg.name()))),
            }
            if alg == OkpAlg::Ed25519 {
                if let Some(a) = &jwk.alg {
                    if a != "Ed25519" && a != "EdDSA" {
                        return Err(data(format!("Ed25519: JWK 'alg' is '{a}', expected 'Ed25519' or 'EdDSA'")));
                    }
                }
            }
            let x = jwk.decode_member("x", &jwk.x)?;
            let pk = okp::to32(&x, "JWK 'x'")?;
            if is_private {
                let d = jwk.decode_member("d", &jwk.d)?;
                let seed = Zeroizing::new(okp::to32(&d, "JWK 'd'")?);
                let key = private(&seed);
                if public_okp_bytes(&key) != Some(pk) {
                    return Err(data(format!("{}: JWK 'x' does not match 'd'", alg.name())));
                }
                Ok(key)
            } else {
                Ok(public(pk))
            }
        }
    }
}

fn public_okp_bytes(key: &CryptoKey) -> Option<[u8; 32]> {
    match &*key.material {
        KeyMaterial::Ed25519Private(sk) => Some(okp::ed25519_public(sk)),
        KeyMaterial::X25519Private(sk) => Some(okp::x25519_public(sk)),
        KeyMaterial::Ed25519Public(pk) | KeyMaterial::X25519Public(pk) => Some(*pk),
        _ => None,
    }
}

fn base_jwk(key: &CryptoKey, kty: &str) -> JsonWebKey {
    let mut jwk = JsonWebKey::default();
    jwk.kty = Some(kty.to_owned());
    jwk.key_ops = Some(key.usages.names().into_iter().map(str::to_owned).collect());
    jwk.ext = Some(key.extractable);
    jwk
}

/// `exportKey(format, key)`.
pub fn export_key(format: KeyFormat, key: &CryptoKey) -> Result<ExportedKey> {
    if matches!(key.algorithm, KeyAlgorithm::Hkdf | KeyAlgorithm::Pbkdf2) {
        return Err(not_supported(format!("exportKey: {} keys cannot be exported", key.algorithm.name())));
    }
    if !key.extractable {
        return Err(invalid_access("exportKey: key is not extractable"));
    }
    let name = key.algorithm.name();
    let unsupported = || {
        not_supported(format!("{name}: format '{}' is not supported for a {} key", format.name(), key.key_type.name()))
    };
    let bytes = |v: Vec<u8>| Ok(ExportedKey::Bytes(Zeroizing::new(v)));
    match (&*key.material, format) {
        (KeyMaterial::Secret(s), KeyFormat::Raw) => bytes(s.to_vec()),
        (KeyMaterial::Secret(s), KeyFormat::Jwk) => {
            let mut jwk = base_jwk(key, "oct");
            jwk.k = Some(b64(s));
            jwk.alg = Some(match key.algorithm {
                KeyAlgorithm::Hmac { hash, .. } => hash.hmac_jwk_alg().to_owned(),
                KeyAlgorithm::Aes { mode, length } => aes_jwk_alg(mode, usize::from(length)),
                _ => return Err(unsupported()),
            });
            Ok(ExportedKey::Jwk(jwk))
        }
        (KeyMaterial::Secret(_), _) => Err(unsupported()),

        (KeyMaterial::EcPublic(pk), KeyFormat::Raw) => bytes(ec::public_to_sec1(pk)),
        (KeyMaterial::EcPublic(pk), KeyFormat::Spki) => bytes(ec::spki_encode(pk)?),
        (KeyMaterial::EcPrivate(sk), KeyFormat::Pkcs8) => Ok(ExportedKey::Bytes(ec::pkcs8_encode(sk)?)),
        (KeyMaterial::EcPublic(_), KeyFormat::Jwk) | (KeyMaterial::EcPrivate(_), KeyFormat::Jwk) => {
            let mut jwk = base_jwk(key, "EC");
            let (pk, d) = match &*key.material {
                KeyMaterial::EcPublic(pk) => (pk.clone(), None),
                KeyMaterial::EcPrivate(sk) => (sk.public(), Some(b64(&ec::private_scalar(sk)))),
                _ => return Err(unsupported()),
            };
            let (x, y) = ec::public_xy(&pk);
            jwk.crv = Some(pk.curve().name().to_owned());
            jwk.x = Some(b64(&x));
            jwk.y = Some(b64(&y));
            jwk.d = d;
            Ok(ExportedKey::Jwk(jwk))
        }

        (KeyMaterial::Ed25519Public(pk), KeyFormat::Raw) | (KeyMaterial::X25519Public(pk), KeyFormat::Raw) => {
            bytes(pk.to_vec())
        }
        (KeyMaterial::Ed25519Public(pk), KeyFormat::Spki) => bytes(okp::spki_encode(OkpAlg::Ed25519, pk)?),
        (KeyMaterial::X25519Public(pk), KeyFormat::Spki) => bytes(okp::spki_encode(OkpAlg::X25519, pk)?),
        (KeyMaterial::Ed25519Private(sk), KeyFormat::Pkcs8) => {
            Ok(ExportedKey::Bytes(okp::pkcs8_encode(OkpAlg::Ed25519, &sk.to_bytes())?))
        }
        (KeyMaterial::X25519Private(sk), KeyFormat::Pkcs8) => {
            Ok(ExportedKey::Bytes(okp::pkcs8_encode(OkpAlg::X25519, &Zeroizing::new(sk.to_bytes()))?))
        }
        (
            KeyMaterial::Ed25519Public(_)
            | KeyMaterial::Ed25519Private(_)
            | KeyMaterial::X25519Public(_)
            | KeyMaterial::X25519Private(_),
            KeyFormat::Jwk,
        ) => {
            let mut jwk = base_jwk(key, "OKP");
            let pk = public_okp_bytes(key).ok_or_else(unsupported)?;
            jwk.crv = Some(name.to_owned());
            jwk.x = Some(b64(&pk));
            jwk.d = match &*key.material {
                KeyMaterial::Ed25519Private(sk) => Some(b64(&sk.to_bytes())),
                KeyMaterial::X25519Private(sk) => Some(b64(&Zeroizing::new(sk.to_bytes())[..])),
                _ => None,
            };
            if matches!(key.algorithm, KeyAlgorithm::Okp(OkpAlg::Ed25519)) {
                jwk.alg = Some("Ed25519".to_owned());
            }
            Ok(ExportedKey::Jwk(jwk))
        }
        // Public formats of private keys and vice versa.
        (_, KeyFormat::Raw | KeyFormat::Spki | KeyFormat::Pkcs8) => Err(invalid_access(format!(
            "exportKey: format '{}' does not apply to a {} key",
            format.name(),
            key.key_type.name()
        ))),
    }
}

fn check_key(alg_name: &str, key: &CryptoKey, usage: KeyUsages, method: &str) -> Result<()> {
    if alg_name != key.algorithm.name() {
        return Err(invalid_access(format!(
            "{method}: algorithm {alg_name} does not match the key's algorithm {}",
            key.algorithm.name()
        )));
    }
    if !key.usages.contains(usage) {
        return Err(invalid_access(format!("{method}: key usages do not include '{}'", usage.names().join(""))));
    }
    Ok(())
}

fn secret(key: &CryptoKey) -> Result<&[u8]> {
    match &*key.material {
        KeyMaterial::Secret(s) => Ok(s),
        _ => Err(invalid_access("key is not a secret key")),
    }
}

/// `sign(algorithm, key, data)`.
pub fn sign(alg: &SignAlgorithm, key: &CryptoKey, msg: &[u8]) -> Result<Vec<u8>> {
    check_key(alg.name(), key, KeyUsages::SIGN, "sign")?;
    match (alg, &key.algorithm, &*key.material) {
        (SignAlgorithm::Hmac, KeyAlgorithm::Hmac { hash, .. }, KeyMaterial::Secret(s)) => {
            Ok(hash::hmac_sign(*hash, s, msg))
        }
        (SignAlgorithm::Ecdsa { hash }, _, KeyMaterial::EcPrivate(sk)) => ec::sign(sk, *hash, msg),
        (SignAlgorithm::Ed25519, _, KeyMaterial::Ed25519Private(sk)) => Ok(okp::ed25519_sign(sk, msg)),
        _ => Err(invalid_access(format!("sign: a {} key cannot sign", key.key_type.name()))),
    }
}

/// `verify(algorithm, key, signature, data)`. A malformed signature is `false`.
pub fn verify(alg: &SignAlgorithm, key: &CryptoKey, signature: &[u8], msg: &[u8]) -> Result<bool> {
    check_key(alg.name(), key, KeyUsages::VERIFY, "verify")?;
    match (alg, &key.algorithm, &*key.material) {
        (SignAlgorithm::Hmac, KeyAlgorithm::Hmac { hash, .. }, KeyMaterial::Secret(s)) => {
            Ok(hash::hmac_verify(*hash, s, msg, signature))
        }
        (SignAlgorithm::Ecdsa { hash }, _, KeyMaterial::EcPublic(pk)) => Ok(ec::verify(pk, *hash, msg, signature)),
        (SignAlgorithm::Ed25519, _, KeyMaterial::Ed25519Public(pk)) => Ok(okp::ed25519_verify(pk, msg, signature)),
        _ => Err(invalid_access(format!("verify: a {} key cannot verify", key.key_type.name()))),
    }
}

fn cipher(alg: &EncryptAlgorithm, key: &[u8], input: &[u8], encrypt: bool) -> Result<Vec<u8>> {
    match alg {
        EncryptAlgorithm::AesGcm(p) => {
            let aad = p.additional_data.as_deref().unwrap_or(&[]);
            let tag = p.tag_length.unwrap_or(128);
            if encrypt {
                aes::gcm_encrypt(key, &p.iv, aad, tag, input)
            } else {
                aes::gcm_decrypt(key, &p.iv, aad, tag, input)
            }
        }
        EncryptAlgorithm::AesCbc(p) => {
            if encrypt {
                aes::cbc_encrypt(key, &p.iv, input)
            } else {
                aes::cbc_decrypt(key, &p.iv, input)
            }
        }
        // The same keystream XOR both ways.
        EncryptAlgorithm::AesCtr(p) => aes::ctr(key, &p.counter, p.length, input),
        EncryptAlgorithm::AesKw => {
            if encrypt {
                aes::kw_wrap(key, input)
            } else {
                aes::kw_unwrap(key, input)
            }
        }
    }
}

/// `encrypt(algorithm, key, data)`.
pub fn encrypt(alg: &EncryptAlgorithm, key: &CryptoKey, plaintext: &[u8]) -> Result<Vec<u8>> {
    check_key(alg.name(), key, KeyUsages::ENCRYPT, "encrypt")?;
    cipher(alg, secret(key)?, plaintext, true)
}

/// `decrypt(algorithm, key, data)`.
pub fn decrypt(alg: &EncryptAlgorithm, key: &CryptoKey, ciphertext: &[u8]) -> Result<Vec<u8>> {
    check_key(alg.name(), key, KeyUsages::DECRYPT, "decrypt")?;
    cipher(alg, secret(key)?, ciphertext, false)
}

/// Applies a `deriveBits` length to a full ECDH/X25519 secret.
fn shorten(mut secret: Zeroizing<Vec<u8>>, length: Option<u32>) -> Result<Zeroizing<Vec<u8>>> {
    match length {
        None => Ok(secret),
        Some(l) if u64::from(l) > secret.len() as u64 * 8 => {
            Err(operation(format!("deriveBits: length {l} exceeds the {}-bit shared secret", secret.len() * 8)))
        }
        Some(l) => {
            truncate_bits(&mut secret, l as usize);
            Ok(secret)
        }
    }
}

fn kdf_length(name: &str, length: Option<u32>) -> Result<usize> {
    match length {
        None => Err(operation(format!("{name}: deriveBits length must not be null"))),
        Some(l) if l % 8 != 0 => Err(operation(format!("{name}: length {l} is not a multiple of 8"))),
        Some(l) if l > MAX_DERIVED_BITS => {
            Err(operation(format!("{name}: length {l} exceeds this implementation's limit of {MAX_DERIVED_BITS} bits")))
        }
        Some(l) => Ok((l / 8) as usize),
    }
}

/// The algorithm-specific "derive bits" operation, after the generic checks.
fn derive(alg: &DeriveAlgorithm, base: &CryptoKey, length: Option<u32>) -> Result<Zeroizing<Vec<u8>>> {
    match alg {
        DeriveAlgorithm::Ecdh { public } | DeriveAlgorithm::X25519 { public } => {
            if base.key_type != KeyType::Private {
                return Err(invalid_access("deriveBits: the base key must be a private key"));
            }
            if public.key_type != KeyType::Public {
                return Err(invalid_access("deriveBits: 'public' must be a public key"));
            }
            if public.algorithm.name() != alg.name() {
                return Err(invalid_access(format!(
                    "deriveBits: 'public' is a {} key, expected {}",
                    public.algorithm.name(),
                    alg.name()
                )));
            }
            let secret = match (&*base.material, &*public.material) {
                (KeyMaterial::EcPrivate(sk), KeyMaterial::EcPublic(pk)) => {
                    if sk.curve() != pk.curve() {
                        return Err(invalid_access(format!(
                            "ECDH: 'public' is on {}, the base key on {}",
                            pk.curve().name(),
                            sk.curve().name()
                        )));
                    }
                    ec::ecdh(sk, pk)?
                }
                (KeyMaterial::X25519Private(sk), KeyMaterial::X25519Public(pk)) => okp::x25519(sk, pk)?,
                _ => return Err(invalid_access("deriveBits: key types do not match the algorithm")),
            };
            shorten(secret, length)
        }
        DeriveAlgorithm::Hkdf(p) => {
            let len = kdf_length("HKDF", length)?;
            kdf::hkdf(p, secret(base)?, len)
        }
        DeriveAlgorithm::Pbkdf2(p) => {
            let len = kdf_length("PBKDF2", length)?;
            if p.iterations == 0 {
                return Err(operation("PBKDF2: iterations must not be zero"));
            }
            if p.iterations > MAX_PBKDF2_ITERATIONS {
                return Err(not_supported(format!(
                    "PBKDF2: {} iterations exceed this implementation's limit of {MAX_PBKDF2_ITERATIONS}",
                    p.iterations
                )));
            }
            let blocks = len.div_ceil(p.hash.output_len()) as u64;
            let work = u64::from(p.iterations) * blocks;
            if work > MAX_PBKDF2_WORK {
                return Err(operation(format!(
                    "PBKDF2: {} iterations x {blocks} blocks of {} output = {work} iteration-blocks, above this implementation's limit of {MAX_PBKDF2_WORK}",
                    p.iterations,
                    p.hash.name()
                )));
            }
            kdf::pbkdf2(p, secret(base)?, len)
        }
    }
}

/// `deriveBits(algorithm, baseKey, length)`; `length` is `null` as `None`.
pub fn derive_bits(alg: &DeriveAlgorithm, base_key: &CryptoKey, length: Option<u32>) -> Result<Vec<u8>> {
    check_key(alg.name(), base_key, KeyUsages::DERIVE_BITS, "deriveBits")?;
    Ok(derive(alg, base_key, length)?.to_vec())
}

/// The "get key length" operation of a derived key type.
fn key_length(t: &DerivedKeyType) -> Result<Option<u32>> {
    match *t {
        DerivedKeyType::Aes { mode, length } => {
            if matches!(length, 128 | 192 | 256) {
                Ok(Some(u32::from(length)))
            } else {
                Err(operation(format!("{}: length {length} is not 128, 192 or 256", mode.name())))
            }
        }
        DerivedKeyType::Hmac { hash, length } => match length {
            None => Ok(Some(hash.block_bits())),
            Some(0) => Err(type_error("HMAC: length must not be zero")),
            Some(l) => Ok(Some(l)),
        },
        DerivedKeyType::Hkdf | DerivedKeyType::Pbkdf2 => Ok(None),
    }
}

/// `deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages)`.
pub fn derive_key(
    alg: &DeriveAlgorithm,
    base_key: &CryptoKey,
    derived_type: &DerivedKeyType,
    extractable: bool,
    usages: KeyUsages,
) -> Result<CryptoKey> {
    check_key(alg.name(), base_key, KeyUsages::DERIVE_KEY, "deriveKey")?;
    let length = key_length(derived_type)?;
    let secret = derive(alg, base_key, length)?;
    let import_alg = match *derived_type {
        DerivedKeyType::Hmac { hash, length } => ImportAlgorithm::Hmac { hash, length },
        DerivedKeyType::Aes { mode, .. } => ImportAlgorithm::Aes(mode),
        DerivedKeyType::Hkdf => ImportAlgorithm::Hkdf,
        DerivedKeyType::Pbkdf2 => ImportAlgorithm::Pbkdf2,
    };
    import_key(KeyFormat::Raw, &KeyData::Bytes(secret), &import_alg, extractable, usages)
}

/// `wrapKey(format, key, wrappingKey, wrapAlgorithm)` with AES-GCM or AES-CBC.
/// A JWK is wrapped as its UTF-8 JSON text.
pub fn wrap_key(
    format: KeyFormat,
    key: &CryptoKey,
    wrapping_key: &CryptoKey,
    alg: &EncryptAlgorithm,
) -> Result<Vec<u8>> {
    check_key(alg.name(), wrapping_key, KeyUsages::WRAP_KEY, "wrapKey")?;
    let exported = export_key(format, key)?;
    let plaintext = match &exported {
        ExportedKey::Bytes(b) => Zeroizing::new(b.to_vec()),
        ExportedKey::Jwk(j) => Zeroizing::new(j.to_json().as_bytes().to_vec()),
    };
    cipher(alg, secret(wrapping_key)?, &plaintext, true)
}

/// `unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm,
/// unwrappedKeyAlgorithm, extractable, keyUsages)`.
#[allow(clippy::too_many_arguments)]
pub fn unwrap_key(
    format: KeyFormat,
    wrapped: &[u8],
    unwrapping_key: &CryptoKey,
    alg: &EncryptAlgorithm,
    unwrapped_alg: &ImportAlgorithm,
    extractable: bool,
    usages: KeyUsages,
) -> Result<CryptoKey> {
    check_key(alg.name(), unwrapping_key, KeyUsages::UNWRAP_KEY, "unwrapKey")?;
    let bytes = Zeroizing::new(cipher(alg, secret(unwrapping_key)?, wrapped, false)?);
    let key_data = match format {
        KeyFormat::Jwk => {
            let text = std::str::from_utf8(&bytes).map_err(|_| data("unwrapKey: wrapped JWK is not UTF-8"))?;
            KeyData::Jwk(JsonWebKey::from_json(text)?)
        }
        _ => KeyData::Bytes(bytes),
    };
    import_key(format, &key_data, unwrapped_alg, extractable, usages)
}
