//! Ed25519 (RFC 8032) and X25519 (RFC 7748), and their RFC 8410 encodings.

use ed25519_dalek::Signer;
use pkcs8::der::{Decode, Encode};
use spki::{AlgorithmIdentifierRef, ObjectIdentifier, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use crate::algorithm::OkpAlg;
use crate::error::{data, operation, Result};

const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ID_X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");

fn oid(alg: OkpAlg) -> ObjectIdentifier {
    match alg {
        OkpAlg::Ed25519 => ID_ED25519,
        OkpAlg::X25519 => ID_X25519,
    }
}

pub(crate) fn random_seed() -> Result<Zeroizing<[u8; 32]>> {
    let mut seed = Zeroizing::new([0u8; 32]);
    crate::random::fill(&mut seed[..])?;
    Ok(seed)
}

pub(crate) fn to32(bytes: &[u8], what: &str) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|_| data(format!("{what} is {} bytes; expected 32", bytes.len())))
}

pub(crate) fn ed25519_public(sk: &ed25519_dalek::SigningKey) -> [u8; 32] {
    sk.verifying_key().to_bytes()
}

pub(crate) fn x25519_public(sk: &x25519_dalek::StaticSecret) -> [u8; 32] {
    x25519_dalek::PublicKey::from(sk).to_bytes()
}

pub(crate) fn ed25519_sign(sk: &ed25519_dalek::SigningKey, msg: &[u8]) -> Vec<u8> {
    sk.sign(msg).to_bytes().to_vec()
}

/// Strict verification (RFC 8032 with canonical `S`, and small-order `A`
/// and `R` rejected, as the WebCrypto Ed25519 text requires). Malformed
/// input is `false`.
pub(crate) fn ed25519_verify(pk: &[u8; 32], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(sig) = <[u8; 64]>::try_from(sig) else {
        return false;
    };
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(pk) else {
        return false;
    };
    vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig)).is_ok()
}

/// X25519; an all-zero result (small-order peer key) is an `OperationError`.
pub(crate) fn x25519(sk: &x25519_dalek::StaticSecret, peer: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>> {
    let shared = sk.diffie_hellman(&x25519_dalek::PublicKey::from(*peer));
    if !shared.was_contributory() {
        return Err(operation("X25519: shared secret is all zero (small-order public key)"));
    }
    Ok(Zeroizing::new(shared.as_bytes().to_vec()))
}

pub(crate) fn spki_encode(alg: OkpAlg, pk: &[u8; 32]) -> Result<Vec<u8>> {
    let fail = |e: spki::der::Error| operation(format!("spki encoding failed: {e}"));
    let spki = SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef { oid: oid(alg), parameters: None },
        subject_public_key: spki::der::asn1::BitStringRef::from_bytes(pk).map_err(fail)?,
    };
    spki.to_der().map_err(fail)
}

pub(crate) fn spki_decode(alg: OkpAlg, der: &[u8]) -> Result<[u8; 32]> {
    let spki = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|e| data(format!("spki: not a DER SubjectPublicKeyInfo: {e}")))?;
    if spki.algorithm.oid != oid(alg) {
        return Err(data(format!("spki: algorithm {} is not {}", spki.algorithm.oid, alg.name())));
    }
    if spki.algorithm.parameters.is_some() {
        return Err(data("spki: parameters must be absent (RFC 8410)"));
    }
    let key = spki.subject_public_key.as_bytes().ok_or_else(|| data("spki: subjectPublicKey has unused bits"))?;
    to32(key, "spki public key")
}

/// PKCS#8 v1 (no public key), 48 bytes, as browsers export.
pub(crate) fn pkcs8_encode(alg: OkpAlg, seed: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>> {
    let fail = |e: pkcs8::der::Error| operation(format!("pkcs8 encoding failed: {e}"));
    // CurvePrivateKey ::= OCTET STRING
    let inner = Zeroizing::new(pkcs8::der::asn1::OctetStringRef::new(seed).map_err(fail)?.to_der().map_err(fail)?);
    let info = pkcs8::PrivateKeyInfo {
        algorithm: AlgorithmIdentifierRef { oid: oid(alg), parameters: None },
        private_key: &inner,
        public_key: None,
    };
    info.to_der().map(Zeroizing::new).map_err(fail)
}

/// Parses PKCS#8 v1 or v2; a v2 public key must match the private key.
pub(crate) fn pkcs8_decode(alg: OkpAlg, der: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let info =
        pkcs8::PrivateKeyInfo::from_der(der).map_err(|e| data(format!("pkcs8: not a DER PrivateKeyInfo: {e}")))?;
    if info.algorithm.oid != oid(alg) {
        return Err(data(format!("pkcs8: algorithm {} is not {}", info.algorithm.oid, alg.name())));
    }
    if info.algorithm.parameters.is_some() {
        return Err(data("pkcs8: parameters must be absent (RFC 8410)"));
    }
    let inner = pkcs8::der::asn1::OctetStringRef::from_der(info.private_key)
        .map_err(|_| data("pkcs8: CurvePrivateKey is not an OCTET STRING"))?;
    let seed = Zeroizing::new(to32(inner.as_bytes(), "pkcs8 private key")?);
    if let Some(pk) = info.public_key {
        let derived = match alg {
            OkpAlg::Ed25519 => ed25519_public(&ed25519_dalek::SigningKey::from_bytes(&seed)),
            OkpAlg::X25519 => x25519_public(&x25519_dalek::StaticSecret::from(*seed)),
        };
        if pk != derived {
            return Err(data("pkcs8: public key does not match the private key"));
        }
    }
    Ok(seed)
}
