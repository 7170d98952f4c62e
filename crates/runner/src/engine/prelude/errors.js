  // ---------------------------------------------------------------- errors
  const DOM_CODES = {
    IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
    NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11,
    SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
    TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20, URLMismatchError: 21,
    QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
  };
  class DOMException extends Error {
    constructor(message = "", name = "Error") {
      super(String(message));
      hidden(this, "name", String(name));
    }
    get code() { return DOM_CODES[this.name] || 0; }
  }
  tag(DOMException, "DOMException");
  for (const [k, v] of Object.entries(DOM_CODES)) {
    const c = k.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase().replace(/_ERROR$/, "_ERR");
    Object.defineProperty(DOMException, c, { value: v });
  }
  define("DOMException", DOMException);

  // Any step may run the worker's code (a Proxy's traps, getters, toString)
  // and throw: the text of an error must never become an error itself.
  const errorText = (e) => {
    try {
      if (e && typeof e === "object" && "message" in e) {
        const head = `${e.name || "Error"}: ${e.message}`;
        return e.stack ? `${head}\n${String(e.stack).trimEnd()}` : head;
      }
      return String(e);
    } catch {
      return "<unprintable error>";
    }
  };

  // Stack-trace callsites (Error.prepareStackTrace) would hand the worker the
  // prelude's own functions through getFunction(): the dispatcher, timer and
  // stream callbacks. V8 answers undefined for strict-mode frames; here every
  // frame does, and the worker cannot put the original back.
  {
    const saved = Error.prepareStackTrace;
    Error.prepareStackTrace = (_error, sites) => sites;
    const sites = new Error("callsite probe").stack;
    Error.prepareStackTrace = saved;
    const proto = Array.isArray(sites) && sites.length > 0 ? Object.getPrototypeOf(sites[0]) : null;
    if (proto !== null) {
      Object.defineProperty(proto, "getFunction", {
        value: function getFunction() { return undefined; },
        writable: false, enumerable: false, configurable: false,
      });
    }
  }
