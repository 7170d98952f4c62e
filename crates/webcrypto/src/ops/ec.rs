//! ECDSA and ECDH over P-256 / P-384 / P-521, and their key encodings.

use ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use elliptic_curve::sec1::ToEncodedPoint;
use pkcs8::{DecodePrivateKey, EncodePrivateKey};
use spki::der::Decode;
use spki::{EncodePublicKey, ObjectIdentifier, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use super::hash::digest;
use crate::algorithm::{HashAlg, NamedCurve};
use crate::error::{data, operation, Result};
use crate::key::{EcPrivate, EcPublic};

pub(crate) const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

fn curve_oid(curve: NamedCurve) -> ObjectIdentifier {
    match curve {
        NamedCurve::P256 => SECP256R1,
        NamedCurve::P384 => SECP384R1,
        NamedCurve::P521 => SECP521R1,
    }
}

pub(crate) fn generate(curve: NamedCurve) -> Result<EcPrivate> {
    // Rejection sampling: a random string of the order's bit length is a
    // valid scalar with probability at least 1/2 (P-521's order is just
    // below 2^521, so its top byte keeps one bit); 64 failures in a row
    // means a broken RNG.
    for _ in 0..64 {
        let mut bytes = Zeroizing::new(vec![0u8; curve.field_len()]);
        crate::random::fill(&mut bytes)?;
        if curve == NamedCurve::P521 {
            bytes[0] &= 0x01;
        }
        if let Ok(k) = private_from_scalar(curve, &bytes) {
            return Ok(k);
        }
    }
    Err(operation("EC key generation: no valid scalar after 64 draws"))
}

/// A private key from its big-endian scalar (exactly the field size).
pub(crate) fn private_from_scalar(curve: NamedCurve, d: &[u8]) -> Result<EcPrivate> {
    if d.len() != curve.field_len() {
        return Err(data(format!(
            "{} private scalar is {} bytes; expected {}",
            curve.name(),
            d.len(),
            curve.field_len()
        )));
    }
    let bad = || data(format!("{} private scalar is zero or not below the group order", curve.name()));
    Ok(match curve {
        NamedCurve::P256 => EcPrivate::P256(p256::SecretKey::from_slice(d).map_err(|_| bad())?),
        NamedCurve::P384 => EcPrivate::P384(p384::SecretKey::from_slice(d).map_err(|_| bad())?),
        NamedCurve::P521 => EcPrivate::P521(p521::SecretKey::from_slice(d).map_err(|_| bad())?),
    })
}

pub(crate) fn private_scalar(k: &EcPrivate) -> Zeroizing<Vec<u8>> {
    match k {
        EcPrivate::P256(k) => Zeroizing::new(k.to_bytes().to_vec()),
        EcPrivate::P384(k) => Zeroizing::new(k.to_bytes().to_vec()),
        EcPrivate::P521(k) => Zeroizing::new(k.to_bytes().to_vec()),
    }
}

/// A public key from a SEC1 point (uncompressed or compressed), checked on the curve.
pub(crate) fn public_from_sec1(curve: NamedCurve, bytes: &[u8]) -> Result<EcPublic> {
    let bad = || data(format!("not a valid {} point ({} bytes)", curve.name(), bytes.len()));
    Ok(match curve {
        NamedCurve::P256 => EcPublic::P256(p256::PublicKey::from_sec1_bytes(bytes).map_err(|_| bad())?),
        NamedCurve::P384 => EcPublic::P384(p384::PublicKey::from_sec1_bytes(bytes).map_err(|_| bad())?),
        NamedCurve::P521 => EcPublic::P521(p521::PublicKey::from_sec1_bytes(bytes).map_err(|_| bad())?),
    })
}

/// Uncompressed SEC1 point `04 || x || y`.
pub(crate) fn public_to_sec1(k: &EcPublic) -> Vec<u8> {
    match k {
        EcPublic::P256(k) => k.to_encoded_point(false).as_bytes().to_vec(),
        EcPublic::P384(k) => k.to_encoded_point(false).as_bytes().to_vec(),
        EcPublic::P521(k) => k.to_encoded_point(false).as_bytes().to_vec(),
    }
}

/// The affine coordinates `(x, y)`, each the field size.
pub(crate) fn public_xy(k: &EcPublic) -> (Vec<u8>, Vec<u8>) {
    let p = public_to_sec1(k);
    let n = k.curve().field_len();
    // An uncompressed point is 1 + 2n bytes.
    (p[1..1 + n].to_vec(), p[1 + n..].to_vec())
}

/// Parses an EC SubjectPublicKeyInfo and checks it names `curve`.
pub(crate) fn spki_decode(curve: NamedCurve, der: &[u8]) -> Result<EcPublic> {
    let spki = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|e| data(format!("spki: not a DER SubjectPublicKeyInfo: {e}")))?;
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(data(format!("spki: algorithm {} is not id-ecPublicKey", spki.algorithm.oid)));
    }
    let params = spki.algorithm.parameters_oid().map_err(|_| data("spki: EC parameters are not a named-curve OID"))?;
    if params != curve_oid(curve) {
        return Err(data(format!("spki: curve {params} does not match namedCurve {}", curve.name())));
    }
    let point = spki.subject_public_key.as_bytes().ok_or_else(|| data("spki: subjectPublicKey has unused bits"))?;
    public_from_sec1(curve, point)
}

