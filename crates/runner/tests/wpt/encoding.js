// Modelled on WPT encoding/textencoder-*.any.js, textdecoder-*.any.js.
test(() => {
  const enc = new TextEncoder();
  assert_equals(enc.encoding, "utf-8");
  assert_array_equals(enc.encode("aé€😀"), [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
  assert_array_equals(enc.encode(), []);
  assert_array_equals(enc.encode("\uD800"), [0xef, 0xbf, 0xbd], "lone lead surrogate");
  assert_array_equals(enc.encode("a\uDC00b"), [0x61, 0xef, 0xbf, 0xbd, 0x62], "lone trail surrogate");
  assert_true(enc.encode("x") instanceof Uint8Array);
}, "TextEncoder.encode");
test(() => {
  const dest = new Uint8Array(5);
  const r = new TextEncoder().encodeInto("a€😀", dest);
  assert_equals(r.read, 2);
  assert_equals(r.written, 4);
  assert_array_equals(dest, [0x61, 0xe2, 0x82, 0xac, 0]);
}, "TextEncoder.encodeInto stops before a partial character");
test(() => {
  const d = new TextDecoder();
  assert_equals(d.encoding, "utf-8");
  assert_equals(d.decode(new Uint8Array([0x68, 0xc3, 0xa9])), "hé");
  assert_equals(d.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), "A", "BOM stripped");
  assert_equals(new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), "\uFEFFA");
  assert_equals(d.decode(new Uint8Array([0xff, 0x41, 0xc3])), "\uFFFDA\uFFFD");
  assert_equals(d.decode(new Uint8Array([0xe2, 0x82, 0x41])), "\uFFFDA", "truncated sequence is one replacement");
  assert_equals(d.decode(new Uint16Array([0x6968]).buffer), "hi");
  assert_equals(d.decode(new DataView(new Uint8Array([0x41, 0x42, 0x43]).buffer, 1, 1)), "B");
  assert_equals(d.decode(), "");
}, "TextDecoder.decode with replacement");
test(() => {
  const d = new TextDecoder("utf-8", { fatal: true });
  assert_true(d.fatal);
  assert_throws_js(TypeError, () => d.decode(new Uint8Array([0xc3])));
  assert_throws_js(TypeError, () => d.decode(new Uint8Array([0xed, 0xa0, 0x80])), "encoded surrogate");
  assert_equals(d.decode(new Uint8Array([0x41])), "A");
}, "TextDecoder fatal mode");
test(() => {
  const d = new TextDecoder();
  const bytes = new TextEncoder().encode("€😀x");
  let out = "";
  for (const b of bytes) out += d.decode(new Uint8Array([b]), { stream: true });
  out += d.decode();
  assert_equals(out, "€😀x");
}, "TextDecoder streaming across chunk boundaries");
test(() => {
  assert_equals(new TextDecoder("UTF8").encoding, "utf-8");
  assert_equals(new TextDecoder(" unicode-1-1-utf-8 ").encoding, "utf-8");
  assert_throws_js(RangeError, () => new TextDecoder("klingon"));
}, "TextDecoder labels");
