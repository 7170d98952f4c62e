//! Error paths modelled on WPT's WebCryptoAPI tests (generateKey/failures,
//! importKey_failures, wrong usages, non-extractable export, bad lengths):
//! each asserts the DOMException name a browser throws.

mod common;

use common::*;
use sworn_webcrypto::{dynamic, AlgorithmInput, CryptoKey, Error, JsonWebKey, KeyData};

fn name<T: std::fmt::Debug>(r: Result<T, Error>) -> &'static str {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.dom_name(),
    }
}

fn aes(name: &str, bits: f64) -> sworn_webcrypto::AlgorithmIdentifier {
    obj(AlgorithmInput::new(name).with_number("length", bits))
}

fn aes_key(usages: &[&str]) -> CryptoKey {
    dynamic::generate_key(&aes("AES-GCM", 128.0), true, usages).unwrap().into_key().unwrap()
}

fn oct_jwk(k: &[u8]) -> JsonWebKey {
    let mut j = JsonWebKey::default();
    j.kty = Some("oct".into());
    j.k = Some(base64url(k));
    j
}

fn base64url(b: &[u8]) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(b)
}

#[test]
fn generate_key_failures() {
    // Bad usages: SyntaxError.
    assert_eq!(name(dynamic::generate_key(&aes("AES-GCM", 128.0), true, &["sign"])), "SyntaxError");
    assert_eq!(name(dynamic::generate_key(&hmac_alg("SHA-256"), true, &["encrypt"])), "SyntaxError");
    assert_eq!(name(dynamic::generate_key(&ec("ECDH", "P-256"), true, &["sign"])), "SyntaxError");
    assert_eq!(name(dynamic::generate_key(&alg("Ed25519"), true, &["deriveBits"])), "SyntaxError");
    // Empty usages on a secret key, or a private key left without usages.
    assert_eq!(name(dynamic::generate_key(&aes("AES-CBC", 128.0), true, &[] as &[&str])), "SyntaxError");
    assert_eq!(name(dynamic::generate_key(&ec("ECDSA", "P-256"), true, &["verify"])), "SyntaxError");
    assert_eq!(name(dynamic::generate_key(&alg("Ed25519"), true, &["verify"])), "SyntaxError");
    // Bad lengths: OperationError.
    assert_eq!(name(dynamic::generate_key(&aes("AES-GCM", 64.0), true, &["encrypt"])), "OperationError");
    let hmac0 = obj(AlgorithmInput::new("HMAC").with_str("hash", "SHA-256").with_number("length", 0.0));
    assert_eq!(name(dynamic::generate_key(&hmac0, true, &["sign"])), "OperationError");
    // Beyond the allocation cap (2^20 bits): OperationError rather than a 512 MiB allocation.
    let huge = obj(AlgorithmInput::new("HMAC").with_str("hash", "SHA-256").with_number("length", 4294967295.0));
    assert_eq!(name(dynamic::generate_key(&huge, true, &["sign"])), "OperationError");
    // Unknown algorithm, curve or hash: NotSupportedError; bad usage string: TypeError.
    assert_eq!(name(dynamic::generate_key(&alg("RSA-OAEP"), true, &["encrypt"])), "NotSupportedError");
    assert_eq!(name(dynamic::generate_key(&ec("ECDSA", "P-192"), true, &["sign"])), "NotSupportedError");
    assert_eq!(name(dynamic::generate_key(&hmac_alg("MD5"), true, &["sign"])), "NotSupportedError");
    assert_eq!(name(dynamic::generate_key(&alg("Ed25519"), true, &["Sign"])), "TypeError");
    // Missing required member: TypeError.
    assert_eq!(name(dynamic::generate_key(&alg("AES-GCM"), true, &["encrypt"])), "TypeError");
    assert_eq!(name(dynamic::generate_key(&alg("ECDSA"), true, &["sign"])), "TypeError");
}

