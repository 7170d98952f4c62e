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
  // WHATWG Encoding labels of the decoders below, by encoding name.
  const LABELS = new Map([
    ...["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"].map((l) => [l, "utf-8"]),
    ...["ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1", "iso-ir-100", "iso8859-1",
      "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252", "x-cp1252"].map((l) => [l, "windows-1252"]),
    ...["csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16", "utf-16le"].map((l) => [l, "utf-16le"]),
    ...["unicodefffe", "utf-16be"].map((l) => [l, "utf-16be"]),
  ]);
  // windows-1252's bytes 0x80-0x9f; every other byte is its own code point.
  const CP1252 = [0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
    0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178];
  function decodeCp1252(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 8192) {
      const units = Array.from(bytes.subarray(i, i + 8192), (b) => (b >= 0x80 && b < 0xa0 ? CP1252[b - 0x80] : b));
      out += String.fromCharCode(...units);
    }
    return out;
  }
  // The UTF-16 code unit at byte offset `at`.
  const utf16Unit = (bytes, at, bigEndian) => (bigEndian ? (bytes[at] << 8) | bytes[at + 1] : bytes[at] | (bytes[at + 1] << 8));
  // UTF-16 code units to text; a lone surrogate is U+FFFD (a TypeError when fatal).
  function decodeUtf16(bytes, bigEndian, fatal, trailingByte) {
    const n = bytes.length >> 1;
    const units = new Array(n);
    for (let i = 0; i < n; i++) units[i] = utf16Unit(bytes, 2 * i, bigEndian);
    for (let i = 0; i < n; i++) {
      const u = units[i];
      if (u >= 0xd800 && u <= 0xdbff && i + 1 < n && units[i + 1] >= 0xdc00 && units[i + 1] <= 0xdfff) { i++; continue; }
      if (u >= 0xd800 && u <= 0xdfff) {
        if (fatal) throw new TypeError("TextDecoder: invalid UTF-16");
        units[i] = 0xfffd;
      }
    }
    if (trailingByte) {
      if (fatal) throw new TypeError("TextDecoder: invalid UTF-16");
      units.push(0xfffd);
    }
    let out = "";
    for (let i = 0; i < units.length; i += 8192) out += String.fromCharCode(...units.slice(i, i + 8192));
    return out;
  }
  const TD = Symbol("decoder");
  class TextDecoder {
    constructor(label = "utf-8", options = {}) {
      const encoding = LABELS.get(String(label).trim().toLowerCase());
      if (encoding === undefined) throw new RangeError(`TextDecoder: unsupported encoding ${JSON.stringify(String(label))}`);
      SLOT(this, TD, { encoding, fatal: !!options.fatal, ignoreBOM: !!options.ignoreBOM, pending: null, bomSeen: false });
    }
    get encoding() { return this[TD].encoding; }
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
      if (st.encoding === "windows-1252") return decodeCp1252(bytes);
      if (st.encoding !== "utf-8") {
        const bigEndian = st.encoding === "utf-16be";
        let cut = bytes.length & ~1;
        if (options.stream && cut >= 2) {
          // Hold back a high surrogate whose pair may come next.
          const last = utf16Unit(bytes, cut - 2, bigEndian);
          if (last >= 0xd800 && last <= 0xdbff) cut -= 2;
        }
        if (options.stream && cut < bytes.length) {
          st.pending = bytes.slice(cut);
          bytes = bytes.subarray(0, cut);
        }
        if (!st.bomSeen && bytes.length >= 2) {
          if (utf16Unit(bytes, 0, bigEndian) === 0xfeff && !st.ignoreBOM) bytes = bytes.subarray(2);
          st.bomSeen = true;
        }
        const odd = !options.stream && (bytes.length & 1) === 1;
        const out = decodeUtf16(bytes, bigEndian, st.fatal, odd);
        if (!options.stream) { st.bomSeen = false; st.pending = null; }
        return out;
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

