// Modelled on WPT FileAPI/blob/*.any.js, FileAPI/file, WebCryptoAPI/getRandomValues.any.js.
promise_test(async () => {
  const b = new Blob(["ab", new Uint8Array([99]), new Blob(["d"])], { type: "Text/Plain" });
  assert_equals(b.size, 4);
  assert_equals(b.type, "text/plain");
  assert_equals(await b.text(), "abcd");
  assert_equals(await b.slice(1, 3).text(), "bc");
  assert_equals(await b.slice(-2).text(), "cd");
  assert_equals(b.slice(3, 1).size, 0);
  assert_array_equals(new Uint8Array(await b.arrayBuffer()), [97, 98, 99, 100]);
  let s = "";
  for await (const chunk of b.stream()) s += new TextDecoder().decode(chunk);
  assert_equals(s, "abcd");
  const f = new File(["x"], "name.txt", { type: "a/b", lastModified: 42 });
  assert_true(f instanceof Blob);
  assert_equals(f.name, "name.txt");
  assert_equals(f.lastModified, 42);
  assert_throws_js(TypeError, () => new Blob("not a sequence"));
}, "Blob and File");
test(() => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("a", "2");
  fd.set("b", new Blob(["x"]));
  assert_equals(fd.get("a"), "1");
  assert_array_equals(fd.getAll("a"), ["1", "2"]);
  assert_true(fd.get("b") instanceof File);
  assert_equals(fd.get("b").name, "blob");
  fd.set("a", "3");
  assert_array_equals(fd.getAll("a"), ["3"]);
  fd.delete("b");
  assert_false(fd.has("b"));
  assert_array_equals([...fd.keys()], ["a"]);
}, "FormData methods");
test(() => {
  const a = crypto.getRandomValues(new Uint8Array(32));
  const b = crypto.getRandomValues(new Uint8Array(32));
  assert_false(a.every((x, i) => x === b[i]), "two draws differ");
  const u32 = new Uint32Array(4);
  assert_equals(crypto.getRandomValues(u32), u32);
  crypto.getRandomValues(new BigUint64Array(2));
  crypto.getRandomValues(new Uint8Array(65536));
  assert_throws_dom("QuotaExceededError", () => crypto.getRandomValues(new Uint8Array(65537)));
  assert_throws_dom("TypeMismatchError", () => crypto.getRandomValues(new Float32Array(4)));
}, "crypto.getRandomValues");
test(() => {
  const ids = new Set();
  for (let i = 0; i < 100; i++) {
    const id = crypto.randomUUID();
    assert_true(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id);
    ids.add(id);
  }
  assert_equals(ids.size, 100);
}, "crypto.randomUUID");
test(() => {
  const e = new DOMException("m", "NotFoundError");
  assert_equals(e.code, 8);
  assert_equals(e.name, "NotFoundError");
  assert_true(e instanceof Error);
  assert_equals(DOMException.ABORT_ERR, 20);
  assert_equals(typeof console.log, "function");
  assert_equals(navigator.userAgent, "Cloudflare-Workers");
  assert_equals(self, globalThis);
}, "DOMException, console, navigator, self");
