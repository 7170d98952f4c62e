//! Helpers shared by the integration tests.
#![allow(dead_code)]

use sworn_webcrypto::{dynamic, AlgorithmIdentifier, AlgorithmInput, CryptoKey, KeyData};

pub fn h(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).expect("test vector hex")
}

pub fn alg(name: &str) -> AlgorithmIdentifier {
    AlgorithmIdentifier::Name(name.to_owned())
}

pub fn obj(a: AlgorithmInput) -> AlgorithmIdentifier {
    AlgorithmIdentifier::Object(a)
}

pub fn import_raw(bytes: &[u8], a: AlgorithmIdentifier, usages: &[&str]) -> CryptoKey {
    dynamic::import_key("raw", &KeyData::bytes(bytes.to_vec()), &a, true, usages).expect("import raw")
}

pub fn hmac_alg(hash: &str) -> AlgorithmIdentifier {
    obj(AlgorithmInput::new("HMAC").with_str("hash", hash))
}

pub fn hkdf_params(hash: &str, salt: &[u8], info: &[u8]) -> AlgorithmIdentifier {
    obj(AlgorithmInput::new("HKDF")
        .with_str("hash", hash)
        .with_bytes("salt", salt.to_vec())
        .with_bytes("info", info.to_vec()))
}

pub fn pbkdf2_params(hash: &str, salt: &[u8], iterations: u32) -> AlgorithmIdentifier {
    obj(AlgorithmInput::new("PBKDF2")
        .with_str("hash", hash)
        .with_bytes("salt", salt.to_vec())
        .with_number("iterations", f64::from(iterations)))
}

pub fn gcm(iv: &[u8], aad: Option<&[u8]>, tag_bits: Option<u32>) -> AlgorithmIdentifier {
    let mut a = AlgorithmInput::new("AES-GCM").with_bytes("iv", iv.to_vec());
    if let Some(aad) = aad {
        a = a.with_bytes("additionalData", aad.to_vec());
    }
    if let Some(t) = tag_bits {
        a = a.with_number("tagLength", f64::from(t));
    }
    obj(a)
}

pub fn cbc(iv: &[u8]) -> AlgorithmIdentifier {
    obj(AlgorithmInput::new("AES-CBC").with_bytes("iv", iv.to_vec()))
}

pub fn ec(name: &str, curve: &str) -> AlgorithmIdentifier {
    obj(AlgorithmInput::new(name).with_str("namedCurve", curve))
}

pub fn ecdsa(hash: &str) -> AlgorithmIdentifier {
    obj(AlgorithmInput::new("ECDSA").with_str("hash", hash))
}

pub fn derive_with(name: &str, public: &CryptoKey) -> AlgorithmIdentifier {
    obj(AlgorithmInput::new(name).with_key("public", public.clone()))
}

/// PKCS#8 v1 for an X25519 or Ed25519 private key (RFC 8410 example layout).
pub fn okp_pkcs8(oid_last: u8, seed: &[u8]) -> Vec<u8> {
    let mut v =
        vec![0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, oid_last, 0x04, 0x22, 0x04, 0x20];
    v.extend_from_slice(seed);
    v
}