#[test]
fn import_key_failures_symmetric() {
    let raw = |b: &[u8]| KeyData::bytes(b.to_vec());
    // Wrong key sizes: DataError.
    assert_eq!(name(dynamic::import_key("raw", &raw(&[0; 20]), &alg("AES-GCM"), true, &["encrypt"])), "DataError");
    assert_eq!(name(dynamic::import_key("raw", &raw(&[]), &hmac_alg("SHA-256"), true, &["sign"])), "DataError");
    let long = obj(AlgorithmInput::new("HMAC").with_str("hash", "SHA-256").with_number("length", 264.0));
    assert_eq!(name(dynamic::import_key("raw", &raw(&[0; 32]), &long, true, &["sign"])), "DataError");
    let short = obj(AlgorithmInput::new("HMAC").with_str("hash", "SHA-256").with_number("length", 248.0));
    assert_eq!(name(dynamic::import_key("raw", &raw(&[0; 32]), &short, true, &["sign"])), "DataError");
    // Usages not allowed, or none at all: SyntaxError.
    assert_eq!(name(dynamic::import_key("raw", &raw(&[0; 16]), &alg("AES-CBC"), true, &["sign"])), "SyntaxError");
    assert_eq!(name(dynamic::import_key("raw", &raw(&[0; 16]), &alg("AES-CBC"), true, &[] as &[&str])), "SyntaxError");
    // HKDF/PBKDF2: raw only, never extractable.
    assert_eq!(name(dynamic::import_key("raw", &raw(b"pw"), &alg("PBKDF2"), true, &["deriveBits"])), "SyntaxError");
    assert_eq!(name(dynamic::import_key("raw", &raw(b"pw"), &alg("HKDF"), false, &["sign"])), "SyntaxError");
    assert_eq!(
        name(dynamic::import_key("jwk", &KeyData::Jwk(oct_jwk(b"pw")), &alg("HKDF"), false, &["deriveBits"])),
        "NotSupportedError"
    );
    // Format not defined for the algorithm: NotSupportedError; unknown format: TypeError.
    assert_eq!(
        name(dynamic::import_key("pkcs8", &raw(&[0; 16]), &alg("AES-GCM"), true, &["encrypt"])),
        "NotSupportedError"
    );
    assert_eq!(
        name(dynamic::import_key("spki", &raw(&[0; 16]), &hmac_alg("SHA-1"), true, &["sign"])),
        "NotSupportedError"
    );
    assert_eq!(name(dynamic::import_key("pem", &raw(&[0; 16]), &alg("AES-GCM"), true, &["encrypt"])), "TypeError");
    // Key data of the wrong kind for the format: TypeError.
    assert_eq!(name(dynamic::import_key("jwk", &raw(&[0; 16]), &alg("AES-GCM"), true, &["encrypt"])), "TypeError");
    assert_eq!(
        name(dynamic::import_key("raw", &KeyData::Jwk(oct_jwk(&[0; 16])), &alg("AES-GCM"), true, &["encrypt"])),
        "TypeError"
    );
}

#[test]
fn import_key_failures_jwk_members() {
    let imp = |j: JsonWebKey, a: &str, ext: bool, usages: &[&str]| {
        let a = if a == "HMAC" { hmac_alg("SHA-256") } else { alg(a) };
        dynamic::import_key("jwk", &KeyData::Jwk(j), &a, ext, usages)
    };
    let good = oct_jwk(&[7; 16]);
    imp(good.clone(), "AES-GCM", true, &["encrypt"]).unwrap();
    let mut j = good.clone();
    j.kty = Some("EC".into());
    assert_eq!(name(imp(j, "AES-GCM", true, &["encrypt"])), "DataError");
    let mut j = good.clone();
    j.k = None;
    assert_eq!(name(imp(j, "AES-GCM", true, &["encrypt"])), "DataError");
    let mut j = good.clone();
    j.k = Some("not base64!".into());
    assert_eq!(name(imp(j, "AES-GCM", true, &["encrypt"])), "DataError");
    let mut j = good.clone();
    j.alg = Some("A256GCM".into());
    assert_eq!(name(imp(j, "AES-GCM", true, &["encrypt"])), "DataError");
    let mut j = good.clone();
    j.alg = Some("A128CBC".into());
    assert_eq!(name(imp(j, "AES-GCM", true, &["encrypt"])), "DataError");
    let mut j = good.clone();
    j.use_ = Some("sig".into());
    assert_eq!(name(imp(j, "AES-GCM", true, &["encrypt"])), "DataError");
    let mut j = good.clone();
    j.key_ops = Some(vec!["decrypt".into()]);
    assert_eq!(name(imp(j, "AES-GCM", true, &["encrypt"])), "DataError");
    let mut j = good.clone();
    j.key_ops = Some(vec!["encrypt".into(), "encrypt".into()]);
    assert_eq!(name(imp(j, "AES-GCM", true, &["encrypt"])), "DataError");
    let mut j = good.clone();
    j.ext = Some(false);
    assert_eq!(name(imp(j.clone(), "AES-GCM", true, &["encrypt"])), "DataError");
    imp(j, "AES-GCM", false, &["encrypt"]).unwrap();
    // HMAC: 'alg' must match the hash; 'use' must be "sig".
    let mut j = oct_jwk(&[1; 32]);
    j.alg = Some("HS384".into());
    assert_eq!(name(imp(j, "HMAC", true, &["sign"])), "DataError");
    let mut j = oct_jwk(&[1; 32]);
    j.use_ = Some("enc".into());
    assert_eq!(name(imp(j, "HMAC", true, &["sign"])), "DataError");
    let mut j = oct_jwk(&[1; 32]);
    j.alg = Some("HS256".into());
    j.use_ = Some("sig".into());
    imp(j, "HMAC", true, &["sign"]).unwrap();
}

