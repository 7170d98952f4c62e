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

