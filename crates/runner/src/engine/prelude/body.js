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

