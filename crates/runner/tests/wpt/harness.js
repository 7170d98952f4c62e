// A small subset of WPT's testharness.js, run inside a worker: each test
// file registers tests; GET on the worker runs them and answers JSON results.
const __tests = [];
function test(fn, name) { __tests.push({ fn, name }); }
function promise_test(fn, name) { __tests.push({ fn, name }); }
const __fmt = (v) => { try { return typeof v === "string" ? JSON.stringify(v) : String(v); } catch { return "<value>"; } };
class AssertionError extends Error {}
function assert_true(v, m = "") { if (v !== true) throw new AssertionError(`${m} expected true got ${__fmt(v)}`); }
function assert_false(v, m = "") { if (v !== false) throw new AssertionError(`${m} expected false got ${__fmt(v)}`); }
function assert_equals(a, b, m = "") { if (!Object.is(a, b)) throw new AssertionError(`${m} expected ${__fmt(b)} got ${__fmt(a)}`); }
function assert_not_equals(a, b, m = "") { if (Object.is(a, b)) throw new AssertionError(`${m} got disallowed ${__fmt(a)}`); }
function assert_in_array(a, list, m = "") { if (!list.includes(a)) throw new AssertionError(`${m} ${__fmt(a)} not in ${__fmt(list)}`); }
function assert_array_equals(a, b, m = "") {
  if (a.length !== b.length) throw new AssertionError(`${m} lengths differ: ${a.length} vs ${b.length} (${__fmt(Array.from(a))} vs ${__fmt(Array.from(b))})`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) throw new AssertionError(`${m} index ${i}: expected ${__fmt(b[i])} got ${__fmt(a[i])}`);
}
function assert_unreached(m = "") { throw new AssertionError(`reached unreachable code ${m}`); }
function assert_class_string(o, name, m = "") { assert_equals(Object.prototype.toString.call(o), `[object ${name}]`, m); }
function assert_throws_js(ctor, fn, m = "") {
  try { fn(); } catch (e) {
    if (!(e instanceof ctor)) throw new AssertionError(`${m} expected ${ctor.name} got ${e && e.name}: ${e && e.message}`);
    return;
  }
  throw new AssertionError(`${m} expected ${ctor.name} to be thrown`);
}
function assert_throws_dom(name, fn, m = "") {
  try { fn(); } catch (e) {
    if (!(e instanceof DOMException) || e.name !== name) throw new AssertionError(`${m} expected DOMException ${name} got ${e && e.name}: ${e && e.message}`);
    return;
  }
  throw new AssertionError(`${m} expected DOMException ${name} to be thrown`);
}
async function promise_rejects_js(t, ctor, p, m = "") {
  try { await p; } catch (e) {
    if (!(e instanceof ctor)) throw new AssertionError(`${m} expected rejection with ${ctor.name} got ${e && e.name}: ${e && e.message}`);
    return;
  }
  throw new AssertionError(`${m} expected rejection with ${ctor.name}`);
}
async function promise_rejects_dom(t, name, p, m = "") {
  try { await p; } catch (e) {
    if (!(e instanceof DOMException) || e.name !== name) throw new AssertionError(`${m} expected DOMException ${name} got ${e && e.name}: ${e && e.message}`);
    return;
  }
  throw new AssertionError(`${m} expected rejection with ${name}`);
}
const __t = { step_timeout: (fn, ms) => setTimeout(fn, ms), add_cleanup() {}, step_func: (f) => f, unreached_func: (m) => () => assert_unreached(m) };
export default {
  async fetch(request, env) {
    globalThis.__env = env;
    const results = [];
    for (const t of __tests) {
      try { await t.fn(__t); results.push({ name: t.name, status: "PASS" }); }
      catch (e) { results.push({ name: t.name, status: "FAIL", message: `${e && e.name}: ${e && e.message}` }); }
    }
    return Response.json(results);
  },
};