#[test]
fn import_key_failures_asymmetric() {
    let pair = dynamic::generate_key(&ec("ECDSA", "P-256"), true, &["sign", "verify"]).unwrap().into_pair().unwrap();
    let spki = dynamic::export_key("spki", &pair.public_key).unwrap().as_bytes().unwrap().to_vec();
    let pkcs8 = dynamic::export_key("pkcs8", &pair.private_key).unwrap().as_bytes().unwrap().to_vec();
    let jwk = dynamic::export_key("jwk", &pair.private_key).unwrap().as_jwk().unwrap().clone();
    let b = |v: &[u8]| KeyData::bytes(v.to_vec());

    // Curve mismatch and foreign algorithms: DataError.
    assert_eq!(name(dynamic::import_key("spki", &b(&spki), &ec("ECDSA", "P-384"), true, &["verify"])), "DataError");
    assert_eq!(name(dynamic::import_key("pkcs8", &b(&pkcs8), &ec("ECDSA", "P-384"), true, &["sign"])), "DataError");
    assert_eq!(name(dynamic::import_key("spki", &b(&spki), &alg("Ed25519"), true, &["verify"])), "DataError");
    let ed = dynamic::generate_key(&alg("Ed25519"), true, &["sign"]).unwrap().into_pair().unwrap();
    let ed_spki = dynamic::export_key("spki", &ed.public_key).unwrap().as_bytes().unwrap().to_vec();
    assert_eq!(name(dynamic::import_key("spki", &b(&ed_spki), &ec("ECDSA", "P-256"), true, &["verify"])), "DataError");
    assert_eq!(name(dynamic::import_key("spki", &b(&ed_spki), &alg("X25519"), true, &[] as &[&str])), "DataError");
    // Truncated or trailing-garbage DER: DataError.
    assert_eq!(
        name(dynamic::import_key("spki", &b(&spki[..spki.len() - 1]), &ec("ECDSA", "P-256"), true, &["verify"])),
        "DataError"
    );
    let mut long = pkcs8.clone();
    long.push(0);
    assert_eq!(name(dynamic::import_key("pkcs8", &b(&long), &ec("ECDSA", "P-256"), true, &["sign"])), "DataError");
    // Point not on the curve: DataError.
    let mut raw = dynamic::export_key("raw", &pair.public_key).unwrap().as_bytes().unwrap().to_vec();
    raw[64] ^= 1;
    assert_eq!(name(dynamic::import_key("raw", &b(&raw), &ec("ECDSA", "P-256"), true, &["verify"])), "DataError");
    // Usages that do not fit the key type: SyntaxError.
    assert_eq!(name(dynamic::import_key("spki", &b(&spki), &ec("ECDSA", "P-256"), true, &["sign"])), "SyntaxError");
    assert_eq!(
        name(dynamic::import_key("spki", &b(&spki), &ec("ECDH", "P-256"), true, &["deriveBits"])),
        "SyntaxError"
    );
    assert_eq!(name(dynamic::import_key("pkcs8", &b(&pkcs8), &ec("ECDSA", "P-256"), true, &["verify"])), "SyntaxError");
    assert_eq!(
        name(dynamic::import_key("jwk", &KeyData::Jwk(jwk.clone()), &ec("ECDSA", "P-256"), true, &["verify"])),
        "SyntaxError"
    );
    // JWK: wrong crv, alg, mismatched d.
    let mut j = jwk.clone();
    j.crv = Some("P-384".into());
    assert_eq!(name(dynamic::import_key("jwk", &KeyData::Jwk(j), &ec("ECDSA", "P-256"), true, &["sign"])), "DataError");
    let mut j = jwk.clone();
    j.alg = Some("ES384".into());
    assert_eq!(name(dynamic::import_key("jwk", &KeyData::Jwk(j), &ec("ECDSA", "P-256"), true, &["sign"])), "DataError");
    let mut j = jwk.clone();
    j.alg = Some("ES384".into()); // ECDH ignores 'alg'
    j.key_ops = None;
    dynamic::import_key("jwk", &KeyData::Jwk(j), &ec("ECDH", "P-256"), true, &["deriveBits"]).unwrap();
    let other = dynamic::generate_key(&ec("ECDSA", "P-256"), true, &["sign"]).unwrap().into_pair().unwrap();
    let mut j = jwk.clone();
    j.d = dynamic::export_key("jwk", &other.private_key).unwrap().as_jwk().unwrap().d.clone();
    assert_eq!(name(dynamic::import_key("jwk", &KeyData::Jwk(j), &ec("ECDSA", "P-256"), true, &["sign"])), "DataError");
    let mut j = jwk.clone();
    j.y = None;
    assert_eq!(name(dynamic::import_key("jwk", &KeyData::Jwk(j), &ec("ECDSA", "P-256"), true, &["sign"])), "DataError");
    // Ed25519 JWK: 'alg' other than Ed25519/EdDSA, wrong crv, x not matching d, wrong lengths.
    let ej = dynamic::export_key("jwk", &ed.private_key).unwrap().as_jwk().unwrap().clone();
    let mut j = ej.clone();
    j.alg = Some("ES256".into());
    assert_eq!(name(dynamic::import_key("jwk", &KeyData::Jwk(j), &alg("Ed25519"), true, &["sign"])), "DataError");
    let mut j = ej.clone();
    j.crv = Some("X25519".into());
    assert_eq!(name(dynamic::import_key("jwk", &KeyData::Jwk(j), &alg("Ed25519"), true, &["sign"])), "DataError");
    let mut j = ej.clone();
    j.x = Some(base64url(&[9; 32]));
    assert_eq!(name(dynamic::import_key("jwk", &KeyData::Jwk(j), &alg("Ed25519"), true, &["sign"])), "DataError");
    assert_eq!(name(dynamic::import_key("raw", &b(&[1; 31]), &alg("Ed25519"), true, &["verify"])), "DataError");
    // X25519 public keys take no usages.
    assert_eq!(name(dynamic::import_key("raw", &b(&[9; 32]), &alg("X25519"), true, &["deriveBits"])), "SyntaxError");
}

