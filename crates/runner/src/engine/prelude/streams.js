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
      a[RS].length = b[RS].length = this[RS].length;
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
  // A stream whose length is known carries it in `[RS].length` (undefined
  // otherwise): a response with such a body gets a Content-Length, as on
  // workerd (bytes, a Blob's stream, a fetched body, tee branches,
  // FixedLengthStream).
  function streamOfBytes(bytes) {
    const stream = new ReadableStream({
      start(c) { if (bytes.length) c.enqueue(bytes); c.close(); },
    });
    stream[RS].length = bytes.length;
    return stream;
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
      const fail = (e) => { try { rc.error(e); } catch {} };
      const writable = new WritableStream({
        start: () => transformer.start && transformer.start.call(transformer, controller),
        // A transformer that throws errors both sides, as the standard's
        // TransformStreamDefaultControllerPerformTransform does: a reader
        // must not wait forever on a stream whose writer failed.
        write: (chunk) => {
          try {
            const r = transformer.transform ? transformer.transform.call(transformer, chunk, controller) : controller.enqueue(chunk);
            return r && typeof r.then === "function" ? r.then(undefined, (e) => { fail(e); throw e; }) : r;
          } catch (e) { fail(e); throw e; }
        },
        close: async () => {
          try { if (transformer.flush) await transformer.flush.call(transformer, controller); }
          catch (e) { fail(e); throw e; }
          try { rc.close(); } catch {}
        },
        abort: (reason) => rc.error(reason),
      });
      hidden(this, "_readable", readable);
      hidden(this, "_writable", writable);
    }
    get readable() { return this._readable; }
    get writable() { return this._writable; }
  }
  tag(TransformStream, "TransformStream");
  // Cloudflare's FixedLengthStream: an identity stream of bytes that must
  // carry exactly `length` of them, so a response with its readable side
  // gets that Content-Length.
  class FixedLengthStream extends TransformStream {
    constructor(length) {
      // An unsigned integer, as WebIDL converts one (fractions cut, as workerd).
      const n = Number(length);
      if (!Number.isFinite(n) || n < 0 || n > Number.MAX_SAFE_INTEGER) throw new TypeError(`FixedLengthStream: the length must be a non-negative integer, got ${length}`);
      const expected = Math.trunc(n);
      let seen = 0;
      super({
        transform(chunk, c) {
          const bytes = asBytes(chunk, "FixedLengthStream");
          seen += bytes.byteLength;
          if (seen > expected) throw new TypeError(`FixedLengthStream: more than the ${expected} bytes declared`);
          c.enqueue(new Uint8Array(bytes));
        },
        flush() {
          if (seen !== expected) throw new TypeError(`FixedLengthStream: ${seen} bytes written, ${expected} declared`);
        },
      });
      this.readable[RS].length = expected;
    }
  }
  tag(FixedLengthStream, "FixedLengthStream");
  class TextEncoderStream extends TransformStream {
    constructor() { super({ transform(chunk, c) { const b = encodeUtf8(chunk); if (b.length) c.enqueue(b); } }); }
    get encoding() { return "utf-8"; }
  }
  class TextDecoderStream extends TransformStream {
    #encoding;
    constructor(label = "utf-8", options = {}) {
      const d = new TextDecoder(label, options);
      super({
        transform(chunk, c) { const s = d.decode(chunk, { stream: true }); if (s) c.enqueue(s); },
        flush(c) { const s = d.decode(); if (s) c.enqueue(s); },
      });
      this.#encoding = d.encoding;
    }
    get encoding() { return this.#encoding; }
  }
  const strategy = (size) => class { constructor({ highWaterMark } = {}) { this.highWaterMark = highWaterMark; } size(c) { return size(c); } };
  define("ReadableStream", ReadableStream);
  define("ReadableStreamDefaultReader", ReadableStreamDefaultReader);
  define("ReadableStreamDefaultController", ReadableStreamDefaultController);
  define("WritableStream", WritableStream);
  define("WritableStreamDefaultWriter", WritableStreamDefaultWriter);
  define("TransformStream", TransformStream);
  define("TextEncoderStream", TextEncoderStream);
  define("FixedLengthStream", FixedLengthStream);
  define("TextDecoderStream", TextDecoderStream);
  define("CountQueuingStrategy", strategy(() => 1));
  define("ByteLengthQueuingStrategy", strategy((c) => c.byteLength));

