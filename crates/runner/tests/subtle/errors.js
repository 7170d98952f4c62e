// Error names for typical misuse, and the PBKDF2 cost bound.

promise_test(async () => {
  const data = new Uint8Array(8);
  const aes = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
  const hmac = await subtle.importKey("raw", new Uint8Array(16), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const pair = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  const other = await subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, false, ["deriveBits"]);
  const pbkdf2 = await subtle.importKey("raw", enc("pw"), "PBKDF2", false, ["deriveBits"]);
  const cases = [
    // NotSupportedError: unknown algorithm, hash, curve; operation the algorithm lacks.
    ["NotSupportedError", () => subtle.digest("MD5", data), "digest MD5"],
    ["NotSupportedError", () => subtle.digest({ name: "SHA-3" }, data), "digest {name: SHA-3}"],
    ["NotSupportedError", () => subtle.generateKey({ name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["encrypt"]), "RSA"],
    ["NotSupportedError", () => subtle.generateKey({ name: "ECDSA", namedCurve: "P-192" }, false, ["sign"]), "P-192"],
    ["NotSupportedError", () => subtle.importKey("raw", data, { name: "HMAC", hash: "MD5" }, false, ["sign"]), "HMAC MD5"],
    ["NotSupportedError", () => subtle.sign({ name: "AES-GCM" }, aes, data), "sign with AES-GCM"],
    ["NotSupportedError", () => subtle.generateKey("HKDF", false, ["deriveBits"]), "generateKey HKDF"],
    ["NotSupportedError", () => subtle.importKey("spki", data, "AES-GCM", false, ["encrypt"]), "spki AES"],
    // InvalidAccessError: usage missing, key/algorithm mismatch, not extractable.
    ["InvalidAccessError", () => subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, data), "decrypt without the usage"],
    ["InvalidAccessError", () => subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(16) }, aes, data), "AES-CBC with an AES-GCM key"],
    ["InvalidAccessError", () => subtle.sign("HMAC", aes, data), "HMAC with an AES key"],
    ["InvalidAccessError", () => subtle.exportKey("raw", aes), "export non-extractable"],
    ["InvalidAccessError", () => subtle.deriveBits({ name: "ECDH", public: other.publicKey }, pair.privateKey, 256), "ECDH curve mismatch"],
    ["InvalidAccessError", () => subtle.deriveBits({ name: "ECDH", public: pair.privateKey }, pair.privateKey, 256), "ECDH public is private"],
    // DataError: malformed key data.
    ["DataError", () => subtle.importKey("raw", new Uint8Array(15), "AES-GCM", false, ["encrypt"]), "15-byte AES key"],
    ["DataError", () => subtle.importKey("spki", new Uint8Array([0x30, 0x03, 0x02, 0x01]), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]), "bad DER"],
    ["DataError", () => subtle.importKey("raw", new Uint8Array(65), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]), "bad point"],
    ["DataError", () => subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: "AA", y: "AA" }, "AES-GCM", false, ["encrypt"]), "jwk kty mismatch"],
    ["DataError", () => subtle.importKey("jwk", { kty: "oct", k: "!!!" }, "AES-GCM", false, ["encrypt"]), "jwk bad base64url"],
    ["DataError", () => subtle.importKey("jwk", { kty: "oct", k: b64url(new Uint8Array(16)), alg: "A256GCM" }, "AES-GCM", false, ["encrypt"]), "jwk alg mismatch"],
    ["DataError", () => subtle.importKey("jwk", { kty: "oct", k: b64url(new Uint8Array(16)), ext: false }, "AES-GCM", true, ["encrypt"]), "jwk ext false, extractable requested"],
    // OperationError: failed operation or bad length.
    ["OperationError", async () => subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["decrypt"]), new Uint8Array(32)), "GCM tag mismatch"],
    ["OperationError", async () => subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(8) }, await subtle.importKey("raw", new Uint8Array(16), "AES-CBC", false, ["encrypt"]), data), "CBC 8-byte iv"],
    ["OperationError", () => subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12), tagLength: 100 }, aes, data), "GCM tagLength 100"],
    ["OperationError", () => subtle.generateKey({ name: "AES-GCM", length: 100 }, false, ["encrypt"]), "AES length 100"],
    ["OperationError", () => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: data, iterations: 0 }, pbkdf2, 256), "PBKDF2 iterations 0"],
    ["OperationError", () => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: data, iterations: 1 }, pbkdf2, 12), "PBKDF2 length not a multiple of 8"],
    ["OperationError", () => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: data, iterations: 1 }, pbkdf2, null), "PBKDF2 length null"],
    // SyntaxError: usages not allowed, or empty where required.
    ["SyntaxError", () => subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["sign"]), "AES-GCM sign usage"],
    ["SyntaxError", () => subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, []), "empty usages"],
    ["SyntaxError", () => subtle.importKey("raw", data, "HKDF", true, ["deriveBits"]), "extractable HKDF"],
    ["SyntaxError", () => subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]), "key pair without private usages"],
    // TypeError: WebIDL conversion.
    ["TypeError", () => subtle.importKey("foo", data, "AES-GCM", false, ["encrypt"]), "unknown format"],
    ["TypeError", () => subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["encrypt", "fly"]), "unknown usage"],
    ["TypeError", () => subtle.generateKey({ name: "AES-GCM", length: 128 }, false, "encrypt"), "usages not a sequence"],
    ["TypeError", () => subtle.generateKey({ name: "AES-GCM" }, false, ["encrypt"]), "required length missing"],
    ["TypeError", () => subtle.encrypt({ name: "AES-GCM" }, aes, data), "iv missing"],
    ["TypeError", () => subtle.encrypt({ name: "AES-GCM", iv: "0000" }, aes, data), "iv not a BufferSource"],
    ["TypeError", () => subtle.digest({}, data), "algorithm without name"],
    ["TypeError", () => subtle.digest("SHA-256", "abc"), "data is a string"],
    ["TypeError", () => subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, "key", data), "key is a string"],
    ["TypeError", () => subtle.deriveBits({ name: "ECDH", public: {} }, pair.privateKey, 256), "public not a CryptoKey"],
    ["TypeError", () => subtle.importKey("raw", { kty: "oct", k: "AA" }, "AES-GCM", false, ["encrypt"]), "jwk for raw"],
    ["TypeError", () => subtle.importKey("jwk", new Uint8Array(16), "AES-GCM", false, ["encrypt"]), "bytes for jwk"],
    ["TypeError", () => subtle.generateKey({ name: "AES-GCM", length: -1 }, false, ["encrypt"]), "[EnforceRange] length -1"],
    ["TypeError", () => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: data, iterations: 2 ** 32 }, pbkdf2, 256), "[EnforceRange] iterations 2^32"],
    ["TypeError", () => subtle.sign("HMAC", hmac), "missing argument"],
    ["TypeError", () => subtle.unwrapKey("raw", data, aes, "AES-GCM", "AES-GCM", false), "unwrapKey with 6 arguments"],
  ];
  const wrong = [];
  for (const [want, f, what] of cases) {
    const got = await rejectsWith(f());
    if (got !== want) wrong.push(`${what}: expected ${want}, got ${got}`);
  }
  assert_equals(wrong.join("; "), "", "error names");
}, "error names: NotSupportedError, InvalidAccessError, DataError, OperationError, SyntaxError, TypeError");

