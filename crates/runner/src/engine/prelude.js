// Sworn runner prelude: the web platform APIs of Cloudflare Workers (the
// WinterTC minimum common API) written over a small set of native functions
// (`__host`). Evaluated once in every new QuickJS context, before the
// worker's code. It is an ES module, compiled to bytecode once per process;
// its `dispatch` export is the runner's entry point.
const api = (function (host) {
  "use strict";
  const G = globalThis;
  delete G.__host;

  const define = (name, value) =>
    Object.defineProperty(G, name, { value, writable: true, configurable: true, enumerable: false });
  const hidden = (obj, key, value) =>
    Object.defineProperty(obj, key, { value, writable: true, configurable: true, enumerable: false });
  // Internal state lives under symbol keys, set by plain assignment: symbols
  // are invisible to JSON, for-in and Object.keys, and this is the hot path.
  const SLOT = (obj, key, value) => { obj[key] = value; };
  const tag = (cls, name) =>
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });

  // ---------------------------------------------------------------- errors
  const DOM_CODES = {
    IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
    NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11,
    SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
    TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20, URLMismatchError: 21,
    QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
  };
  class DOMException extends Error {
    constructor(message = "", name = "Error") {
      super(String(message));
      hidden(this, "name", String(name));
    }
    get code() { return DOM_CODES[this.name] || 0; }
  }
  tag(DOMException, "DOMException");
  for (const [k, v] of Object.entries(DOM_CODES)) {
    const c = k.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase().replace(/_ERROR$/, "_ERR");
    Object.defineProperty(DOMException, c, { value: v });
  }
  define("DOMException", DOMException);

  const errorText = (e) => {
    if (e && typeof e === "object" && "message" in e) {
      const head = `${e.name || "Error"}: ${e.message}`;
      return e.stack ? `${head}\n${String(e.stack).trimEnd()}` : head;
    }
    try { return String(e); } catch { return "<unprintable error>"; }
  };

  // --------------------------------------------------------------- console
  function inspect(v, depth, seen) {
    switch (typeof v) {
      case "string": return depth === 0 ? v : JSON.stringify(v);
      case "number": return Object.is(v, -0) ? "-0" : String(v);
      case "bigint": return `${v}n`;
      case "undefined": return "undefined";
      case "boolean": return String(v);
      case "symbol": return v.toString();
      case "function": return `[Function: ${v.name || "(anonymous)"}]`;
    }
    if (v === null) return "null";
    if (seen.includes(v)) return "[Circular]";
    if (v instanceof Error) return errorText(v);
    if (v instanceof Date) return isNaN(v) ? "Invalid Date" : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (depth > 3) return Array.isArray(v) ? "[Array]" : "[Object]";
    const next = seen.concat([v]);
    const sub = (x) => inspect(x, depth + 1, next);
    if (Array.isArray(v)) {
      const items = v.slice(0, 100).map(sub);
      if (v.length > 100) items.push(`... ${v.length - 100} more items`);
      return `[ ${items.join(", ")} ]`;
    }
    if (ArrayBuffer.isView(v)) {
      const name = v.constructor ? v.constructor.name : "TypedArray";
      const items = Array.from(v.length !== undefined ? v : new Uint8Array(v.buffer)).slice(0, 50);
      return `${name}(${v.length ?? v.byteLength}) [ ${items.join(", ")}${(v.length ?? 0) > 50 ? ", ..." : ""} ]`;
    }
    if (v instanceof Map) return `Map(${v.size}) { ${[...v].map(([k, x]) => `${sub(k)} => ${sub(x)}`).join(", ")} }`;
    if (v instanceof Set) return `Set(${v.size}) { ${[...v].map(sub).join(", ")} }`;
    if (v instanceof URL) return `URL { ${v.href} }`;
    if (typeof v.then === "function") return "Promise { <pending> }";
    const name = v.constructor && v.constructor !== Object ? `${v.constructor.name} ` : "";
    const keys = Object.keys(v);
    if (keys.length === 0) return `${name}{}`;
    return `${name}{ ${keys.map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${sub(v[k])}`).join(", ")} }`;
  }
  function format(args) {
    if (args.length === 0) return "";
    let out = [];
    let rest = args;
    if (typeof args[0] === "string" && args[0].includes("%")) {
      let i = 1;
      const first = args[0].replace(/%([sdifoOjc%])/g, (m, c) => {
        if (c === "%") return "%";
        if (i >= args.length) return m;
        const a = args[i++];
        switch (c) {
          case "s": return typeof a === "string" ? a : inspect(a, 1, []);
          case "d": case "i": return typeof a === "object" ? "NaN" : String(c === "i" ? parseInt(a) : Number(a));
          case "f": return String(parseFloat(a));
          case "j": try { return JSON.stringify(a); } catch { return "[Circular]"; }
          case "c": return "";
          default: return inspect(a, 1, []);
        }
      });
      out.push(first);
      rest = args.slice(i);
    } else {
      out.push(inspect(args[0], 0, []));
      rest = args.slice(1);
    }
    for (const a of rest) out.push(inspect(a, 0, []));
    return out.join(" ");
  }
  const LEVEL = { debug: 0, info: 1, log: 2, warn: 3, error: 4 };
  const counts = new Map();
  const timersByLabel = new Map();
  const say = (level, args) => host.log(LEVEL[level], format(args));
  const console = {
    log: (...a) => say("log", a),
    info: (...a) => say("info", a),
    debug: (...a) => say("debug", a),
    warn: (...a) => say("warn", a),
    error: (...a) => say("error", a),
    trace: (...a) => say("debug", [...a, new Error("Trace").stack]),
    dir: (v) => say("log", [v]),
    table: (v) => say("log", [v]),
    assert: (cond, ...a) => { if (!cond) say("error", ["Assertion failed:", ...a]); },
    count: (label = "default") => { const n = (counts.get(label) || 0) + 1; counts.set(label, n); say("info", [`${label}: ${n}`]); },
    countReset: (label = "default") => counts.delete(label),
    time: (label = "default") => timersByLabel.set(label, host.now()),
    timeLog: (label = "default", ...a) => say("info", [`${label}: ${(host.now() - (timersByLabel.get(label) ?? host.now())).toFixed(3)}ms`, ...a]),
    timeEnd: (label = "default") => { say("info", [`${label}: ${(host.now() - (timersByLabel.get(label) ?? host.now())).toFixed(3)}ms`]); timersByLabel.delete(label); },
    group: (...a) => { if (a.length) say("log", a); },
    groupCollapsed: (...a) => { if (a.length) say("log", a); },
    groupEnd: () => {},
  };
  define("console", console);
  const report = (e) => host.reportError(`Uncaught ${errorText(e)}`);
  define("reportError", (e) => report(e));

  // ---------------------------------------------------------- events
  const EV = Symbol("event");
  class Event {
    constructor(type, init = {}) {
      if (arguments.length === 0) throw new TypeError("Event: type is required");
      SLOT(this, EV, { stop: false, stopNow: false, dispatching: false });
      this.type = String(type);
      this.bubbles = !!init.bubbles;
      this.cancelable = !!init.cancelable;
      this.composed = !!init.composed;
      this.defaultPrevented = false;
      this.isTrusted = false;
      this.timeStamp = host.now();
      this.target = null;
      this.currentTarget = null;
      this.eventPhase = 0;
    }
    get srcElement() { return this.target; }
    get returnValue() { return !this.defaultPrevented; }
    get cancelBubble() { return this[EV].stop; }
    set cancelBubble(v) { if (v) this[EV].stop = true; }
    preventDefault() { if (this.cancelable) this.defaultPrevented = true; }
    stopPropagation() { this[EV].stop = true; }
    stopImmediatePropagation() { this[EV].stop = true; this[EV].stopNow = true; }
    composedPath() { return this[EV].dispatching && this.currentTarget ? [this.currentTarget] : []; }
  }
  Event.NONE = 0; Event.CAPTURING_PHASE = 1; Event.AT_TARGET = 2; Event.BUBBLING_PHASE = 3;
  tag(Event, "Event");
  class CustomEvent extends Event {
    constructor(type, init = {}) { super(type, init); this.detail = init.detail ?? null; }
  }
  tag(CustomEvent, "CustomEvent");
  class ErrorEvent extends Event {
    constructor(type, init = {}) { super(type, init); this.message = init.message ?? ""; this.error = init.error; }
  }
  const LISTENERS = Symbol("listeners");
  class EventTarget {
    constructor() { SLOT(this, LISTENERS, new Map()); }
    addEventListener(type, callback, options) {
      if (callback == null) return;
      if (typeof callback !== "function" && typeof callback !== "object") throw new TypeError("listener must be a function or an object");
      const opts = typeof options === "boolean" ? { capture: options } : options || {};
      const capture = !!opts.capture;
      const signal = opts.signal;
      if (signal && signal.aborted) return;
      type = String(type);
      const map = this[LISTENERS];
      const list = map.get(type) || [];
      if (list.some((l) => l.callback === callback && l.capture === capture)) return;
      const entry = { callback, capture, once: !!opts.once, removed: false };
      list.push(entry);
      map.set(type, list);
      if (signal) signal.addEventListener("abort", () => this.removeEventListener(type, callback, { capture }));
    }
    removeEventListener(type, callback, options) {
      const capture = typeof options === "boolean" ? options : !!(options && options.capture);
      const list = this[LISTENERS].get(String(type));
      if (!list) return;
      const i = list.findIndex((l) => l.callback === callback && l.capture === capture);
      if (i >= 0) { list[i].removed = true; list.splice(i, 1); }
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) throw new TypeError("dispatchEvent: argument is not an Event");
      if (event[EV].dispatching) throw new DOMException("The event is already being dispatched", "InvalidStateError");
      event[EV].dispatching = true;
      event.target = this;
      event.currentTarget = this;
      event.eventPhase = 2;
      const list = (this[LISTENERS].get(event.type) || []).slice();
      for (const l of list) {
        if (l.removed) continue;
        if (l.once) this.removeEventListener(event.type, l.callback, { capture: l.capture });
        try {
          if (typeof l.callback === "function") l.callback.call(this, event);
          else if (typeof l.callback.handleEvent === "function") l.callback.handleEvent(event);
        } catch (e) {
          report(e);
        }
        if (event[EV].stopNow) break;
      }
      const handler = this["on" + event.type];
      if (typeof handler === "function" && !event[EV].stopNow && Object.getPrototypeOf(this) !== EventTarget.prototype) {
        try { handler.call(this, event); } catch (e) { report(e); }
      }
      event[EV].dispatching = false;
      event.currentTarget = null;
      event.eventPhase = 0;
      return !event.defaultPrevented;
    }
  }
  tag(EventTarget, "EventTarget");
  define("Event", Event);
  define("CustomEvent", CustomEvent);
  define("ErrorEvent", ErrorEvent);
  define("EventTarget", EventTarget);

  // ----------------------------------------------------------- timers
  const timers = new Map();
  let timerSeq = 0;
  function startTimer(cb, ms, args, repeat) {
    if (typeof cb !== "function") throw new TypeError("timer callback must be a function (strings are not evaluated)");
    ms = Number(ms) || 0;
    if (ms < 0) ms = 0;
    if (repeat && ms < 1) ms = 1;
    const id = ++timerSeq;
    timers.set(id, { cb, args, repeat, ms });
    host.timerStart(id, ms);
    return id;
  }
  function clearTimer(id) {
    id = Number(id);
    if (timers.delete(id)) host.timerClear(id);
  }
  function onTimer(id) {
    const t = timers.get(id);
    if (!t) return;
    if (t.repeat) host.timerStart(id, t.ms);
    else timers.delete(id);
    try { t.cb.apply(G, t.args); } catch (e) { report(e); }
  }
  define("setTimeout", (cb, ms, ...args) => startTimer(cb, ms, args, false));
  define("setInterval", (cb, ms, ...args) => startTimer(cb, ms, args, true));
  define("clearTimeout", clearTimer);
  define("clearInterval", clearTimer);
  define("queueMicrotask", (cb) => {
    if (typeof cb !== "function") throw new TypeError("queueMicrotask: callback must be a function");
    Promise.resolve().then(() => { try { cb(); } catch (e) { report(e); } });
  });

  // ------------------------------------------------------- abort signals
  const SIG = Symbol("signal");
  class AbortSignal extends EventTarget {
    constructor(key) {
      if (key !== SIG) throw new TypeError("Illegal constructor");
      super();
      SLOT(this, SIG, { aborted: false, reason: undefined });
      this.onabort = null;
    }
    get aborted() { return this[SIG].aborted; }
    get reason() { return this[SIG].reason; }
    throwIfAborted() { if (this.aborted) throw this.reason; }
    static abort(reason) { const s = new AbortSignal(SIG); abortSignal(s, reason); return s; }
    static timeout(ms) {
      const s = new AbortSignal(SIG);
      setTimeout(() => abortSignal(s, new DOMException("The operation timed out.", "TimeoutError")), ms);
      return s;
    }
    static any(signals) {
      const s = new AbortSignal(SIG);
      for (const x of signals) if (x.aborted) { abortSignal(s, x.reason); return s; }
      for (const x of signals) x.addEventListener("abort", () => abortSignal(s, x.reason), { once: true });
      return s;
    }
  }
  function abortSignal(s, reason) {
    if (s[SIG].aborted) return;
    s[SIG].aborted = true;
    s[SIG].reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
    s.dispatchEvent(new Event("abort"));
  }
  tag(AbortSignal, "AbortSignal");
  class AbortController {
    constructor() { SLOT(this, SIG, new AbortSignal(SIG)); }
    get signal() { return this[SIG]; }
    abort(reason) { abortSignal(this[SIG], reason); }
  }
  tag(AbortController, "AbortController");
  define("AbortSignal", AbortSignal);
  define("AbortController", AbortController);

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

  // ------------------------------------------------------ structuredClone
  function clone(v, seen) {
    if (typeof v === "symbol") throw new DOMException("Symbol values cannot be cloned", "DataCloneError");
    if (typeof v === "function") throw new DOMException(`${v.name || "function"} could not be cloned`, "DataCloneError");
    if (v === null || typeof v !== "object") return v;
    if (seen.has(v)) return seen.get(v);
    let out;
    if (v instanceof Boolean || v instanceof Number || v instanceof String || v instanceof BigInt) out = Object(v.valueOf());
    else if (v instanceof Date) out = new Date(v.getTime());
    else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
    else if (v instanceof ArrayBuffer) out = v.slice(0);
    else if (ArrayBuffer.isView(v)) {
      const buf = clone(v.buffer, seen);
      out = v instanceof DataView ? new DataView(buf, v.byteOffset, v.byteLength) : new v.constructor(buf, v.byteOffset, v.length);
    } else if (v instanceof Map) { out = new Map(); seen.set(v, out); for (const [k, x] of v) out.set(clone(k, seen), clone(x, seen)); return out; }
    else if (v instanceof Set) { out = new Set(); seen.set(v, out); for (const x of v) out.add(clone(x, seen)); return out; }
    else if (v instanceof Error) {
      const ctor = { EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError }[v.name] || Error;
      out = new ctor(v.message);
      if (v.stack !== undefined) out.stack = v.stack;
      if ("cause" in v) out.cause = clone(v.cause, seen);
    } else if (v instanceof Blob) out = v;
    else if (Array.isArray(v)) { out = new Array(v.length); seen.set(v, out); for (const k of Object.keys(v)) out[k] = clone(v[k], seen); return out; }
    else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== null && proto !== Object.prototype && (v instanceof EventTarget || v instanceof Request || v instanceof Response || v instanceof Headers || typeof v.then === "function" || v instanceof WeakMap || v instanceof WeakSet))
        throw new DOMException(`${proto.constructor?.name || "object"} could not be cloned`, "DataCloneError");
      out = {};
      seen.set(v, out);
      for (const k of Object.keys(v)) out[k] = clone(v[k], seen);
      return out;
    }
    seen.set(v, out);
    return out;
  }
  define("structuredClone", function structuredClone(value, options) {
    if (arguments.length === 0) throw new TypeError("structuredClone: 1 argument required");
    if (options && options.transfer && options.transfer.length) throw new DOMException("transfer is not supported", "DataCloneError");
    return clone(value, new Map());
  });

  // -------------------------------------------------------- crypto, perf
  const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  const cryptoObject = {
    getRandomValues(array) {
      if (!INTEGER_ARRAYS.some((c) => array instanceof c)) throw new DOMException("getRandomValues: argument must be an integer TypedArray", "TypeMismatchError");
      if (array.byteLength > 65536) throw new DOMException(`getRandomValues: ${array.byteLength} bytes requested, the limit is 65536`, "QuotaExceededError");
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(host.random(array.byteLength));
      return array;
    },
    randomUUID() {
      const b = host.random(16);
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

  // -------------------------------------------------------------- URL
  const PARTS = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"];
  const UP = Symbol("url");
  const UPARTS = Symbol("parts");
  const QP = Symbol("params");
  class URLSearchParams {
    constructor(init = "") {
      SLOT(this, QP, { list: [], url: null });
      const list = this[QP].list;
      if (init instanceof URLSearchParams) { for (const p of init[QP].list) list.push([p[0], p[1]]); }
      else if (init !== null && typeof init === "object" && typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = [...pair];
          if (p.length !== 2) throw new TypeError("URLSearchParams: each pair must have exactly two items");
          list.push([toUSV(p[0]), toUSV(p[1])]);
        }
      } else if (init !== null && typeof init === "object") {
        for (const k of Object.keys(init)) list.push([toUSV(k), toUSV(init[k])]);
      } else {
        let s = toUSV(init);
        if (s.startsWith("?")) s = s.slice(1);
        this[QP].list = parseForm(s);
      }
    }
    get size() { return this[QP].list.length; }
    append(name, value) { this[QP].list.push([toUSV(name), toUSV(value)]); update(this); }
    delete(name, value) {
      name = toUSV(name);
      const st = this[QP];
      st.list = st.list.filter((p) => !(p[0] === name && (value === undefined || p[1] === toUSV(value))));
      update(this);
    }
    get(name) { name = toUSV(name); const p = this[QP].list.find((p) => p[0] === name); return p ? p[1] : null; }
    getAll(name) { name = toUSV(name); return this[QP].list.filter((p) => p[0] === name).map((p) => p[1]); }
    has(name, value) { name = toUSV(name); return this[QP].list.some((p) => p[0] === name && (value === undefined || p[1] === toUSV(value))); }
    set(name, value) {
      name = toUSV(name); value = toUSV(value);
      const st = this[QP];
      const i = st.list.findIndex((p) => p[0] === name);
      if (i < 0) st.list.push([name, value]);
      else { st.list[i][1] = value; st.list = st.list.filter((p, j) => j <= i || p[0] !== name); }
      update(this);
    }
    sort() {
      const st = this[QP];
      st.list = st.list.map((p, i) => [p, i]).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map((x) => x[0]);
      update(this);
    }
    forEach(cb, thisArg) { for (const [k, v] of this[QP].list.slice()) cb.call(thisArg, v, k, this); }
    *entries() { for (let i = 0; i < this[QP].list.length; i++) yield [this[QP].list[i][0], this[QP].list[i][1]]; }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return host.formSerialize(this[QP].list.flat()); }
  }
  tag(URLSearchParams, "URLSearchParams");
  const toUSV = (v) => toWellFormed(String(v));
  function parseForm(s) {
    const flat = host.formParse(s);
    const out = [];
    for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
    return out;
  }
  function update(params) {
    const url = params[QP].url;
    if (!url) return;
    // An empty list leaves no "?" behind (WHATWG URLSearchParams update steps).
    setUrlPart(url, "search", params.toString(), true);
  }
  function setUrlPart(url, part, value, fromParams) {
    const parts = host.urlSet(url[UP], part, toUSV(value));
    if (!parts) {
      if (part === "href") throw new TypeError(`Invalid URL: ${value}`);
      return;
    }
    url[UP] = parts[0];
    url[UPARTS] = parts;
    if (!fromParams && url[QP]) url[QP][QP].list = parseForm(parts[9].replace(/^\?/, ""));
  }
  class URL {
    constructor(url, base) {
      if (arguments.length === 0) throw new TypeError("URL: 1 argument required");
      const parts = base === undefined ? host.urlParse(toUSV(url)) : host.urlParse(toUSV(url), toUSV(base));
      if (!parts) throw new TypeError(`Invalid URL: ${String(url)}${base === undefined ? "" : ` (base ${String(base)})`}`);
      SLOT(this, UP, parts[0]);
      this[UPARTS] = parts;
      SLOT(this, QP, null);
    }
    static canParse(url, base) { return (base === undefined ? host.urlParse(toUSV(url)) : host.urlParse(toUSV(url), toUSV(base))) != null; }
    static parse(url, base) { try { return new URL(url, base); } catch { return null; } }
    get searchParams() {
      if (!this[QP]) {
        const p = new URLSearchParams(this.search);
        p[QP].url = this;
        this[QP] = p;
      }
      return this[QP];
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
  }
  PARTS.forEach((name, i) => {
    const desc = { get() { return this[UPARTS][i]; }, configurable: true, enumerable: true };
    if (name !== "origin") desc.set = function (v) { setUrlPart(this, name, v, false); };
    Object.defineProperty(URL.prototype, name, desc);
  });
  tag(URL, "URL");
  define("URL", URL);
  define("URLSearchParams", URLSearchParams);

  // ------------------------------------------------------------ Blob
  const BLOB = Symbol("blob");
  function concatBytes(chunks) {
    let n = 0;
    for (const c of chunks) n += c.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of chunks) { out.set(c, o); o += c.length; }
    return out;
  }
  class Blob {
    constructor(parts = [], options = {}) {
      if (parts === null || typeof parts !== "object" || typeof parts[Symbol.iterator] !== "function") throw new TypeError("Blob: parts must be a sequence");
      const chunks = [];
      for (const p of parts) {
        if (p instanceof Blob) chunks.push(p[BLOB]);
        else if (p instanceof ArrayBuffer || ArrayBuffer.isView(p)) chunks.push(new Uint8Array(asBytes(p, "Blob")));
        else chunks.push(encodeUtf8(String(p)));
      }
      const type = options.type === undefined ? "" : String(options.type);
      SLOT(this, BLOB, concatBytes(chunks));
      hidden(this, "_type", /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : "");
    }
    get size() { return this[BLOB].length; }
    get type() { return this._type; }
    slice(start = 0, end = this.size, type = "") {
      const n = this.size;
      const rel = (x) => (x < 0 ? Math.max(n + x, 0) : Math.min(x, n));
      const b = new Blob([], { type });
      b[BLOB] = this[BLOB].slice(rel(start), Math.max(rel(end), rel(start)));
      return b;
    }
    async arrayBuffer() { return this[BLOB].slice().buffer; }
    async bytes() { return this[BLOB].slice(); }
    async text() { return decodeUtf8(this[BLOB]); }
    stream() { return streamOfBytes(this[BLOB]); }
  }
  tag(Blob, "Blob");
  class File extends Blob {
    constructor(parts, name, options = {}) {
      if (arguments.length < 2) throw new TypeError("File: 2 arguments required");
      super(parts, options);
      hidden(this, "_name", String(name));
      hidden(this, "_lastModified", options.lastModified === undefined ? Date.now() : Number(options.lastModified));
    }
    get name() { return this._name; }
    get lastModified() { return this._lastModified; }
  }
  tag(File, "File");
  define("Blob", Blob);
  define("File", File);

  // --------------------------------------------------------- FormData
  const FD = Symbol("formdata");
  function formValue(value, filename) {
    if (value instanceof Blob) {
      if (!(value instanceof File) || filename !== undefined) {
        return new File([value], filename !== undefined ? String(filename) : value instanceof File ? value.name : "blob", { type: value.type });
      }
      return value;
    }
    return toUSV(value);
  }
  class FormData {
    constructor(form) {
      if (form !== undefined) throw new TypeError("FormData: forms are not supported outside a browser");
      SLOT(this, FD, []);
    }
    append(name, value, filename) { this[FD].push([toUSV(name), formValue(value, filename)]); }
    delete(name) { name = toUSV(name); SLOT(this, FD, this[FD].filter((e) => e[0] !== name)); }
    get(name) { name = toUSV(name); const e = this[FD].find((e) => e[0] === name); return e ? e[1] : null; }
    getAll(name) { name = toUSV(name); return this[FD].filter((e) => e[0] === name).map((e) => e[1]); }
    has(name) { name = toUSV(name); return this[FD].some((e) => e[0] === name); }
    set(name, value, filename) {
      name = toUSV(name);
      const v = formValue(value, filename);
      const i = this[FD].findIndex((e) => e[0] === name);
      if (i < 0) this[FD].push([name, v]);
      else SLOT(this, FD, this[FD].filter((e, j) => j <= i || e[0] !== name).map((e, j) => (j === i ? [name, v] : e)));
    }
    forEach(cb, thisArg) { for (const [k, v] of this[FD].slice()) cb.call(thisArg, v, k, this); }
    *entries() { for (const [k, v] of this[FD]) yield [k, v]; }
    *keys() { for (const [k] of this[FD]) yield k; }
    *values() { for (const [, v] of this[FD]) yield v; }
    [Symbol.iterator]() { return this.entries(); }
  }
  tag(FormData, "FormData");
  define("FormData", FormData);
  const quoteName = (s) => s.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  function encodeMultipart(fd) {
    const boundary = "----SwornFormBoundary" + cryptoObject.randomUUID().replace(/-/g, "");
    const chunks = [];
    for (const [name, value] of fd[FD]) {
      let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quoteName(name)}"`;
      if (value instanceof File) {
        head += `; filename="${quoteName(value.name)}"\r\nContent-Type: ${value.type || "application/octet-stream"}\r\n\r\n`;
        chunks.push(encodeUtf8(head), value[BLOB], encodeUtf8("\r\n"));
      } else {
        chunks.push(encodeUtf8(`${head}\r\n\r\n${value.replace(/\r(?!\n)|(?<!\r)\n/g, "\r\n")}\r\n`));
      }
    }
    chunks.push(encodeUtf8(`--${boundary}--\r\n`));
    return { bytes: concatBytes(chunks), type: `multipart/form-data; boundary=${boundary}` };
  }
  const latin1 = (u8) => {
    let s = "";
    for (let i = 0; i < u8.length; i += 8192) s += String.fromCharCode.apply(null, u8.subarray(i, i + 8192));
    return s;
  };
  const fromLatin1 = (s) => { const u = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return u; };
  function parseMultipart(bytes, contentType) {
    const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
    if (!m) throw new TypeError("multipart body without a boundary");
    const boundary = "--" + (m[1] || m[2]);
    const text = latin1(bytes);
    const fd = new FormData();
    const parts = text.split(boundary);
    if (parts.length < 2) throw new TypeError("malformed multipart body: boundary not found");
    for (let part of parts.slice(1)) {
      if (part.startsWith("--")) break;
      part = part.replace(/^\r\n/, "");
      const sep = part.indexOf("\r\n\r\n");
      if (sep < 0) throw new TypeError("malformed multipart body: part without headers");
      const head = part.slice(0, sep);
      let body = part.slice(sep + 4);
      if (body.endsWith("\r\n")) body = body.slice(0, -2);
      const disp = /content-disposition:\s*form-data([^\r\n]*)/i.exec(head);
      if (!disp) throw new TypeError("malformed multipart body: part without Content-Disposition");
      const name = /[;\s]name="([^"]*)"/i.exec(disp[1]);
      const filename = /filename="([^"]*)"/i.exec(disp[1]);
      const ctype = /content-type:\s*([^\r\n]*)/i.exec(head);
      const key = decodeUtf8(fromLatin1(name ? name[1] : ""));
      if (filename) fd.append(key, new File([fromLatin1(body)], decodeUtf8(fromLatin1(filename[1])), { type: ctype ? ctype[1].trim() : "" }));
      else fd.append(key, decodeUtf8(fromLatin1(body)));
    }
    return fd;
  }

  // ----------------------------------------------------------- streams
  const RS = Symbol("readable");
  class ReadableStreamDefaultController {
    constructor(key, stream) {
      if (key !== RS) throw new TypeError("Illegal constructor");
      SLOT(this, RS, stream);
    }
    get desiredSize() {
      const s = this[RS][RS];
      if (s.state === "errored") return null;
      if (s.state === "closed") return 0;
      return s.hwm - s.queue.length;
    }
    enqueue(chunk) {
      const s = this[RS][RS];
      if (s.closeRequested || s.state !== "readable") throw new TypeError("enqueue on a closed or errored stream");
      if (s.reads.length > 0) s.reads.shift().resolve({ value: chunk, done: false });
      else s.queue.push(chunk);
      pullIfNeeded(this[RS]);
    }
    close() {
      const s = this[RS][RS];
      if (s.closeRequested || s.state !== "readable") throw new TypeError("close on a closed or errored stream");
      s.closeRequested = true;
      if (s.queue.length === 0) finishClose(this[RS]);
    }
    error(e) { errorStream(this[RS], e); }
  }
  tag(ReadableStreamDefaultController, "ReadableStreamDefaultController");
  function finishClose(stream) {
    const s = stream[RS];
    if (s.state !== "readable") return;
    s.state = "closed";
    for (const r of s.reads.splice(0)) r.resolve({ value: undefined, done: true });
    if (s.reader) s.reader._closed.resolve(undefined);
  }
  function errorStream(stream, e) {
    const s = stream[RS];
    if (s.state !== "readable") return;
    s.state = "errored";
    s.error = e;
    s.queue = [];
    for (const r of s.reads.splice(0)) r.reject(e);
    if (s.reader) { s.reader._closed.reject(e); s.reader._closed.promise.catch(() => {}); }
  }
  function pullIfNeeded(stream) {
    const s = stream[RS];
    if (!s.started || s.state !== "readable" || s.closeRequested || !s.source.pull) return;
    if (s.queue.length >= s.hwm && s.reads.length === 0) return;
    if (s.pulling) { s.pullAgain = true; return; }
    s.pulling = true;
    let r;
    try { r = s.source.pull.call(s.source, s.controller); } catch (e) { errorStream(stream, e); return; }
    Promise.resolve(r).then(() => {
      s.pulling = false;
      if (s.pullAgain) { s.pullAgain = false; pullIfNeeded(stream); }
    }, (e) => errorStream(stream, e));
  }
  function deferred() {
    let resolve, reject;
    const promise = new Promise((a, b) => { resolve = a; reject = b; });
    return { promise, resolve, reject };
  }
  class ReadableStreamDefaultReader {
    constructor(stream) {
      if (!(stream instanceof ReadableStream)) throw new TypeError("ReadableStreamDefaultReader: argument must be a ReadableStream");
      if (stream[RS].reader) throw new TypeError("ReadableStream is already locked to a reader");
      SLOT(this, RS, stream);
      hidden(this, "_closed", deferred());
      stream[RS].reader = this;
      if (stream[RS].state === "closed") this._closed.resolve(undefined);
      if (stream[RS].state === "errored") { this._closed.reject(stream[RS].error); this._closed.promise.catch(() => {}); }
    }
    get closed() { return this._closed.promise; }
    read() {
      const stream = this[RS];
      if (!stream) return Promise.reject(new TypeError("reader has been released"));
      const s = stream[RS];
      s.disturbed = true;
      if (s.queue.length > 0) {
        const value = s.queue.shift();
        if (s.closeRequested && s.queue.length === 0) finishClose(stream);
        else pullIfNeeded(stream);
        return Promise.resolve({ value, done: false });
      }
      if (s.state === "closed") return Promise.resolve({ value: undefined, done: true });
      if (s.state === "errored") return Promise.reject(s.error);
      const d = deferred();
      s.reads.push(d);
      pullIfNeeded(stream);
      return d.promise;
    }
    releaseLock() {
      const stream = this[RS];
      if (!stream) return;
      const s = stream[RS];
      for (const r of s.reads.splice(0)) r.reject(new TypeError("reader released"));
      s.reader = null;
      this[RS] = null;
    }
    cancel(reason) { return this[RS] ? cancelStream(this[RS], reason) : Promise.reject(new TypeError("reader has been released")); }
  }
  tag(ReadableStreamDefaultReader, "ReadableStreamDefaultReader");
  async function cancelStream(stream, reason) {
    const s = stream[RS];
    s.disturbed = true;
    if (s.state === "closed") return;
    if (s.state === "errored") throw s.error;
    s.queue = [];
    finishClose(stream);
    if (s.source.cancel) await s.source.cancel.call(s.source, reason);
  }
  class ReadableStream {
    constructor(source = {}, strategy = {}) {
      if (source === null) source = {};
      const hwm = strategy.highWaterMark === undefined ? (source.type === "bytes" ? 0 : 1) : Number(strategy.highWaterMark);
      if (isNaN(hwm) || hwm < 0) throw new RangeError("highWaterMark must be a non-negative number");
      SLOT(this, RS, { source, hwm, queue: [], reads: [], state: "readable", reader: null, started: false, pulling: false, pullAgain: false, closeRequested: false, disturbed: false, error: undefined, controller: null });
      const controller = new ReadableStreamDefaultController(RS, this);
      this[RS].controller = controller;
      const r = source.start ? source.start.call(source, controller) : undefined;
      Promise.resolve(r).then(() => { this[RS].started = true; pullIfNeeded(this); }, (e) => errorStream(this, e));
    }
    get locked() { return this[RS].reader !== null; }
    getReader(options = {}) {
      if (options && options.mode === "byob") throw new TypeError("BYOB readers are not supported");
      return new ReadableStreamDefaultReader(this);
    }
    cancel(reason) {
      if (this.locked) return Promise.reject(new TypeError("cannot cancel a locked stream"));
      return cancelStream(this, reason);
    }
    tee() {
      const reader = this.getReader();
      let c1, c2;
      let reading = false;
      const pull = async () => {
        if (reading) return;
        reading = true;
        try {
          const { value, done } = await reader.read();
          if (done) { try { c1.close(); } catch {} try { c2.close(); } catch {} }
          else { try { c1.enqueue(value); } catch {} try { c2.enqueue(value); } catch {} }
        } catch (e) { c1.error(e); c2.error(e); }
        reading = false;
      };
      const a = new ReadableStream({ start(c) { c1 = c; }, pull });
      const b = new ReadableStream({ start(c) { c2 = c; }, pull });
      return [a, b];
    }
    async pipeTo(dest, options = {}) {
      const reader = this.getReader();
      const writer = dest.getWriter();
      const signal = options.signal;
      try {
        for (;;) {
          if (signal && signal.aborted) throw signal.reason;
          const { value, done } = await reader.read();
          if (done) break;
          await writer.write(value);
        }
        if (!options.preventClose) await writer.close();
      } catch (e) {
        if (!options.preventAbort) await writer.abort(e).catch(() => {});
        if (!options.preventCancel) await reader.cancel(e).catch(() => {});
        throw e;
      } finally {
        reader.releaseLock();
        writer.releaseLock();
      }
    }
    pipeThrough(transform, options) {
      this.pipeTo(transform.writable, options).catch(() => {});
      return transform.readable;
    }
    async *values(options = {}) {
      const reader = this.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        if (!options.preventCancel) await reader.cancel().catch(() => {});
        reader.releaseLock();
      }
    }
    [Symbol.asyncIterator](options) { return this.values(options); }
    static from(iterable) {
      const it = iterable[Symbol.asyncIterator] ? iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]();
      return new ReadableStream({
        async pull(c) {
          const { value, done } = await it.next();
          if (done) c.close(); else c.enqueue(value);
        },
        async cancel(reason) { if (it.return) await it.return(reason); },
      }, { highWaterMark: 0 });
    }
  }
  tag(ReadableStream, "ReadableStream");
  function streamOfBytes(bytes) {
    return new ReadableStream({
      start(c) { if (bytes.length) c.enqueue(bytes); c.close(); },
    });
  }

  const WS = Symbol("writable");
  class WritableStreamDefaultWriter {
    constructor(stream) {
      if (stream[WS].writer) throw new TypeError("WritableStream is already locked to a writer");
      SLOT(this, WS, stream);
      stream[WS].writer = this;
    }
    get closed() { return this[WS][WS].closed.promise; }
    get ready() { return Promise.resolve(undefined); }
    get desiredSize() { return this[WS][WS].state === "writable" ? 1 : 0; }
    write(chunk) { return enqueueWrite(this[WS], () => this[WS][WS].sink.write && this[WS][WS].sink.write.call(this[WS][WS].sink, chunk, this[WS][WS].controller)); }
    close() {
      const st = this[WS][WS];
      if (st.state !== "writable") return Promise.reject(new TypeError("stream is closed or errored"));
      st.state = "closing";
      return enqueueWrite(this[WS], () => st.sink.close && st.sink.close.call(st.sink), true).then(() => { st.state = "closed"; st.closed.resolve(); });
    }
    async abort(reason) {
      const st = this[WS][WS];
      if (st.state === "closed" || st.state === "errored") return;
      st.state = "errored";
      st.closed.reject(reason);
      st.closed.promise.catch(() => {});
      if (st.sink.abort) await st.sink.abort.call(st.sink, reason);
    }
    releaseLock() { if (this[WS]) { this[WS][WS].writer = null; } }
  }
  function enqueueWrite(stream, op, closing) {
    const st = stream[WS];
    if (!closing && st.state !== "writable") return Promise.reject(new TypeError("cannot write to a closed or errored stream"));
    const p = st.last.then(() => {
      if (st.state === "errored") throw st.error;
      return op();
    });
    st.last = p.then(() => {}, (e) => {
      if (st.state !== "errored") { st.state = "errored"; st.error = e; st.closed.reject(e); st.closed.promise.catch(() => {}); }
    });
    return p.then(() => undefined);
  }
  class WritableStream {
    constructor(sink = {}) {
      const closed = deferred();
      const controller = { error: (e) => { const st = this[WS]; if (st.state === "writable") { st.state = "errored"; st.error = e; closed.reject(e); closed.promise.catch(() => {}); } }, signal: new AbortController().signal };
      SLOT(this, WS, { sink, state: "writable", writer: null, last: Promise.resolve(), closed, error: undefined, controller });
      if (sink.start) this[WS].last = Promise.resolve(sink.start.call(sink, controller));
    }
    get locked() { return this[WS].writer !== null; }
    getWriter() { return new WritableStreamDefaultWriter(this); }
    close() { if (this.locked) return Promise.reject(new TypeError("stream is locked")); const w = this.getWriter(); return w.close().finally(() => w.releaseLock()); }
    abort(reason) { if (this.locked) return Promise.reject(new TypeError("stream is locked")); return new WritableStreamDefaultWriter(this).abort(reason); }
  }
  tag(WritableStream, "WritableStream");
  class TransformStream {
    constructor(transformer = {}) {
      let rc;
      const readable = new ReadableStream({ start(c) { rc = c; } }, { highWaterMark: Infinity });
      const controller = {
        enqueue: (chunk) => rc.enqueue(chunk),
        error: (e) => rc.error(e),
        terminate: () => { try { rc.close(); } catch {} },
        get desiredSize() { return rc.desiredSize; },
      };
      const writable = new WritableStream({
        start: () => transformer.start && transformer.start.call(transformer, controller),
        write: (chunk) => (transformer.transform ? transformer.transform.call(transformer, chunk, controller) : controller.enqueue(chunk)),
        close: async () => { if (transformer.flush) await transformer.flush.call(transformer, controller); try { rc.close(); } catch {} },
        abort: (reason) => rc.error(reason),
      });
      hidden(this, "_readable", readable);
      hidden(this, "_writable", writable);
    }
    get readable() { return this._readable; }
    get writable() { return this._writable; }
  }
  tag(TransformStream, "TransformStream");
  class TextEncoderStream extends TransformStream {
    constructor() { super({ transform(chunk, c) { const b = encodeUtf8(chunk); if (b.length) c.enqueue(b); } }); }
    get encoding() { return "utf-8"; }
  }
  class TextDecoderStream extends TransformStream {
    constructor(label = "utf-8", options = {}) {
      const d = new TextDecoder(label, options);
      super({
        transform(chunk, c) { const s = d.decode(chunk, { stream: true }); if (s) c.enqueue(s); },
        flush(c) { const s = d.decode(); if (s) c.enqueue(s); },
      });
    }
    get encoding() { return "utf-8"; }
  }
  const strategy = (size) => class { constructor({ highWaterMark } = {}) { this.highWaterMark = highWaterMark; } size(c) { return size(c); } };
  define("ReadableStream", ReadableStream);
  define("ReadableStreamDefaultReader", ReadableStreamDefaultReader);
  define("ReadableStreamDefaultController", ReadableStreamDefaultController);
  define("WritableStream", WritableStream);
  define("WritableStreamDefaultWriter", WritableStreamDefaultWriter);
  define("TransformStream", TransformStream);
  define("TextEncoderStream", TextEncoderStream);
  define("TextDecoderStream", TextDecoderStream);
  define("CountQueuingStrategy", strategy(() => 1));
  define("ByteLengthQueuingStrategy", strategy((c) => c.byteLength));

  // ----------------------------------------------------------- Headers
  const HL = Symbol("headers");
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const normValue = (v) => String(v).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  function checkHeader(name, value) {
    if (!TOKEN.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
    if (/[\0\r\n]/.test(value) || /[^\x00-\xff]/.test(value)) throw new TypeError(`Invalid value for header ${JSON.stringify(name)}`);
  }
  class Headers {
    constructor(init) {
      SLOT(this, HL, { list: [], immutable: false });
      if (init === undefined || init === null) return;
      if (init instanceof Headers) { for (const [k, v] of init[HL].list) this[HL].list.push([k, v]); return; }
      if (typeof init !== "object") throw new TypeError("Headers: init must be an object or a sequence of pairs");
      if (typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = typeof pair === "string" ? null : [...pair];
          if (!p || p.length !== 2) throw new TypeError("Headers: each pair must have exactly two items");
          this.append(p[0], p[1]);
        }
      } else {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      }
    }
    append(name, value) {
      name = String(name); value = normValue(value);
      checkHeader(name, value);
      guard(this);
      this[HL].list.push([name.toLowerCase(), value]);
    }
    delete(name) {
      name = String(name);
      if (!TOKEN.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
      guard(this);
      const l = name.toLowerCase();
      this[HL].list = this[HL].list.filter((p) => p[0] !== l);
    }
    get(name) {
      name = String(name);
      if (!TOKEN.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
      const l = name.toLowerCase();
      const vals = this[HL].list.filter((p) => p[0] === l).map((p) => p[1]);
      return vals.length ? vals.join(", ") : null;
    }
    getSetCookie() { return this[HL].list.filter((p) => p[0] === "set-cookie").map((p) => p[1]); }
    getAll(name) {
      if (String(name).toLowerCase() !== "set-cookie") throw new TypeError("getAll() can only be used with Set-Cookie");
      return this.getSetCookie();
    }
    has(name) {
      name = String(name);
      if (!TOKEN.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
      const l = name.toLowerCase();
      return this[HL].list.some((p) => p[0] === l);
    }
    set(name, value) {
      name = String(name); value = normValue(value);
      checkHeader(name, value);
      guard(this);
      const l = name.toLowerCase();
      const list = this[HL].list;
      const i = list.findIndex((p) => p[0] === l);
      if (i < 0) list.push([l, value]);
      else { list[i] = [l, value]; this[HL].list = list.filter((p, j) => j <= i || p[0] !== l); }
    }
    *entries() {
      const names = [...new Set(this[HL].list.map((p) => p[0]))].sort();
      for (const n of names) {
        if (n === "set-cookie") for (const v of this.getSetCookie()) yield [n, v];
        else yield [n, this.get(n)];
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    forEach(cb, thisArg) { for (const [k, v] of this.entries()) cb.call(thisArg, v, k, this); }
    [Symbol.iterator]() { return this.entries(); }
  }
  tag(Headers, "Headers");
  function guard(h) { if (h[HL].immutable) throw new TypeError("Can't modify immutable headers."); }
  const headerPairs = (h) => h[HL].list.flat();
  function headersFromFlat(flat, immutable) {
    const h = new Headers();
    for (let i = 0; i < flat.length; i += 2) h[HL].list.push([flat[i].toLowerCase(), flat[i + 1]]);
    h[HL].immutable = immutable;
    return h;
  }
  define("Headers", Headers);

  // ------------------------------------------------------- bodies
  // A body is null, { bytes } or { stream }.
  const BODY = Symbol("body");
  const R = Symbol("state");
  function extractBody(init) {
    if (init === null || init === undefined) return { body: null, type: null };
    if (typeof init === "string") return { body: { bytes: encodeUtf8(init) }, type: "text/plain;charset=UTF-8" };
    if (init instanceof ReadableStream) return { body: { stream: init }, type: null };
    if (init instanceof Blob) return { body: { bytes: init[BLOB] }, type: init.type || null };
    if (init instanceof ArrayBuffer || ArrayBuffer.isView(init)) return { body: { bytes: new Uint8Array(asBytes(init, "body")) }, type: null };
    if (init instanceof URLSearchParams) return { body: { bytes: encodeUtf8(init.toString()) }, type: "application/x-www-form-urlencoded;charset=UTF-8" };
    if (init instanceof FormData) { const m = encodeMultipart(init); return { body: { bytes: m.bytes }, type: m.type }; }
    if (typeof init === "object" && (typeof init[Symbol.asyncIterator] === "function")) return { body: { stream: ReadableStream.from(init) }, type: null };
    return { body: { bytes: encodeUtf8(String(init)) }, type: "text/plain;charset=UTF-8" };
  }
  async function readAllBytes(stream) {
    const reader = stream.getReader();
    const chunks = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (typeof value === "string") chunks.push(encodeUtf8(value));
      else chunks.push(asBytes(value, "stream chunk"));
    }
    reader.releaseLock();
    return concatBytes(chunks);
  }
  const bodyUsed = (o) => {
    const b = o[BODY];
    return b.used || (b.body !== null && b.body.stream !== undefined && b.body.stream[RS].disturbed);
  };
  async function consume(o) {
    if (bodyUsed(o)) throw new TypeError("Body has already been used. It can only be used once.");
    const b = o[BODY];
    if (b.body && b.body.stream && b.body.stream.locked) throw new TypeError("Body is locked to a reader.");
    b.used = true;
    if (b.body === null) return new Uint8Array(0);
    if (b.body.bytes) return b.body.bytes;
    return readAllBytes(b.body.stream);
  }
  class Body {
    get body() {
      const b = this[BODY];
      if (b.body === null) return null;
      if (!b.body.stream) b.body = { stream: streamOfBytes(b.used ? new Uint8Array(0) : b.body.bytes) };
      return b.body.stream;
    }
    get bodyUsed() { return bodyUsed(this); }
    async arrayBuffer() { return (await consume(this)).slice().buffer; }
    async bytes() { return (await consume(this)).slice(); }
    async text() { return decodeUtf8(await consume(this)); }
    async json() { return JSON.parse(decodeUtf8(await consume(this))); }
    async blob() {
      const bytes = await consume(this);
      return new Blob([bytes], { type: this.headers.get("content-type") || "" });
    }
    async formData() {
      const type = this.headers.get("content-type") || "";
      const bytes = await consume(this);
      if (/^multipart\/form-data/i.test(type)) return parseMultipart(bytes, type);
      if (/^application\/x-www-form-urlencoded/i.test(type)) {
        const fd = new FormData();
        for (const [k, v] of new URLSearchParams(decodeUtf8(bytes))) fd.append(k, v);
        return fd;
      }
      throw new TypeError(`cannot parse a body of type ${JSON.stringify(type)} as form data`);
    }
  }
  function cloneBody(o) {
    if (bodyUsed(o)) throw new TypeError("Body has already been used. It can only be used once.");
    const b = o[BODY].body;
    if (b === null || b.bytes) return b;
    const [x, y] = b.stream.tee();
    o[BODY].body = { stream: x };
    return { stream: y };
  }

  // ----------------------------------------------------------- Request
  const METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
  class Request extends Body {
    constructor(input, init = {}) {
      super();
      if (arguments.length === 0) throw new TypeError("Request: 1 argument required");
      init = init || {};
      let src = null;
      let url;
      if (input instanceof Request) { src = input; url = input.url; }
      else {
        const parts = host.urlParse(toUSV(input));
        if (!parts) throw new TypeError(`Invalid URL: ${String(input)}`);
        url = parts[0];
      }
      let method = init.method !== undefined ? String(init.method) : src ? src.method : "GET";
      if (!TOKEN.test(method)) throw new TypeError(`Invalid method: ${JSON.stringify(method)}`);
      if (METHODS.includes(method.toUpperCase())) method = method.toUpperCase();
      if (["CONNECT", "TRACE", "TRACK"].includes(method.toUpperCase())) throw new TypeError(`Forbidden method: ${method}`);
      const headers = new Headers(init.headers !== undefined ? init.headers : src ? src.headers : undefined);
      let body = null;
      if (init.body !== undefined && init.body !== null) {
        if (method === "GET" || method === "HEAD") throw new TypeError("Request with GET/HEAD method cannot have body.");
        const x = extractBody(init.body);
        body = x.body;
        if (x.type && !headers.has("content-type")) headers.set("content-type", x.type);
      } else if (src && init.body === undefined) {
        body = cloneBody(src);
        if (body !== null && (method === "GET" || method === "HEAD")) throw new TypeError("Request with GET/HEAD method cannot have body.");
      }
      SLOT(this, R, {});
      SLOT(this, BODY, { body, used: false });
      SLOT(this[R], "m", method);
      SLOT(this[R], "u", url);
      SLOT(this[R], "h", headers);
      SLOT(this[R], "redirect", init.redirect || (src ? src.redirect : "follow"));
      if (!["follow", "error", "manual"].includes(this[R].redirect)) throw new TypeError(`Invalid redirect mode: ${this[R].redirect}`);
      // Created on first use: most requests never look at their signal.
      SLOT(this[R], "signal", init.signal || (src ? src.signal : null));
      SLOT(this[R], "cf", init.cf !== undefined ? init.cf : src ? src.cf : undefined);
    }
    get method() { return this[R].m; }
    get url() { return this[R].u; }
    get headers() { return this[R].h; }
    get redirect() { return this[R].redirect; }
    get signal() { return this[R].signal || (this[R].signal = new AbortController().signal); }
    get cf() { return this[R].cf; }
    get keepalive() { return false; }
    get integrity() { return ""; }
    get cache() { return "default"; }
    get credentials() { return "same-origin"; }
    get mode() { return "cors"; }
    get destination() { return ""; }
    get referrer() { return "about:client"; }
    get duplex() { return "half"; }
    clone() {
      const r = new Request(this[R].u, { method: this[R].m, headers: this[R].h, redirect: this[R].redirect, signal: this[R].signal || undefined, cf: this[R].cf });
      r[BODY].body = cloneBody(this);
      return r;
    }
  }
  tag(Request, "Request");
  define("Request", Request);

  // ---------------------------------------------------------- Response
  const NULL_BODY = [101, 103, 204, 205, 304];
  const REDIRECTS = [301, 302, 303, 307, 308];
  class Response extends Body {
    constructor(body = null, init = {}) {
      super();
      init = init || {};
      const status = init.status === undefined ? 200 : Number(init.status);
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`Response status must be in 200-599, got ${init.status}`);
      const statusText = init.statusText === undefined ? "" : String(init.statusText);
      if (/[^\t\x20-\x7e\x80-\xff]/.test(statusText)) throw new TypeError("Invalid statusText");
      const headers = new Headers(init.headers);
      let b = null;
      if (body !== null && body !== undefined) {
        if (NULL_BODY.includes(status)) throw new TypeError(`Response with status ${status} cannot have a body.`);
        const x = extractBody(body);
        b = x.body;
        if (x.type && !headers.has("content-type")) headers.set("content-type", x.type);
      }
      SLOT(this, R, {});
      SLOT(this, BODY, { body: b, used: false });
      SLOT(this[R], "s", status);
      SLOT(this[R], "st", statusText);
      SLOT(this[R], "h", headers);
      SLOT(this[R], "url", "");
      SLOT(this[R], "redirected", false);
      SLOT(this[R], "type", "default");
      SLOT(this[R], "ws", init.webSocket ?? null);
      SLOT(this[R], "cf", init.cf);
    }
    get status() { return this[R].s; }
    get statusText() { return this[R].st; }
    get ok() { return this[R].s >= 200 && this[R].s < 300; }
    get headers() { return this[R].h; }
    get url() { return this[R].url; }
    get redirected() { return this[R].redirected; }
    get type() { return this[R].type; }
    get webSocket() { return this[R].ws; }
    get cf() { return this[R].cf; }
    clone() {
      const r = new Response(null, { status: this[R].s, statusText: this[R].st, headers: this[R].h });
      r[BODY].body = cloneBody(this);
      r[R].url = this[R].url;
      r[R].redirected = this[R].redirected;
      return r;
    }
    static json(data, init = {}) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError("Response.json: value is not JSON-serializable");
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(text, { ...init, headers });
    }
    static redirect(url, status = 302) {
      if (!REDIRECTS.includes(status)) throw new RangeError(`Invalid redirect status ${status}`);
      const parsed = new URL(url);
      const r = new Response(null, { status, headers: { location: parsed.href } });
      r[R].h[HL].immutable = true;
      return r;
    }
    static error() {
      const r = new Response(null, { status: 200 });
      r[R].s = 0;
      r[R].type = "error";
      r[R].h[HL].immutable = true;
      return r;
    }
  }
  tag(Response, "Response");
  define("Response", Response);

  // ------------------------------------------------------------- fetch
  const ops = new Map();
  let opSeq = 0;
  function hostFetch(method, url, headers, bytes) {
    const id = ++opSeq;
    const d = deferred();
    ops.set(id, d);
    try {
      if (bytes) host.fetch(id, method, url, headers, plainBytes(bytes));
      else host.fetch(id, method, url, headers);
    } catch (e) {
      ops.delete(id);
      throw e;
    }
    return d.promise;
  }
  async function fetch(input, init) {
    let req = new Request(input, init);
    const signal = req[R].signal;
    if (signal && signal.aborted) throw signal.reason;
    let bytes = req[BODY].body === null ? null : await consume(req);
    let method = req.method;
    let url = req.url;
    let headers = req.headers;
    for (let hops = 0; ; hops++) {
      const scheme = url.slice(0, url.indexOf(":"));
      if (scheme !== "http" && scheme !== "https") throw new TypeError(`fetch: unsupported scheme ${JSON.stringify(scheme)}`);
      const flat = headerPairs(headers);
      const pending = hostFetch(method, url, flat, bytes);
      const raced = signal ? new Promise((resolve, reject) => {
        pending.then(resolve, reject);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }) : pending;
      let r;
      try { r = await raced; } catch (e) { throw e instanceof Error || e instanceof DOMException ? e : new TypeError(String(e)); }
      const location = r.headers.reduce((acc, x, i) => (i % 2 === 0 && x.toLowerCase() === "location" ? r.headers[i + 1] : acc), null);
      if (REDIRECTS.includes(r.status) && location !== null && req.redirect !== "manual") {
        if (req.redirect === "error") throw new TypeError(`fetch: redirect to ${location} with redirect mode "error"`);
        if (hops >= 20) throw new TypeError("fetch: too many redirects");
        host.fetchCancel(r.bodyId);
        const next = host.urlParse(location, url);
        if (!next) throw new TypeError(`fetch: invalid redirect location ${JSON.stringify(location)}`);
        if (r.status === 303 && method !== "GET" && method !== "HEAD" || ((r.status === 301 || r.status === 302) && method === "POST")) {
          method = "GET";
          bytes = null;
          headers = new Headers(headers);
          for (const h of ["content-type", "content-length", "content-encoding", "content-language", "content-location"]) headers.delete(h);
        }
        url = next[0];
        continue;
      }
      const res = new Response(null, { status: 200 });
      res[R].s = r.status;
      res[R].st = r.statusText;
      res[R].h = headersFromFlat(r.headers, true);
      res[R].url = url;
      res[R].redirected = hops > 0;
      if (NULL_BODY.includes(r.status) || method === "HEAD") host.fetchCancel(r.bodyId);
      else res[BODY].body = { stream: networkStream(r.bodyId) };
      return res;
    }
  }
  define("fetch", fetch);
  function onFetchDone(id, status, statusText, headers, url) {
    const d = ops.get(id);
    if (!d) { host.fetchCancel(id); return; }
    ops.delete(id);
    d.resolve({ status, statusText, headers, url, bodyId: id });
  }
  // A fetch response body, pulled from the network as it is read.
  function networkStream(bodyId) {
    return new ReadableStream({
      pull(c) {
        const op = ++opSeq;
        const d = deferred();
        ops.set(op, d);
        host.fetchRead(op, bodyId);
        return d.promise.then((chunk) => { if (chunk === null) c.close(); else c.enqueue(chunk); });
      },
      cancel() { host.fetchCancel(bodyId); },
    }, { highWaterMark: 0 });
  }
  function onFetchChunk(op, chunk, error) {
    const d = ops.get(op);
    if (!d) return;
    ops.delete(op);
    if (typeof error === "string") d.reject(new TypeError(`fetch body: ${error}`));
    else d.resolve(chunk === undefined ? null : chunk);
  }
  function onFetchFailed(id, message) {
    const d = ops.get(id);
    if (!d) return;
    ops.delete(id);
    d.reject(new TypeError(`fetch failed: ${message}`));
  }

  // ---------------------------------------------- the worker's handlers
  const globalTarget = new EventTarget();
  define("addEventListener", (type, cb, opts) => globalTarget.addEventListener(type, cb, opts));
  define("removeEventListener", (type, cb, opts) => globalTarget.removeEventListener(type, cb, opts));
  define("dispatchEvent", (ev) => globalTarget.dispatchEvent(ev));

  class ExtendableEvent extends Event {
    constructor(type, init) { super(type, init); hidden(this, "_wait", []); }
    waitUntil(p) { this._wait.push(Promise.resolve(p)); }
  }
  class FetchEvent extends ExtendableEvent {
    constructor(type, init = {}) {
      super(type, init);
      hidden(this, "_request", init.request);
      hidden(this, "_response", null);
    }
    get request() { return this._request; }
    respondWith(r) {
      if (this._response) throw new DOMException("respondWith() was already called", "InvalidStateError");
      this._response = Promise.resolve(r);
    }
    passThroughOnException() {}
  }
  class ScheduledEvent extends ExtendableEvent {
    constructor(type, init = {}) { super(type, init); this.cron = init.cron; this.scheduledTime = init.scheduledTime; }
    noRetry() {}
  }
  define("ExtendableEvent", ExtendableEvent);
  define("FetchEvent", FetchEvent);
  define("ScheduledEvent", ScheduledEvent);

  let kind = "module";
  let entry = null;
  let env = null;

  function makeContext(waits) {
    return {
      waitUntil(p) {
        waits.push(Promise.resolve(p).catch((e) => report(e)));
      },
      passThroughOnException() {},
      props: {},
    };
  }

  function sendResponse(id, res) {
    if (!(res instanceof Response)) {
      host.fail(id, `TypeError: the fetch handler returned ${res === null ? "null" : typeof res}, not a Response`);
      return;
    }
    if (res.type === "error") { host.fail(id, "TypeError: the fetch handler returned Response.error()"); return; }
    const flat = headerPairs(res.headers);
    const b = res[BODY];
    if (b.body === null) { host.respond(id, res.status, flat); return; }
    if (bodyUsed(res)) { host.fail(id, "TypeError: the response body has already been used"); return; }
    if (b.body.bytes) { b.used = true; host.respond(id, res.status, flat, plainBytes(b.body.bytes)); return; }
    if (!host.respondStart(id, res.status, flat)) return;
    pump(id, b.body.stream);
  }
  // Mirrors StreamGauge::HIGH: above it, wait for the client to catch up.
  const STREAM_HIGH_WATER = 1 << 20;
  function drained(id) {
    const op = ++opSeq;
    const d = deferred();
    ops.set(op, d);
    host.drain(op, id);
    return d.promise;
  }
  async function pump(id, stream) {
    let reader;
    try {
      reader = stream.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const bytes = typeof value === "string" ? encodeUtf8(value) : plainBytes(asBytes(value, "response stream chunk"));
        if (bytes.length === 0) continue;
        const queued = host.chunk(id, bytes);
        if (queued < 0) { reader.cancel().catch(() => {}); return; }
        if (queued >= STREAM_HIGH_WATER) await drained(id);
      }
      host.end(id);
    } catch (e) {
      host.end(id, errorText(e));
      if (reader) reader.cancel(e).catch(() => {});
    }
  }

  function onFetch(id, method, url, flat, body) {
    try {
      // Built directly: the runner already produced a valid URL and header
      // list, and this is the hot path.
      const req = Object.create(Request.prototype);
      req[R] = { m: method, u: url, h: headersFromFlat(flat, true), redirect: "follow", signal: null, cf: {} };
      req[BODY] = { body: body === undefined || body === null ? null : { bytes: body }, used: false };
      const waits = [];
      let result;
      if (kind === "module") {
        if (!entry || typeof entry.fetch !== "function") { host.fail(id, "no fetch handler"); return; }
        result = entry.fetch(req, env, makeContext(waits));
      } else {
        const ev = new FetchEvent("fetch", { request: req });
        globalTarget.dispatchEvent(ev);
        for (const w of ev._wait) waits.push(w.catch((e) => report(e)));
        if (!ev._response) { host.fail(id, "no fetch handler"); return; }
        result = ev._response;
      }
      if (result && typeof result.then === "function") result.then((r) => sendResponse(id, r), (e) => host.fail(id, errorText(e)));
      else sendResponse(id, result);
    } catch (e) {
      host.fail(id, errorText(e));
    }
  }

  function onScheduled(id, cron, time) {
    try {
      const waits = [];
      let result;
      if (kind === "module") {
        if (!entry || typeof entry.scheduled !== "function") { host.fail(id, "no scheduled handler"); return; }
        const controller = { cron, scheduledTime: time, type: "scheduled", noRetry() {} };
        const ctx = makeContext(waits);
        result = entry.scheduled(controller, env, ctx);
      } else {
        const ev = new ScheduledEvent("scheduled", { cron, scheduledTime: time });
        globalTarget.dispatchEvent(ev);
        waits.push(...ev._wait);
      }
      Promise.all([result, ...waits]).then(() => host.done(id), (e) => host.fail(id, errorText(e)));
    } catch (e) {
      host.fail(id, errorText(e));
    }
  }

  function dispatch(kind, id, a, b, c, d, e) {
    switch (kind) {
      case 1: return onFetch(id, a, b, c, d);
      case 2: return onScheduled(id, a, b);
      case 3: return onTimer(id);
      case 4: return onFetchDone(id, a, b, c, d);
      case 5: return onFetchFailed(id, a);
      case 6: { const d = ops.get(id); if (d) { ops.delete(id); d.resolve(); } return; }
      case 7: return onFetchChunk(id, a, b);
    }
  }

  G.__sworn = {
    makeEnv(configJson, argsJson) {
      const e = { config: JSON.parse(configJson) };
      const args = JSON.parse(argsJson);
      if (args && typeof args === "object" && Object.keys(args).length) e.args = args;
      return e;
    },
    start(k, ns, e) {
      kind = k;
      env = e;
      if (k === "module") {
        entry = ns.default;
        if (entry === undefined || entry === null) throw new TypeError("the module has no default export (expected export default { fetch, scheduled })");
        if (typeof entry === "function" && entry.prototype && (entry.prototype.fetch || entry.prototype.scheduled)) entry = new entry({}, env);
        return [typeof entry.fetch === "function", typeof entry.scheduled === "function"];
      }
      // Service-worker scripts see their bindings as globals.
      for (const key of Object.keys(env)) define(key, env[key]);
      const listeners = globalTarget[LISTENERS];
      return [(listeners.get("fetch") || []).length > 0, (listeners.get("scheduled") || []).length > 0];
    },
  };
  return { dispatch };
})(globalThis.__host);
export const dispatch = api.dispatch;
