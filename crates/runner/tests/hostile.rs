//! Hostile workers get a clean error for their request; the runner and other
//! workers keep serving.

mod common;

use std::sync::Arc;

use common::{test_limits, TestRunner};

const GOOD: &str = "export default { fetch() { return new Response('fine') } }";

async fn assert_healthy(r: &TestRunner) {
    let ok = r.fetch("good", "").await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.text(), "fine");
    assert_eq!(r.get("/health").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_hits_the_cpu_limit() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy("spin", "module", "export default { fetch(req) { if (new URL(req.url).pathname === '/ok') return new Response('ok'); for(;;){} } }").await;
    let resp = r.fetch("spin", "").await;
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert!(resp.text().contains("CPU time limit"), "{}", resp.text());
    assert_healthy(&r).await;
    // The instance is replaced: the same worker serves again.
    let again = r.fetch("spin", "ok").await;
    assert_eq!(again.status, 200, "{}", again.text());
    let details = r.owner_get("/workers/spin").await.json();
    assert_eq!(details["stats"]["failedExecutions"], 1);
    assert!(details["lastError"].as_str().unwrap_or("").contains("CPU"), "{details}");
}

/// QuickJS polls the interrupt handler at the top of each `find*` iteration
/// and used to free the previous element a second time when it fired there
/// (third_party/rquickjs-sys/PATCHES.md): the heap was corrupt and the whole
/// runner crashed. The callbacks here poll once or twice per element, so the
/// stop lands in `find*`'s own check in about a third of the interrupts; the
/// requests below give it a dozen chances (slice and CPU limit each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpu_limit_hit_inside_find_index_leaves_the_runner_serving() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "finder",
        "module",
        "const items = []; for (let i = 0; i < 1000; i++) items.push({ i });
         const none = (x) => x === null;
         const methods = ['find', 'findIndex', 'findLast', 'findLastIndex'];
         export default { fetch(req) {
           const m = methods[Number(new URL(req.url).pathname.slice(1)) % methods.length];
           for (;;) items[m]((p) => (p.i % 3 ? none(p) : p === null));
         } }",
    )
    .await;
    for i in 0..6 {
        let resp = r.fetch("finder", &i.to_string()).await;
        assert_eq!(resp.status, 503, "request {i}: {}", resp.text());
        assert!(resp.text().contains("CPU time limit"), "request {i}: {}", resp.text());
        assert_healthy(&r).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_limit_also_applies_to_async_continuations() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "spin",
        "module",
        "export default { async fetch() { await new Promise(r => setTimeout(r, 5)); for(;;){} } }",
    )
    .await;
    let resp = r.fetch("spin", "").await;
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert!(resp.text().contains("CPU time limit"), "{}", resp.text());
    assert_healthy(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bomb_hits_the_memory_limit() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "bomb",
        "module",
        "const keep = []; export default { fetch() { for(;;) keep.push(new Array(100000).fill('x' + keep.length)); } }",
    )
    .await;
    let resp = r.fetch("bomb", "").await;
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert!(resp.text().contains("memory limit"), "{}", resp.text());
    assert_healthy(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_is_a_catchable_range_error() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "deep",
        "module",
        "function f(n) { return f(n + 1) + 1 }
         export default { fetch(req) {
           if (req.url.endsWith('/catch')) { try { f(0) } catch (e) { return new Response(e.constructor.name) } }
           return f(0);
         } }",
    )
    .await;
    let caught = r.fetch("deep", "catch").await;
    assert_eq!(caught.text(), "RangeError");
    let thrown = r.fetch("deep", "").await;
    assert_eq!(thrown.status, 500);
    assert!(thrown.text().contains("RangeError"), "{}", thrown.text());
    assert_healthy(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_output_is_bounded() {
    let mut limits = test_limits();
    limits.response_body_bytes = 1 << 20;
    limits.log_bytes = 4096;
    let r = TestRunner::start(limits).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "huge",
        "module",
        "export default { fetch(req) {
           const p = new URL(req.url).pathname;
           if (p === '/log') { for (let i = 0; i < 2000; i++) console.log('line ' + i + ' ' + 'y'.repeat(1000)); return new Response('logged'); }
           if (p === '/stream') return new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(65536)); } }));
           return new Response('x'.repeat(2 << 20));
         } }",
    )
    .await;
    let big = r.fetch("huge", "").await;
    assert_eq!(big.status, 502, "{}", big.text());
    assert!(big.text().contains("limit of 1048576 bytes"), "{}", big.text());
    let logged = r.fetch("huge", "log").await;
    assert_eq!(logged.text(), "logged");
    let logs = r.owner_get("/workers/huge/logs").await.json();
    let total: usize = logs["lines"].as_array().unwrap().iter().map(|l| l["message"].as_str().unwrap().len()).sum();
    assert!(total <= 4096, "log ring holds {total} bytes");
    assert!(logs["dropped"].as_u64().unwrap() > 1900);
    // An endless stream is cut at the limit: the client sees a broken body,
    // never a complete one.
    let streamed = r.fetch("huge", "stream").await;
    assert!(streamed.body.len() <= 1 << 20, "got {} bytes", streamed.body.len());
    assert_healthy(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhandled_rejection_is_logged_and_request_fails_cleanly() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "reject",
        "module",
        "export default { async fetch(req) {
           if (req.url.endsWith('/bg')) { Promise.reject(new Error('background boom')); return new Response('ok') }
           throw new TypeError('handler boom');
         } }",
    )
    .await;
    let thrown = r.fetch("reject", "").await;
    assert_eq!(thrown.status, 500);
    assert!(thrown.text().contains("TypeError: handler boom"), "{}", thrown.text());
    let bg = r.fetch("reject", "bg").await;
    assert_eq!(bg.text(), "ok");
    let logs = r.owner_get("/workers/reject/logs").await.text();
    assert!(logs.contains("Uncaught (in promise) Error: background boom"), "{logs}");
    assert_healthy(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_that_never_responds_times_out() {
    let mut limits = test_limits();
    limits.request_timeout = std::time::Duration::from_secs(2);
    let r = TestRunner::start(limits).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy("never", "module", "export default { fetch() { return new Promise(() => {}) } }").await;
    let resp = r.fetch("never", "").await;
    assert_eq!(resp.status, 504, "{}", resp.text());
    assert!(resp.text().contains("did not respond"), "{}", resp.text());
    assert_healthy(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_handler_results_are_errors() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy(
        "odd",
        "module",
        "export default { fetch(req) { return req.url.endsWith('/s') ? 'just a string' : undefined } }",
    )
    .await;
    let s = r.fetch("odd", "s").await;
    assert_eq!(s.status, 500);
    assert!(s.text().contains("not a Response"), "{}", s.text());
    r.deploy("cronly", "module", "export default { scheduled() {} }").await;
    let none = r.fetch("cronly", "").await;
    assert_eq!(none.status, 501, "{}", none.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_start_up_code_is_rejected_at_deploy() {
    let r = TestRunner::start(test_limits()).await;
    for (code, needle) in [
        ("for(;;){}", "CPU time limit"),
        ("const a = []; for(;;) a.push('x'.repeat(1e5) + a.length);", "memory limit"),
        ("export default {", "SyntaxError"),
        ("throw new Error('nope')", "nope"),
    ] {
        let body = serde_json::json!({ "code": code, "type": "module" }).to_string();
        let resp = r.create(body).await;
        assert_eq!(resp.status, 400, "{code}: {}", resp.text());
        assert!(resp.text().contains(needle), "{code}: {}", resp.text());
    }
    assert_eq!(r.get("/workers").await.json()["workers"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_request_limit() {
    let mut limits = test_limits();
    limits.concurrent_requests = 2;
    let r = std::sync::Arc::new(TestRunner::start(limits).await);
    r.deploy(
        "slow",
        "module",
        "export default { async fetch() { await new Promise(r => setTimeout(r, 500)); return new Response('done') } }",
    )
    .await;
    let mut handles = Vec::new();
    for _ in 0..4 {
        let r = r.clone();
        handles.push(tokio::spawn(async move { r.fetch("slow", "").await.status }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [200, 200, 503, 503]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_work_draws_on_its_request_budget() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "bg",
        "module",
        "export default { fetch(req, env, ctx) {
           if (req.url.endsWith('/ok')) return new Response('ok');
           setInterval(() => { const end = Date.now() + 20; while (Date.now() < end) {} console.log('tick'); }, 1);
           return new Response('started');
         } }",
    )
    .await;
    assert_eq!(r.fetch("bg", "").await.text(), "started");
    // 300 ms of CPU at up to 20 ms a tick: the instance is reset after a
    // few dozen ticks. Poll: on a busy machine CPU time accrues slowly.
    let mut details = serde_json::Value::Null;
    for _ in 0..100 {
        details = r.owner_get("/workers/bg").await.json();
        if details["lastError"].as_str().unwrap_or("").contains("CPU time limit") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(details["lastError"].as_str().unwrap_or("").contains("CPU time limit"), "{details}");
    let ticks =
        |logs: &serde_json::Value| logs["lines"].as_array().unwrap().iter().filter(|l| l["message"] == "tick").count();
    let before = ticks(&r.owner_get("/workers/bg/logs").await.json());
    assert!(before > 0);
    // The reset instance is fresh and serves; the interval is gone.
    assert_eq!(r.fetch("bg", "ok").await.text(), "ok");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(ticks(&r.owner_get("/workers/bg/logs").await.json()), before);
    assert_healthy(&r).await;
}

// ---- native boundaries: every host function checks its own arguments ----

/// Deploys `code`, calls it once and returns the reply; the runner must stay
/// healthy for the other worker whatever the hostile one did.
async fn call_hostile(code: &str) -> common::Reply {
    call_hostile_with(test_limits(), code).await
}

/// [`call_hostile`] under `limits`.
async fn call_hostile_with(limits: sworn_runner::limits::Limits, code: &str) -> common::Reply {
    let r = TestRunner::start(limits).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy("evil", "module", code).await;
    let reply = r.fetch("evil", "").await;
    assert_healthy(&r).await;
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_random_values_with_a_byte_length_that_grows_after_the_check_fills_only_the_real_view() {
    // The quota check and the view see 16 bytes; every later read claims 2^40.
    let reply = call_hostile(
        "export default { fetch() {
           let reads = 0;
           class Liar extends Uint8Array { get byteLength() { return ++reads <= 2 ? 16 : 2 ** 40; } }
           const a = new Liar(16);
           crypto.getRandomValues(a);
           return new Response(String(a.length) + ' ' + a.some((b) => b !== 0));
         } }",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "16 true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_random_values_with_a_huge_claimed_byte_length_is_a_catchable_error() {
    for claim in ["2 ** 28", "2 ** 40", "-1", "1e300", "Number.MAX_SAFE_INTEGER"] {
        let code = format!(
            "export default {{ fetch() {{
               class Liar extends Uint8Array {{ get byteLength() {{ return {claim}; }} }}
               try {{ crypto.getRandomValues(new Liar(16)); return new Response('filled'); }}
               catch (e) {{ return new Response(e.name); }}
             }} }}"
        );
        let reply = call_hostile(&code).await;
        assert_eq!(reply.status, 200, "{claim}: {}", reply.text());
        assert_ne!(reply.text(), "filled", "{claim}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_random_values_refuses_proxies_and_fills_nothing_of_a_detached_buffer() {
    let reply = call_hostile(
        "export default { fetch() {
           let proxy;
           try { crypto.getRandomValues(new Proxy(new Uint8Array(8), {})); proxy = 'filled'; }
           catch (e) { proxy = e.name; }
           const a = new Uint8Array(32);
           const moved = a.buffer.transfer();
           let detached;
           try { crypto.getRandomValues(a); detached = 'len ' + a.length; } catch (e) { detached = e.name; }
           return new Response(proxy + ' ' + detached + ' ' + moved.byteLength);
         } }",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = reply.text();
    assert!(!text.starts_with("filled"), "{text}");
    assert!(text.ends_with(" 32"), "the transferred buffer keeps its bytes: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_subclass_with_an_out_of_range_status_is_a_clean_error() {
    for status in ["70000", "64", "NaN", "200.5", "-200"] {
        let code = format!(
            "class R extends Response {{ get status() {{ return {status}; }} }}
             export default {{ fetch() {{ return new R('x'); }} }}"
        );
        let reply = call_hostile(&code).await;
        assert_eq!(reply.status, 500, "{status}: {}", reply.text());
        assert!(reply.text().contains("not in the range 200 to 599"), "{status}: {}", reply.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_subclass_with_too_many_headers_is_a_clean_error() {
    let reply = call_hostile(
        "class R extends Response {
           get headers() { const h = new Headers(); for (let i = 0; i < 1000; i++) h.set('x-' + i, 'v'); return h; }
         }
         export default { fetch() { return new R('x'); } }",
    )
    .await;
    assert_eq!(reply.status, 500, "{}", reply.text());
    assert!(reply.text().contains("header fields, the limit is 100"), "{}", reply.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_log_lines_and_errors_are_cut_to_the_message_limit() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy(
        "loud",
        "module",
        "export default { fetch() { console.log('x'.repeat(4 << 20)); throw new Error('y'.repeat(4 << 20)); } }",
    )
    .await;
    let reply = r.fetch("loud", "").await;
    assert_eq!(reply.status, 500);
    let details = r.owner_get("/workers/loud").await.json();
    let last = details["lastError"].as_str().unwrap_or("");
    assert!(last.len() < 17 * 1024, "lastError is {} bytes", last.len());
    assert!(last.contains("bytes cut]"), "{}", &last[last.len().saturating_sub(80)..]);
    let logs = r.owner_get("/workers/loud/logs").await;
    assert_eq!(logs.status, 200, "{}", logs.text());
    assert!(logs.text().len() < 64 * 1024, "logs are {} bytes", logs.text().len());
}

// ---- CPU accounting without holes ----

/// How many times the worker's log says an instance was reset for a reason
/// that contains `why`.
fn resets(logs: &str, why: &str) -> usize {
    logs.split("instance reset").skip(1).filter(|rest| rest.split('"').next().unwrap_or("").contains(why)).count()
}

/// Polls the worker's log (bounded) until `done` says yes; returns it.
async fn wait_for_logs(r: &TestRunner, worker: &str, done: impl Fn(&str) -> bool) -> String {
    let path = format!("/workers/{worker}/logs");
    for _ in 0..300 {
        let logs = r.owner_get(&path).await.text();
        if done(&logs) {
            return logs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    r.owner_get(&path).await.text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_scope_interval_that_spins_is_stopped_and_reported() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("good", "module", GOOD).await;
    // Armed by start-up code: no request is ever charged for these turns.
    r.deploy(
        "spinner",
        "module",
        "setInterval(() => { console.log('tick'); const end = Date.now() + 200; while (Date.now() < end) {} }, 0);
         export default { fetch() { return new Response('spinner'); } }",
    )
    .await;
    // Deploying ran the start-up code on both shared threads of the test
    // runner, so each instance spins on its own. The first tick past the
    // slice moves the worker to the slow lane; every later one on a shared
    // thread is stopped there, which resets both shared instances.
    let logs = wait_for_logs(&r, "spinner", |l| resets(l, "slow lane") >= 2).await;
    assert!(logs.contains("moved to the slow lane"), "{logs}");
    assert_eq!(resets(&logs, "slow lane"), 2, "not stopped on both shared threads: {logs}");
    assert_eq!(r.owner_get("/workers/spinner").await.json()["lane"], "slow");
    // Stopped means stopped: no tick is logged after the report.
    let ticks = |logs: &str| logs.matches("tick").count();
    let before = ticks(&r.owner_get("/workers/spinner/logs").await.text());
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let after = ticks(&r.owner_get("/workers/spinner/logs").await.text());
    assert_eq!(before, after, "the interval kept running after the stop");
    assert_healthy(&r).await;

    // A request starts it on the slow lane, where its background allowance
    // runs out: stopped and reported there too.
    assert_eq!(ok_text(&r.fetch("spinner", "").await), "spinner");
    let logs = wait_for_logs(&r, "spinner", |l| resets(l, "outside any request") >= 1).await;
    assert_eq!(resets(&logs, "outside any request"), 1, "{logs}");
    let details = r.owner_get("/workers/spinner").await.json();
    assert!(details["lastError"].as_str().unwrap_or("").contains("outside any request"), "{details}");
    let before = ticks(&r.owner_get("/workers/spinner/logs").await.text());
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(before, ticks(&r.owner_get("/workers/spinner/logs").await.text()), "kept running on the slow lane");
    assert_healthy(&r).await;
}

/// Limits under which a worker may spin for seconds per request: the slow
/// lane is what keeps it from the others.
fn spin_limits() -> sworn_runner::limits::Limits {
    sworn_runner::limits::Limits {
        cpu_time: std::time::Duration::from_secs(10),
        request_timeout: std::time::Duration::from_secs(120),
        slow_lane_after: Some(std::time::Duration::from_millis(50)),
        ..test_limits()
    }
}

/// Waits (bounded) until `worker` has at least `n` requests in hand.
async fn wait_active(r: &TestRunner, worker: &str, n: u64) {
    let path = format!("/workers/{worker}");
    for _ in 0..1000 {
        if r.owner_get(&path).await.json()["stats"]["activeSessions"].as_u64().unwrap_or(0) >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{worker} never had {n} requests in hand");
}

const SPIN_2S: &str = "const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end) {} };
     export default { async fetch(req) {
       const path = new URL(req.url).pathname;
       if (path === '/ok') return new Response('ok');
       if (path === '/later') { await new Promise((r) => setTimeout(r, 3000)); spin(2000); return new Response('late'); }
       spin(2000);
       return new Response('spun');
     } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_spins_moves_to_the_slow_lane_and_holds_no_shared_thread() {
    let r = Arc::new(TestRunner::start(spin_limits()).await);
    r.deploy("good", "module", GOOD).await;
    r.deploy("spin", "module", SPIN_2S).await;
    // Its first long turn runs on a shared thread, to its end, and moves it.
    assert_eq!(ok_text(&r.fetch("spin", "").await), "spun");
    let details = r.owner_get("/workers/spin").await.json();
    assert_eq!(details["lane"], "slow", "{details}");
    assert_eq!(r.owner_get("/workers/good").await.json()["lane"], "shared");
    let logs = r.owner_get("/workers/spin/logs").await.text();
    assert!(logs.contains("moved to the slow lane"), "{logs}");

    // Four more spin two seconds each, one after another on the slow lane,
    // while the good worker answers fifty requests one at a time. Pinned to
    // the shared threads, the spins held both of them and only a few good
    // requests got through between spins.
    let spins: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move { r.fetch("spin", "").await })
        })
        .collect();
    wait_active(&r, "spin", 2).await;
    for i in 0..50 {
        assert_eq!(ok_text(&r.fetch("good", "").await), "fine", "good request {i}");
    }
    let unfinished = spins.iter().filter(|s| !s.is_finished()).count();
    assert!(unfinished > 0, "every spin ended before the good worker's fifty answers");
    for s in spins {
        assert_eq!(ok_text(&s.await.expect("spin task")), "spun");
    }
    // It still answers, from the slow lane.
    assert_eq!(ok_text(&r.fetch("spin", "ok").await), "ok");
    assert_healthy(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_begun_on_a_shared_thread_before_its_worker_moved_stops_past_the_slice() {
    let r = Arc::new(TestRunner::start(spin_limits()).await);
    r.deploy("good", "module", GOOD).await;
    r.deploy("spin", "module", SPIN_2S).await;
    // '/later' starts on a shared thread and waits three seconds there;
    // meanwhile '/' spins and moves the worker. When '/later' wakes, its
    // spin on the shared thread is stopped at the slice.
    let later = {
        let r = r.clone();
        tokio::spawn(async move { r.fetch("spin", "later").await })
    };
    wait_active(&r, "spin", 1).await;
    assert_eq!(ok_text(&r.fetch("spin", "").await), "spun");
    let later = later.await.expect("later task");
    assert_eq!(later.status, 503, "{}", later.text());
    assert!(later.text().contains("slow lane"), "{}", later.text());
    // On the slow lane the same request runs to its end.
    assert_eq!(ok_text(&r.fetch("spin", "later").await), "late");
    assert_healthy(&r).await;
}

const SPIN_AFTER_LOG: &str = "const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end) {} };
     export default { async fetch(req) {
       const path = new URL(req.url).pathname;
       console.log('start ' + path);
       if (path === '/fetched') fetch('http://example.invalid/').catch(() => {});
       spin(500);
       return new Response('spun ' + path);
     } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_turn_that_did_nothing_visible_is_stopped_at_the_slice_and_run_again_on_the_slow_lane() {
    let r = TestRunner::start(spin_limits()).await;
    r.deploy("spin", "module", SPIN_AFTER_LOG).await;
    assert_eq!(ok_text(&r.fetch("spin", "").await), "spun /");
    let details = r.owner_get("/workers/spin").await.json();
    assert_eq!(details["lane"], "slow", "{details}");
    assert!(details["lastError"].is_null(), "a replay is not an error: {details}");
    let logs = r.owner_get("/workers/spin/logs").await.text();
    assert_eq!(logs.matches("start /\"").count(), 2, "started on a shared thread, then again on the slow lane: {logs}");
    assert_eq!(details["stats"]["successfulExecutions"], 1, "one request: {details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_turn_that_fetched_is_not_run_again() {
    let r = TestRunner::start(spin_limits()).await;
    r.deploy("spin", "module", SPIN_AFTER_LOG).await;
    assert_eq!(ok_text(&r.fetch("spin", "fetched").await), "spun /fetched");
    assert_eq!(r.owner_get("/workers/spin").await.json()["lane"], "slow");
    let logs = r.owner_get("/workers/spin/logs").await.text();
    assert_eq!(logs.matches("start /fetched").count(), 1, "its fetch was already out: {logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_slow_lane_off_a_spinning_worker_stays_on_the_shared_threads() {
    let limits = sworn_runner::limits::Limits { slow_lane_after: None, ..spin_limits() };
    let r = TestRunner::start(limits).await;
    r.deploy("spin", "module", SPIN_2S).await;
    assert_eq!(ok_text(&r.fetch("spin", "").await), "spun");
    let details = r.owner_get("/workers/spin").await.json();
    assert_eq!(details["lane"], "shared", "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn light_module_scope_interval_keeps_running() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy(
        "clock",
        "module",
        "let n = 0; setInterval(() => { n++; }, 20);
         export default { fetch() { return new Response(String(n)); } }",
    )
    .await;
    let first: u64 = r.fetch("clock", "").await.text().parse().unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let details = r.owner_get("/workers/clock").await.json();
    assert!(details["lastError"].is_null() || details["lastError"] == "", "{details}");
    let later: u64 = r.fetch("clock", "").await.text().parse().unwrap_or(0);
    assert!(later > first, "the interval stopped: {first} then {later}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stack_trace_callsites_do_not_hand_out_the_preludes_functions() {
    // Any function a callsite hands out that the worker did not define is the
    // runner's own (the prelude's dispatcher, timers, stream pumps...).
    let reply = call_hostile(
        "const own = new Set();
         const leaked = [];
         Error.prepareStackTrace = (e, sites) => {
           for (const s of sites) {
             let f; try { f = s.getFunction && s.getFunction(); } catch (_) {}
             if (typeof f === 'function' && !own.has(f)) leaked.push(s.getFunctionName() || '(anonymous)');
           }
           return 'x';
         };
         function probe() { return new Error('probe').stack; }
         function afterTimer() { return probe(); }
         own.add(Error.prepareStackTrace).add(probe).add(afterTimer);
         const handler = { async fetch() {
           await new Promise((r) => { own.add(r); setTimeout(() => { afterTimer(); r(); }, 1); });
           probe();
           return new Response(JSON.stringify(leaked));
         } };
         own.add(handler.fetch);
         export default handler;",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let leaked: Vec<String> = serde_json::from_str(&reply.text()).unwrap_or_default();
    assert!(leaked.is_empty(), "callsites handed out the runner's functions: {leaked:?}");
}

/// The text of a 200 reply (the assertion names the status otherwise).
fn ok_text(reply: &common::Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.text()
}

/// A runner whose workers have room for strings of tens of MiB.
async fn call_hostile_roomy(code: &str) -> common::Reply {
    let limits = sworn_runner::limits::Limits {
        memory_bytes: 256 << 20,
        cpu_time: std::time::Duration::from_secs(5),
        ..test_limits()
    };
    call_hostile_with(limits, code).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_arguments_over_the_url_limit_are_type_errors_and_can_parse_says_false() {
    let reply = call_hostile_roomy(
        "export default { fetch() {
           const long = 'http://a/' + 'x'.repeat(2 ** 21);
           const out = [];
           const attempt = (what, f) => { try { f(); out.push(what + ' ok'); } catch (e) { out.push(what + ' ' + e.name + ': ' + e.message); } };
           attempt('parse', () => new URL(long));
           attempt('base', () => new URL('/p', long));
           attempt('object', () => new URL({ toString() { return long; } }));
           const u = new URL('http://a/');
           attempt('setter', () => { u.pathname = 'x'.repeat(2 ** 21 + 1); });
           out.push('canParse ' + URL.canParse(long) + ' ' + URL.canParse('http://a/'));
           out.push('still ' + u.href);
           return new Response(out.join('\\n'));
         } }",
    )
    .await;
    let text = ok_text(&reply);
    let lines: Vec<&str> = text.lines().collect();
    for (i, what) in ["parse", "base", "object"].iter().enumerate() {
        assert!(lines[i].starts_with(&format!("{what} TypeError:")), "{text}");
        assert!(lines[i].contains("the limit is 2097152"), "{text}");
    }
    assert!(lines[3].starts_with("setter TypeError:") && lines[3].contains("URL part"), "{text}");
    assert_eq!(lines[4], "canParse false true");
    assert_eq!(lines[5], "still http://a/", "a refused setter leaves the URL as it was");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_objects_given_to_url_and_search_params_throw_their_own_errors() {
    let reply = call_hostile(
        "export default { fetch() {
           const out = [];
           const attempt = (what, f) => { try { out.push(what + ' ok ' + f()); } catch (e) { out.push(what + ' ' + e.name + ' ' + e.message); } };
           const liar = { toString() { throw new SyntaxError('mine'); } };
           attempt('url', () => new URL(liar));
           attempt('base', () => new URL('/x', liar));
           attempt('canParse', () => URL.canParse(liar));
           attempt('record', () => new URLSearchParams(new Proxy({}, { ownKeys() { throw new RangeError('keys'); } })));
           attempt('iterator', () => new URLSearchParams({ [Symbol.iterator]() { throw new EvalError('iter'); } }));
           attempt('pair', () => new URLSearchParams([['a', 'b', 'c']]));
           let n = 0;
           const shifty = { get a() { return ++n === 1 ? 'first' : 'x'.repeat(1e6); } };
           attempt('getter', () => new URLSearchParams(shifty).get('a'));
           attempt('append', () => { const p = new URLSearchParams(); p.append(liar, 'v'); return p.toString(); });
           return new Response(out.join('\\n'));
         } }",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.text(),
        [
            "url SyntaxError mine",
            "base SyntaxError mine",
            "canParse SyntaxError mine",
            "record RangeError keys",
            "iterator EvalError iter",
            "pair TypeError URLSearchParams: each pair must have exactly two items",
            "getter ok first",
            "append SyntaxError mine",
        ]
        .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_params_of_many_pairs_are_built_in_the_worker_heap_and_serialize_back() {
    let reply = call_hostile_roomy(
        "export default { fetch() {
           const p = new URLSearchParams('a=1&'.repeat(200000) + 'last=%C3%A9');
           const s = p.toString();
           return new Response(p.size + ' ' + p.get('last') + ' ' + s.length + ' ' + s.endsWith('&last=%C3%A9'));
         } }",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), format!("200001 é {} true", 200_000 * 4 + "last=%C3%A9".len()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_params_serialization_over_the_form_limit_is_a_range_error() {
    let reply = call_hostile_roomy(
        "export default { fetch() {
           const p = new URLSearchParams();
           p.append('k', 'x'.repeat(23e6));
           try { return new Response('serialized ' + p.toString().length); }
           catch (e) { return new Response(e.name + ': ' + e.message); }
         } }",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = reply.text();
    assert!(text.starts_with("RangeError: URLSearchParams:"), "{text}");
    assert!(text.contains(&format!("the limit is {}", 64 << 20)), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_take_hostile_delays_and_ids_and_stop_at_their_limit() {
    let reply = call_hostile_roomy(
        "export default { async fetch() {
           const out = [];
           const fired = [];
           const attempt = (what, f) => { try { out.push(what + ' ok ' + f()); } catch (e) { out.push(what + ' ' + e.name + ' ' + e.message); } };
           attempt('valueOf', () => setTimeout(() => {}, { valueOf() { throw new URIError('delay'); } }));
           attempt('callback', () => setTimeout('fired.push(1)', 0));
           attempt('clear', () => clearTimeout({ valueOf() { throw new URIError('id'); } }));
           attempt('clearUnknown', () => clearTimeout(123456789));
           for (const [name, delay] of [['nan', NaN], ['neg', -5], ['inf', Infinity], ['huge', 1e300], ['str', '2'], ['big', 2 ** 53]]) {
             const id = setTimeout(() => fired.push(name), delay);
             if (name === 'inf' || name === 'huge' || name === 'big') clearTimeout(id);
           }
           await new Promise((r) => setTimeout(r, 50));
           out.push('fired ' + fired.sort().join(','));
           let made = 0;
           try { for (;;) { setTimeout(() => {}, 60000); made++; } }
           catch (e) { out.push('limit ' + e.name + ' ' + e.message + ' after ' + made); }
           return new Response(out.join('\\n'));
         } }",
    )
    .await;
    let text = ok_text(&reply);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "valueOf URIError delay", "{text}");
    assert!(lines[1].starts_with("callback TypeError timer callback must be a function"), "{text}");
    assert_eq!(lines[2], "clear URIError id", "{text}");
    assert_eq!(lines[3], "clearUnknown ok undefined", "{text}");
    // Infinity, 1e300 and 2^53 are cleared at once, before any timer runs.
    assert_eq!(lines[4], "fired nan,neg,str", "{text}");
    assert!(lines[5].starts_with("limit RangeError too many pending timers (limit 10000)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_caught_before_the_microtask_checkpoint_is_not_reported() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy(
        "late",
        "module",
        "export default { async fetch() {
           const caught = Promise.reject(new Error('caught a little later'));
           await null;
           await null;
           caught.catch(() => {});
           Promise.reject(new Error('never caught'));
           return new Response('ok');
         } }",
    )
    .await;
    assert_eq!(r.fetch("late", "").await.text(), "ok");
    let logs = r.owner_get("/workers/late/logs").await.text();
    assert!(logs.contains("Uncaught (in promise) Error: never caught"), "{logs}");
    assert!(!logs.contains("caught a little later"), "a handled rejection was reported: {logs}");
    let details = r.owner_get("/workers/late").await.json();
    assert!(details["lastError"].as_str().is_some_and(|e| e.contains("never caught")), "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thrown_proxy_whose_traps_throw_is_a_500_not_a_timeout() {
    for kind in ["", "async "] {
        let code = format!(
            "export default {{ {kind}fetch() {{
               throw new Proxy({{}}, {{
                 has() {{ throw new Error('has'); }},
                 get() {{ throw new Error('get'); }},
                 getPrototypeOf() {{ throw new Error('proto'); }},
               }});
             }} }}"
        );
        let reply = call_hostile(&code).await;
        // 500 with the error's (unprintable) text, not 504 after the request timeout.
        assert_eq!(reply.status, 500, "{kind}fetch: {}", reply.text());
        assert!(reply.text().contains("unprintable"), "{kind}fetch: {}", reply.text());
    }
}

/// Finding 7: a heap filled by many small objects leaves no room even for
/// QuickJS's own "out of memory" error, which then surfaces as `null`. It is
/// still the memory limit: 503, and the instance is replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heap_too_full_for_its_own_error_object_is_still_the_memory_limit() {
    // Filling the heap a few bytes at a time is slow on a busy machine: the
    // memory limit, not the CPU limit, must be what stops it.
    let limits = sworn_runner::limits::Limits {
        cpu_time: std::time::Duration::from_secs(20),
        request_timeout: std::time::Duration::from_secs(40),
        ..test_limits()
    };
    let r = TestRunner::start(limits).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "crumbs",
        "module",
        "let head = null;
         export default { fetch(req) {
           if (new URL(req.url).pathname === '/ok') return new Response('ok');
           for (;;) head = { next: head };
         } }",
    )
    .await;
    for _ in 0..3 {
        let resp = r.fetch("crumbs", "").await;
        assert_eq!(resp.status, 503, "{}", resp.text());
        assert!(resp.text().contains("memory limit"), "{}", resp.text());
        // Replaced: the next request finds a fresh heap.
        let again = r.fetch("crumbs", "ok").await;
        assert_eq!((again.status, again.text()), (200, "ok".to_string()));
    }
    // With room to spare, a thrown null is just what the script threw.
    r.deploy("nothing", "module", "export default { fetch() { throw null } }").await;
    let thrown = r.fetch("nothing", "").await;
    assert_eq!(thrown.status, 500, "{}", thrown.text());
    assert!(thrown.text().contains("null"), "{}", thrown.text());
    assert_healthy(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decompression_bomb_fills_only_the_workers_heap() {
    // Zeros gzipped in the worker, then inflated: 8 MiB come out in pieces
    // of at most 64 KiB; 64 MiB (from about 64 KiB) meet the 32 MiB heap
    // limit, since all that one chunk inflates to is enqueued at once.
    let limits = sworn_runner::limits::Limits { cpu_time: std::time::Duration::from_secs(30), ..test_limits() };
    let r = TestRunner::start(limits).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "bomb",
        "module",
        "async function bomb(mib) {
           const c = new CompressionStream('gzip');
           const w = c.writable.getWriter();
           const zeros = new Uint8Array(1 << 20);
           const out = new Response(c.readable).arrayBuffer();
           for (let i = 0; i < mib; i++) w.write(zeros);
           w.close();
           return new Uint8Array(await out);
         }
         export default { async fetch(req) {
           const big = new URL(req.url).pathname === '/big';
           const packed = await bomb(big ? 64 : 8);
           const d = new DecompressionStream('gzip');
           const w = d.writable.getWriter();
           w.write(packed).catch(() => {});
           w.close().catch(() => {});
           let total = 0, largest = 0;
           for await (const piece of d.readable) {
             total += piece.length;
             largest = Math.max(largest, piece.length);
           }
           return new Response(packed.length + ' ' + total + ' ' + largest);
         } }",
    )
    .await;
    let streamed = ok_text(&r.fetch("bomb", "").await);
    let parts: Vec<usize> = streamed.split(' ').map(|p| p.parse().expect("number")).collect();
    assert!(parts[0] < 1 << 20, "packed to {} bytes", parts[0]);
    assert_eq!(parts[1], 8 << 20, "{streamed}");
    assert!(parts[2] <= 64 << 10, "pieces of at most 64 KiB: {streamed}");
    let big = r.fetch("bomb", "big").await;
    assert_eq!(big.status, 503, "{}", big.text());
    assert!(big.text().contains("memory limit"), "{}", big.text());
    assert_healthy(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byte_arrays_made_by_native_functions_count_against_the_memory_limit() {
    // TextEncoder's bytes come from a native function; kept, they must meet
    // the 32 MiB heap limit rather than grow the runner outside it.
    let limits = sworn_runner::limits::Limits { cpu_time: std::time::Duration::from_secs(30), ..test_limits() };
    let r = TestRunner::start(limits).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "hoard",
        "module",
        "export default { fetch() {
           const text = 'x'.repeat(1 << 20);
           const keep = [];
           for (let i = 0; i < 256; i++) keep.push(new TextEncoder().encode(text));
           return new Response('kept ' + keep.length + ' MiB');
         } }",
    )
    .await;
    let reply = r.fetch("hoard", "").await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert!(reply.text().contains("memory limit"), "{}", reply.text());
    assert_healthy(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_longer_than_its_declared_length_is_cut_never_truncated_into_a_complete_body() {
    // The prelude keeps a stream's known length under a symbol, which a
    // worker can find and lower. The runner still counts what is sent.
    let r = TestRunner::start(test_limits()).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy(
        "liar",
        "module",
        "export default { fetch() {
           const s = new Response('hello').body;
           for (const k of Object.getOwnPropertySymbols(s)) if (s[k] && 'length' in s[k]) s[k].length = 2;
           return new Response(s);
         } }",
    )
    .await;
    // Raw HTTP: a client must never receive a well-framed response whose
    // body is the first two bytes.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(r.addr()).await.expect("connect");
    tcp.write_all(b"GET /workers/liar/fetch/ HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.expect("send");
    let mut raw = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), tcp.read_to_end(&mut raw)).await;
    assert!(read.is_ok(), "the runner neither answered nor closed");
    let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    let complete_lie = text.contains("content-length: 2\r\n") && text.ends_with("\r\n\r\nhe");
    assert!(!complete_lie, "a body cut to the declared length looks complete: {text:?}");
    assert!(!text.contains("hello"), "{text:?}");
    assert_healthy(&r).await;
}
