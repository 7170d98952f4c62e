// Modelled on WPT streams/readable-streams/*.any.js, transform-streams.
promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } });
  const reader = rs.getReader();
  assert_true(rs.locked);
  assert_throws_js(TypeError, () => rs.getReader());
  const r1 = await reader.read();
  assert_equals(r1.value, "a"); assert_false(r1.done);
  assert_equals((await reader.read()).value, "b");
  assert_true((await reader.read()).done);
  await reader.closed;
  reader.releaseLock();
  assert_false(rs.locked);
}, "ReadableStream start/enqueue/close and reader");
promise_test(async () => {
  let i = 0;
  const pulls = [];
  const rs = new ReadableStream({ pull(c) { pulls.push(i); if (i === 3) c.close(); else c.enqueue(i++); } }, { highWaterMark: 0 });
  const got = [];
  for await (const v of rs) got.push(v);
  assert_array_equals(got, [0, 1, 2]);
}, "ReadableStream pull on demand and async iteration");
promise_test(async () => {
  const err = new Error("boom");
  const rs = new ReadableStream({ start(c) { c.error(err); } });
  const reader = rs.getReader();
  try { await reader.read(); assert_unreached("read resolved"); } catch (e) { assert_equals(e, err); }
  let cancelled = null;
  const rs2 = new ReadableStream({ cancel(reason) { cancelled = reason; } });
  await rs2.cancel("stop");
  assert_equals(cancelled, "stop");
}, "ReadableStream error and cancel");
promise_test(async () => {
  const [a, b] = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); } }).tee();
  const all = async (s) => { const out = []; for await (const v of s) out.push(v); return out; };
  assert_array_equals(await all(a), [1, 2]);
  assert_array_equals(await all(b), [1, 2]);
  const from = ReadableStream.from((async function* () { yield "x"; yield "y"; })());
  assert_array_equals(await all(from), ["x", "y"]);
}, "tee and ReadableStream.from");
promise_test(async () => {
  const upper = new TransformStream({ transform(chunk, c) { c.enqueue(chunk.toUpperCase()); }, flush(c) { c.enqueue("!"); } });
  const src = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } });
  const out = [];
  for await (const v of src.pipeThrough(upper)) out.push(v);
  assert_array_equals(out, ["A", "B", "!"]);
  const text = new ReadableStream({ start(c) { c.enqueue("hé"); c.close(); } })
    .pipeThrough(new TextEncoderStream()).pipeThrough(new TextDecoderStream());
  let s = "";
  for await (const v of text) s += v;
  assert_equals(s, "hé");
}, "TransformStream, pipeThrough, text encoder/decoder streams");
promise_test(async () => {
  const written = [];
  const ws = new WritableStream({ write(chunk) { written.push(chunk); }, close() { written.push("closed"); } });
  await new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); } }).pipeTo(ws);
  assert_array_equals(written, [1, 2, "closed"]);
}, "WritableStream and pipeTo");
