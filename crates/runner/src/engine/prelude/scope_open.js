// Sworn runner prelude: the web platform APIs of Cloudflare Workers (the
// WinterTC minimum common API) written over a small set of native functions
// (`__host`). Evaluated once in every new QuickJS context, before the
// worker's code. It is an ES module, compiled to bytecode once per process;
// its `dispatch` export is the runner's entry point. Its source is the files
// of prelude/, one per Web API, joined in order by engine/prelude.rs.
const api = (function (host) {
  "use strict";
  const G = globalThis;
  delete G.__host;

  const define = (name, value) =>
    Object.defineProperty(G, name, { value, writable: true, configurable: true, enumerable: false });
  const hidden = (obj, key, value) =>
    Object.defineProperty(obj, key, { value, writable: true, configurable: true, enumerable: false });
  // Internal state lives under symbol keys, set by plain assignment: symbols
  // are invisible to JSON, for-in and Object.keys, and this is the hot path.
  const SLOT = (obj, key, value) => { obj[key] = value; };
  const tag = (cls, name) =>
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });

