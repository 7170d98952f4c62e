  // -------------------------------------------------------- crypto, perf
  const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  const cryptoObject = {
    getRandomValues(array) {
      if (!INTEGER_ARRAYS.some((c) => array instanceof c)) throw new DOMException("getRandomValues: argument must be an integer TypedArray", "TypeMismatchError");
      // The view is built once from what the array reports, and the Uint8Array
      // constructor checks it against the real buffer; the native side then
      // takes the view's own length and enforces the quota itself, so a
      // getter that answers differently each time gains nothing.
      const view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      if (view.byteLength > 65536) throw new DOMException(`getRandomValues: ${view.byteLength} bytes requested, the limit is 65536`, "QuotaExceededError");
      host.fillRandom(view);
      return array;
    },
    randomUUID() {
      const b = new Uint8Array(16);
      host.fillRandom(b);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  };
  define("crypto", cryptoObject);
  const timeOrigin = Date.now() - host.now();
  define("performance", {
    now: () => host.now(),
    get timeOrigin() { return timeOrigin; },
    toJSON() { return { timeOrigin }; },
  });
  define("navigator", { userAgent: "Cloudflare-Workers", hardwareConcurrency: 1, language: "en" });
  define("self", G);

