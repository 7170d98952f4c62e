  // ----------------------------------------------------------- timers
  const timers = new Map();
  let timerSeq = 0;
  function startTimer(cb, ms, args, repeat) {
    if (typeof cb !== "function") throw new TypeError("timer callback must be a function (strings are not evaluated)");
    ms = Number(ms) || 0;
    if (ms < 0) ms = 0;
    if (repeat && ms < 1) ms = 1;
    const id = ++timerSeq;
    timers.set(id, { cb, args, repeat, ms });
    host.timerStart(id, ms);
    return id;
  }
  function clearTimer(id) {
    id = Number(id);
    if (timers.delete(id)) host.timerClear(id);
  }
  function onTimer(id) {
    const t = timers.get(id);
    if (!t) return;
    if (t.repeat) host.timerStart(id, t.ms);
    else timers.delete(id);
    try { t.cb.apply(G, t.args); } catch (e) { report(e); }
  }
  define("setTimeout", (cb, ms, ...args) => startTimer(cb, ms, args, false));
  define("setInterval", (cb, ms, ...args) => startTimer(cb, ms, args, true));
  define("clearTimeout", clearTimer);
  define("clearInterval", clearTimer);
  // Cloudflare's `scheduler.wait(ms, {signal})`: an awaitable setTimeout.
  define("scheduler", Object.freeze({
    wait(ms, options) {
      const signal = options && options.signal;
      return new Promise((resolve, reject) => {
        if (signal && signal.aborted) return reject(signal.reason);
        const id = startTimer(() => resolve(undefined), ms, [], false);
        if (signal) signal.addEventListener("abort", () => { clearTimer(id); reject(signal.reason); }, { once: true });
      });
    },
  }));
  define("queueMicrotask", (cb) => {
    if (typeof cb !== "function") throw new TypeError("queueMicrotask: callback must be a function");
    Promise.resolve().then(() => { try { cb(); } catch (e) { report(e); } });
  });

