  // --------------------------------------------------------------- console
  function inspect(v, depth, seen) {
    switch (typeof v) {
      case "string": return depth === 0 ? v : JSON.stringify(v);
      case "number": return Object.is(v, -0) ? "-0" : String(v);
      case "bigint": return `${v}n`;
      case "undefined": return "undefined";
      case "boolean": return String(v);
      case "symbol": return v.toString();
      case "function": return `[Function: ${v.name || "(anonymous)"}]`;
    }
    if (v === null) return "null";
    if (seen.includes(v)) return "[Circular]";
    if (v instanceof Error) return errorText(v);
    if (v instanceof Date) return isNaN(v) ? "Invalid Date" : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (depth > 3) return Array.isArray(v) ? "[Array]" : "[Object]";
    const next = seen.concat([v]);
    const sub = (x) => inspect(x, depth + 1, next);
    if (Array.isArray(v)) {
      const items = v.slice(0, 100).map(sub);
      if (v.length > 100) items.push(`... ${v.length - 100} more items`);
      return `[ ${items.join(", ")} ]`;
    }
    if (ArrayBuffer.isView(v)) {
      const name = v.constructor ? v.constructor.name : "TypedArray";
      const items = Array.from(v.length !== undefined ? v : new Uint8Array(v.buffer)).slice(0, 50);
      return `${name}(${v.length ?? v.byteLength}) [ ${items.join(", ")}${(v.length ?? 0) > 50 ? ", ..." : ""} ]`;
    }
    if (v instanceof Map) return `Map(${v.size}) { ${[...v].map(([k, x]) => `${sub(k)} => ${sub(x)}`).join(", ")} }`;
    if (v instanceof Set) return `Set(${v.size}) { ${[...v].map(sub).join(", ")} }`;
    if (v instanceof URL) return `URL { ${v.href} }`;
    if (typeof v.then === "function") return "Promise { <pending> }";
    const name = v.constructor && v.constructor !== Object ? `${v.constructor.name} ` : "";
    const keys = Object.keys(v);
    if (keys.length === 0) return `${name}{}`;
    return `${name}{ ${keys.map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${sub(v[k])}`).join(", ")} }`;
  }
  function format(args) {
    if (args.length === 0) return "";
    let out = [];
    let rest = args;
    if (typeof args[0] === "string" && args[0].includes("%")) {
      let i = 1;
      const first = args[0].replace(/%([sdifoOjc%])/g, (m, c) => {
        if (c === "%") return "%";
        if (i >= args.length) return m;
        const a = args[i++];
        switch (c) {
          case "s": return typeof a === "string" ? a : inspect(a, 1, []);
          case "d": case "i": return typeof a === "object" ? "NaN" : String(c === "i" ? parseInt(a) : Number(a));
          case "f": return String(parseFloat(a));
          case "j": try { return JSON.stringify(a); } catch { return "[Circular]"; }
          case "c": return "";
          default: return inspect(a, 1, []);
        }
      });
      out.push(first);
      rest = args.slice(i);
    } else {
      out.push(inspect(args[0], 0, []));
      rest = args.slice(1);
    }
    for (const a of rest) out.push(inspect(a, 0, []));
    return out.join(" ");
  }
  const LEVEL = { debug: 0, info: 1, log: 2, warn: 3, error: 4 };
  const counts = new Map();
  const timersByLabel = new Map();
  const say = (level, args) => host.log(LEVEL[level], format(args));
  const console = {
    log: (...a) => say("log", a),
    info: (...a) => say("info", a),
    debug: (...a) => say("debug", a),
    warn: (...a) => say("warn", a),
    error: (...a) => say("error", a),
    trace: (...a) => say("debug", [...a, new Error("Trace").stack]),
    dir: (v) => say("log", [v]),
    table: (v) => say("log", [v]),
    assert: (cond, ...a) => { if (!cond) say("error", ["Assertion failed:", ...a]); },
    count: (label = "default") => { const n = (counts.get(label) || 0) + 1; counts.set(label, n); say("info", [`${label}: ${n}`]); },
    countReset: (label = "default") => counts.delete(label),
    time: (label = "default") => timersByLabel.set(label, host.now()),
    timeLog: (label = "default", ...a) => say("info", [`${label}: ${(host.now() - (timersByLabel.get(label) ?? host.now())).toFixed(3)}ms`, ...a]),
    timeEnd: (label = "default") => { say("info", [`${label}: ${(host.now() - (timersByLabel.get(label) ?? host.now())).toFixed(3)}ms`]); timersByLabel.delete(label); },
    group: (...a) => { if (a.length) say("log", a); },
    groupCollapsed: (...a) => { if (a.length) say("log", a); },
    groupEnd: () => {},
  };
  define("console", console);
  const report = (e) => host.reportError(`Uncaught ${errorText(e)}`);
  define("reportError", (e) => report(e));

