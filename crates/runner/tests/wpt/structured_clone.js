// Modelled on WPT html/webappapis/structured-clone/structured-clone.any.js.
test(() => {
  const src = { n: 1, s: "x", b: true, u: undefined, nul: null, big: 10n, arr: [1, , 3], d: new Date(5), r: /a+/gi,
    m: new Map([[1, { a: 1 }]]), set: new Set(["q"]), ta: new Uint16Array([1, 2]), ab: new Uint8Array([9]).buffer, nested: { deep: [{ x: 1 }] } };
  const c = structuredClone(src);
  assert_not_equals(c, src);
  assert_equals(c.n, 1); assert_equals(c.s, "x"); assert_equals(c.b, true); assert_true("u" in c); assert_equals(c.nul, null); assert_equals(c.big, 10n);
  assert_equals(c.arr.length, 3); assert_false(1 in c.arr);
  assert_true(c.d instanceof Date); assert_equals(c.d.getTime(), 5); assert_not_equals(c.d, src.d);
  assert_equals(c.r.source, "a+"); assert_equals(c.r.flags, "gi");
  assert_equals(c.m.get(1).a, 1); assert_not_equals(c.m.get(1), src.m.get(1));
  assert_true(c.set.has("q"));
  assert_true(c.ta instanceof Uint16Array); assert_array_equals(c.ta, [1, 2]); assert_not_equals(c.ta.buffer, src.ta.buffer);
  assert_array_equals(new Uint8Array(c.ab), [9]);
  assert_equals(c.nested.deep[0].x, 1); assert_not_equals(c.nested.deep, src.nested.deep);
}, "structuredClone of supported types");
test(() => {
  const a = { name: "a" };
  a.self = a;
  a.list = [a, a];
  const c = structuredClone(a);
  assert_equals(c.self, c);
  assert_equals(c.list[0], c);
  const e = structuredClone(new RangeError("bad", { cause: 1 }));
  assert_true(e instanceof RangeError);
  assert_equals(e.message, "bad");
  class K { constructor() { this.v = 1; } m() {} }
  const k = structuredClone(new K());
  assert_equals(Object.getPrototypeOf(k), Object.prototype);
  assert_equals(k.v, 1);
}, "structuredClone keeps cycles, errors; drops prototypes");
test(() => {
  assert_throws_dom("DataCloneError", () => structuredClone(() => 1));
  assert_throws_dom("DataCloneError", () => structuredClone({ f() {} }));
  assert_throws_dom("DataCloneError", () => structuredClone(Symbol("s")));
  assert_throws_dom("DataCloneError", () => structuredClone(new Request("http://h/")));
  assert_throws_js(TypeError, () => structuredClone());
}, "structuredClone refuses functions, symbols, platform objects");
