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
  // The scheduled run an event belongs to (only the runner's own events have one).
  const SCHEDULED_RUN = Symbol("scheduled run");
  class ScheduledEvent extends ExtendableEvent {
    constructor(type, init = {}) { super(type, init); this.cron = init.cron; this.scheduledTime = init.scheduledTime; }
    noRetry() { if (this[SCHEDULED_RUN] !== undefined) host.noRetry(this[SCHEDULED_RUN]); }
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
    const length = b.body.stream[RS].length;
    if (!host.respondStart(id, res.status, flat, length === undefined ? -1 : length)) return;
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
      req[R] = { m: method, u: url, h: headersFromFlat(flat, true), redirect: "manual", signal: null, cf: {} };
      req[BODY] = { body: body === undefined || body === null ? null : { bytes: body }, used: false };
      const waits = [];
      let result;
      if (kind === "module") {
        if (!entry || typeof entry.fetch !== "function") { host.noHandler(id, EVENT.FETCH); return; }
        result = entry.fetch(req, env, makeContext(waits));
      } else {
        const ev = new FetchEvent("fetch", { request: req });
        globalTarget.dispatchEvent(ev);
        for (const w of ev._wait) waits.push(w.catch((e) => report(e)));
        if (!ev._response) { host.noHandler(id, EVENT.FETCH); return; }
        result = ev._response;
      }
      if (result && typeof result.then === "function") result.then((r) => sendResponse(id, r), (e) => host.fail(id, errorText(e), e));
      else sendResponse(id, result);
    } catch (e) {
      host.fail(id, errorText(e), e);
    }
  }

  function onScheduled(id, cron, time) {
    try {
      const waits = [];
      let result;
      if (kind === "module") {
        if (!entry || typeof entry.scheduled !== "function") { host.noHandler(id, EVENT.SCHEDULED); return; }
        const controller = { cron, scheduledTime: time, type: "scheduled", noRetry() { host.noRetry(id); } };
        const ctx = makeContext(waits);
        result = entry.scheduled(controller, env, ctx);
      } else {
        const ev = new ScheduledEvent("scheduled", { cron, scheduledTime: time });
        Object.defineProperty(ev, SCHEDULED_RUN, { value: id });
        globalTarget.dispatchEvent(ev);
        waits.push(...ev._wait);
      }
      Promise.all([result, ...waits]).then(() => host.done(id), (e) => host.fail(id, errorText(e), e));
    } catch (e) {
      host.fail(id, errorText(e), e);
    }
  }

