  // ------------------------------------------------------- abort signals
  const SIG = Symbol("signal");
  class AbortSignal extends EventTarget {
    constructor(key) {
      if (key !== SIG) throw new TypeError("Illegal constructor");
      super();
      SLOT(this, SIG, { aborted: false, reason: undefined });
      this.onabort = null;
    }
    get aborted() { return this[SIG].aborted; }
    get reason() { return this[SIG].reason; }
    throwIfAborted() { if (this.aborted) throw this.reason; }
    static abort(reason) { const s = new AbortSignal(SIG); abortSignal(s, reason); return s; }
    static timeout(ms) {
      const s = new AbortSignal(SIG);
      setTimeout(() => abortSignal(s, new DOMException("The operation timed out.", "TimeoutError")), ms);
      return s;
    }
    static any(signals) {
      const s = new AbortSignal(SIG);
      for (const x of signals) if (x.aborted) { abortSignal(s, x.reason); return s; }
      for (const x of signals) x.addEventListener("abort", () => abortSignal(s, x.reason), { once: true });
      return s;
    }
  }
  function abortSignal(s, reason) {
    if (s[SIG].aborted) return;
    s[SIG].aborted = true;
    s[SIG].reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
    s.dispatchEvent(new Event("abort"));
  }
  tag(AbortSignal, "AbortSignal");
  class AbortController {
    constructor() { SLOT(this, SIG, new AbortSignal(SIG)); }
    get signal() { return this[SIG]; }
    abort(reason) { abortSignal(this[SIG], reason); }
  }
  tag(AbortController, "AbortController");
  define("AbortSignal", AbortSignal);
  define("AbortController", AbortController);

