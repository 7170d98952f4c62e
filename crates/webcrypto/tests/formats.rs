//! Import/export round trips for every key type and format, and the
//! browser-visible shape of exported keys (WPT import_export expectations,
//! Chromium/Firefox output where the specification leaves it open).

mod common;

use common::*;
use sworn_webcrypto::{dynamic, CryptoKey, ExportedKey, JsonWebKey, KeyData, KeyType};

fn export(format: &str, key: &CryptoKey) -> ExportedKey {
    dynamic::export_key(format, key).unwrap_or_else(|e| panic!("export {format}: {e}"))
}

fn jwk_of(key: &CryptoKey) -> JsonWebKey {
    export("jwk", key).as_jwk().unwrap().clone()
}

fn members(jwk: &JsonWebKey) -> Vec<String> {
    let mut v: Vec<String> = jwk.to_value().as_object().unwrap().keys().cloned().collect();
    v.sort();
    v
}

fn reimport(
    format: &str,
    exported: &ExportedKey,
    a: &sworn_webcrypto::AlgorithmIdentifier,
    usages: &[&str],
) -> CryptoKey {
    let data = match exported {
        ExportedKey::Bytes(b) => KeyData::bytes(b.to_vec()),
        ExportedKey::Jwk(j) => KeyData::Jwk(j.clone()),
    };
    dynamic::import_key(format, &data, a, true, usages).unwrap_or_else(|e| panic!("reimport {format}: {e}"))
}

fn bytes_of(e: &ExportedKey) -> Vec<u8> {
    e.as_bytes().unwrap().to_vec()
}

#[test]
fn hmac_round_trips_and_jwk_shape() {
    for (hash, alg_name, bits) in
        [("SHA-1", "HS1", 512), ("SHA-256", "HS256", 512), ("SHA-384", "HS384", 1024), ("SHA-512", "HS512", 1024)]
    {
        let key = dynamic::generate_key(&hmac_alg(hash), true, &["verify", "sign"]).unwrap().into_key().unwrap();
        // Default length is the hash block size.
        assert_eq!(
            key.algorithm().to_json(),
            serde_json::json!({"name": "HMAC", "hash": {"name": hash}, "length": bits})
        );
        assert_eq!(key.key_type(), KeyType::Secret);
        assert_eq!(key.usages().names(), vec!["sign", "verify"]);
        let raw = export("raw", &key);
        assert_eq!(bytes_of(&raw).len() * 8, bits as usize);
        let jwk = jwk_of(&key);
        assert_eq!(jwk.kty.as_deref(), Some("oct"));
        assert_eq!(jwk.alg.as_deref(), Some(alg_name));
        assert_eq!(jwk.ext, Some(true));
        assert_eq!(jwk.key_ops.as_deref(), Some(&["sign".to_string(), "verify".to_string()][..]));
        assert_eq!(members(&jwk), ["alg", "ext", "k", "key_ops", "kty"]);
        for (format, e) in [("raw", raw), ("jwk", ExportedKey::Jwk(jwk))] {
            let k2 = reimport(format, &e, &hmac_alg(hash), &["sign", "verify"]);
            assert_eq!(bytes_of(&export("raw", &k2)), bytes_of(&export("raw", &key)));
            let mac = dynamic::sign(&alg("HMAC"), &key, b"m").unwrap();
            assert!(dynamic::verify(&alg("HMAC"), &k2, &mac, b"m").unwrap());
        }
    }
}

#[test]
fn hmac_explicit_length_is_kept() {
    let a = obj(sworn_webcrypto::AlgorithmInput::new("HMAC").with_str("hash", "SHA-256").with_number("length", 260.0));
    let key = dynamic::generate_key(&a, true, &["sign"]).unwrap().into_key().unwrap();
    assert_eq!(key.algorithm().to_json()["length"], 260);
    let raw = bytes_of(&export("raw", &key));
    assert_eq!(raw.len(), 33);
    assert_eq!(raw[32] & 0x0f, 0, "bits past the length are zero");
    // Importing with that length back works; the length must stay within the last byte.
    let k2 = dynamic::import_key("raw", &KeyData::bytes(raw.clone()), &a, true, &["sign"]).unwrap();
    assert_eq!(k2.algorithm().to_json()["length"], 260);
}

