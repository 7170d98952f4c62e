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
      else {
        // Its length, when the upstream declared one, stays known: a
        // response rebuilt from this body keeps its Content-Length.
        const stream = networkStream(r.bodyId);
        const declared = res[R].h.get("content-length");
        if (declared !== null && /^[0-9]{1,15}$/.test(declared)) stream[RS].length = Number(declared);
        res[BODY].body = { stream };
      }
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

