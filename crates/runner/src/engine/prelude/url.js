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
    static canParse(url, base) {
      // Conversions may throw (the caller's own objects); a URL too long to parse cannot be parsed.
      const args = base === undefined ? [toUSV(url)] : [toUSV(url), toUSV(base)];
      try { return host.urlParse(...args) != null; } catch { return false; }
    }
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