#[test]
fn aes_round_trips_and_jwk_alg() {
    for name in ["AES-GCM", "AES-CBC"] {
        for bits in [128u32, 192, 256] {
            let a = obj(sworn_webcrypto::AlgorithmInput::new(name).with_number("length", f64::from(bits)));
            let key = dynamic::generate_key(&a, true, &["encrypt", "decrypt", "wrapKey", "unwrapKey"])
                .unwrap()
                .into_key()
                .unwrap();
            assert_eq!(key.algorithm().to_json(), serde_json::json!({"name": name, "length": bits}));
            let jwk = jwk_of(&key);
            assert_eq!(jwk.alg.as_deref(), Some(format!("A{bits}{}", &name[4..]).as_str()));
            assert_eq!(jwk.key_ops.as_ref().unwrap(), &["encrypt", "decrypt", "wrapKey", "unwrapKey"]);
            let raw = export("raw", &key);
            assert_eq!(bytes_of(&raw).len() * 8, bits as usize);
            for (format, e) in [("raw", raw.clone()), ("jwk", ExportedKey::Jwk(jwk))] {
                let k2 = reimport(format, &e, &alg(name), &["decrypt"]);
                assert_eq!(bytes_of(&export("raw", &k2)), bytes_of(&raw));
                let params = if name == "AES-GCM" { gcm(&[1; 12], None, None) } else { cbc(&[1; 16]) };
                let ct = dynamic::encrypt(&params, &key, b"round trip").unwrap();
                assert_eq!(dynamic::decrypt(&params, &k2, &ct).unwrap(), b"round trip");
            }
        }
    }
}

#[test]
fn ec_round_trips_in_every_format() {
    for (name, usages, pub_usages, priv_usages) in [
        ("ECDSA", vec!["sign", "verify"], vec!["verify"], vec!["sign"]),
        ("ECDH", vec!["deriveKey", "deriveBits"], vec![], vec!["deriveBits"]),
    ] {
        for (curve, n, spki_len, pkcs8_len) in [("P-256", 32usize, 91usize, 138usize), ("P-384", 48, 120, 185)] {
            let pair = dynamic::generate_key(&ec(name, curve), false, &usages).unwrap().into_pair().unwrap();
            let (public, private) = (&pair.public_key, &pair.private_key);
            // Public keys are always extractable; private keys follow the argument.
            assert!(public.extractable());
            assert!(!private.extractable());
            assert_eq!(public.algorithm().to_json(), serde_json::json!({"name": name, "namedCurve": curve}));
            assert_eq!(public.usages().names(), pub_usages);
            assert_eq!(dynamic::export_key("pkcs8", private).unwrap_err().dom_name(), "InvalidAccessError");

            let raw = export("raw", public);
            assert_eq!(bytes_of(&raw).len(), 1 + 2 * n);
            assert_eq!(bytes_of(&raw)[0], 4, "uncompressed point");
            let spki = export("spki", public);
            assert_eq!(bytes_of(&spki).len(), spki_len);
            let jwk = jwk_of(public);
            assert_eq!(members(&jwk), ["crv", "ext", "key_ops", "kty", "x", "y"], "no 'alg' for EC keys");
            assert_eq!(jwk.crv.as_deref(), Some(curve));
            for (format, e) in [("raw", raw.clone()), ("spki", spki.clone()), ("jwk", ExportedKey::Jwk(jwk))] {
                let k = reimport(format, &e, &ec(name, curve), &pub_usages);
                assert_eq!(bytes_of(&export("raw", &k)), bytes_of(&raw), "{name} {curve} {format}");
                assert_eq!(bytes_of(&export("spki", &k)), bytes_of(&spki));
            }

            // Private key: re-import extractable and round-trip pkcs8 and jwk.
            let priv_pkcs8 = {
                let p = dynamic::generate_key(&ec(name, curve), true, &usages).unwrap().into_pair().unwrap();
                p.private_key
            };
            let pkcs8 = export("pkcs8", &priv_pkcs8);
            assert_eq!(bytes_of(&pkcs8).len(), pkcs8_len);
            let jwk = jwk_of(&priv_pkcs8);
            assert_eq!(members(&jwk), ["crv", "d", "ext", "key_ops", "kty", "x", "y"]);
            for (format, e) in [("pkcs8", pkcs8.clone()), ("jwk", ExportedKey::Jwk(jwk.clone()))] {
                let k = reimport(format, &e, &ec(name, curve), &priv_usages);
                assert_eq!(k.key_type(), KeyType::Private);
                assert_eq!(bytes_of(&export("pkcs8", &k)), bytes_of(&pkcs8));
                assert_eq!(jwk_of(&k).d, jwk.d);
            }
        }
    }
}

