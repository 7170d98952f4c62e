//! deriveKey, deriveBits and wrapKey/unwrapKey success paths across algorithms.

mod common;

use common::*;
use sworn_webcrypto::{dynamic, AlgorithmInput, KeyData, KeyType};

fn aes(name: &str, bits: f64) -> sworn_webcrypto::AlgorithmIdentifier {
    obj(AlgorithmInput::new(name).with_number("length", bits))
}

fn raw(key: &sworn_webcrypto::CryptoKey) -> Vec<u8> {
    dynamic::export_key("raw", key).unwrap().as_bytes().unwrap().to_vec()
}

#[test]
fn ecdh_and_x25519_agree_and_derive_equal_keys() {
    for (name, a) in [
        ("ECDH", ec("ECDH", "P-256")),
        ("ECDH", ec("ECDH", "P-384")),
        ("ECDH", ec("ECDH", "P-521")),
        ("X25519", alg("X25519")),
    ] {
        let alice = dynamic::generate_key(&a, false, &["deriveKey", "deriveBits"]).unwrap().into_pair().unwrap();
        let bob = dynamic::generate_key(&a, false, &["deriveKey", "deriveBits"]).unwrap().into_pair().unwrap();
        let ab = dynamic::derive_bits(&derive_with(name, &bob.public_key), &alice.private_key, None).unwrap();
        let ba = dynamic::derive_bits(&derive_with(name, &alice.public_key), &bob.private_key, None).unwrap();
        assert_eq!(ab, ba);
        let ka = dynamic::derive_key(
            &derive_with(name, &bob.public_key),
            &alice.private_key,
            &aes("AES-GCM", 256.0),
            true,
            &["encrypt", "decrypt"],
        )
        .unwrap();
        let kb = dynamic::derive_key(
            &derive_with(name, &alice.public_key),
            &bob.private_key,
            &aes("AES-GCM", 256.0),
            true,
            &["decrypt"],
        )
        .unwrap();
        // The derived AES key is the first 256 bits of the shared secret.
        assert_eq!(raw(&ka), raw(&kb));
        assert_eq!(raw(&ka), ab[..32]);
        let ct = dynamic::encrypt(&gcm(&[3; 12], None, None), &ka, b"hi bob").unwrap();
        assert_eq!(dynamic::decrypt(&gcm(&[3; 12], None, None), &kb, &ct).unwrap(), b"hi bob");
        // A derived HKDF key (full secret, not extractable) feeds HKDF.
        let hk = dynamic::derive_key(
            &derive_with(name, &bob.public_key),
            &alice.private_key,
            &alg("HKDF"),
            false,
            &["deriveBits"],
        )
        .unwrap();
        assert_eq!(hk.key_type(), KeyType::Secret);
        assert!(!hk.extractable());
        assert_eq!(dynamic::derive_bits(&hkdf_params("SHA-256", b"", b"ctx"), &hk, Some(128)).unwrap().len(), 16);
    }
}

#[test]
fn pbkdf2_derives_hmac_with_block_size_length_and_hkdf_derives_aes() {
    let pw = dynamic::import_key(
        "raw",
        &KeyData::bytes(b"password".to_vec()),
        &alg("PBKDF2"),
        false,
        &["deriveKey", "deriveBits"],
    )
    .unwrap();
    let p = pbkdf2_params("SHA-256", b"salt", 2);
    let hk = dynamic::derive_key(&p, &pw, &hmac_alg("SHA-512"), true, &["sign"]).unwrap();
    assert_eq!(hk.algorithm().to_json()["length"], 1024);
    assert_eq!(raw(&hk), dynamic::derive_bits(&p, &pw, Some(1024)).unwrap());

    let ikm = dynamic::import_key("raw", &KeyData::bytes(vec![0x0b; 22]), &alg("HKDF"), false, &["deriveKey"]).unwrap();
    let hp = hkdf_params("SHA-256", &h("000102030405060708090a0b0c"), &h("f0f1f2f3f4f5f6f7f8f9"));
    let k = dynamic::derive_key(&hp, &ikm, &aes("AES-CBC", 128.0), true, &["encrypt"]).unwrap();
    // RFC 5869 test case 1, first 16 bytes of OKM.
    assert_eq!(raw(&k), h("3cb25f25faacd57a90434f64d0362f2a"));
    assert_eq!(k.algorithm().to_json(), serde_json::json!({"name": "AES-CBC", "length": 128}));
}

