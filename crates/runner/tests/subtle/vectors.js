// Known-answer tests: FIPS 180, RFC 2202/4231, the GCM specification,
// NIST SP 800-38A, RFC 6979, RFC 8032, RFC 5903, RFC 7748, RFC 5869, RFC 6070.

promise_test(async () => {
  const cases = [
    ["SHA-1", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["SHA-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["SHA-384", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"],
    ["SHA-512", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"],
  ];
  for (const [name, want] of cases) {
    const out = await subtle.digest(name, enc("abc"));
    assert_true(out instanceof ArrayBuffer, `${name} result is an ArrayBuffer`);
    assert_equals(hex(out), want, name);
    assert_equals(hex(await subtle.digest({ name: name.toLowerCase() }, enc("abc").buffer)), want, `${name} as {name}, ArrayBuffer input`);
  }
  assert_equals(hex(await subtle.digest("SHA-256", new Uint8Array(0))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty");
}, "digest: FIPS 180 known answers (SHA-1/256/384/512)");

promise_test(async () => {
  const cases = [
    [enc("Jefe"), "SHA-1", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"],
    [enc("Jefe"), "SHA-256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    [enc("Jefe"), "SHA-384", "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"],
    [enc("Jefe"), "SHA-512", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"],
  ];
  const msg = enc("what do ya want for nothing?");
  for (const [raw, hash, want] of cases) {
    const key = await subtle.importKey("raw", raw, { name: "HMAC", hash }, false, ["sign", "verify"]);
    assert_equals(key.algorithm.length, 32, `${hash} key length in bits`);
    const mac = await subtle.sign("HMAC", key, msg);
    assert_equals(hex(mac), want, hash);
    assert_true(await subtle.verify("HMAC", key, mac, msg), `${hash} verifies`);
    assert_false(await subtle.verify("HMAC", key, mac, enc("what do ya want for nothing!")), `${hash} other message`);
    assert_false(await subtle.verify("HMAC", key, new Uint8Array(mac).slice(0, 16), msg), `${hash} truncated MAC`);
  }
  const tc1 = await subtle.importKey("raw", new Uint8Array(20).fill(0x0b), { name: "HMAC", hash: { name: "SHA-256" } }, false, ["sign"]);
  assert_equals(hex(await subtle.sign({ name: "HMAC" }, tc1, enc("Hi There"))), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", "RFC 4231 case 1");
}, "HMAC: RFC 2202 / RFC 4231 sign and verify");

promise_test(async () => {
  const a = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const p60 = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const cases = [
    // GCM spec test case 2, 4, 16: key, iv, aad, plaintext, ciphertext || tag.
    ["00000000000000000000000000000000", "000000000000000000000000", null, new Uint8Array(16),
     "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"],
    ["feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", a, p60,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091" + "5bc94fbc3221a5db94fae95ae7121a47"],
    ["feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", a, p60,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" + "76fc6ece0f4e1768cddf8853bb2d551b"],
  ];
  for (const [k, iv, aad, pt, want] of cases) {
    const key = await subtle.importKey("raw", unhex(k), "AES-GCM", false, ["encrypt", "decrypt"]);
    const params = aad ? { name: "AES-GCM", iv: unhex(iv), additionalData: aad } : { name: "AES-GCM", iv: unhex(iv) };
    const ct = await subtle.encrypt(params, key, pt);
    assert_equals(hex(ct), want, `encrypt with ${k.length * 4}-bit key`);
    assert_equals(hex(await subtle.decrypt(params, key, ct)), hex(pt), "decrypt");
    const short = await subtle.encrypt({ ...params, tagLength: 96 }, key, pt);
    assert_equals(hex(short), want.slice(0, want.length - 8), "96-bit tag is the leading bytes");
    const bad = new Uint8Array(ct);
    bad[0] ^= 1;
    await promise_rejects_dom(null, "OperationError", subtle.decrypt(params, key, bad), "tampered ciphertext");
  }
}, "AES-GCM: GCM specification test cases 2, 4, 16");

promise_test(async () => {
  const iv = unhex("000102030405060708090a0b0c0d0e0f");
  const pt = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  const cases = [
    ["2b7e151628aed2a6abf7158809cf4f3c", "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"],
    ["603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"],
  ];
  for (const [k, want] of cases) {
    const key = await subtle.importKey("raw", unhex(k), { name: "AES-CBC" }, true, ["encrypt", "decrypt"]);
    const ct = new Uint8Array(await subtle.encrypt({ name: "AES-CBC", iv }, key, pt));
    assert_equals(ct.length, 80, "PKCS#7 adds one block");
    assert_equals(hex(ct.slice(0, 64)), want, `SP 800-38A with ${k.length * 4}-bit key`);
    assert_equals(hex(await subtle.decrypt({ name: "AES-CBC", iv }, key, ct)), hex(pt), "decrypt");
  }
}, "AES-CBC: NIST SP 800-38A F.2.1 / F.2.5");

promise_test(async () => {
  const counter = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  const pt = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  const cases = [
    ["2b7e151628aed2a6abf7158809cf4f3c", "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee"],
    ["603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6"],
  ];
  for (const [k, want] of cases) {
    const key = await subtle.importKey("raw", unhex(k), "AES-CTR", true, ["encrypt", "decrypt"]);
    assert_equals(key.algorithm.name, "AES-CTR");
    const ct = await subtle.encrypt({ name: "AES-CTR", counter, length: 64 }, key, pt);
    assert_equals(hex(ct), want, `SP 800-38A F.5 with ${k.length * 4}-bit key`);
    assert_equals(hex(await subtle.decrypt({ name: "AES-CTR", counter, length: 64 }, key, ct)), hex(pt), "decrypt");
  }
  const key = await subtle.importKey("raw", unhex(cases[0][0]), "AES-CTR", false, ["encrypt"]);
  await promise_rejects_dom(null, "OperationError", subtle.encrypt({ name: "AES-CTR", counter: counter.slice(0, 8), length: 64 }, key, pt), "8-byte counter");
  await promise_rejects_dom(null, "OperationError", subtle.encrypt({ name: "AES-CTR", counter, length: 0 }, key, pt), "length 0");
  await promise_rejects_dom(null, "OperationError", subtle.encrypt({ name: "AES-CTR", counter, length: 1 }, key, pt), "4 blocks on a 1-bit counter");
}, "AES-CTR: NIST SP 800-38A F.5.1 / F.5.5, counter checks");

promise_test(async () => {
  const kek = await subtle.importKey("raw", unhex("000102030405060708090a0b0c0d0e0f"), "AES-KW", false, ["wrapKey", "unwrapKey"]);
  const key = await subtle.importKey("raw", unhex("00112233445566778899aabbccddeeff"), "AES-GCM", true, ["encrypt"]);
  const wrapped = await subtle.wrapKey("raw", key, kek, "AES-KW");
  assert_equals(hex(wrapped), "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5", "RFC 3394 4.1");
  const back = await subtle.unwrapKey("raw", wrapped, kek, "AES-KW", "AES-GCM", true, ["encrypt"]);
  assert_equals(hex(await subtle.exportKey("raw", back)), "00112233445566778899aabbccddeeff", "unwrapped");
  const bad = new Uint8Array(wrapped);
  bad[0] ^= 1;
  await promise_rejects_dom(null, "OperationError", subtle.unwrapKey("raw", bad, kek, "AES-KW", "AES-GCM", true, ["encrypt"]), "altered");
  await promise_rejects_dom(null, "NotSupportedError", subtle.encrypt("AES-KW", kek, new Uint8Array(16)), "encrypt");
  await promise_rejects_dom(null, "SyntaxError", subtle.generateKey({ name: "AES-KW", length: 128 }, true, ["encrypt"]), "encrypt usage");
}, "AES-KW: RFC 3394 4.1 through wrapKey/unwrapKey; no encrypt");

const P256 = {
  d: "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
  x: "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
  y: "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
  sig: "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
};
const P384 = {
  d: "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5",
  x: "ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64def8f0ea9055866064a254515480bc13",
  y: "8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1288b231c3ae0d4fe7344fd2533264720",
  sig: "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe4699ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8",
};
const ecJwk = (crv, k, priv) => ({ kty: "EC", crv, x: b64url(unhex(k.x)), y: b64url(unhex(k.y)), ...(priv ? { d: b64url(unhex(k.d)) } : {}) });

promise_test(async () => {
  for (const [crv, hash, k] of [["P-256", "SHA-256", P256], ["P-384", "SHA-384", P384]]) {
    const alg = { name: "ECDSA", namedCurve: crv };
    const pub = await subtle.importKey("raw", concat([4], unhex(k.x), unhex(k.y)), alg, true, ["verify"]);
    assert_true(await subtle.verify({ name: "ECDSA", hash }, pub, unhex(k.sig), enc("sample")), `${crv} RFC 6979 signature verifies`);
    assert_false(await subtle.verify({ name: "ECDSA", hash }, pub, unhex(k.sig), enc("samplf")), `${crv} other message`);
    assert_false(await subtle.verify({ name: "ECDSA", hash: "SHA-512" }, pub, unhex(k.sig), enc("sample")), `${crv} other hash`);
    // Deterministic nonces (RFC 6979): the published signature exactly.
    const priv = await subtle.importKey("jwk", ecJwk(crv, k, true), alg, false, ["sign"]);
    assert_equals(hex(await subtle.sign({ name: "ECDSA", hash }, priv, enc("sample"))), k.sig, `${crv} sign`);
  }
}, "ECDSA: RFC 6979 P-256/P-384 verify and deterministic sign");

promise_test(async () => {
  for (const [crv, len] of [["P-256", 64], ["P-384", 96]]) {
    const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: crv }, false, ["sign", "verify"]);
    assert_equals(pair.publicKey.type, "public");
    assert_equals(pair.privateKey.type, "private");
    assert_equals(pair.publicKey.extractable, true, "public keys are always extractable");
    assert_equals(pair.privateKey.extractable, false);
    assert_array_equals(pair.publicKey.usages, ["verify"]);
    assert_array_equals(pair.privateKey.usages, ["sign"]);
    for (const hash of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
      const sig = await subtle.sign({ name: "ECDSA", hash }, pair.privateKey, enc("message"));
      assert_equals(sig.byteLength, len, `${crv} P1363 signature length`);
      assert_true(await subtle.verify({ name: "ECDSA", hash }, pair.publicKey, sig, enc("message")), `${crv} ${hash}`);
      assert_false(await subtle.verify({ name: "ECDSA", hash }, pair.publicKey, sig, enc("messagf")), `${crv} ${hash} other message`);
    }
  }
}, "ECDSA: generateKey, sign, verify on P-256 and P-384");

promise_test(async () => {
  const cases = [
    ["9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"],
    ["4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"],
  ];
  for (const [sk, pk, msg, sig] of cases) {
    const priv = await subtle.importKey("pkcs8", okpPkcs8(0x70, unhex(sk)), "Ed25519", true, ["sign"]);
    const pub = await subtle.importKey("raw", unhex(pk), { name: "Ed25519" }, true, ["verify"]);
    assert_equals(hex(await subtle.sign("Ed25519", priv, unhex(msg))), sig, "sign");
    assert_true(await subtle.verify("Ed25519", pub, unhex(sig), unhex(msg)), "verify");
    const bad = unhex(sig);
    bad[0] ^= 1;
    assert_false(await subtle.verify("Ed25519", pub, bad, unhex(msg)), "tampered signature");
    assert_equals((await subtle.exportKey("jwk", priv)).x, b64url(unhex(pk)), "public key derived from the seed");
  }
  const pair = await subtle.generateKey("Ed25519", false, ["sign", "verify"]);
  const s = await subtle.sign("Ed25519", pair.privateKey, enc("x"));
  assert_true(await subtle.verify("Ed25519", pair.publicKey, s, enc("x")), "generated pair");
}, "Ed25519: RFC 8032 test vectors 1 and 2");

promise_test(async () => {
  // RFC 5903 section 8.1 (P-256).
  const i = { d: "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433", x: "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180", y: "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3" };
  const r = { d: "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53", x: "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63", y: "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab" };
  const shared = "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de";
  const alg = { name: "ECDH", namedCurve: "P-256" };
  const iPriv = await subtle.importKey("jwk", ecJwk("P-256", i, true), alg, false, ["deriveBits"]);
  const rPriv = await subtle.importKey("jwk", ecJwk("P-256", r, true), alg, false, ["deriveBits", "deriveKey"]);
  const iPub = await subtle.importKey("raw", concat([4], unhex(i.x), unhex(i.y)), alg, true, []);
  const rPub = await subtle.importKey("jwk", ecJwk("P-256", r, false), alg, true, []);
  assert_equals(hex(await subtle.deriveBits({ name: "ECDH", public: rPub }, iPriv, 256)), shared, "initiator");
  assert_equals(hex(await subtle.deriveBits({ name: "ECDH", public: iPub }, rPriv, 256)), shared, "responder");
  assert_equals(hex(await subtle.deriveBits({ name: "ECDH", public: iPub }, rPriv, null)), shared, "length null: the whole secret");
  assert_equals(hex(await subtle.deriveBits({ name: "ECDH", public: iPub }, rPriv, 128)), shared.slice(0, 32), "truncated");
  const aes = await subtle.deriveKey({ name: "ECDH", public: iPub }, rPriv, { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
  assert_equals(hex(await subtle.exportKey("raw", aes)), shared.slice(0, 32), "deriveKey takes the leading bits");
  // P-384: both sides of a generated exchange agree.
  const a = await subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, false, ["deriveBits"]);
  const b = await subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, false, ["deriveBits"]);
  const ab = await subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, 384);
  const ba = await subtle.deriveBits({ name: "ECDH", public: a.publicKey }, b.privateKey, 384);
  assert_equals(ab.byteLength, 48);
  assert_equals(hex(ab), hex(ba), "P-384 agreement");
}, "ECDH: RFC 5903 P-256 shared secret, P-384 agreement");

promise_test(async () => {
  // RFC 7748 section 6.1.
  const alice = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
  const alicePub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
  const bob = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
  const bobPub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
  const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  const a = await subtle.importKey("pkcs8", okpPkcs8(0x6e, unhex(alice)), "X25519", true, ["deriveBits"]);
  const b = await subtle.importKey("jwk", { kty: "OKP", crv: "X25519", d: b64url(unhex(bob)), x: b64url(unhex(bobPub)) }, "X25519", false, ["deriveBits"]);
  const aPub = await subtle.importKey("raw", unhex(alicePub), "X25519", true, []);
  const bPub = await subtle.importKey("spki", concat(unhex("302a300506032b656e032100"), unhex(bobPub)), { name: "X25519" }, true, []);
  assert_equals(hex(await subtle.deriveBits({ name: "X25519", public: bPub }, a, 256)), shared, "Alice");
  assert_equals(hex(await subtle.deriveBits({ name: "X25519", public: aPub }, b, 256)), shared, "Bob");
  assert_equals((await subtle.exportKey("jwk", a)).x, b64url(unhex(alicePub)), "public key derived from the private key");
}, "X25519: RFC 7748 section 6.1 Diffie-Hellman");

promise_test(async () => {
  const cases = [
    ["SHA-256", new Uint8Array(22).fill(0x0b), unhex("000102030405060708090a0b0c"), unhex("f0f1f2f3f4f5f6f7f8f9"),
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"],
    ["SHA-256", new Uint8Array(22).fill(0x0b), new Uint8Array(0), new Uint8Array(0),
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"],
    ["SHA-1", new Uint8Array(11).fill(0x0b), unhex("000102030405060708090a0b0c"), unhex("f0f1f2f3f4f5f6f7f8f9"),
     "085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896"],
  ];
  for (const [hash, ikm, salt, info, okm] of cases) {
    const key = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits", "deriveKey"]);
    assert_equals(key.extractable, false);
    assert_equals(hex(await subtle.deriveBits({ name: "HKDF", hash, salt, info }, key, 42 * 8)), okm, hash);
  }
  const key = await subtle.importKey("raw", new Uint8Array(22).fill(0x0b), "HKDF", false, ["deriveKey"]);
  const hmac = await subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new Uint8Array(0) }, key,
    { name: "HMAC", hash: "SHA-256", length: 256 }, true, ["sign"]);
  assert_equals(hex(await subtle.exportKey("raw", hmac)), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d", "deriveKey HMAC");
}, "HKDF: RFC 5869 test cases 1, 3, 4");

promise_test(async () => {
  const cases = [
    ["password", "salt", 1, "0c60c80f961f0e71f3a9b524af6012062fe037a6"],
    ["password", "salt", 2, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"],
    ["password", "salt", 4096, "4b007901b765489abead49d926f721d065a429c1"],
    ["passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"],
    ["pass\0word", "sa\0lt", 4096, "56fa6aa75548099dcc37d7f03425e0c3"],
  ];
  for (const [pw, salt, iterations, dk] of cases) {
    const key = await subtle.importKey("raw", enc(pw), { name: "PBKDF2" }, false, ["deriveBits"]);
    assert_equals(hex(await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-1", salt: enc(salt), iterations }, key, dk.length * 4)), dk, `c=${iterations}`);
  }
  const key = await subtle.importKey("raw", enc("password"), "PBKDF2", false, ["deriveKey"]);
  const aes = await subtle.deriveKey({ name: "PBKDF2", hash: "SHA-1", salt: enc("salt"), iterations: 2 }, key, { name: "AES-GCM", length: 128 }, true, ["encrypt", "decrypt"]);
  assert_equals(aes.algorithm.name, "AES-GCM");
  assert_equals(aes.algorithm.length, 128);
  assert_array_equals(aes.usages, ["encrypt", "decrypt"]);
  assert_equals(hex(await subtle.exportKey("raw", aes)), "ea6c014dc72d6f8ccd1ed92ace1d41f0", "deriveKey AES-GCM = leading 128 bits");
  const ct = await subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, enc("hi"));
  assert_equals(new TextDecoder().decode(await subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, ct)), "hi");
}, "PBKDF2: RFC 6070 deriveBits, deriveKey to AES-GCM");