pub(crate) fn spki_encode(k: &EcPublic) -> Result<Vec<u8>> {
    let doc = match k {
        EcPublic::P256(k) => k.to_public_key_der(),
        EcPublic::P384(k) => k.to_public_key_der(),
        EcPublic::P521(k) => k.to_public_key_der(),
    };
    doc.map(|d| d.into_vec()).map_err(|e| operation(format!("spki encoding failed: {e}")))
}

/// Parses an EC PKCS#8 PrivateKeyInfo for `curve`. An embedded public key
/// must match the private scalar.
pub(crate) fn pkcs8_decode(curve: NamedCurve, der: &[u8]) -> Result<EcPrivate> {
    let info =
        pkcs8::PrivateKeyInfo::from_der(der).map_err(|e| data(format!("pkcs8: not a DER PrivateKeyInfo: {e}")))?;
    if info.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(data(format!("pkcs8: algorithm {} is not id-ecPublicKey", info.algorithm.oid)));
    }
    let params = info.algorithm.parameters_oid().map_err(|_| data("pkcs8: EC parameters are not a named-curve OID"))?;
    if params != curve_oid(curve) {
        return Err(data(format!("pkcs8: curve {params} does not match namedCurve {}", curve.name())));
    }
    let bad = |e: pkcs8::Error| data(format!("pkcs8: invalid ECPrivateKey: {e}"));
    Ok(match curve {
        NamedCurve::P256 => EcPrivate::P256(p256::SecretKey::from_pkcs8_der(der).map_err(bad)?),
        NamedCurve::P384 => EcPrivate::P384(p384::SecretKey::from_pkcs8_der(der).map_err(bad)?),
        NamedCurve::P521 => EcPrivate::P521(p521::SecretKey::from_pkcs8_der(der).map_err(bad)?),
    })
}

/// PKCS#8 with the curve in the AlgorithmIdentifier and the public key in
/// the ECPrivateKey, as Chromium and Firefox export.
pub(crate) fn pkcs8_encode(k: &EcPrivate) -> Result<Zeroizing<Vec<u8>>> {
    let doc = match k {
        EcPrivate::P256(k) => k.to_pkcs8_der(),
        EcPrivate::P384(k) => k.to_pkcs8_der(),
        EcPrivate::P521(k) => k.to_pkcs8_der(),
    };
    doc.map(|d| Zeroizing::new(d.as_bytes().to_vec())).map_err(|e| operation(format!("pkcs8 encoding failed: {e}")))
}

