// Modelled on WPT url/urlsearchparams-*.any.js.
test(() => {
  let p = new URLSearchParams("?a=b&c=d&a=e");
  assert_equals(p.get("a"), "b");
  assert_array_equals(p.getAll("a"), ["b", "e"]);
  assert_equals(p.get("missing"), null);
  assert_equals(p.size, 3);
  p = new URLSearchParams([["x", "1"], ["y", "2"]]);
  assert_equals(p.toString(), "x=1&y=2");
  p = new URLSearchParams({ k: "v", n: 1 });
  assert_equals(p.toString(), "k=v&n=1");
  p = new URLSearchParams(p);
  assert_equals(p.toString(), "k=v&n=1");
  assert_throws_js(TypeError, () => new URLSearchParams([["a"]]));
}, "URLSearchParams constructors");
test(() => {
  const p = new URLSearchParams("a=b+c&d=%20e&f=%zz&=g&h");
  assert_equals(p.get("a"), "b c");
  assert_equals(p.get("d"), " e");
  assert_equals(p.get("f"), "%zz");
  assert_equals(p.get(""), "g");
  assert_equals(p.get("h"), "");
}, "URLSearchParams parsing");
test(() => {
  const p = new URLSearchParams();
  p.append("a b", "c&d=é~*");
  assert_equals(p.toString(), "a+b=c%26d%3D%C3%A9%7E*");
  p.set("a b", "1");
  p.append("z", "2");
  p.append("a b", "3");
  p.set("a b", "4");
  assert_equals(p.toString(), "a+b=4&z=2");
  assert_true(p.has("z"));
  assert_true(p.has("z", "2"));
  assert_false(p.has("z", "3"));
  p.delete("z", "3");
  assert_true(p.has("z"));
}, "URLSearchParams set/append/has/delete and serialisation");
test(() => {
  const p = new URLSearchParams("z=1&a=2&b=3&a=1");
  p.sort();
  assert_equals(p.toString(), "a=2&a=1&b=3&z=1");
  const seen = [];
  p.forEach((v, k) => seen.push(k + v));
  assert_array_equals(seen, ["a2", "a1", "b3", "z1"]);
  assert_array_equals([...p.keys()], ["a", "a", "b", "z"]);
  assert_array_equals([...p.values()], ["2", "1", "3", "1"]);
  assert_equals([...p].length, 4);
}, "URLSearchParams sort (stable) and iteration");
