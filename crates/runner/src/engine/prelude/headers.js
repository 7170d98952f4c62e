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

