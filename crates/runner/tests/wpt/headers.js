// Modelled on WPT fetch/api/headers/*.any.js.
test(() => {
  const h = new Headers({ "Content-Type": "text/plain", "X-A": "1" });
  assert_equals(h.get("content-type"), "text/plain");
  assert_true(h.has("X-a"));
  h.append("x-a", "2");
  assert_equals(h.get("X-A"), "1, 2");
  h.set("x-a", "3");
  assert_equals(h.get("x-a"), "3");
  h.delete("X-A");
  assert_false(h.has("x-a"));
  assert_equals(h.get("missing"), null);
}, "Headers basics, case-insensitive");
test(() => {
  const h = new Headers([["b", "2"], ["a", "1"], ["C", "3"], ["a", "0"]]);
  assert_array_equals([...h.keys()], ["a", "b", "c"]);
  assert_array_equals([...h.values()], ["1, 0", "2", "3"]);
  const seen = [];
  h.forEach((v, k) => seen.push(`${k}=${v}`));
  assert_array_equals(seen, ["a=1, 0", "b=2", "c=3"]);
  assert_equals(new Headers(h).get("a"), "1, 0");
}, "Headers iteration is sorted and combined");
test(() => {
  const h = new Headers();
  h.append("Set-Cookie", "a=1");
  h.append("Set-Cookie", "b=2");
  assert_array_equals(h.getSetCookie(), ["a=1", "b=2"]);
  assert_equals(JSON.stringify([...h]), JSON.stringify([["set-cookie", "a=1"], ["set-cookie", "b=2"]]));
}, "Headers set-cookie is not combined");
test(() => {
  const h = new Headers();
  h.set("x", "  padded \t");
  assert_equals(h.get("x"), "padded");
  assert_throws_js(TypeError, () => h.set("bad name", "v"));
  assert_throws_js(TypeError, () => h.set("x", "a\nb"));
  assert_throws_js(TypeError, () => h.append("", "v"));
  assert_throws_js(TypeError, () => new Headers([["a", "b", "c"]]));
  assert_throws_js(TypeError, () => new Headers(5));
}, "Headers validation");
