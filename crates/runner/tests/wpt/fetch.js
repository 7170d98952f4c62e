// Modelled on WPT fetch/api/basic, fetch/api/redirect, fetch/api/abort.
const base = () => __env.config.base;
promise_test(async () => {
  const r = await fetch(`${base()}/echo?x=1`, { headers: { "x-custom": "v" } });
  assert_equals(r.status, 200);
  assert_true(r.ok);
  assert_equals(r.url, `${base()}/echo?x=1`);
  assert_false(r.redirected);
  const j = await r.json();
  assert_equals(j.method, "GET");
  assert_equals(j.path, "/echo?x=1");
  assert_equals(j.headers["x-custom"], "v");
  assert_throws_js(TypeError, () => r.headers.set("a", "b"), "response headers are immutable");
}, "fetch GET");
promise_test(async () => {
  const r = await fetch(new Request(`${base()}/echo`, { method: "POST", body: "payload", headers: { "content-type": "text/x" } }));
  const j = await r.json();
  assert_equals(j.method, "POST");
  assert_equals(j.body, "payload");
  assert_equals(j.headers["content-type"], "text/x");
  const streamed = await fetch(`${base()}/echo`, { method: "PUT", body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("s1")); c.enqueue(new TextEncoder().encode("s2")); c.close(); } }) });
  assert_equals((await streamed.json()).body, "s1s2");
}, "fetch with bodies");
promise_test(async () => {
  const r = await fetch(`${base()}/redirect?to=/echo`);
  assert_true(r.redirected);
  assert_equals(r.url, `${base()}/echo`);
  assert_equals((await r.json()).path, "/echo");
  const post = await fetch(`${base()}/redirect303?to=/echo`, { method: "POST", body: "x" });
  const pj = await post.json();
  assert_equals(pj.method, "GET");
  assert_equals(pj.body, "");
  const manual = await fetch(`${base()}/redirect?to=/echo`, { redirect: "manual" });
  assert_equals(manual.status, 302);
  await promise_rejects_js(null, TypeError, fetch(`${base()}/redirect?to=/echo`, { redirect: "error" }));
  await promise_rejects_js(null, TypeError, fetch(`${base()}/loop`));
}, "fetch redirects");
promise_test(async () => {
  const r = await fetch(`${base()}/status/404`);
  assert_equals(r.status, 404);
  assert_false(r.ok);
  assert_equals(r.statusText, "Not Found");
  const head = await fetch(`${base()}/echo`, { method: "HEAD" });
  assert_equals(head.body, null);
}, "fetch statuses and HEAD");
promise_test(async () => {
  const c = new AbortController();
  const p = fetch(`${base()}/slow`, { signal: c.signal });
  setTimeout(() => c.abort(), 10);
  await promise_rejects_dom(null, "AbortError", p);
  await promise_rejects_dom(null, "AbortError", fetch(`${base()}/echo`, { signal: AbortSignal.abort() }));
}, "fetch abort");
promise_test(async () => {
  await promise_rejects_js(null, TypeError, fetch("http://127.0.0.1:1/refused"));
  await promise_rejects_js(null, TypeError, fetch("ftp://example.com/"));
  await promise_rejects_js(null, TypeError, fetch("not a url"));
  const big = await fetch(`${base()}/big`);
  assert_equals(big.status, 200);
  await promise_rejects_js(null, TypeError, big.text(), "body over the response limit");
}, "fetch network errors are TypeErrors");
promise_test(async () => {
  const r = await fetch(`${base()}/drip`);
  const reader = r.body.getReader();
  const first = await Promise.race([reader.read(), new Promise((ok) => setTimeout(() => ok("timeout"), 2000))]);
  assert_not_equals(first, "timeout", "first chunk arrived before the body ended");
  assert_equals(new TextDecoder().decode(first.value), "first");
  await reader.cancel();
}, "fetch response bodies stream");
promise_test(async () => {
  const r = await fetch(`${base()}/echo`, { method: "POST", body: "x" });
  const c = r.clone();
  assert_equals((await r.json()).body, "x");
  assert_equals((await c.json()).body, "x");
  assert_true((await (await fetch(`${base()}/echo`)).blob()).size > 0);
}, "fetch response clone and blob");