#[test]
fn wrap_and_unwrap_round_trips() {
    let kek =
        dynamic::generate_key(&aes("AES-GCM", 256.0), false, &["wrapKey", "unwrapKey"]).unwrap().into_key().unwrap();
    let cbc_kek =
        dynamic::generate_key(&aes("AES-CBC", 128.0), false, &["wrapKey", "unwrapKey"]).unwrap().into_key().unwrap();
    let hmac = dynamic::generate_key(&hmac_alg("SHA-256"), true, &["sign", "verify"]).unwrap().into_key().unwrap();
    let ec_pair = dynamic::generate_key(&ec("ECDSA", "P-256"), true, &["sign", "verify"]).unwrap().into_pair().unwrap();

    for (kek, params) in [(&kek, gcm(&[9; 12], Some(b"wrap"), None)), (&cbc_kek, cbc(&[9; 16]))] {
        for format in ["raw", "jwk"] {
            let wrapped = dynamic::wrap_key(format, &hmac, kek, &params).unwrap();
            let k =
                dynamic::unwrap_key(format, &wrapped, kek, &params, &hmac_alg("SHA-256"), false, &["verify"]).unwrap();
            assert!(!k.extractable());
            let mac = dynamic::sign(&alg("HMAC"), &hmac, b"msg").unwrap();
            assert!(dynamic::verify(&alg("HMAC"), &k, &mac, b"msg").unwrap());
        }
        for format in ["pkcs8", "jwk"] {
            let wrapped = dynamic::wrap_key(format, &ec_pair.private_key, kek, &params).unwrap();
            let k =
                dynamic::unwrap_key(format, &wrapped, kek, &params, &ec("ECDSA", "P-256"), true, &["sign"]).unwrap();
            assert_eq!(k.key_type(), KeyType::Private);
            let sig = dynamic::sign(&ecdsa("SHA-256"), &k, b"msg").unwrap();
            assert!(dynamic::verify(&ecdsa("SHA-256"), &ec_pair.public_key, &sig, b"msg").unwrap());
        }
    }
    // A JWK is wrapped as its JSON text.
    let wrapped = dynamic::wrap_key("jwk", &hmac, &kek, &gcm(&[1; 12], None, None)).unwrap();
    let unwrapped = dynamic::decrypt(
        &gcm(&[1; 12], None, None),
        &dynamic::import_key("raw", &KeyData::bytes(vec![0; 32]), &alg("AES-GCM"), false, &["decrypt"]).unwrap(),
        &wrapped,
    );
    assert!(unwrapped.is_err(), "a different key cannot open it");
}

#[test]
fn aes_kw_wraps_keys_and_only_wraps() {
    let kek =
        dynamic::generate_key(&aes("AES-KW", 256.0), true, &["wrapKey", "unwrapKey"]).unwrap().into_key().unwrap();
    assert_eq!(kek.algorithm().to_json(), serde_json::json!({"name": "AES-KW", "length": 256}));
    let jwk = dynamic::export_key("jwk", &kek).unwrap();
    assert!(format!("{jwk:?}").contains("A256KW"), "{jwk:?}");
    let inner =
        dynamic::generate_key(&aes("AES-GCM", 128.0), true, &["encrypt", "decrypt"]).unwrap().into_key().unwrap();
    let wrapped = dynamic::wrap_key("raw", &inner, &kek, &alg("AES-KW")).unwrap();
    assert_eq!(wrapped.len(), 24, "16 bytes of key and the 8-byte integrity value");
    let back = dynamic::unwrap_key("raw", &wrapped, &kek, &alg("AES-KW"), &alg("AES-GCM"), true, &["encrypt"]).unwrap();
    assert_eq!(raw(&back), raw(&inner));
    // Altered: the integrity check fails.
    let mut bad = wrapped.clone();
    bad[3] ^= 0x80;
    let err = dynamic::unwrap_key("raw", &bad, &kek, &alg("AES-KW"), &alg("AES-GCM"), true, &["encrypt"]).unwrap_err();
    assert_eq!(err.dom_name(), "OperationError");
    // A JWK's JSON text is rarely a multiple of 8 bytes: refused, not padded.
    let jwk_wrap = dynamic::wrap_key("jwk", &inner, &kek, &alg("AES-KW"));
    if let Err(e) = jwk_wrap {
        assert_eq!(e.dom_name(), "OperationError");
    }
    // AES-KW is no cipher: encrypt is not supported, nor are its usages.
    let data = [0u8; 16];
    assert_eq!(dynamic::encrypt(&alg("AES-KW"), &kek, &data).unwrap_err().dom_name(), "NotSupportedError");
    let e = dynamic::generate_key(&aes("AES-KW", 128.0), true, &["encrypt"]).unwrap_err();
    assert_eq!(e.dom_name(), "SyntaxError");
}

#[test]
fn random_values_and_uuid() {
    let mut a = [0u8; 64];
    let mut b = [0u8; 64];
    sworn_webcrypto::get_random_values(&mut a).unwrap();
    sworn_webcrypto::get_random_values(&mut b).unwrap();
    assert_ne!(a, b);
    let u = sworn_webcrypto::random_uuid().unwrap();
    assert!(u.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
}
