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