#[test]
fn ec_compressed_points_are_accepted_and_exported_uncompressed() {
    let pair = dynamic::generate_key(&ec("ECDSA", "P-256"), true, &["sign", "verify"]).unwrap().into_pair().unwrap();
    let raw = bytes_of(&export("raw", &pair.public_key));
    let mut compressed = vec![if raw[64] & 1 == 1 { 3 } else { 2 }];
    compressed.extend_from_slice(&raw[1..33]);
    let k = dynamic::import_key("raw", &KeyData::bytes(compressed), &ec("ECDSA", "P-256"), true, &["verify"]).unwrap();
    assert_eq!(bytes_of(&export("raw", &k)), raw);
}

#[test]
fn okp_round_trips_and_jwk_shape() {
    for (name, usages, pub_usages, priv_usages, oid) in [
        ("Ed25519", vec!["sign", "verify"], vec!["verify"], vec!["sign"], 0x70u8),
        ("X25519", vec!["deriveBits"], vec![], vec!["deriveBits"], 0x6e),
    ] {
        let pair = dynamic::generate_key(&alg(name), true, &usages).unwrap().into_pair().unwrap();
        let (public, private) = (&pair.public_key, &pair.private_key);
        assert_eq!(public.algorithm().to_json(), serde_json::json!({"name": name}));
        assert_eq!(public.usages().names(), pub_usages);
        assert_eq!(private.usages().names(), priv_usages);

        let raw = export("raw", public);
        assert_eq!(bytes_of(&raw).len(), 32);
        let spki = bytes_of(&export("spki", public));
        assert_eq!(spki[..12], [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, oid, 0x03, 0x21, 0x00]);
        assert_eq!(spki[12..], bytes_of(&raw)[..]);
        let pkcs8 = bytes_of(&export("pkcs8", private));
        // PKCS#8 v1 without the public key: 48 bytes, as browsers export.
        assert_eq!(pkcs8.len(), 48);
        assert_eq!(pkcs8[..16], okp_pkcs8(oid, &[0; 32])[..16]);

        let pub_jwk = jwk_of(public);
        let priv_jwk = jwk_of(private);
        assert_eq!(pub_jwk.kty.as_deref(), Some("OKP"));
        assert_eq!(pub_jwk.crv.as_deref(), Some(name));
        if name == "Ed25519" {
            // WPT: "alg is the algorithm name for Ed25519 export" (6 members public, 7 private).
            assert_eq!(pub_jwk.alg.as_deref(), Some("Ed25519"));
            assert_eq!(members(&pub_jwk), ["alg", "crv", "ext", "key_ops", "kty", "x"]);
            assert_eq!(members(&priv_jwk), ["alg", "crv", "d", "ext", "key_ops", "kty", "x"]);
        } else {
            assert_eq!(members(&pub_jwk), ["crv", "ext", "key_ops", "kty", "x"]);
            assert_eq!(members(&priv_jwk), ["crv", "d", "ext", "key_ops", "kty", "x"]);
        }
        assert_eq!(priv_jwk.x, pub_jwk.x);

        for (format, e) in [
            ("raw", raw.clone()),
            ("spki", ExportedKey::Bytes(spki.clone().into())),
            ("jwk", ExportedKey::Jwk(pub_jwk.clone())),
        ] {
            let k = reimport(format, &e, &alg(name), &pub_usages);
            assert_eq!(bytes_of(&export("raw", &k)), bytes_of(&raw), "{name} {format}");
        }
        for (format, e) in
            [("pkcs8", ExportedKey::Bytes(pkcs8.clone().into())), ("jwk", ExportedKey::Jwk(priv_jwk.clone()))]
        {
            let k = reimport(format, &e, &alg(name), &priv_usages);
            assert_eq!(bytes_of(&export("pkcs8", &k)), pkcs8, "{name} {format}");
        }
        // Ed25519 JWK 'alg' may be "Ed25519" or "EdDSA" on import; X25519 ignores it.
        let mut j = pub_jwk.clone();
        j.alg = Some(if name == "Ed25519" { "EdDSA".into() } else { "this is ignored".into() });
        dynamic::import_key("jwk", &KeyData::Jwk(j), &alg(name), true, &pub_usages).unwrap();
    }
}