#[test]
fn export_key_failures() {
    let k = dynamic::generate_key(&aes("AES-GCM", 256.0), false, &["encrypt"]).unwrap().into_key().unwrap();
    assert_eq!(name(dynamic::export_key("raw", &k)), "InvalidAccessError");
    let k = aes_key(&["encrypt"]);
    assert_eq!(name(dynamic::export_key("pkcs8", &k)), "NotSupportedError");
    let hk = dynamic::import_key("raw", &KeyData::bytes(b"ikm".to_vec()), &alg("HKDF"), false, &["deriveKey"]).unwrap();
    assert_eq!(name(dynamic::export_key("raw", &hk)), "NotSupportedError");
    let pair = dynamic::generate_key(&ec("ECDH", "P-384"), true, &["deriveBits"]).unwrap().into_pair().unwrap();
    assert_eq!(name(dynamic::export_key("spki", &pair.private_key)), "InvalidAccessError");
    assert_eq!(name(dynamic::export_key("raw", &pair.private_key)), "InvalidAccessError");
    assert_eq!(name(dynamic::export_key("pkcs8", &pair.public_key)), "InvalidAccessError");
    let ed = dynamic::generate_key(&alg("Ed25519"), true, &["sign"]).unwrap().into_pair().unwrap();
    assert_eq!(name(dynamic::export_key("raw", &ed.private_key)), "InvalidAccessError");
}

