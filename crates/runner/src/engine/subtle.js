// Sworn runner: `crypto.subtle` (W3C Web Cryptography API, SubtleCrypto)
// over the native functions of subtle.rs (`__subtle`, backed by the
// sworn-webcrypto crate). Evaluated right after the prelude, before any
// worker code; an ES module compiled to bytecode once per process.
//
// Every method is `async`: WebIDL conversion errors and algorithm failures
// alike reject the returned promise. Arguments are turned into plain data
// here (WebIDL conversions, copies of BufferSources taken at call time) and
// the natives run synchronously on the worker's thread, under its CPU limit.
(function (native) {
  "use strict";
  const G = globalThis;
  delete G.__subtle;

  // Intrinsics, captured before worker code can replace them.
  const { DOMException, crypto } = G;
  const TypeErrorCtor = TypeError;
  const U8 = Uint8Array;
  const ABuf = ArrayBuffer;
  const isView = ArrayBuffer.isView;
  const isArray = Array.isArray;
  const hasOwn = Object.hasOwn;
  const defineProperty = Object.defineProperty;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const jsonParse = JSON.parse;
  const jsonStringify = JSON.stringify;
  const uncurry = (f) => Function.prototype.call.bind(f);
  const getter = (proto, key) => uncurry(getOwnPropertyDescriptor(proto, key).get);
  const TypedArrayProto = Object.getPrototypeOf(U8.prototype);
  // These getters check internal slots, so user objects cannot pass for buffers.
  const taBuffer = getter(TypedArrayProto, "buffer");
  const taOffset = getter(TypedArrayProto, "byteOffset");
  const taLength = getter(TypedArrayProto, "byteLength");
  const dvBuffer = getter(DataView.prototype, "buffer");
  const dvOffset = getter(DataView.prototype, "byteOffset");
  const dvLength = getter(DataView.prototype, "byteLength");
  const abLength = getter(ABuf.prototype, "byteLength");
  const u8Set = uncurry(TypedArrayProto.set);

  const TOKEN = Symbol("internal");
  const isObject = (v) => (typeof v === "object" && v !== null) || typeof v === "function";
  // WebIDL DOMString: ToString, which throws a TypeError for symbols.
  const toDOMString = (v) => (typeof v === "string" ? v : `${v}`);

  // WebIDL `unsigned long` (no [EnforceRange]): modulo 2^32.
  function toUnsignedLong(v) {
    const n = +v;
    if (!Number.isFinite(n)) return 0;
    let x = Math.trunc(n) % 4294967296;
    if (x < 0) x += 4294967296;
    return x === 0 ? 0 : x;
  }

  // ----------------------------------------------------------- BufferSource
  // The bytes of an ArrayBuffer, TypedArray or DataView, as a fresh
  // Uint8Array; undefined for anything else (including SharedArrayBuffer).
  function copyBytes(v) {
    let buffer, offset, length;
    if (isView(v)) {
      try {
        buffer = taBuffer(v); offset = taOffset(v); length = taLength(v);
      } catch {
        buffer = dvBuffer(v); offset = dvOffset(v); length = dvLength(v);
      }
    } else {
      buffer = v; offset = 0;
    }
    try { const total = abLength(buffer); if (buffer === v) length = total; } catch { return undefined; }
    const out = new U8(length);
    if (length > 0) u8Set(out, new U8(buffer, offset, length));
    return out;
  }

  function bufferSource(v, method, what) {
    const bytes = copyBytes(v);
    if (bytes === undefined) {
      throw new TypeErrorCtor(`Failed to execute '${method}' on 'SubtleCrypto': ${what} is not an ArrayBuffer, TypedArray or DataView.`);
    }
    return bytes;
  }

  // ------------------------------------------------------------- CryptoKey
  let handleOf;
  class CryptoKey {
    #handle; #type; #extractable; #algorithm; #usages;
    constructor(token, handle) {
      if (token !== TOKEN) throw new TypeErrorCtor("Illegal constructor");
      const info = native.keyInfo(handle);
      this.#handle = handle;
      this.#type = info[0];
      this.#extractable = info[1];
      // `name` first, as browsers show it (the JSON has sorted keys).
      const { name, ...members } = jsonParse(info[2]);
      this.#algorithm = { name, ...members };
      this.#usages = info[3];
    }
    get type() { return this.#type; }
    get extractable() { return this.#extractable; }
    get algorithm() { return this.#algorithm; }
    get usages() { return this.#usages; }
    static {
      handleOf = (k) => (isObject(k) && #handle in k ? k.#handle : undefined);
    }
  }
  const newKey = (handle) => new CryptoKey(TOKEN, handle);

  function keyArg(v, method, position) {
    const h = handleOf(v);
    if (h === undefined) throw new TypeErrorCtor(`Failed to execute '${method}' on 'SubtleCrypto': parameter ${position} is not of type 'CryptoKey'.`);
    return h;
  }

  // ------------------------------------------------------------- arguments
  const NUMBER_MEMBERS = ["length", "tagLength", "iterations"];
  const BYTES_MEMBERS = ["iv", "additionalData", "salt", "info", "counter"];

  // AlgorithmIdentifier -> a string, or a plain object of the members the
  // algorithms read: strings, numbers, byte copies, key handles, `hash` as
  // a nested `{name}`. A member of the wrong type becomes null, which the
  // native side reports as a TypeError naming the dictionary member.
  function normalize(v) {
    if (!isObject(v)) return toDOMString(v);
    const out = {};
    const name = v.name;
    if (name !== undefined) out.name = toDOMString(name);
    const hash = v.hash;
    if (hash !== undefined) {
      if (isObject(hash)) {
        const hashName = hash.name;
        out.hash = hashName === undefined ? {} : { name: toDOMString(hashName) };
      } else {
        out.hash = toDOMString(hash);
      }
    }
    const curve = v.namedCurve;
    if (curve !== undefined) out.namedCurve = toDOMString(curve);
    for (const k of NUMBER_MEMBERS) {
      const x = v[k];
      if (x !== undefined) out[k] = +x;
    }
    for (const k of BYTES_MEMBERS) {
      const x = v[k];
      if (x !== undefined) out[k] = copyBytes(x) ?? null;
    }
    const pub = v.public;
    if (pub !== undefined) out.public = handleOf(pub) ?? null;
    return out;
  }

  const FORMATS = ["raw", "spki", "pkcs8", "jwk"];
  function keyFormat(v, method) {
    const f = toDOMString(v);
    if (!FORMATS.includes(f)) throw new TypeErrorCtor(`Failed to execute '${method}' on 'SubtleCrypto': '${f}' is not a valid KeyFormat.`);
    return f;
  }

  // sequence<KeyUsage>; the native side rejects unknown usages (TypeError).
  function keyUsages(v, method) {
    if (!isObject(v)) throw new TypeErrorCtor(`Failed to execute '${method}' on 'SubtleCrypto': keyUsages is not a sequence.`);
    const out = [];
    for (const u of v) out.push(toDOMString(u));
    return out;
  }

  // JsonWebKey dictionary -> JSON text of its members, converted by type.
  const JWK_STRINGS = ["kty", "use", "alg", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k"];
  function jwkText(v) {
    const out = {};
    if (isObject(v)) {
      for (const k of JWK_STRINGS) {
        const x = v[k];
        if (x !== undefined) out[k] = toDOMString(x);
      }
      const ops = v.key_ops;
      if (ops !== undefined) {
        if (!isObject(ops)) throw new TypeErrorCtor("Failed to execute 'importKey' on 'SubtleCrypto': JsonWebKey.key_ops is not a sequence.");
        out.key_ops = [];
        for (const op of ops) out.key_ops.push(toDOMString(op));
      }
      const ext = v.ext;
      if (ext !== undefined) out.ext = !!ext;
    }
    return jsonStringify(out);
  }

  function required(self, n, min, method) {
    if (!isSubtle(self)) throw new TypeErrorCtor("Illegal invocation");
    if (n < min) {
      throw new TypeErrorCtor(`Failed to execute '${method}' on 'SubtleCrypto': ${min} arguments required, but only ${n} present.`);
    }
  }

  // Runs a native call; its WebCrypto errors (marked with `domName`) become
  // TypeError or DOMException. Anything else, such as QuickJS's out of memory
  // or interrupted, passes through unchanged.
  function call(fn, ...args) {
    try {
      return fn(...args);
    } catch (e) {
      if (isObject(e) && hasOwn(e, "domName")) {
        const name = e.domName;
        throw name === "TypeError" ? new TypeErrorCtor(e.message) : new DOMException(e.message, name);
      }
      throw e;
    }
  }

  const keyResult = (r) => (isArray(r) ? { publicKey: newKey(r[0]), privateKey: newKey(r[1]) } : newKey(r));

  // ---------------------------------------------------------- SubtleCrypto
  let isSubtle;
  class SubtleCrypto {
    #brand = true;
    constructor(token) {
      if (token !== TOKEN) throw new TypeErrorCtor("Illegal constructor");
    }
    static {
      isSubtle = (o) => isObject(o) && #brand in o;
    }

    async encrypt(algorithm, key, data) {
      required(this, arguments.length, 3, "encrypt");
      const k = keyArg(key, "encrypt", 2);
      const d = bufferSource(data, "encrypt", "parameter 3");
      return call(native.encrypt, normalize(algorithm), k, d);
    }

    async decrypt(algorithm, key, data) {
      required(this, arguments.length, 3, "decrypt");
      const k = keyArg(key, "decrypt", 2);
      const d = bufferSource(data, "decrypt", "parameter 3");
      return call(native.decrypt, normalize(algorithm), k, d);
    }

    async sign(algorithm, key, data) {
      required(this, arguments.length, 3, "sign");
      const k = keyArg(key, "sign", 2);
      const d = bufferSource(data, "sign", "parameter 3");
      return call(native.sign, normalize(algorithm), k, d);
    }

    async verify(algorithm, key, signature, data) {
      required(this, arguments.length, 4, "verify");
      const k = keyArg(key, "verify", 2);
      const s = bufferSource(signature, "verify", "parameter 3");
      const d = bufferSource(data, "verify", "parameter 4");
      return call(native.verify, normalize(algorithm), k, s, d);
    }

    // Cloudflare's extension: synchronous, and without an early exit, so
    // the time taken does not depend on where the inputs first differ.
    timingSafeEqual(a, b) {
      required(this, arguments.length, 2, "timingSafeEqual");
      const x = bufferSource(a, "timingSafeEqual", "parameter 1");
      const y = bufferSource(b, "timingSafeEqual", "parameter 2");
      if (x.length !== y.length) {
        throw new TypeErrorCtor("Failed to execute 'timingSafeEqual' on 'SubtleCrypto': Input buffers must have the same byte length.");
      }
      let diff = 0;
      for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
      return diff === 0;
    }

    async digest(algorithm, data) {
      required(this, arguments.length, 2, "digest");
      const d = bufferSource(data, "digest", "parameter 2");
      return call(native.digest, normalize(algorithm), d);
    }

    async generateKey(algorithm, extractable, keyUsages_) {
      required(this, arguments.length, 3, "generateKey");
      const ex = !!extractable;
      const us = keyUsages(keyUsages_, "generateKey");
      return keyResult(call(native.generateKey, normalize(algorithm), ex, us));
    }

    async deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages_) {
      required(this, arguments.length, 5, "deriveKey");
      const k = keyArg(baseKey, "deriveKey", 2);
      const ex = !!extractable;
      const us = keyUsages(keyUsages_, "deriveKey");
      return newKey(call(native.deriveKey, normalize(algorithm), k, normalize(derivedKeyType), ex, us));
    }

    async deriveBits(algorithm, baseKey, length = null) {
      required(this, arguments.length, 2, "deriveBits");
      const k = keyArg(baseKey, "deriveBits", 2);
      const len = length === null || length === undefined ? null : toUnsignedLong(length);
      return call(native.deriveBits, normalize(algorithm), k, len);
    }

    async importKey(format, keyData, algorithm, extractable, keyUsages_) {
      required(this, arguments.length, 5, "importKey");
      const f = keyFormat(format, "importKey");
      let data = copyBytes(keyData);
      if (data === undefined) {
        if (keyData !== undefined && keyData !== null && !isObject(keyData)) {
          throw new TypeErrorCtor("Failed to execute 'importKey' on 'SubtleCrypto': keyData is neither a BufferSource nor a JsonWebKey.");
        }
        if (f !== "jwk") throw new TypeErrorCtor(`Failed to execute 'importKey' on 'SubtleCrypto': keyData must be a BufferSource for format '${f}'.`);
      } else if (f === "jwk") {
        throw new TypeErrorCtor("Failed to execute 'importKey' on 'SubtleCrypto': keyData must be a JsonWebKey for format 'jwk'.");
      }
      const ex = !!extractable;
      const us = keyUsages(keyUsages_, "importKey");
      if (data === undefined) data = jwkText(keyData);
      return newKey(call(native.importKey, f, data, normalize(algorithm), ex, us));
    }

    async exportKey(format, key) {
      required(this, arguments.length, 2, "exportKey");
      const f = keyFormat(format, "exportKey");
      const k = keyArg(key, "exportKey", 2);
      const r = call(native.exportKey, f, k);
      return typeof r === "string" ? jsonParse(r) : r;
    }

    async wrapKey(format, key, wrappingKey, wrapAlgorithm) {
      required(this, arguments.length, 4, "wrapKey");
      const f = keyFormat(format, "wrapKey");
      const k = keyArg(key, "wrapKey", 2);
      const w = keyArg(wrappingKey, "wrapKey", 3);
      return call(native.wrapKey, f, k, w, normalize(wrapAlgorithm));
    }

    async unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages_) {
      required(this, arguments.length, 7, "unwrapKey");
      const f = keyFormat(format, "unwrapKey");
      const wrapped = bufferSource(wrappedKey, "unwrapKey", "parameter 2");
      const k = keyArg(unwrappingKey, "unwrapKey", 3);
      const ex = !!extractable;
      const us = keyUsages(keyUsages_, "unwrapKey");
      return newKey(call(native.unwrapKey, f, wrapped, k, normalize(unwrapAlgorithm), normalize(unwrappedKeyAlgorithm), ex, us));
    }
  }

  // WebIDL: attributes and operations are enumerable, prototypes carry a
  // toStringTag, interface objects are writable, non-enumerable globals.
  for (const cls of [CryptoKey, SubtleCrypto]) {
    const proto = cls.prototype;
    for (const key of Reflect.ownKeys(proto)) {
      if (key === "constructor") continue;
      defineProperty(proto, key, { ...getOwnPropertyDescriptor(proto, key), enumerable: true });
    }
    defineProperty(proto, Symbol.toStringTag, { value: cls.name, configurable: true });
    defineProperty(G, cls.name, { value: cls, writable: true, configurable: true, enumerable: false });
  }
  defineProperty(crypto, "subtle", { value: new SubtleCrypto(TOKEN), enumerable: true, configurable: true });
})(globalThis.__subtle);
