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