#[test]
fn sign_and_verify_failures() {
    let hk = dynamic::generate_key(&hmac_alg("SHA-256"), true, &["verify"]).unwrap().into_key().unwrap();
    assert_eq!(name(dynamic::sign(&alg("HMAC"), &hk, b"m")), "InvalidAccessError");
    let pair = dynamic::generate_key(&ec("ECDSA", "P-256"), true, &["sign", "verify"]).unwrap().into_pair().unwrap();
    // Algorithm does not match the key.
    assert_eq!(name(dynamic::sign(&alg("HMAC"), &pair.private_key, b"m")), "InvalidAccessError");
    assert_eq!(name(dynamic::sign(&alg("Ed25519"), &pair.private_key, b"m")), "InvalidAccessError");
    // Public key has no 'sign' usage; private key has no 'verify' usage.
    assert_eq!(name(dynamic::sign(&ecdsa("SHA-256"), &pair.public_key, b"m")), "InvalidAccessError");
    let sig = dynamic::sign(&ecdsa("SHA-256"), &pair.private_key, b"m").unwrap();
    assert_eq!(name(dynamic::verify(&ecdsa("SHA-256"), &pair.private_key, &sig, b"m")), "InvalidAccessError");
    // Malformed signatures are false, not errors: wrong length, DER instead of P1363, r = 0.
    let v = |s: &[u8]| dynamic::verify(&ecdsa("SHA-256"), &pair.public_key, s, b"m").unwrap();
    assert!(v(&sig));
    assert!(!v(&sig[..63]));
    assert!(!v(&[sig.clone(), vec![0]].concat()));
    assert!(!v(&[vec![0; 32], sig[32..].to_vec()].concat()));
    assert!(!v(&[]));
    let ed = dynamic::generate_key(&alg("Ed25519"), true, &["sign", "verify"]).unwrap().into_pair().unwrap();
    let esig = dynamic::sign(&alg("Ed25519"), &ed.private_key, b"m").unwrap();
    assert!(!dynamic::verify(&alg("Ed25519"), &ed.public_key, &esig[..63], b"m").unwrap());
    // An Ed25519 public key that is not a point: import succeeds (as in browsers), verify is false.
    let mut bogus = [0xffu8; 32];
    bogus[31] = 0x7f;
    let bk = dynamic::import_key("raw", &KeyData::bytes(bogus.to_vec()), &alg("Ed25519"), true, &["verify"]).unwrap();
    assert!(!dynamic::verify(&alg("Ed25519"), &bk, &esig, b"m").unwrap());
    // Small-order public key (identity): rejected by strict verification.
    let mut ident = [0u8; 32];
    ident[0] = 1;
    let ik = dynamic::import_key("raw", &KeyData::bytes(ident.to_vec()), &alg("Ed25519"), true, &["verify"]).unwrap();
    let mut forged = vec![0u8; 64];
    forged[0] = 1; // R = identity, S = 0 verifies for A = identity without the check
    assert!(!dynamic::verify(&alg("Ed25519"), &ik, &forged, b"anything").unwrap());
}

#[test]
fn encrypt_and_decrypt_failures() {
    let k = aes_key(&["encrypt", "decrypt"]);
    assert_eq!(name(dynamic::encrypt(&gcm(&[0; 12], None, Some(48)), &k, b"x")), "OperationError");
    assert_eq!(name(dynamic::encrypt(&gcm(&[0; 12], None, Some(256)), &k, b"x")), "TypeError");
    assert_eq!(name(dynamic::encrypt(&gcm(&[], None, None), &k, b"x")), "OperationError");
    let ct = dynamic::encrypt(&gcm(&[0; 12], Some(b"aad"), None), &k, b"secret").unwrap();
    assert_eq!(name(dynamic::decrypt(&gcm(&[0; 12], Some(b"aaX"), None), &k, &ct)), "OperationError");
    assert_eq!(name(dynamic::decrypt(&gcm(&[1; 12], Some(b"aad"), None), &k, &ct)), "OperationError");
    assert_eq!(name(dynamic::decrypt(&gcm(&[0; 12], Some(b"aad"), None), &k, &ct[..10])), "OperationError");
    // AES-CBC parameters on an AES-GCM key; missing usage.
    assert_eq!(name(dynamic::encrypt(&cbc(&[0; 16]), &k, b"x")), "InvalidAccessError");
    let enc_only = aes_key(&["encrypt"]);
    assert_eq!(name(dynamic::decrypt(&gcm(&[0; 12], None, None), &enc_only, &ct)), "InvalidAccessError");
    let ck = dynamic::generate_key(&aes("AES-CBC", 128.0), true, &["encrypt", "decrypt"]).unwrap().into_key().unwrap();
    assert_eq!(name(dynamic::encrypt(&cbc(&[0; 12]), &ck, b"x")), "OperationError");
    assert_eq!(name(dynamic::decrypt(&cbc(&[0; 16]), &ck, &[0; 17])), "OperationError");
    // Missing iv member: TypeError.
    assert_eq!(name(dynamic::encrypt(&alg("AES-CBC"), &ck, b"x")), "TypeError");
}

