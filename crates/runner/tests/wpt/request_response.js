// Modelled on WPT fetch/api/request/*.any.js, fetch/api/response/*.any.js, fetch/api/body.
test(() => {
  const r = new Request("https://example.com/a", { method: "post", headers: { "x-y": "z" }, body: "hello" });
  assert_equals(r.method, "POST");
  assert_equals(r.url, "https://example.com/a");
  assert_equals(r.headers.get("x-y"), "z");
  assert_equals(r.headers.get("content-type"), "text/plain;charset=UTF-8");
  assert_equals(r.redirect, "follow");
  assert_false(r.bodyUsed);
  assert_true(r.signal instanceof AbortSignal);
  assert_equals(new Request("http://h", { method: "patch" }).method, "patch", "patch is not normalised");
  assert_equals(new Request("http://h", { method: "delete" }).method, "DELETE");
}, "Request construction");
test(() => {
  assert_throws_js(TypeError, () => new Request("/relative"));
  assert_throws_js(TypeError, () => new Request("http://h", { method: "GET", body: "x" }));
  assert_throws_js(TypeError, () => new Request("http://h", { method: "HEAD", body: "x" }));
  assert_throws_js(TypeError, () => new Request("http://h", { method: "CONNECT" }));
  assert_throws_js(TypeError, () => new Request("http://h", { method: "bad method" }));
  assert_throws_js(TypeError, () => new Request("http://h", { redirect: "sometimes" }));
}, "Request rejects invalid input");
promise_test(async () => {
  const r = new Request("http://h/", { method: "PUT", body: JSON.stringify({ a: 1 }) });
  const c = r.clone();
  assert_equals((await r.json()).a, 1);
  assert_true(r.bodyUsed);
  await promise_rejects_js(null, TypeError, r.text());
  assert_equals(await c.text(), '{"a":1}');
  const derived = new Request(c.url, c);
  assert_equals(derived.method, "PUT");
}, "Request body is read once; clone and copy");
test(() => {
  const r = new Response();
  assert_equals(r.status, 200);
  assert_equals(r.statusText, "");
  assert_true(r.ok);
  assert_equals(r.body, null);
  assert_equals(r.type, "default");
  assert_throws_js(RangeError, () => new Response("", { status: 199 }));
  assert_throws_js(RangeError, () => new Response("", { status: 600 }));
  assert_throws_js(TypeError, () => new Response("x", { status: 204 }));
  assert_equals(new Response(null, { status: 204 }).status, 204);
  assert_false(new Response(null, { status: 404 }).ok);
}, "Response construction");
promise_test(async () => {
  assert_equals(await new Response("héllo").text(), "héllo");
  assert_equals(new Response("x").headers.get("content-type"), "text/plain;charset=UTF-8");
  const ab = await new Response(new Uint8Array([1, 2, 3])).arrayBuffer();
  assert_true(ab instanceof ArrayBuffer);
  assert_array_equals(new Uint8Array(ab), [1, 2, 3]);
  assert_array_equals(await new Response(new Uint8Array([4, 5])).bytes(), [4, 5]);
  const blob = await new Response("abc", { headers: { "content-type": "text/x" } }).blob();
  assert_equals(blob.type, "text/x");
  assert_equals(blob.size, 3);
  const j = Response.json({ k: [1] }, { status: 201 });
  assert_equals(j.status, 201);
  assert_equals(j.headers.get("content-type"), "application/json");
  assert_equals((await j.json()).k[0], 1);
  await promise_rejects_js(null, SyntaxError, new Response("{oops").json());
  const u = await new Response(new URLSearchParams("a=1")).text();
  assert_equals(u, "a=1");
}, "Response body mixin");
promise_test(async () => {
  const r = Response.redirect("http://h/next", 301);
  assert_equals(r.status, 301);
  assert_equals(r.headers.get("location"), "http://h/next");
  assert_throws_js(TypeError, () => r.headers.set("x", "y"));
  assert_throws_js(RangeError, () => Response.redirect("http://h/", 200));
  const e = Response.error();
  assert_equals(e.type, "error");
  assert_equals(e.status, 0);
}, "Response.redirect and Response.error");
promise_test(async () => {
  const r = new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("ab")); c.enqueue(new TextEncoder().encode("cd")); c.close(); } }));
  const c = r.clone();
  assert_equals(await r.text(), "abcd");
  assert_equals(await c.text(), "abcd");
  const r2 = new Response("streamed");
  const reader = r2.body.getReader();
  const { value } = await reader.read();
  assert_equals(new TextDecoder().decode(value), "streamed");
  assert_true(r2.bodyUsed);
}, "Response stream bodies, clone via tee, .body reader");
promise_test(async () => {
  const fd = new FormData();
  fd.append("name", "value é");
  fd.append("file", new Blob(["file body"], { type: "text/plain" }), "f.txt");
  const req = new Request("http://h/", { method: "POST", body: fd });
  assert_true(req.headers.get("content-type").startsWith("multipart/form-data; boundary="));
  const back = await req.formData();
  assert_equals(back.get("name"), "value é");
  const file = back.get("file");
  assert_true(file instanceof File);
  assert_equals(file.name, "f.txt");
  assert_equals(file.type, "text/plain");
  assert_equals(await file.text(), "file body");
  const form = await new Request("http://h/", { method: "POST", body: new URLSearchParams("a=1&a=2") }).formData();
  assert_array_equals(form.getAll("a"), ["1", "2"]);
}, "FormData round trip through multipart and urlencoded bodies");
test(() => {
  for (const o of [new Request("http://h/"), new Response("x"), new Headers({ a: "1" }), new URL("http://h/"), new Blob(["x"])]) {
    assert_equals(JSON.stringify(Object.keys(o)), o instanceof URL ? JSON.stringify([]) : "[]", Object.prototype.toString.call(o));
  }
  assert_equals(JSON.stringify(new URL("http://h/a")), '"http://h/a"');
}, "platform objects expose no own enumerable internals");
