//! `crypto.subtle` in workers: known-answer vectors, CryptoKey and
//! SubtleCrypto objects, error names, the PBKDF2 cost bound, key memory
//! accounting, the CPU limit, and a cross-check against Node's WebCrypto
//! (OpenSSL) on the same deterministic script.

mod common;

use std::time::Duration;

use common::{test_limits, TestRunner};
use sworn_runner::limits::Limits;

/// Unoptimized RustCrypto is 10-30x slower than a release build: fixtures
/// doing thousands of PBKDF2 iterations or many EC operations in one
/// request get a CPU limit far above what they use.
fn fixture_limits() -> Limits {
    Limits { cpu_time: Duration::from_secs(20), request_timeout: Duration::from_secs(60), ..test_limits() }
}

const HARNESS: &str = include_str!("wpt/harness.js");
const UTIL: &str = include_str!("subtle/util.js");

/// Runs a WPT-style fixture (tests/subtle/*.js) in a worker; every test must pass.
async fn run(name: &str, source: &str) {
    let r = TestRunner::start(fixture_limits()).await;
    r.deploy(name, "module", &format!("{HARNESS}\n{UTIL}\n{source}")).await;
    r.fetch(name, "").await.assert_all_passed(name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_answer_vectors() {
    run("vectors", include_str!("subtle/vectors.js")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_formats_and_wrapping() {
    run("keys", include_str!("subtle/keys.js")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_names_and_pbkdf2_limit() {
    run("errors", include_str!("subtle/errors.js")).await;
}

const CROSSCHECK: &str = include_str!("subtle/crosscheck.js");

/// Runs `script` as an ES module under `node` and returns what it printed.
fn run_node(script: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = match Command::new("node")
        .arg("--input-type=module")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!(
            "this test compares crypto.subtle with Node's WebCrypto and needs `node` \
             (Node.js 20 or later) on PATH: install the `nodejs` package (mk/subtle.apt) ({e})"
        ),
    };
    let mut stdin = child.stdin.take().expect("node stdin");
    stdin.write_all(script.as_bytes()).expect("write the script to node");
    drop(stdin);
    let out = child.wait_with_output().expect("node runs");
    assert!(out.status.success(), "node failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("node prints UTF-8")
}

/// The same deterministic script (tests/subtle/crosscheck.js) gives the
/// same results in a worker and under Node's OpenSSL-backed WebCrypto.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_node_webcrypto() {
    let script = format!(
        "import {{ webcrypto }} from \"node:crypto\";\nglobalThis.crypto ??= webcrypto;\n\
         {UTIL}\n{CROSSCHECK}\nconsole.log(JSON.stringify(await crosscheck()));\n"
    );
    let node = tokio::task::spawn_blocking(move || run_node(&script)).await.expect("node task");
    let node: serde_json::Value =
        serde_json::from_str(node.trim()).unwrap_or_else(|e| panic!("node printed no JSON ({e}): {node}"));

    let r = TestRunner::start(fixture_limits()).await;
    let worker = format!(
        "{UTIL}\n{CROSSCHECK}\nexport default {{ async fetch() {{ return Response.json(await crosscheck()); }} }};\n"
    );
    r.deploy("crosscheck", "module", &worker).await;
    let resp = r.fetch("crosscheck", "").await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let sworn = resp.json();

    let (node, sworn) =
        (node.as_object().expect("node result is an object"), sworn.as_object().expect("worker result is an object"));
    assert!(node.len() > 250, "only {} results from node", node.len());
    let mut diffs = Vec::new();
    for (k, want) in node {
        match sworn.get(k) {
            Some(got) if got == want => {}
            Some(got) => diffs.push(format!("  {k}:\n    node:  {want}\n    sworn: {got}")),
            None => diffs.push(format!("  {k}: missing in the worker's output")),
        }
    }
    for k in sworn.keys().filter(|k| !node.contains_key(*k)) {
        diffs.push(format!("  {k}: missing in node's output"));
    }
    assert!(
        diffs.is_empty(),
        "{} of {} results differ from Node's WebCrypto:\n{}",
        diffs.len(),
        node.len(),
        diffs.join("\n")
    );
}

const KEYS: &str = r#"
const big = new Uint8Array(256 << 10); // a 256 KiB HKDF secret; 32 of them fill the 8 MiB limit
const importBig = () => crypto.subtle.importKey("raw", big, "HKDF", false, ["deriveBits"]);
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/discard") {
      for (let i = 0; i < 100; i++) await importBig();
      return new Response("discarded 100");
    }
    if (path === "/cycles") {
      // Reachable only through reference cycles: the cycle collector frees them.
      for (let i = 0; i < 100; i++) { const o = { key: await importBig() }; o.self = o; }
      return new Response("cycles 100");
    }
    if (path === "/hold") {
      const keys = [];
      for (let i = 0; i < 100; i++) keys.push(await importBig());
      return new Response(`held ${keys.length}`);
    }
    return new Response("ok");
  },
};
"#;

/// Key material lives outside the QuickJS heap but counts against the
/// worker's memory limit: discarded keys are freed (refcount, or the cycle
/// collector), so making 25 MiB of keys one after the other works under an
/// 8 MiB limit, while holding them fails like any memory bomb.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_memory_is_reclaimed_and_bounded() {
    let limits = Limits { memory_bytes: 8 << 20, ..fixture_limits() };
    let r = TestRunner::start(limits).await;
    r.deploy("keys", "module", KEYS).await;
    for path in ["discard", "cycles", "discard"] {
        let resp = r.fetch("keys", path).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.text());
    }
    let held = r.fetch("keys", "hold").await;
    assert_eq!(held.status, 503, "{}", held.text());
    assert!(held.text().contains("memory limit"), "{}", held.text());
    // A new instance serves afterwards.
    let again = r.fetch("keys", "discard").await;
    assert_eq!(again.status, 200, "{}", again.text());
}

/// A loop of costly native calls stops at the CPU limit: each call checks the
/// request's budget first, since QuickJS polls its interrupt handler only
/// every few thousand operations and a caught error would not stop the loop.
/// Without the check every call in the loop would run (each one costs more
/// than the whole budget), and the request would pin its thread for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_calls_stop_at_the_cpu_limit() {
    let limits = Limits { cpu_time: Duration::from_millis(1), ..test_limits() };
    let r = TestRunner::start(limits).await;
    // One PBKDF2-SHA-256 call of 100,000 iterations: about 10 ms of CPU in a
    // release build with SHA-NI, far more unoptimized; the budget is 1 ms.
    r.deploy(
        "kdf",
        "module",
        r#"
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/ok") return new Response("ok");
    const key = await crypto.subtle.importKey("raw", new Uint8Array(16), "PBKDF2", false, ["deriveBits"]);
    const alg = { name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(16), iterations: 100000 };
    for (let i = 1; ; i++) {
      try { await crypto.subtle.deriveBits(alg, key, 256); console.log("derived", i); } catch {}
    }
  },
};
"#,
    )
    .await;
    let resp = r.fetch("kdf", "").await;
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert!(resp.text().contains("CPU time limit"), "{}", resp.text());
    let logs = r.owner_get("/workers/kdf/logs").await.json();
    let derived = logs["lines"]
        .as_array()
        .expect("log lines")
        .iter()
        .filter(|l| l["message"].as_str().unwrap_or("").starts_with("derived"))
        .count();
    assert!(derived <= 1, "{derived} calls ran past the CPU limit: {logs}");
    let ok = r.fetch("kdf", "ok").await;
    assert_eq!(ok.status, 200, "{}", ok.text());
}