promise_test(async () => {
  let err;
  try { await subtle.digest("MD5", new Uint8Array(1)); } catch (e) { err = e; }
  assert_true(err instanceof DOMException, "a DOMException");
  assert_equals(err.code, 9, "NOT_SUPPORTED_ERR code");
  assert_true(err.message.includes("MD5"), `message names the algorithm: ${err.message}`);
  try { await subtle.generateKey({ name: "AES-GCM" }, false, ["encrypt"]); } catch (e) { err = e; }
  assert_true(err instanceof TypeError && !(err instanceof DOMException), "a plain TypeError");
  assert_true(err.message.includes("length"), `message names the member: ${err.message}`);
  assert_false("domName" in err, "no internal marker leaks");
}, "errors are DOMException or TypeError with a message naming the fault");

promise_test(async () => {
  const key = await subtle.importKey("raw", enc("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
  const salt = enc("salt");
  // Cloudflare Workers' iteration limit.
  await promise_rejects_dom(null, "NotSupportedError", subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 100001 }, key, 256), "100,001 iterations");
  await promise_rejects_dom(null, "NotSupportedError", subtle.deriveBits({ name: "PBKDF2", hash: "SHA-1", salt, iterations: 4294967295 }, key, 160), "2^32 - 1 iterations");
  await promise_rejects_dom(null, "NotSupportedError", subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 1000000 }, key, { name: "AES-GCM", length: 256 }, false, ["encrypt"]), "deriveKey");
  // Iterations x output blocks above 1,000,000: 100,000 x 11 SHA-256 blocks.
  let err;
  try { await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 100000 }, key, 11 * 256); } catch (e) { err = e; }
  assert_true(err instanceof DOMException && err.name === "OperationError", `OperationError, got ${err && err.name}`);
  assert_true(err.message.includes("1000000"), `names the limit: ${err.message}`);
  await promise_rejects_dom(null, "OperationError", subtle.deriveKey({ name: "PBKDF2", hash: "SHA-512", salt, iterations: 100000 }, key, { name: "HMAC", hash: "SHA-512", length: 11 * 512 }, false, ["sign"]), "deriveKey HMAC");
}, "PBKDF2 over the cost limit is refused");
