// CryptoKey, SubtleCrypto objects, key formats, wrapping, BufferSource handling.

test(() => {
  assert_true(crypto.subtle instanceof SubtleCrypto, "crypto.subtle instanceof SubtleCrypto");
  assert_equals(crypto.subtle, crypto.subtle, "same object");
  assert_class_string(crypto.subtle, "SubtleCrypto");
  assert_throws_js(TypeError, () => new SubtleCrypto(), "SubtleCrypto is not constructible");
  assert_throws_js(TypeError, () => new CryptoKey(), "CryptoKey is not constructible");
  assert_throws_js(TypeError, () => new CryptoKey({}, {}), "not even with arguments");
  for (const m of ["encrypt", "decrypt", "sign", "verify", "digest", "generateKey", "deriveKey", "deriveBits", "importKey", "exportKey", "wrapKey", "unwrapKey"]) {
    assert_equals(typeof SubtleCrypto.prototype[m], "function", m);
  }
  assert_equals(typeof globalThis.__subtle, "undefined", "natives are hidden");
  assert_equals(Object.getOwnPropertyDescriptor(globalThis, "CryptoKey").enumerable, false);
}, "SubtleCrypto and CryptoKey interfaces");

promise_test(async () => {
  const p = crypto.subtle.digest("SHA-256");
  assert_true(p instanceof Promise, "a missing argument rejects, it does not throw");
  await promise_rejects_js(null, TypeError, p);
  const digest = crypto.subtle.digest;
  await promise_rejects_js(null, TypeError, digest("SHA-256", new Uint8Array(1)), "illegal invocation");
  await promise_rejects_js(null, TypeError, digest.call({}, "SHA-256", new Uint8Array(1)), "foreign this");
}, "methods reject, never throw synchronously");

promise_test(async () => {
  const key = await subtle.generateKey({ name: "HMAC", hash: "SHA-384" }, true, ["verify", "sign", "sign"]);
  assert_true(key instanceof CryptoKey);
  assert_class_string(key, "CryptoKey");
  assert_equals(key.type, "secret");
  assert_equals(key.extractable, true);
  assert_equals(key.algorithm.name, "HMAC");
  assert_equals(key.algorithm.hash.name, "SHA-384");
  assert_equals(key.algorithm.length, 1024, "default length: the hash block size");
  assert_equals(key.algorithm, key.algorithm, "algorithm is the same object every time");
  assert_equals(key.usages, key.usages, "usages is the same object every time");
  assert_array_equals(key.usages, ["sign", "verify"], "specification order, no duplicates");
  assert_equals(Object.keys(key.algorithm)[0], "name");
  key.algorithm.name = "tampered";
  key.usages.push("encrypt");
  assert_equals(hex(await subtle.exportKey("raw", key)).length, 256, "the key itself is unchanged");
  await promise_rejects_dom(null, "InvalidAccessError", subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, new Uint8Array(1)));
  const getter = Object.getOwnPropertyDescriptor(CryptoKey.prototype, "type").get;
  assert_throws_js(TypeError, () => getter.call({}), "attribute getter on a foreign object");
  const forged = Object.create(CryptoKey.prototype);
  assert_true(forged instanceof CryptoKey, "a forged object passes instanceof...");
  await promise_rejects_js(null, TypeError, subtle.sign("HMAC", forged, new Uint8Array(1)), "...but is not a key");
  await promise_rejects_js(null, TypeError, subtle.sign("HMAC", { type: "secret", algorithm: { name: "HMAC" } }, new Uint8Array(1)), "plain object");
  assert_equals(JSON.stringify(Object.keys(key)), "[]", "no own properties");
  const aes = await subtle.generateKey({ name: "AES-CBC", length: 192 }, false, ["decrypt", "encrypt", "wrapKey", "unwrapKey"]);
  assert_equals(JSON.stringify(aes.algorithm), '{"name":"AES-CBC","length":192}');
  assert_array_equals(aes.usages, ["encrypt", "decrypt", "wrapKey", "unwrapKey"]);
  assert_equals(aes.extractable, false);
}, "CryptoKey attributes");

