  // ---------------------------------------------------------- Response
  const NULL_BODY = [101, 103, 204, 205, 304];
  const REDIRECTS = [301, 302, 303, 307, 308];
  class Response extends Body {
    constructor(body = null, init = {}) {
      super();
      init = init || {};
      const status = init.status === undefined ? 200 : Number(init.status);
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`Response status must be in 200-599, got ${init.status}`);
      const statusText = init.statusText === undefined ? "" : String(init.statusText);
      if (/[^\t\x20-\x7e\x80-\xff]/.test(statusText)) throw new TypeError("Invalid statusText");
      const headers = new Headers(init.headers);
      let b = null;
      if (body !== null && body !== undefined) {
        if (NULL_BODY.includes(status)) throw new TypeError(`Response with status ${status} cannot have a body.`);
        const x = extractBody(body);
        b = x.body;
        if (x.type && !headers.has("content-type")) headers.set("content-type", x.type);
      }
      SLOT(this, R, {});
      SLOT(this, BODY, { body: b, used: false });
      SLOT(this[R], "s", status);
      SLOT(this[R], "st", statusText);
      SLOT(this[R], "h", headers);
      SLOT(this[R], "url", "");
      SLOT(this[R], "redirected", false);
      SLOT(this[R], "type", "default");
      SLOT(this[R], "ws", init.webSocket ?? null);
      SLOT(this[R], "cf", init.cf);
    }
    get status() { return this[R].s; }
    get statusText() { return this[R].st; }
    get ok() { return this[R].s >= 200 && this[R].s < 300; }
    get headers() { return this[R].h; }
    get url() { return this[R].url; }
    get redirected() { return this[R].redirected; }
    get type() { return this[R].type; }
    get webSocket() { return this[R].ws; }
    get cf() { return this[R].cf; }
    clone() {
      const r = new Response(null, { status: this[R].s, statusText: this[R].st, headers: this[R].h });
      r[BODY].body = cloneBody(this);
      r[R].url = this[R].url;
      r[R].redirected = this[R].redirected;
      return r;
    }
    static json(data, init = {}) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError("Response.json: value is not JSON-serializable");
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(text, { ...init, headers });
    }
    static redirect(url, status = 302) {
      if (!REDIRECTS.includes(status)) throw new RangeError(`Invalid redirect status ${status}`);
      const parsed = new URL(url);
      const r = new Response(null, { status, headers: { location: parsed.href } });
      r[R].h[HL].immutable = true;
      return r;
    }
    static error() {
      const r = new Response(null, { status: 200 });
      r[R].s = 0;
      r[R].type = "error";
      r[R].h[HL].immutable = true;
      return r;
    }
  }
  tag(Response, "Response");
  define("Response", Response);

