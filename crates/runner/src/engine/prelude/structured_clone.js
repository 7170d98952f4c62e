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
    const seen = new Map();
    const moved = [];
    const list = options === undefined || options === null ? undefined : options.transfer;
    if (list !== undefined) {
      for (const t of list) {
        // As workerd: a TypeError for what cannot move, a repeat ignored.
        if (!(t instanceof ArrayBuffer)) throw new TypeError("structuredClone: value not transferable (only ArrayBuffers are)");
        if (moved.includes(t)) continue;
        if (t.detached) throw new DOMException("An ArrayBuffer is detached and could not be cloned.", "DataCloneError");
        moved.push(t);
      }
      // The clone takes the bytes; the originals are detached once it is made.
      for (const t of moved) seen.set(t, t.slice(0));
    }
    const out = clone(value, seen);
    for (const t of moved) t.transfer();
    return out;
  });

