// Modelled on WPT html/webappapis/timers and microtask-queuing tests.
promise_test(async () => {
  const order = [];
  await new Promise((done) => {
    setTimeout(() => order.push("t20"), 20);
    setTimeout(() => order.push("t0"), 0);
    setTimeout((a, b) => order.push(`args ${a} ${b}`), 5, 1, 2);
    queueMicrotask(() => order.push("micro"));
    Promise.resolve().then(() => order.push("promise"));
    setTimeout(done, 40);
  });
  assert_array_equals(order, ["micro", "promise", "t0", "args 1 2", "t20"]);
}, "timers fire in order after microtasks");
promise_test(async () => {
  let fired = false;
  const id = setTimeout(() => { fired = true; }, 5);
  assert_equals(typeof id, "number");
  clearTimeout(id);
  clearTimeout(123456);
  await new Promise((r) => setTimeout(r, 20));
  assert_false(fired);
}, "clearTimeout cancels");
promise_test(async () => {
  let n = 0;
  await new Promise((done) => {
    const id = setInterval(() => {
      n++;
      if (n === 3) { clearInterval(id); setTimeout(done, 20); }
    }, 2);
  });
  assert_equals(n, 3);
}, "setInterval repeats until cleared");
test(() => {
  assert_throws_js(TypeError, () => setTimeout("alert(1)", 0));
  assert_throws_js(TypeError, () => queueMicrotask(5));
}, "string callbacks are refused");
promise_test(async () => {
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 15));
  const dt = performance.now() - t0;
  assert_true(dt >= 14, `elapsed ${dt}`);
  assert_true(typeof performance.timeOrigin === "number");
  assert_true(Math.abs(performance.timeOrigin + performance.now() - Date.now()) < 50);
}, "performance.now is monotonic milliseconds");
