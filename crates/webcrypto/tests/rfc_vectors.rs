//! Published test vectors (FIPS 180, RFC 4231, RFC 5869, RFC 6070,
//! RFC 7914, NIST SP 800-38A, the GCM specification, RFC 8032, RFC 7748,
//! RFC 6979) run through the WebCrypto API.
#![allow(clippy::type_complexity)]

mod common;

use common::*;
use sworn_webcrypto::{dynamic, ExportedKey, KeyData};

#[test]
fn fips180_digests() {
    let cases = [
        ("SHA-1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("SHA-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("SHA-384", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"),
        ("SHA-512", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
    ];
    for (name, want) in cases {
        assert_eq!(dynamic::digest(&alg(name), b"abc").unwrap(), h(want), "{name}");
    }
    assert_eq!(
        dynamic::digest(&alg("sha-256"), b"").unwrap(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
}

#[test]
fn rfc4231_hmac() {
    let tc1_key = [0x0bu8; 20];
    let tc6_key = [0xaau8; 131];
    let tc6_msg = b"Test Using Larger Than Block-Size Key - Hash Key First";
    let cases: [(&[u8], &[u8], &str, &str); 9] = [
        (&tc1_key, b"Hi There", "SHA-256", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (&tc1_key, b"Hi There", "SHA-384", "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"),
        (&tc1_key, b"Hi There", "SHA-512", "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"),
        (b"Jefe", b"what do ya want for nothing?", "SHA-256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (b"Jefe", b"what do ya want for nothing?", "SHA-384", "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"),
        (b"Jefe", b"what do ya want for nothing?", "SHA-512", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
        (&tc6_key, tc6_msg, "SHA-256", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (&tc6_key, tc6_msg, "SHA-384", "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"),
        (&tc6_key, tc6_msg, "SHA-512", "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"),
    ];
    for (key, msg, hash, want) in cases {
        let k = import_raw(key, hmac_alg(hash), &["sign", "verify"]);
        assert_eq!(dynamic::sign(&alg("HMAC"), &k, msg).unwrap(), h(want), "{hash}");
        assert!(dynamic::verify(&alg("HMAC"), &k, &h(want), msg).unwrap());
        // WebCrypto compares the full MAC: a truncated tag (RFC 4231 case 5 style) is false.
        assert!(!dynamic::verify(&alg("HMAC"), &k, &h(want)[..16], msg).unwrap());
    }
}

#[test]
fn rfc5869_hkdf() {
    let salt = h("000102030405060708090a0b0c");
    let info = h("f0f1f2f3f4f5f6f7f8f9");
    let cases: [(&str, Vec<u8>, Vec<u8>, Vec<u8>, &str); 4] = [
        (
            "SHA-256",
            vec![0x0b; 22],
            salt.clone(),
            info.clone(),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        (
            "SHA-256",
            vec![0x0b; 22],
            vec![],
            vec![],
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        ),
        (
            "SHA-1",
            vec![0x0b; 11],
            salt,
            info,
            "085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896",
        ),
        // Test case 7: absent salt; WebCrypto's empty salt is the same HMAC key.
        (
            "SHA-1",
            vec![0x0c; 22],
            vec![],
            vec![],
            "2c91117204d745f3500d636a62f64f0ab3bae548aa53d423b0d1f27ebba6f5e5673a081d70cce7acfc48",
        ),
    ];
    for (hash, ikm, salt, info, okm) in cases {
        let key = dynamic::import_key("raw", &KeyData::bytes(ikm), &alg("HKDF"), false, &["deriveBits"]).unwrap();
        assert_eq!(
            dynamic::derive_bits(&hkdf_params(hash, &salt, &info), &key, Some(42 * 8)).unwrap(),
            h(okm),
            "{hash}"
        );
    }
}

#[test]
fn rfc6070_and_rfc7914_pbkdf2() {
    let cases: [(&str, &[u8], &[u8], u32, &str); 7] = [
        ("SHA-1", b"password", b"salt", 1, "0c60c80f961f0e71f3a9b524af6012062fe037a6"),
        ("SHA-1", b"password", b"salt", 2, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
        ("SHA-1", b"password", b"salt", 4096, "4b007901b765489abead49d926f721d065a429c1"),
        ("SHA-1", b"passwordPASSWORDpassword", b"saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096,
         "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"),
        ("SHA-1", b"pass\0word", b"sa\0lt", 4096, "56fa6aa75548099dcc37d7f03425e0c3"),
        ("SHA-256", b"passwd", b"salt", 1,
         "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"),
        ("SHA-256", b"Password", b"NaCl", 80000,
         "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"),
    ];
    let full = !cfg!(debug_assertions) || std::env::var_os("SWORN_WEBCRYPTO_FULL").is_some();
    for (hash, pw, salt, c, dk) in cases {
        // 80000 iterations take long unoptimized; `make test-webcrypto` runs it.
        if c > 4096 && !full {
            continue;
        }
        let want = h(dk);
        let key =
            dynamic::import_key("raw", &KeyData::bytes(pw.to_vec()), &alg("PBKDF2"), false, &["deriveBits"]).unwrap();
        let got = dynamic::derive_bits(&pbkdf2_params(hash, salt, c), &key, Some(want.len() as u32 * 8)).unwrap();
        assert_eq!(got, want, "{hash} c={c}");
    }
}

#[test]
fn sp800_38a_aes_cbc() {
    let iv = h("000102030405060708090a0b0c0d0e0f");
    let pt = h("6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710");
    let cases = [
        (
            "2b7e151628aed2a6abf7158809cf4f3c",
            "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2
          73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7",
        ),
        (
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            "f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d
          39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b",
        ),
    ];
    for (key, ct) in cases {
        let k = import_raw(&h(key), alg("AES-CBC"), &["encrypt", "decrypt"]);
        let out = dynamic::encrypt(&cbc(&iv), &k, &pt).unwrap();
        // WebCrypto pads with PKCS#7: the SP 800-38A blocks plus one padding block.
        assert_eq!(out.len(), 80);
        assert_eq!(&out[..64], &h(ct)[..]);
        assert_eq!(dynamic::decrypt(&cbc(&iv), &k, &out).unwrap(), pt);
    }
}

#[test]
fn gcm_spec_test_cases() {
    let k3 = "feffe9928665731c6d6a8f9467308308";
    let p60 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
    let a = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
    // (key, iv, aad, plaintext, ciphertext, tag): test cases 1-6, 13, 14, 16.
    let cases = [
        ("00000000000000000000000000000000", "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"),
        ("00000000000000000000000000000000", "000000000000000000000000", "", "00000000000000000000000000000000",
         "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"),
        (k3, "cafebabefacedbaddecaf888", "",
         "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
         "4d5c2af327cd64a62cf35abd2ba6fab4"),
        (k3, "cafebabefacedbaddecaf888", a, p60,
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
         "5bc94fbc3221a5db94fae95ae7121a47"),
        (k3, "cafebabefacedbad", a, p60,
         "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c742373806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
         "3612d2e79e3b0785561be14aaca2fccb"),
        (k3, "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b", a, p60,
         "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca701e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
         "619cc5aefffe0bfa462af43c1699d050"),
        ("0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "", "", "",
         "530f8afbc74536b9a963b4f1c4cb738b"),
        ("0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "",
         "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"),
        ("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", a, p60,
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
         "76fc6ece0f4e1768cddf8853bb2d551b"),
    ];
    for (i, (key, iv, aad, pt, ct, tag)) in cases.into_iter().enumerate() {
        let k = import_raw(&h(key), alg("AES-GCM"), &["encrypt", "decrypt"]);
        let aad = h(aad);
        let mut sealed = h(ct);
        sealed.extend_from_slice(&h(tag));
        let params = gcm(&h(iv), if aad.is_empty() { None } else { Some(&aad) }, None);
        assert_eq!(dynamic::encrypt(&params, &k, &h(pt)).unwrap(), sealed, "case {i}");
        assert_eq!(dynamic::decrypt(&params, &k, &sealed).unwrap(), h(pt), "case {i}");
        // 96-bit truncated tags are the leading bytes of the full tag.
        let params96 = gcm(&h(iv), if aad.is_empty() { None } else { Some(&aad) }, Some(96));
        assert_eq!(dynamic::encrypt(&params96, &k, &h(pt)).unwrap(), sealed[..sealed.len() - 4], "case {i}");
    }
}

#[test]
fn rfc8032_ed25519() {
    let cases = [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ];
    for (sk, pk, msg, sig) in cases {
        let private =
            dynamic::import_key("pkcs8", &KeyData::bytes(okp_pkcs8(0x70, &h(sk))), &alg("Ed25519"), true, &["sign"])
                .unwrap();
        let public = dynamic::import_key("raw", &KeyData::bytes(h(pk)), &alg("Ed25519"), true, &["verify"]).unwrap();
        assert_eq!(dynamic::sign(&alg("Ed25519"), &private, &h(msg)).unwrap(), h(sig));
        assert!(dynamic::verify(&alg("Ed25519"), &public, &h(sig), &h(msg)).unwrap());
        let mut bad = h(sig);
        bad[0] ^= 1;
        assert!(!dynamic::verify(&alg("Ed25519"), &public, &bad, &h(msg)).unwrap());
        // The public key derived from the private key is the RFC's.
        match dynamic::export_key("jwk", &private).unwrap() {
            ExportedKey::Jwk(j) => assert_eq!(j.x.as_deref().unwrap(), base64url(&h(pk))),
            other => panic!("{other:?}"),
        }
    }
}

fn base64url(b: &[u8]) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(b)
}

#[test]
fn rfc7748_x25519() {
    // Section 5.2: scalar multiplication with arbitrary u (high bit masked).
    let cases = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    for (k, u, out) in cases {
        let private = dynamic::import_key(
            "pkcs8",
            &KeyData::bytes(okp_pkcs8(0x6e, &h(k))),
            &alg("X25519"),
            false,
            &["deriveBits"],
        )
        .unwrap();
        let public = dynamic::import_key("raw", &KeyData::bytes(h(u)), &alg("X25519"), true, &[] as &[&str]).unwrap();
        assert_eq!(dynamic::derive_bits(&derive_with("X25519", &public), &private, None).unwrap(), h(out));
    }
    // Section 6.1: Diffie-Hellman, both directions, with public keys from the private keys.
    let alice = h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let bob = h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let shared = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    let import_private = |d: &[u8], x: &str| {
        let mut jwk = sworn_webcrypto::JsonWebKey::default();
        jwk.kty = Some("OKP".into());
        jwk.crv = Some("X25519".into());
        jwk.d = Some(base64url(d));
        jwk.x = Some(base64url(&h(x)));
        dynamic::import_key("jwk", &KeyData::Jwk(jwk), &alg("X25519"), true, &["deriveBits"]).unwrap()
    };
    let a = import_private(&alice, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    let b = import_private(&bob, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let a_pub = dynamic::import_key(
        "raw",
        &KeyData::bytes(h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")),
        &alg("X25519"),
        true,
        &[] as &[&str],
    )
    .unwrap();
    let b_pub = dynamic::import_key(
        "raw",
        &KeyData::bytes(h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")),
        &alg("X25519"),
        true,
        &[] as &[&str],
    )
    .unwrap();
    assert_eq!(dynamic::derive_bits(&derive_with("X25519", &b_pub), &a, None).unwrap(), shared);
    assert_eq!(dynamic::derive_bits(&derive_with("X25519", &a_pub), &b, Some(128)).unwrap(), shared[..16]);
}

fn ec_jwk(curve: &str, d: &str, x: &str, y: &str) -> KeyData {
    let mut jwk = sworn_webcrypto::JsonWebKey::default();
    jwk.kty = Some("EC".into());
    jwk.crv = Some(curve.into());
    jwk.d = Some(base64url(&h(d)));
    jwk.x = Some(base64url(&h(x)));
    jwk.y = Some(base64url(&h(y)));
    KeyData::Jwk(jwk)
}

/// RFC 6979 A.2.5 / A.2.6. The crate signs with RFC 6979 nonces keyed by the
/// curve's own hash, so the signature is reproduced exactly when the message
/// hash is that hash; every published signature must verify.
#[test]
fn rfc6979_ecdsa() {
    struct Curve {
        name: &'static str,
        d: &'static str,
        x: &'static str,
        y: &'static str,
        native: &'static str,
        sigs: &'static [(&'static str, &'static str, &'static str, &'static str)],
    }
    let curves = [
        Curve {
            name: "P-256",
            d: "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
            x: "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6",
            y: "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
            native: "SHA-256",
            sigs: &[
                (
                    "SHA-256",
                    "sample",
                    "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
                    "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
                ),
                (
                    "SHA-256",
                    "test",
                    "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
                    "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083",
                ),
                (
                    "SHA-1",
                    "sample",
                    "61340C88C3AAEBEB4F6D667F672CA9759A6CCAA9FA8811313039EE4A35471D32",
                    "6D7F147DAC089441BB2E2FE8F7A3FA264B9C475098FDCF6E00D7C996E1B8B7EB",
                ),
                (
                    "SHA-384",
                    "sample",
                    "0EAFEA039B20E9B42309FB1D89E213057CBF973DC0CFC8F129EDDDC800EF7719",
                    "4861F0491E6998B9455193E34E7B0D284DDD7149A74B95B9261F13ABDE940954",
                ),
                (
                    "SHA-512",
                    "sample",
                    "8496A60B5E9B47C825488827E0495B0E3FA109EC4568FD3F8D1097678EB97F00",
                    "2362AB1ADBE2B8ADF9CB9EDAB740EA6049C028114F2460F96554F61FAE3302FE",
                ),
            ],
        },
        Curve {
            name: "P-384",
            d: "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5",
            x: "EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64DEF8F0EA9055866064A254515480BC13",
            y: "8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1288B231C3AE0D4FE7344FD2533264720",
            native: "SHA-384",
            sigs: &[
                (
                    "SHA-384",
                    "sample",
                    "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C81A648152E44ACF96E36DD1E80FABE46",
                    "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94FA329C145786E679E7B82C71A38628AC8",
                ),
                (
                    "SHA-384",
                    "test",
                    "8203B63D3C853E8D77227FB377BCF7B7B772E97892A80F36AB775D509D7A5FEB0542A7F0812998DA8F1DD3CA3CF023DB",
                    "DDD0760448D42D8A43AF45AF836FCE4DE8BE06B485E9B61B827C2F13173923E06A739F040649A667BF3B828246BAA5A5",
                ),
            ],
        },
    ];
    for c in curves {
        let private =
            dynamic::import_key("jwk", &ec_jwk(c.name, c.d, c.x, c.y), &ec("ECDSA", c.name), true, &["sign"]).unwrap();
        let mut point = vec![4u8];
        point.extend(h(c.x));
        point.extend(h(c.y));
        let public =
            dynamic::import_key("raw", &KeyData::bytes(point), &ec("ECDSA", c.name), true, &["verify"]).unwrap();
        for (hash, msg, r, s) in c.sigs {
            let mut sig = h(r);
            sig.extend(h(s));
            assert!(dynamic::verify(&ecdsa(hash), &public, &sig, msg.as_bytes()).unwrap(), "{} {hash} {msg}", c.name);
            if *hash == c.native {
                assert_eq!(
                    dynamic::sign(&ecdsa(hash), &private, msg.as_bytes()).unwrap(),
                    sig,
                    "{} {hash} {msg}",
                    c.name
                );
            }
            // A different hash must not verify.
            let other = if *hash == "SHA-512" { "SHA-256" } else { "SHA-512" };
            assert!(!dynamic::verify(&ecdsa(other), &public, &sig, msg.as_bytes()).unwrap());
        }
        // SHA-1 with P-384 (hash shorter than half the field) signs and verifies.
        let sig = dynamic::sign(&ecdsa("SHA-1"), &private, b"sample").unwrap();
        assert_eq!(sig.len(), 2 * h(c.d).len());
        assert!(dynamic::verify(&ecdsa("SHA-1"), &public, &sig, b"sample").unwrap());
    }
}