#[test]
fn derive_failures() {
    let hk =
        dynamic::import_key("raw", &KeyData::bytes(b"ikm".to_vec()), &alg("HKDF"), false, &["deriveBits"]).unwrap();
    let p = hkdf_params("SHA-256", b"salt", b"info");
    assert_eq!(name(dynamic::derive_bits(&p, &hk, None)), "OperationError");
    assert_eq!(name(dynamic::derive_bits(&p, &hk, Some(12))), "OperationError");
    assert_eq!(name(dynamic::derive_bits(&p, &hk, Some(255 * 256 + 8))), "OperationError");
    assert_eq!(dynamic::derive_bits(&p, &hk, Some(255 * 256)).unwrap().len(), 255 * 32);
    assert_eq!(dynamic::derive_bits(&p, &hk, Some(0)).unwrap(), Vec::<u8>::new());
    assert_eq!(name(dynamic::derive_key(&p, &hk, &aes("AES-GCM", 128.0), true, &["encrypt"])), "InvalidAccessError");

    let pk = dynamic::import_key(
        "raw",
        &KeyData::bytes(b"pw".to_vec()),
        &alg("PBKDF2"),
        false,
        &["deriveBits", "deriveKey"],
    )
    .unwrap();
    assert_eq!(name(dynamic::derive_bits(&pbkdf2_params("SHA-256", b"s", 0), &pk, Some(256))), "OperationError");
    assert_eq!(name(dynamic::derive_bits(&pbkdf2_params("SHA-256", b"s", 1), &pk, None)), "OperationError");
    assert_eq!(
        name(dynamic::derive_bits(&pbkdf2_params("SHA-256", b"s", 1), &pk, Some(u32::MAX - 7))),
        "OperationError"
    );
    assert_eq!(name(dynamic::derive_bits(&p, &pk, Some(256))), "InvalidAccessError", "HKDF params on a PBKDF2 key");
    // Derived key type lengths: AES must be 128/192/256 (OperationError); HMAC 0 is a TypeError.
    let pp = pbkdf2_params("SHA-256", b"s", 1);
    assert_eq!(name(dynamic::derive_key(&pp, &pk, &aes("AES-GCM", 100.0), true, &["encrypt"])), "OperationError");
    let hmac0 = obj(AlgorithmInput::new("HMAC").with_str("hash", "SHA-256").with_number("length", 0.0));
    assert_eq!(name(dynamic::derive_key(&pp, &pk, &hmac0, true, &["sign"])), "TypeError");
    // Deriving an HKDF key: never extractable; needs a length PBKDF2 cannot default.
    assert_eq!(name(dynamic::derive_key(&pp, &pk, &alg("HKDF"), false, &["deriveBits"])), "OperationError");

    let a = dynamic::generate_key(&ec("ECDH", "P-256"), true, &["deriveBits"]).unwrap().into_pair().unwrap();
    let b384 = dynamic::generate_key(&ec("ECDH", "P-384"), true, &["deriveBits"]).unwrap().into_pair().unwrap();
    let s = dynamic::generate_key(&ec("ECDSA", "P-256"), true, &["sign"]).unwrap().into_pair().unwrap();
    let e = |public: &CryptoKey, len| dynamic::derive_bits(&derive_with("ECDH", public), &a.private_key, len);
    assert_eq!(name(e(&b384.public_key, None)), "InvalidAccessError", "curve mismatch");
    assert_eq!(name(e(&a.private_key, None)), "InvalidAccessError", "public is a private key");
    assert_eq!(name(e(&s.public_key, None)), "InvalidAccessError", "public is an ECDSA key");
    assert_eq!(name(e(&a.public_key, Some(264))), "OperationError", "longer than the secret");
    assert_eq!(e(&a.public_key, Some(12)).unwrap().len(), 2);
    assert_eq!(e(&a.public_key, Some(12)).unwrap()[1] & 0x0f, 0);
    assert_eq!(
        name(dynamic::derive_key(
            &derive_with("ECDH", &a.public_key),
            &a.private_key,
            &aes("AES-GCM", 128.0),
            true,
            &["encrypt"]
        )),
        "InvalidAccessError",
        "no deriveKey usage"
    );
    assert_eq!(
        name(dynamic::derive_bits(&derive_with("X25519", &a.public_key), &a.private_key, None)),
        "InvalidAccessError"
    );
    // X25519 with a small-order point: all-zero secret is an OperationError.
    let x = dynamic::generate_key(&alg("X25519"), true, &["deriveBits"]).unwrap().into_pair().unwrap();
    let zero = dynamic::import_key("raw", &KeyData::bytes(vec![0; 32]), &alg("X25519"), true, &[] as &[&str]).unwrap();
    assert_eq!(name(dynamic::derive_bits(&derive_with("X25519", &zero), &x.private_key, None)), "OperationError");
    // Missing 'public' member: TypeError.
    assert_eq!(name(dynamic::derive_bits(&alg("ECDH"), &a.private_key, None)), "TypeError");
}