promise_test(async () => {
  const raw = unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  for (const name of ["AES-GCM", "AES-CBC"]) {
    const key = await subtle.importKey("raw", raw, name, true, ["encrypt", "decrypt"]);
    const exported = await subtle.exportKey("raw", key);
    assert_true(exported instanceof ArrayBuffer);
    assert_equals(hex(exported), hex(raw), `${name} raw`);
    const jwk = await subtle.exportKey("jwk", key);
    assert_equals(canon(jwk), canon({ alg: name === "AES-GCM" ? "A256GCM" : "A256CBC", ext: true, k: b64url(raw), key_ops: ["encrypt", "decrypt"], kty: "oct" }), `${name} jwk`);
    const again = await subtle.importKey("jwk", jwk, name, true, ["encrypt"]);
    assert_equals(hex(await subtle.exportKey("raw", again)), hex(raw), `${name} jwk round trip`);
  }
  const hmac = await subtle.importKey("jwk", { kty: "oct", k: b64url(enc("Jefe")), alg: "HS256", ext: true }, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
  assert_equals(hmac.algorithm.length, 32);
  assert_equals(canon(await subtle.exportKey("jwk", hmac)), canon({ alg: "HS256", ext: true, k: "SmVmZQ", key_ops: ["sign"], kty: "oct" }));
}, "import/export: raw and jwk secret keys");

promise_test(async () => {
  const alg = { name: "ECDSA", namedCurve: "P-256" };
  const pair = await subtle.generateKey(alg, true, ["sign", "verify"]);
  const spki = await subtle.exportKey("spki", pair.publicKey);
  const pkcs8 = await subtle.exportKey("pkcs8", pair.privateKey);
  const raw = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
  assert_equals(raw.length, 65, "uncompressed point");
  assert_equals(raw[0], 4);
  const jwkPriv = await subtle.exportKey("jwk", pair.privateKey);
  const jwkPub = await subtle.exportKey("jwk", pair.publicKey);
  assert_equals(jwkPriv.kty, "EC");
  assert_equals(jwkPriv.crv, "P-256");
  assert_equals(jwkPriv.x, b64url(raw.slice(1, 33)), "jwk x is the point's x");
  assert_equals(jwkPriv.y, b64url(raw.slice(33)), "jwk y is the point's y");
  assert_equals(jwkPub.d, undefined, "no private member in a public jwk");
  const pub2 = await subtle.importKey("spki", spki, alg, true, ["verify"]);
  const priv2 = await subtle.importKey("pkcs8", pkcs8, alg, true, ["sign"]);
  const priv3 = await subtle.importKey("jwk", jwkPriv, alg, true, ["sign"]);
  assert_equals(hex(await subtle.exportKey("spki", pub2)), hex(spki), "spki round trip");
  assert_equals(hex(await subtle.exportKey("pkcs8", priv2)), hex(pkcs8), "pkcs8 round trip");
  assert_equals(hex(await subtle.exportKey("pkcs8", priv3)), hex(pkcs8), "jwk -> pkcs8");
  const sig = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, priv2, enc("m"));
  assert_true(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub2, sig, enc("m")), "reimported keys work");
  for (const name of ["Ed25519", "X25519"]) {
    const usages = name === "Ed25519" ? ["sign", "verify"] : ["deriveBits"];
    const p = await subtle.generateKey(name, true, usages);
    const pk = await subtle.exportKey("pkcs8", p.privateKey);
    assert_equals(pk.byteLength, 48, `${name} pkcs8 v1`);
    const sp = await subtle.exportKey("spki", p.publicKey);
    assert_equals(sp.byteLength, 44, `${name} spki`);
    const rawPub = await subtle.exportKey("raw", p.publicKey);
    const j = await subtle.exportKey("jwk", p.privateKey);
    assert_equals(j.kty, "OKP");
    assert_equals(j.crv, name);
    assert_equals(j.x, b64url(new Uint8Array(rawPub)));
    const back = await subtle.importKey("pkcs8", pk, name, true, name === "Ed25519" ? ["sign"] : ["deriveBits"]);
    assert_equals(canon(await subtle.exportKey("jwk", back)), canon({ ...j, key_ops: name === "Ed25519" ? ["sign"] : ["deriveBits"] }), `${name} pkcs8 -> jwk`);
  }
}, "import/export: spki, pkcs8, raw and jwk key pairs");

