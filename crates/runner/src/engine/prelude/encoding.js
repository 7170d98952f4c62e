  // ----------------------------------------------------- encoding
  const toWellFormed = String.prototype.toWellFormed
    ? (s) => s.toWellFormed()
    : (s) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
  const encodeUtf8 = (s) => host.utf8Encode(toWellFormed(String(s)));
  function asBytes(src, what) {
    if (src instanceof Uint8Array) return src;
    if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    if (src instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && src instanceof SharedArrayBuffer)) return new Uint8Array(src);
    throw new TypeError(`${what}: expected an ArrayBuffer or ArrayBufferView`);
  }
  const plainBytes = (u8) =>
    u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength && u8.constructor === Uint8Array ? u8 : new Uint8Array(u8);
  const decodeUtf8 = (u8, fatal = false) => (u8.length === 0 ? "" : host.utf8Decode(plainBytes(u8), fatal));

  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(input = "") { return encodeUtf8(input); }
    encodeInto(src, dest) {
      if (!(dest instanceof Uint8Array)) throw new TypeError("encodeInto: destination must be a Uint8Array");
      src = toWellFormed(String(src));
      let read = 0, written = 0;
      for (const ch of src) {
        const cp = ch.codePointAt(0);
        const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (written + n > dest.length) break;
        if (n === 1) dest[written] = cp;
        else if (n === 2) { dest[written] = 0xc0 | (cp >> 6); dest[written + 1] = 0x80 | (cp & 63); }
        else if (n === 3) { dest[written] = 0xe0 | (cp >> 12); dest[written + 1] = 0x80 | ((cp >> 6) & 63); dest[written + 2] = 0x80 | (cp & 63); }
        else { dest[written] = 0xf0 | (cp >> 18); dest[written + 1] = 0x80 | ((cp >> 12) & 63); dest[written + 2] = 0x80 | ((cp >> 6) & 63); dest[written + 3] = 0x80 | (cp & 63); }
        written += n;
        read += ch.length;
      }
      return { read, written };
    }
  }
  tag(TextEncoder, "TextEncoder");
  const UTF8_LABELS = ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"];
  const TD = Symbol("decoder");
  class TextDecoder {
    constructor(label = "utf-8", options = {}) {
      const l = String(label).trim().toLowerCase();
      if (!UTF8_LABELS.includes(l)) throw new RangeError(`TextDecoder: unsupported encoding ${JSON.stringify(String(label))} (only utf-8)`);
      SLOT(this, TD, { fatal: !!options.fatal, ignoreBOM: !!options.ignoreBOM, pending: null, bomSeen: false });
    }
    get encoding() { return "utf-8"; }
    get fatal() { return this[TD].fatal; }
    get ignoreBOM() { return this[TD].ignoreBOM; }
    decode(input, options = {}) {
      const st = this[TD];
      let bytes = input === undefined ? new Uint8Array(0) : asBytes(input, "TextDecoder.decode");
      if (st.pending) {
        const merged = new Uint8Array(st.pending.length + bytes.length);
        merged.set(st.pending);
        merged.set(bytes, st.pending.length);
        bytes = merged;
        st.pending = null;
      }
      if (options.stream) {
        // Hold back an incomplete trailing sequence for the next call.
        let cut = bytes.length;
        for (let i = 1; i <= Math.min(3, bytes.length); i++) {
          const b = bytes[bytes.length - i];
          if ((b & 0xc0) === 0x80) continue;
          const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
          if (need > i) cut = bytes.length - i;
          break;
        }
        if (cut < bytes.length) {
          st.pending = bytes.slice(cut);
          bytes = bytes.subarray(0, cut);
        }
      }
      if (!st.bomSeen && bytes.length > 0) {
        if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf && !st.ignoreBOM) bytes = bytes.subarray(3);
        st.bomSeen = true;
      }
      const out = decodeUtf8(bytes, st.fatal);
      if (!options.stream) { st.bomSeen = false; st.pending = null; }
      return out;
    }
  }
  tag(TextDecoder, "TextDecoder");
  define("TextEncoder", TextEncoder);
  define("TextDecoder", TextDecoder);

  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));
  define("btoa", function btoa(data) {
    if (arguments.length === 0) throw new TypeError("btoa: 1 argument required");
    const s = String(data);
    let out = "";
    for (let i = 0; i < s.length; i += 3) {
      const a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2);
      if (a > 255 || b > 255 || c > 255) throw new DOMException("btoa: string contains characters outside of the Latin1 range", "InvalidCharacterError");
      const n = (a << 16) | ((b || 0) << 8) | (c || 0);
      out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < s.length ? B64[(n >> 6) & 63] : "=") + (i + 2 < s.length ? B64[n & 63] : "=");
    }
    return out;
  });
  define("atob", function atob(data) {
    if (arguments.length === 0) throw new TypeError("atob: 1 argument required");
    let s = String(data).replace(/[\t\n\f\r ]/g, "");
    if (s.length % 4 === 0) s = s.replace(/==?$/, "");
    if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw new DOMException("atob: the string to be decoded is not correctly encoded", "InvalidCharacterError");
    let out = "";
    let buf = 0, bits = 0;
    for (const ch of s) {
      buf = (buf << 6) | B64_INDEX.get(ch);
      bits += 6;
      if (bits >= 8) { bits -= 8; out += String.fromCharCode((buf >> bits) & 255); }
    }
    return out;
  });