#[test]
fn wrap_and_unwrap_failures() {
    let wk = aes_key(&["wrapKey", "unwrapKey"]);
    let secret = dynamic::generate_key(&hmac_alg("SHA-256"), false, &["sign"]).unwrap().into_key().unwrap();
    assert_eq!(name(dynamic::wrap_key("raw", &secret, &wk, &gcm(&[0; 12], None, None))), "InvalidAccessError");
    let enc_only = aes_key(&["encrypt"]);
    let exportable = dynamic::generate_key(&hmac_alg("SHA-256"), true, &["sign"]).unwrap().into_key().unwrap();
    assert_eq!(
        name(dynamic::wrap_key("raw", &exportable, &enc_only, &gcm(&[0; 12], None, None))),
        "InvalidAccessError"
    );
    let wrapped = dynamic::wrap_key("raw", &exportable, &wk, &gcm(&[0; 12], None, None)).unwrap();
    let mut bad = wrapped.clone();
    bad[0] ^= 1;
    assert_eq!(
        name(dynamic::unwrap_key("raw", &bad, &wk, &gcm(&[0; 12], None, None), &hmac_alg("SHA-256"), true, &["sign"])),
        "OperationError"
    );
    // A raw-wrapped key unwrapped as "jwk" is not JSON: DataError.
    assert_eq!(
        name(dynamic::unwrap_key(
            "jwk",
            &wrapped,
            &wk,
            &gcm(&[0; 12], None, None),
            &hmac_alg("SHA-256"),
            true,
            &["sign"]
        )),
        "DataError"
    );
}