promise_test(async () => {
  const kek = await subtle.importKey("raw", new Uint8Array(16).fill(7), "AES-GCM", false, ["wrapKey", "unwrapKey"]);
  const key = await subtle.importKey("raw", new Uint8Array(32).fill(9), "AES-CBC", true, ["encrypt", "decrypt"]);
  const params = { name: "AES-GCM", iv: new Uint8Array(12).fill(1) };
  const wrapped = await subtle.wrapKey("raw", key, kek, params);
  assert_true(wrapped instanceof ArrayBuffer);
  assert_equals(wrapped.byteLength, 48, "32 key bytes + 16 tag bytes");
  const plainKek = await subtle.importKey("raw", new Uint8Array(16).fill(7), "AES-GCM", false, ["decrypt"]);
  assert_equals(hex(await subtle.decrypt(params, plainKek, wrapped)), hex(new Uint8Array(32).fill(9)), "wrapKey is encrypt of the export");
  const back = await subtle.unwrapKey("raw", wrapped, kek, params, "AES-CBC", false, ["decrypt"]);
  assert_equals(back.extractable, false);
  assert_array_equals(back.usages, ["decrypt"]);
  const iv = new Uint8Array(16);
  const ct = await subtle.encrypt({ name: "AES-CBC", iv }, key, enc("secret"));
  assert_equals(new TextDecoder().decode(await subtle.decrypt({ name: "AES-CBC", iv }, back, ct)), "secret", "unwrapped key decrypts");
  // jwk wrapping of a private key with AES-CBC.
  const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, ["sign", "verify"]);
  const cbcKek = await subtle.generateKey({ name: "AES-CBC", length: 256 }, false, ["wrapKey", "unwrapKey"]);
  const w = await subtle.wrapKey("jwk", pair.privateKey, cbcKek, { name: "AES-CBC", iv });
  const priv = await subtle.unwrapKey("jwk", w, cbcKek, { name: "AES-CBC", iv }, { name: "ECDSA", namedCurve: "P-384" }, true, ["sign"]);
  assert_equals(priv.type, "private");
  assert_equals(hex(await subtle.exportKey("pkcs8", priv)), hex(await subtle.exportKey("pkcs8", pair.privateKey)), "jwk unwrap");
  await promise_rejects_dom(null, "OperationError", subtle.unwrapKey("raw", new Uint8Array(wrapped).fill(0), kek, params, "AES-CBC", false, ["decrypt"]), "bad tag");
  const noWrap = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
  await promise_rejects_dom(null, "InvalidAccessError", subtle.wrapKey("raw", key, noWrap, params), "wrapping key lacks wrapKey");
}, "wrapKey / unwrapKey");

promise_test(async () => {
  const bytes = enc("abcdefgh");
  const want = hex(await subtle.digest("SHA-256", enc("cdef")));
  const views = [
    new Uint8Array(bytes.buffer, 2, 4),
    new DataView(bytes.buffer, 2, 4),
    new Int16Array(bytes.buffer, 2, 2),
    new Uint8Array(bytes.buffer.slice(2, 6)).buffer,
    new Float32Array(bytes.buffer.slice(2, 6)),
  ];
  for (const v of views) assert_equals(hex(await subtle.digest("SHA-256", v)), want, Object.prototype.toString.call(v));
  // The bytes are copied when the method is called.
  const data = enc("cdef");
  const p = subtle.digest("SHA-256", data);
  data.fill(0);
  assert_equals(hex(await p), want, "copy taken at call time");
  const iv = new Uint8Array(12);
  const key = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
  const c1 = subtle.encrypt({ name: "AES-GCM", iv }, key, data);
  iv[0] = 1;
  const c2 = subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, data);
  assert_equals(hex(await c1), hex(await c2), "algorithm members copied at call time");
  for (const bad of ["abc", 42, null, undefined, {}, [1, 2], { byteLength: 4, buffer: bytes.buffer }]) {
    await promise_rejects_js(null, TypeError, subtle.digest("SHA-256", bad), `digest(${String(bad)})`);
  }
  if (typeof SharedArrayBuffer === "function") {
    await promise_rejects_js(null, TypeError, subtle.digest("SHA-256", new SharedArrayBuffer(4)), "SharedArrayBuffer");
    await promise_rejects_js(null, TypeError, subtle.digest("SHA-256", new Uint8Array(new SharedArrayBuffer(4))), "view of a SharedArrayBuffer");
  }
}, "BufferSource arguments: every view kind, copied at call time");

promise_test(async () => {
  // Getters and inherited members are read, as WebIDL dictionaries do.
  const proto = { hash: "SHA-256" };
  const alg = Object.create(proto);
  Object.defineProperty(alg, "name", { get: () => "HMAC", enumerable: false });
  const key = await subtle.importKey("raw", enc("Jefe"), alg, false, ["sign"]);
  assert_equals(key.algorithm.hash.name, "SHA-256");
  // Numbers convert as WebIDL does.
  const aes = await subtle.generateKey({ name: "AES-GCM", length: "128" }, true, ["encrypt"]);
  assert_equals(aes.algorithm.length, 128);
  const usages = new Set(["sign"]);
  const k2 = await subtle.generateKey({ name: "HMAC", hash: { name: "SHA-1" } }, false, usages);
  assert_array_equals(k2.usages, ["sign"], "any iterable of usages");
}, "algorithm dictionaries: getters, inherited members, WebIDL conversions");