/// The message digest, left-padded to the field size when shorter (so
/// SHA-1 works with P-384; the integer value, and so the signature, is unchanged).
fn prehash(curve: NamedCurve, hash: HashAlg, msg: &[u8]) -> Vec<u8> {
    let h = digest(hash, msg);
    let n = curve.field_len();
    if h.len() >= n {
        h
    } else {
        let mut z = vec![0u8; n - h.len()];
        z.extend_from_slice(&h);
        z
    }
}

/// ECDSA signature in IEEE P1363 form `r || s`. Nonces are RFC 6979 deterministic.
pub(crate) fn sign(k: &EcPrivate, hash: HashAlg, msg: &[u8]) -> Result<Vec<u8>> {
    let z = prehash(k.curve(), hash, msg);
    let fail = |_| operation("ECDSA signing failed");
    Ok(match k {
        EcPrivate::P256(k) => {
            let sk = p256::ecdsa::SigningKey::from(k);
            let sig: p256::ecdsa::Signature = sk.sign_prehash(&z).map_err(fail)?;
            sig.to_bytes().to_vec()
        }
        EcPrivate::P384(k) => {
            let sk = p384::ecdsa::SigningKey::from(k);
            let sig: p384::ecdsa::Signature = sk.sign_prehash(&z).map_err(fail)?;
            sig.to_bytes().to_vec()
        }
        // p521's SigningKey is its own type (not ecdsa's generic one).
        EcPrivate::P521(k) => {
            let sk = p521::ecdsa::SigningKey::from_bytes(&k.to_bytes()).map_err(fail)?;
            let sig: p521::ecdsa::Signature = sk.sign_prehash(&z).map_err(fail)?;
            sig.to_bytes().to_vec()
        }
    })
}

/// Verifies a P1363 signature; any malformed signature is simply `false`.
pub(crate) fn verify(k: &EcPublic, hash: HashAlg, msg: &[u8], sig: &[u8]) -> bool {
    let z = prehash(k.curve(), hash, msg);
    match k {
        EcPublic::P256(k) => match p256::ecdsa::Signature::from_slice(sig) {
            Ok(s) => p256::ecdsa::VerifyingKey::from(k).verify_prehash(&z, &s).is_ok(),
            Err(_) => false,
        },
        EcPublic::P384(k) => match p384::ecdsa::Signature::from_slice(sig) {
            Ok(s) => p384::ecdsa::VerifyingKey::from(k).verify_prehash(&z, &s).is_ok(),
            Err(_) => false,
        },
        EcPublic::P521(k) => {
            match (p521::ecdsa::Signature::from_slice(sig), p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())) {
                (Ok(s), Ok(vk)) => vk.verify_prehash(&z, &s).is_ok(),
                _ => false,
            }
        }
    }
}

/// ECDH shared secret: the x coordinate of d * Q.
pub(crate) fn ecdh(k: &EcPrivate, peer: &EcPublic) -> Result<Zeroizing<Vec<u8>>> {
    match (k, peer) {
        (EcPrivate::P256(k), EcPublic::P256(p)) => {
            let s = elliptic_curve::ecdh::diffie_hellman(k.to_nonzero_scalar(), p.as_affine());
            Ok(Zeroizing::new(s.raw_secret_bytes().to_vec()))
        }
        (EcPrivate::P384(k), EcPublic::P384(p)) => {
            let s = elliptic_curve::ecdh::diffie_hellman(k.to_nonzero_scalar(), p.as_affine());
            Ok(Zeroizing::new(s.raw_secret_bytes().to_vec()))
        }
        (EcPrivate::P521(k), EcPublic::P521(p)) => {
            let s = elliptic_curve::ecdh::diffie_hellman(k.to_nonzero_scalar(), p.as_affine());
            Ok(Zeroizing::new(s.raw_secret_bytes().to_vec()))
        }
        _ => Err(crate::error::invalid_access("ECDH: public key is on a different curve")),
    }
}
