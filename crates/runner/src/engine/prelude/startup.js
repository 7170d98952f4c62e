  G.__sworn = {
    makeEnv(configJson, argsJson) {
      const e = { config: JSON.parse(configJson) };
      const args = JSON.parse(argsJson);
      if (args && typeof args === "object" && Object.keys(args).length) e.args = args;
      return e;
    },
    start(k, ns, e) {
      kind = k;
      env = e;
      if (k === "module") {
        entry = ns.default;
        if (entry === undefined || entry === null) throw new TypeError("the module has no default export (expected export default { fetch, scheduled })");
        if (typeof entry === "function" && entry.prototype && (entry.prototype.fetch || entry.prototype.scheduled)) entry = new entry({}, env);
        return [typeof entry.fetch === "function", typeof entry.scheduled === "function"];
      }
      // Service-worker scripts see their bindings as globals.
      for (const key of Object.keys(env)) define(key, env[key]);
      const listeners = globalTarget[LISTENERS];
      return [(listeners.get("fetch") || []).length > 0, (listeners.get("scheduled") || []).length > 0];
    },
  };