/// Hostile bytes and JWKs never panic: every import returns Ok or a typed error.
#[test]
fn hostile_inputs_never_panic() {
    let mut state = 0x2545f4914f6cdd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let algs = [
        alg("AES-GCM"),
        alg("HKDF"),
        hmac_alg("SHA-1"),
        ec("ECDSA", "P-256"),
        ec("ECDH", "P-384"),
        alg("Ed25519"),
        alg("X25519"),
    ];
    for i in 0..600 {
        let len = (next() % 200) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Half the inputs start like DER so the parsers go deeper.
        if i % 2 == 0 && len > 2 {
            bytes[0] = 0x30;
            bytes[1] = (len - 2).min(127) as u8;
        }
        for a in &algs {
            for format in ["raw", "spki", "pkcs8"] {
                for usages in [&["sign"][..], &["verify"], &["deriveBits"], &["encrypt"], &[]] {
                    let _ = dynamic::import_key(format, &KeyData::bytes(bytes.clone()), a, true, usages);
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes).to_string();
        let _ = JsonWebKey::from_json(&text);
        let mut j = JsonWebKey::default();
        j.kty = Some(["EC", "OKP", "oct"][i % 3].into());
        j.crv = Some(["P-256", "P-384", "Ed25519", "X25519"][i % 4].into());
        j.x = Some(base64url(&bytes[..len.min(48)]));
        j.y = Some(base64url(&bytes[len / 2..]));
        j.d = if i % 2 == 0 { Some(base64url(&bytes[len / 3..])) } else { None };
        j.k = Some(base64url(&bytes));
        for a in &algs {
            let _ = dynamic::import_key("jwk", &KeyData::Jwk(j.clone()), a, true, &["sign"]);
            let _ = dynamic::import_key("jwk", &KeyData::Jwk(j.clone()), a, false, &[] as &[&str]);
        }
    }
}

#[test]
fn debug_output_never_shows_key_material() {
    let k = dynamic::import_key("raw", &KeyData::bytes(vec![0xab; 32]), &hmac_alg("SHA-256"), true, &["sign"]).unwrap();
    let s = format!("{k:?}");
    assert!(!s.contains("171") && !s.to_lowercase().contains("abab"), "{s}");
    assert!(s.contains("Hmac") && s.contains("sign"), "{s}");
    let e = dynamic::export_key("raw", &k).unwrap();
    assert!(!format!("{e:?}").contains("171"));
    let j = dynamic::export_key("jwk", &k).unwrap();
    let k_b64 = j.as_jwk().unwrap().k.clone().unwrap();
    assert!(!format!("{j:?}").contains(&k_b64));
    let data = KeyData::bytes(vec![0xcd; 16]);
    assert!(!format!("{data:?}").contains("205"));
    let pair = dynamic::generate_key(&alg("Ed25519"), true, &["sign"]).unwrap().into_pair().unwrap();
    let d = dynamic::export_key("jwk", &pair.private_key).unwrap().as_jwk().unwrap().d.clone().unwrap();
    assert!(!format!("{:?}", pair).contains(&d));
}

/// The PBKDF2 cost bound (`subtle::MAX_PBKDF2_ITERATIONS`, `MAX_PBKDF2_WORK`):
/// refused before any work, so these return at once.
#[test]
fn pbkdf2_cost_limits() {
    use sworn_webcrypto::subtle::{MAX_PBKDF2_ITERATIONS, MAX_PBKDF2_WORK};
    assert_eq!(MAX_PBKDF2_ITERATIONS, 100_000);
    let pk = dynamic::import_key(
        "raw",
        &KeyData::bytes(b"pw".to_vec()),
        &alg("PBKDF2"),
        false,
        &["deriveBits", "deriveKey"],
    )
    .unwrap();
    // Over the iteration limit: NotSupportedError, as Cloudflare Workers throw.
    let e = dynamic::derive_bits(&pbkdf2_params("SHA-256", b"s", 100_001), &pk, Some(256)).unwrap_err();
    assert_eq!(e.dom_name(), "NotSupportedError");
    assert!(e.message().contains("100000"), "{e}");
    assert_eq!(
        name(dynamic::derive_bits(&pbkdf2_params("SHA-1", b"s", u32::MAX), &pk, Some(160))),
        "NotSupportedError"
    );
    let pp = pbkdf2_params("SHA-256", b"s", 100_001);
    assert_eq!(name(dynamic::derive_key(&pp, &pk, &aes("AES-GCM", 128.0), true, &["encrypt"])), "NotSupportedError");
    // Within the iteration limit but too many output blocks: OperationError naming the limit.
    // 100,000 x 11 blocks of SHA-256 (352 bytes), 10,000 x 101 blocks of SHA-1 (2,020 bytes).
    for (hash, iterations, bytes) in
        [("SHA-256", 100_000, 352u32), ("SHA-1", 10_000, 2_020), ("SHA-512", 100_000, 11 * 64)]
    {
        let e = dynamic::derive_bits(&pbkdf2_params(hash, b"s", iterations), &pk, Some(bytes * 8)).unwrap_err();
        assert_eq!(e.dom_name(), "OperationError", "{hash}");
        assert!(e.message().contains(&MAX_PBKDF2_WORK.to_string()), "{e}");
    }
    let hmac = obj(AlgorithmInput::new("HMAC").with_str("hash", "SHA-256").with_number("length", 352.0 * 8.0));
    assert_eq!(
        name(dynamic::derive_key(&pbkdf2_params("SHA-256", b"s", 100_000), &pk, &hmac, true, &["sign"])),
        "OperationError"
    );
    // Under the bound the derivation runs (1,000 iterations x 10 blocks).
    assert_eq!(dynamic::derive_bits(&pbkdf2_params("SHA-256", b"s", 1_000), &pk, Some(320 * 8)).unwrap().len(), 320);
}
