// A deterministic script run both in a Sworn worker and under Node's
// WebCrypto (OpenSSL); tests/subtle.rs asserts both print the same JSON.
// Only deterministic operations: fixed keys, IVs and inputs; ECDSA
// signatures only verified (Node's nonces are random). Error cases are
// those where Node follows the specification (it does not for: exporting a
// non-extractable key, named "InvalidAccessException"; bytes given for
// "jwk", DataError instead of TypeError; RSA and P-521, which Sworn lacks;
// AES-GCM IVs shorter than 12 bytes, which Node refuses). Usages are given
// in the specification's order: Sworn reports them in that order, as
// Chromium and Firefox do, Node in the caller's.
async function crosscheck() {
  const out = {};
  const put = (k, v) => { out[k] = v instanceof ArrayBuffer ? hex(v) : v; };
  const attrs = (k) => canon({ type: k.type, extractable: k.extractable, algorithm: k.algorithm, usages: k.usages });
  const pattern = (n, m) => Uint8Array.from({ length: n }, (_, i) => (i * m + 1) & 255);
  const msg = enc("The quick brown fox jumps over the lazy dog");

  // digest
  for (const h of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
    put(`digest ${h} abc`, await subtle.digest(h, enc("abc")));
    put(`digest ${h} empty`, await subtle.digest({ name: h }, new Uint8Array(0)));
    put(`digest ${h} 1000`, await subtle.digest(h, pattern(1000, 7)));
  }

  // HMAC
  for (const hash of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
    const key = await subtle.importKey("raw", pattern(20, 3), { name: "HMAC", hash }, true, ["sign", "verify"]);
    put(`HMAC ${hash} attrs`, attrs(key));
    const mac = await subtle.sign("HMAC", key, msg);
    put(`HMAC ${hash} sign`, mac);
    put(`HMAC ${hash} verify`, await subtle.verify("HMAC", key, mac, msg));
    put(`HMAC ${hash} verify other`, await subtle.verify("HMAC", key, mac, enc("other")));
    put(`HMAC ${hash} jwk`, canon(await subtle.exportKey("jwk", key)));
    const long = await subtle.importKey("raw", pattern(200, 5), { name: "HMAC", hash, length: 1600 }, true, ["sign"]);
    put(`HMAC ${hash} long key sign`, await subtle.sign("HMAC", long, msg));
    const fromJwk = await subtle.importKey("jwk", { kty: "oct", k: b64url(pattern(32, 11)), ext: true }, { name: "HMAC", hash }, true, ["sign"]);
    put(`HMAC ${hash} from jwk`, await subtle.sign("HMAC", fromJwk, msg));
    put(`HMAC ${hash} from jwk attrs`, attrs(fromJwk));
  }

  // AES-GCM
  for (const bytes of [16, 24, 32]) {
    const key = await subtle.importKey("raw", pattern(bytes, 13), "AES-GCM", true, ["encrypt", "decrypt", "wrapKey", "unwrapKey"]);
    put(`AES-GCM ${bytes * 8} attrs`, attrs(key));
    put(`AES-GCM ${bytes * 8} jwk`, canon(await subtle.exportKey("jwk", key)));
    for (const [ivLen, aad, tagLength, ptLen] of [[12, null, undefined, 0], [12, 20, 128, 60], [12, null, 96, 64], [16, 5, 104, 33], [12, null, 32, 17], [128, 7, 64, 1], [60, 1, 120, 100]]) {
      const p = { name: "AES-GCM", iv: pattern(ivLen, 17) };
      if (aad !== null) p.additionalData = pattern(aad, 19);
      if (tagLength !== undefined) p.tagLength = tagLength;
      const label = `AES-GCM ${bytes * 8} iv${ivLen} aad${aad} tag${tagLength} pt${ptLen}`;
      const ct = await subtle.encrypt(p, key, pattern(ptLen, 23));
      put(label, ct);
      put(`${label} decrypt`, await subtle.decrypt(p, key, ct));
    }
  }

  // AES-CBC
  for (const bytes of [16, 24, 32]) {
    const key = await subtle.importKey("raw", pattern(bytes, 29), { name: "AES-CBC" }, true, ["encrypt", "decrypt"]);
    put(`AES-CBC ${bytes * 8} jwk`, canon(await subtle.exportKey("jwk", key)));
    for (const n of [0, 1, 15, 16, 33]) {
      const iv = pattern(16, 31);
      const ct = await subtle.encrypt({ name: "AES-CBC", iv }, key, pattern(n, 37));
      put(`AES-CBC ${bytes * 8} pt${n}`, ct);
      put(`AES-CBC ${bytes * 8} pt${n} decrypt`, await subtle.decrypt({ name: "AES-CBC", iv }, key, ct));
    }
  }

  // AES-CTR: counter widths, and a counter that wraps within its bits
  for (const bytes of [16, 24, 32]) {
    const key = await subtle.importKey("raw", pattern(bytes, 41), { name: "AES-CTR" }, true, ["encrypt", "decrypt"]);
    put(`AES-CTR ${bytes * 8} jwk`, canon(await subtle.exportKey("jwk", key)));
    for (const [length, n] of [[128, 0], [128, 33], [64, 100], [32, 17], [8, 4096]]) {
      const counter = pattern(16, 43);
      counter[15] = 0xfe;
      const p = { name: "AES-CTR", counter, length };
      const ct = await subtle.encrypt(p, key, pattern(n, 47));
      put(`AES-CTR ${bytes * 8} length${length} pt${n}`, ct);
      put(`AES-CTR ${bytes * 8} length${length} pt${n} decrypt`, await subtle.decrypt(p, key, ct));
    }
  }

  // AES-KW: wrapping AES and HMAC keys of several sizes
  for (const bytes of [16, 24, 32]) {
    const kek = await subtle.importKey("raw", pattern(bytes, 53), "AES-KW", true, ["wrapKey", "unwrapKey"]);
    put(`AES-KW ${bytes * 8} jwk`, canon(await subtle.exportKey("jwk", kek)));
    for (const inner of [16, 24, 32, 40]) {
      const key = await subtle.importKey("raw", pattern(inner, 59), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
      const wrapped = await subtle.wrapKey("raw", key, kek, "AES-KW");
      put(`AES-KW ${bytes * 8} wrap${inner}`, wrapped);
      const back = await subtle.unwrapKey("raw", wrapped, kek, { name: "AES-KW" }, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
      put(`AES-KW ${bytes * 8} unwrap${inner}`, await subtle.exportKey("raw", back));
    }
  }

  // Ed25519 (RFC 8032 test 3 key)
  {
    const seed = unhex("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7");
    const pub = unhex("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025");
    const priv = await subtle.importKey("pkcs8", okpPkcs8(0x70, seed), "Ed25519", true, ["sign"]);
    const pubKey = await subtle.importKey("raw", pub, "Ed25519", true, ["verify"]);
    put("Ed25519 private attrs", attrs(priv));
    put("Ed25519 public attrs", attrs(pubKey));
    const sig = await subtle.sign("Ed25519", priv, msg);
    put("Ed25519 sign", sig);
    put("Ed25519 sign empty", await subtle.sign({ name: "Ed25519" }, priv, new Uint8Array(0)));
    put("Ed25519 verify", await subtle.verify("Ed25519", pubKey, sig, msg));
    put("Ed25519 verify other", await subtle.verify("Ed25519", pubKey, sig, enc("other")));
    put("Ed25519 pkcs8", await subtle.exportKey("pkcs8", priv));
    put("Ed25519 private jwk", canon(await subtle.exportKey("jwk", priv)));
    put("Ed25519 spki", await subtle.exportKey("spki", pubKey));
    put("Ed25519 raw", await subtle.exportKey("raw", pubKey));
    put("Ed25519 public jwk", canon(await subtle.exportKey("jwk", pubKey)));
    const fromJwk = await subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: b64url(pub), d: b64url(seed) }, "Ed25519", false, ["sign"]);
    put("Ed25519 sign from jwk", await subtle.sign("Ed25519", fromJwk, msg));
    const spkiKey = await subtle.importKey("spki", await subtle.exportKey("spki", pubKey), "Ed25519", false, ["verify"]);
    put("Ed25519 verify from spki", await subtle.verify("Ed25519", spkiKey, sig, msg));
  }

  // X25519 (RFC 7748 section 6.1)
  {
    const a = await subtle.importKey("pkcs8", okpPkcs8(0x6e, unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")), "X25519", true, ["deriveKey", "deriveBits"]);
    const bPub = await subtle.importKey("raw", unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"), "X25519", true, []);
    put("X25519 private attrs", attrs(a));
    put("X25519 public attrs", attrs(bPub));
    put("X25519 deriveBits", await subtle.deriveBits({ name: "X25519", public: bPub }, a, 256));
    put("X25519 deriveBits 128", await subtle.deriveBits({ name: "X25519", public: bPub }, a, 128));
    put("X25519 pkcs8", await subtle.exportKey("pkcs8", a));
    put("X25519 private jwk", canon(await subtle.exportKey("jwk", a)));
    put("X25519 spki", await subtle.exportKey("spki", bPub));
    put("X25519 public jwk", canon(await subtle.exportKey("jwk", bPub)));
    const hmac = await subtle.deriveKey({ name: "X25519", public: bPub }, a, { name: "HMAC", hash: "SHA-256", length: 256 }, true, ["sign"]);
    put("X25519 deriveKey HMAC", await subtle.exportKey("raw", hmac));
    put("X25519 deriveKey HMAC attrs", attrs(hmac));
  }

  // ECDSA / ECDH on P-256 and P-384 (RFC 6979 keys)
  const curves = {
    "P-256": {
      hash: "SHA-256",
      d: "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
      x: "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
      y: "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
      sigs: [
        ["SHA-256", "sample", "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"],
        ["SHA-1", "sample", "61340c88c3aaebeb4f6d667f672ca9759a6ccaa9fa8811313039ee4a35471d326d7f147dac089441bb2e2fe8f7a3fa264b9c475098fdcf6e00d7c996e1b8b7eb"],
        ["SHA-512", "sample", "8496a60b5e9b47c825488827e0495b0e3fa109ec4568fd3f8d1097678eb97f002362ab1adbe2b8adf9cb9edab740ea6049c028114f2460f96554f61fae3302fe"],
      ],
    },
    "P-384": {
      hash: "SHA-384",
      d: "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5",
      x: "ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64def8f0ea9055866064a254515480bc13",
      y: "8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1288b231c3ae0d4fe7344fd2533264720",
      sigs: [
        ["SHA-384", "sample", "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe4699ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8"],
      ],
    },
  };
  for (const [crv, c] of Object.entries(curves)) {
    const jwk = { kty: "EC", crv, x: b64url(unhex(c.x)), y: b64url(unhex(c.y)), d: b64url(unhex(c.d)) };
    const priv = await subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: crv }, true, ["sign"]);
    const point = concat([4], unhex(c.x), unhex(c.y));
    const pub = await subtle.importKey("raw", point, { name: "ECDSA", namedCurve: crv }, true, ["verify"]);
    put(`ECDSA ${crv} private attrs`, attrs(priv));
    put(`ECDSA ${crv} public attrs`, attrs(pub));
    put(`ECDSA ${crv} private jwk`, canon(await subtle.exportKey("jwk", priv)));
    put(`ECDSA ${crv} public jwk`, canon(await subtle.exportKey("jwk", pub)));
    put(`ECDSA ${crv} spki`, await subtle.exportKey("spki", pub));
    put(`ECDSA ${crv} raw`, await subtle.exportKey("raw", pub));
    const pkcs8 = await subtle.exportKey("pkcs8", priv);
    const back = await subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: crv }, true, ["sign"]);
    put(`ECDSA ${crv} pkcs8 round trip jwk`, canon(await subtle.exportKey("jwk", back)));
    const compressed = concat([2 + (point[point.length - 1] & 1)], unhex(c.x));
    const fromCompressed = await subtle.importKey("raw", compressed, { name: "ECDSA", namedCurve: crv }, true, ["verify"]);
    put(`ECDSA ${crv} compressed point`, await subtle.exportKey("raw", fromCompressed));
    const spkiKey = await subtle.importKey("spki", await subtle.exportKey("spki", pub), { name: "ECDSA", namedCurve: crv }, false, ["verify"]);
    for (const [hash, m, sig] of c.sigs) {
      put(`ECDSA ${crv} ${hash} verify fixed`, await subtle.verify({ name: "ECDSA", hash }, pub, unhex(sig), enc(m)));
      put(`ECDSA ${crv} ${hash} verify fixed spki`, await subtle.verify({ name: "ECDSA", hash }, spkiKey, unhex(sig), enc(m)));
      const bad = unhex(sig);
      bad[5] ^= 0x40;
      put(`ECDSA ${crv} ${hash} verify tampered`, await subtle.verify({ name: "ECDSA", hash }, pub, bad, enc(m)));
      put(`ECDSA ${crv} ${hash} verify wrong length`, await subtle.verify({ name: "ECDSA", hash }, pub, unhex(sig).slice(1), enc(m)));
    }
    const sig = await subtle.sign({ name: "ECDSA", hash: c.hash }, priv, msg);
    put(`ECDSA ${crv} sign+verify`, await subtle.verify({ name: "ECDSA", hash: c.hash }, pub, sig, msg));

    const ecdhPriv = await subtle.importKey("jwk", jwk, { name: "ECDH", namedCurve: crv }, true, ["deriveKey", "deriveBits"]);
    const ecdhPub = await subtle.importKey("raw", point, { name: "ECDH", namedCurve: crv }, true, []);
    put(`ECDH ${crv} private attrs`, attrs(ecdhPriv));
    put(`ECDH ${crv} public attrs`, attrs(ecdhPub));
    const bits = crv === "P-256" ? 256 : 384;
    put(`ECDH ${crv} deriveBits`, await subtle.deriveBits({ name: "ECDH", public: ecdhPub }, ecdhPriv, bits));
    put(`ECDH ${crv} deriveBits 64`, await subtle.deriveBits({ name: "ECDH", public: ecdhPub }, ecdhPriv, 64));
    const aes = await subtle.deriveKey({ name: "ECDH", public: ecdhPub }, ecdhPriv, { name: "AES-CBC", length: 128 }, true, ["encrypt"]);
    put(`ECDH ${crv} deriveKey AES-CBC`, await subtle.exportKey("raw", aes));
  }
  // P-521: generated keys, so what is compared is what does not depend on
  // them (Wycheproof checks the arithmetic in crates/webcrypto).
  {
    const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-521" }, true, ["sign", "verify"]);
    put("ECDSA P-521 private attrs", attrs(pair.privateKey));
    put("ECDSA P-521 public attrs", attrs(pair.publicKey));
    const jwk = await subtle.exportKey("jwk", pair.privateKey);
    put("ECDSA P-521 jwk shape", [jwk.kty, jwk.crv, jwk.x.length, jwk.y.length, jwk.d.length, jwk.key_ops.join(), String(jwk.ext)].join(" "));
    put("ECDSA P-521 sizes", [(await subtle.exportKey("spki", pair.publicKey)).byteLength, (await subtle.exportKey("raw", pair.publicKey)).byteLength].join(" "));
    const back = await subtle.importKey("pkcs8", await subtle.exportKey("pkcs8", pair.privateKey), { name: "ECDSA", namedCurve: "P-521" }, true, ["sign"]);
    put("ECDSA P-521 pkcs8 round trip", JSON.stringify(await subtle.exportKey("jwk", back)) === JSON.stringify(jwk));
    const sig = new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-512" }, pair.privateKey, msg));
    put("ECDSA P-521 signature length", sig.length);
    put("ECDSA P-521 verify", await subtle.verify({ name: "ECDSA", hash: "SHA-512" }, pair.publicKey, sig, msg));
    sig[7] ^= 1;
    put("ECDSA P-521 verify tampered", await subtle.verify({ name: "ECDSA", hash: "SHA-512" }, pair.publicKey, sig, msg));
    const a = await subtle.generateKey({ name: "ECDH", namedCurve: "P-521" }, true, ["deriveBits"]);
    const b = await subtle.generateKey({ name: "ECDH", namedCurve: "P-521" }, true, ["deriveBits"]);
    const ab = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, 528));
    const ba = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: a.publicKey }, b.privateKey, 528));
    put("ECDH P-521 agree", ab.length === 66 && ab.every((v, i) => v === ba[i]));
  }
  {
    // RFC 5903 8.1
    const i = await subtle.importKey("jwk", { kty: "EC", crv: "P-256", d: b64url(unhex("c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433")), x: b64url(unhex("dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180")), y: b64url(unhex("5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3")) }, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
    const r = await subtle.importKey("raw", unhex("04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf6356fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab"), { name: "ECDH", namedCurve: "P-256" }, true, []);
    put("ECDH RFC 5903", await subtle.deriveBits({ name: "ECDH", public: r }, i, 256));
  }

  // HKDF
  for (const hash of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
    const key = await subtle.importKey("raw", pattern(22, 41), "HKDF", false, ["deriveKey", "deriveBits"]);
    put(`HKDF ${hash} attrs`, attrs(key));
    put(`HKDF ${hash} 42 bytes`, await subtle.deriveBits({ name: "HKDF", hash, salt: pattern(13, 43), info: pattern(10, 47) }, key, 336));
    put(`HKDF ${hash} empty salt and info`, await subtle.deriveBits({ name: "HKDF", hash, salt: new Uint8Array(0), info: new Uint8Array(0) }, key, 512));
    const hmac = await subtle.deriveKey({ name: "HKDF", hash, salt: pattern(4, 3), info: enc("ctx") }, key, { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
    put(`HKDF ${hash} deriveKey HMAC`, await subtle.exportKey("raw", hmac));
    put(`HKDF ${hash} deriveKey HMAC attrs`, attrs(hmac));
  }

  // PBKDF2
  for (const hash of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
    const key = await subtle.importKey("raw", enc("correct horse battery staple"), { name: "PBKDF2" }, false, ["deriveKey", "deriveBits"]);
    put(`PBKDF2 ${hash} attrs`, attrs(key));
    put(`PBKDF2 ${hash} 1000`, await subtle.deriveBits({ name: "PBKDF2", hash, salt: enc("NaCl"), iterations: 1000 }, key, 512));
    put(`PBKDF2 ${hash} 1`, await subtle.deriveBits({ name: "PBKDF2", hash, salt: new Uint8Array(0), iterations: 1 }, key, 800));
    const aes = await subtle.deriveKey({ name: "PBKDF2", hash, salt: enc("salt"), iterations: 100 }, key, { name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    put(`PBKDF2 ${hash} deriveKey AES-GCM`, await subtle.exportKey("raw", aes));
    put(`PBKDF2 ${hash} deriveKey AES-GCM attrs`, attrs(aes));
  }

  // wrapKey / unwrapKey
  {
    const gcmKek = await subtle.importKey("raw", pattern(32, 53), "AES-GCM", false, ["wrapKey", "unwrapKey"]);
    const cbcKek = await subtle.importKey("raw", pattern(16, 59), "AES-CBC", false, ["wrapKey", "unwrapKey"]);
    const hmac = await subtle.importKey("raw", pattern(64, 61), { name: "HMAC", hash: "SHA-512" }, true, ["sign"]);
    const gcm = { name: "AES-GCM", iv: pattern(12, 67), additionalData: enc("wrap") };
    const cbc = { name: "AES-CBC", iv: pattern(16, 71) };
    put("wrapKey raw AES-GCM", await subtle.wrapKey("raw", hmac, gcmKek, gcm));
    put("wrapKey raw AES-CBC", await subtle.wrapKey("raw", hmac, cbcKek, cbc));
    const un = await subtle.unwrapKey("raw", await subtle.wrapKey("raw", hmac, gcmKek, gcm), gcmKek, gcm, { name: "HMAC", hash: "SHA-512" }, true, ["sign"]);
    put("unwrapKey raw", await subtle.exportKey("raw", un));
    put("unwrapKey raw attrs", attrs(un));
    const ed = await subtle.importKey("pkcs8", okpPkcs8(0x70, pattern(32, 73)), "Ed25519", true, ["sign"]);
    put("wrapKey pkcs8 AES-CBC", await subtle.wrapKey("pkcs8", ed, cbcKek, cbc));
    const edBack = await subtle.unwrapKey("pkcs8", await subtle.wrapKey("pkcs8", ed, cbcKek, cbc), cbcKek, cbc, "Ed25519", false, ["sign"]);
    put("unwrapKey pkcs8 Ed25519 sign", await subtle.sign("Ed25519", edBack, msg));
    // jwk bytes are JSON whose member order is the implementation's: compare the round trip.
    const wrappedJwk = await subtle.wrapKey("jwk", hmac, gcmKek, gcm);
    const jwkBack = await subtle.unwrapKey("jwk", wrappedJwk, gcmKek, gcm, { name: "HMAC", hash: "SHA-512" }, true, ["sign"]);
    put("unwrapKey jwk", await subtle.exportKey("raw", jwkBack));
    put("unwrapKey jwk attrs", attrs(jwkBack));
  }

  // Error names
  {
    const data = new Uint8Array(8);
    const aes = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
    const aesDec = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["decrypt"]);
    const cbc = await subtle.importKey("raw", new Uint8Array(16), "AES-CBC", false, ["encrypt"]);
    const ecdh = await subtle.importKey("pkcs8", okpPkcs8(0x6e, pattern(32, 3)), "X25519", false, ["deriveBits"]);
    const p256 = await subtle.importKey("raw", concat([4], unhex(curves["P-256"].x), unhex(curves["P-256"].y)), { name: "ECDH", namedCurve: "P-256" }, true, []);
    const pbkdf2 = await subtle.importKey("raw", enc("pw"), "PBKDF2", false, ["deriveBits"]);
    const cases = {
      "digest unknown": () => subtle.digest("MD5", data),
      "generateKey HKDF": () => subtle.generateKey("HKDF", false, ["deriveBits"]),
      "sign with AES-GCM": () => subtle.sign("AES-GCM", aes, data),
      "HMAC unknown hash": () => subtle.importKey("raw", data, { name: "HMAC", hash: "SHA-3" }, false, ["sign"]),
      "spki for AES": () => subtle.importKey("spki", data, "AES-GCM", false, ["encrypt"]),
      "missing usage": () => subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, data),
      "algorithm mismatch": () => subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(16) }, aes, data),
      "X25519 public is P-256": () => subtle.deriveBits({ name: "X25519", public: p256 }, ecdh, 256),
      "AES 15 bytes": () => subtle.importKey("raw", new Uint8Array(15), "AES-GCM", false, ["encrypt"]),
      "bad spki": () => subtle.importKey("spki", new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]),
      "point not on curve": () => subtle.importKey("raw", concat([4], new Uint8Array(64).fill(1)), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]),
      "jwk kty mismatch": () => subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: "AA", y: "AA" }, "AES-GCM", false, ["encrypt"]),
      "jwk alg mismatch": () => subtle.importKey("jwk", { kty: "oct", k: b64url(new Uint8Array(16)), alg: "A256GCM" }, "AES-GCM", false, ["encrypt"]),
      "jwk ext false but extractable": () => subtle.importKey("jwk", { kty: "oct", k: b64url(new Uint8Array(16)), ext: false }, "AES-GCM", true, ["encrypt"]),
      "GCM tag mismatch": () => subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aesDec, new Uint8Array(32)),
      "CBC iv 8 bytes": () => subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(8) }, cbc, data),
      "AES length 100": () => subtle.generateKey({ name: "AES-GCM", length: 100 }, false, ["encrypt"]),
      "PBKDF2 iterations 0": () => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: data, iterations: 0 }, pbkdf2, 256),
      "PBKDF2 length 12": () => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: data, iterations: 1 }, pbkdf2, 12),
      "AES sign usage": () => subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["sign"]),
      "empty usages": () => subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, []),
      "extractable HKDF": () => subtle.importKey("raw", data, "HKDF", true, ["deriveBits"]),
      "unknown format": () => subtle.importKey("foo", data, "AES-GCM", false, ["encrypt"]),
      "unknown usage": () => subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["fly"]),
      "length missing": () => subtle.generateKey({ name: "AES-GCM" }, false, ["encrypt"]),
      "iv missing": () => subtle.encrypt({ name: "AES-GCM" }, aes, data),
      "data is a string": () => subtle.digest("SHA-256", "abc"),
      "key is not a CryptoKey": () => subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, {}, data),
      "missing argument": () => subtle.sign("HMAC", aes),
      "jwk for raw": () => subtle.importKey("raw", { kty: "oct", k: "AA" }, "AES-GCM", false, ["encrypt"]),
    };
    for (const [what, f] of Object.entries(cases)) put(`error: ${what}`, await rejectsWith(f()));
  }
  return out;
}