#[test]
fn okp_pkcs8_v2_with_public_key_is_accepted_when_consistent() {
    // RFC 8410 section 10.3 style OneAsymmetricKey with [1] publicKey.
    let pair = dynamic::generate_key(&alg("Ed25519"), true, &["sign", "verify"]).unwrap().into_pair().unwrap();
    let v1 = bytes_of(&export("pkcs8", &pair.private_key));
    let pk = bytes_of(&export("raw", &pair.public_key));
    let build = |pk: &[u8]| {
        let mut body = vec![0x02, 0x01, 0x01]; // version 1
        body.extend_from_slice(&v1[5..48]); // algorithm + privateKey
        body.extend_from_slice(&[0x81, 0x21, 0x00]);
        body.extend_from_slice(pk);
        let mut der = vec![0x30, body.len() as u8];
        der.extend(body);
        der
    };
    let ok = dynamic::import_key("pkcs8", &KeyData::bytes(build(&pk)), &alg("Ed25519"), true, &["sign"]).unwrap();
    assert_eq!(bytes_of(&export("pkcs8", &ok)), v1);
    let mut other = pk.clone();
    other[0] ^= 1;
    let e = dynamic::import_key("pkcs8", &KeyData::bytes(build(&other)), &alg("Ed25519"), true, &["sign"]).unwrap_err();
    assert_eq!(e.dom_name(), "DataError");
}

#[test]
fn jwk_json_text_round_trip_through_the_binding_shape() {
    // What a JS binding does: JSON.stringify(jwk) -> JsonWebKey::from_json -> import.
    let pair = dynamic::generate_key(&ec("ECDSA", "P-384"), true, &["sign", "verify"]).unwrap().into_pair().unwrap();
    let text = jwk_of(&pair.private_key).to_json();
    let jwk = JsonWebKey::from_json(&text).unwrap();
    let k = dynamic::import_key("jwk", &KeyData::Jwk(jwk), &ec("ECDSA", "P-384"), false, &["sign"]).unwrap();
    let sig = dynamic::sign(&ecdsa("SHA-384"), &k, b"x").unwrap();
    assert_eq!(sig.len(), 96);
    assert!(dynamic::verify(&ecdsa("SHA-384"), &pair.public_key, &sig, b"x").unwrap());
}

#[test]
fn imported_public_key_usages_and_type() {
    let pair = dynamic::generate_key(&ec("ECDH", "P-256"), true, &["deriveBits"]).unwrap().into_pair().unwrap();
    let spki = export("spki", &pair.public_key);
    let k = reimport("spki", &spki, &ec("ECDH", "P-256"), &[]);
    assert_eq!(k.key_type(), KeyType::Public);
    assert!(k.usages().is_empty());
}
