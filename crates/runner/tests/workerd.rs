//! The same worker on workerd (from npm, the pinned version of
//! `scripts/workerd`) and on the runner, sent the same requests: the
//! answers must be the same. workerd is the oracle: where the two differ,
//! the runner is wrong.
//!
//! The binary comes from `SWORN_WORKERD` (`make test` sets it) or the
//! cache `scripts/workerd` fills. Without one the tests fail: they never
//! pass without their oracle.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{test_limits, TestRunner};

/// The compatibility date both sides run under.
const COMPATIBILITY_DATE: &str = "2026-11-01";

fn workerd_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SWORN_WORKERD") {
        return PathBuf::from(p);
    }
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/workerd"))
        .stderr(Stdio::inherit())
        .output()
        .expect("scripts/workerd runs");
    assert!(out.status.success(), "scripts/workerd failed: the oracle is missing (make deps installs it)");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// workerd serving one ES module worker on a loopback port.
struct Workerd {
    child: Child,
    client: TestRunner,
    _dir: tempfile::TempDir,
}

impl Workerd {
    async fn start(module: &str) -> Workerd {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        std::fs::write(dir.path().join("worker.js"), module).expect("write worker");
        let config = format!(
            r#"using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:{port}", http = (), service = "main") ]
);
const w :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "{COMPATIBILITY_DATE}",
);
"#
        );
        std::fs::write(dir.path().join("config.capnp"), config).expect("write config");
        let child = Command::new(workerd_binary())
            .args(["serve", "config.capnp"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn workerd");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "workerd did not listen within 30 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Workerd { child, client: TestRunner::connect(format!("http://127.0.0.1:{port}")), _dir: dir }
    }
}

impl Drop for Workerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(status, body)` of `GET /{path}` on both, workerd's first.
async fn both(module: &str, paths: &[&str]) -> Vec<((u16, String), (u16, String))> {
    let workerd = Workerd::start(module).await;
    let runner = TestRunner::start(test_limits()).await;
    runner.deploy("w", "module", module).await;
    let mut out = Vec::new();
    for path in paths {
        let a = workerd.client.get(&format!("/{path}")).await;
        let b = runner.fetch("w", path).await;
        out.push(((a.status, a.text()), (b.status, b.text())));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_requests_scheduler_wait_and_timing_safe_equal_match_workerd() {
    let module = r#"
const bytes = (...b) => new Uint8Array(b);
const kind = (f) => { try { return String(f()); } catch (e) { return e.constructor.name; } };
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/redirect") {
      // A proxy worker passes the incoming request on: it must not follow
      // a redirect the client should see.
      return new Response([request.redirect, new Request("http://x/", request).redirect].join(" "));
    }
    if (path === "/wait") {
      const start = Date.now();
      const value = await scheduler.wait(20);
      const aborted = new AbortController();
      aborted.abort(new Error("stop"));
      const reason = await scheduler.wait(1000, { signal: aborted.signal }).then(() => "resolved", (e) => e.message);
      return new Response([typeof scheduler.wait, String(value), Date.now() - start >= 15, reason].join(" "));
    }
    const s = crypto.subtle;
    return new Response([
      kind(() => s.timingSafeEqual(bytes(1, 2, 3), bytes(1, 2, 3))),
      kind(() => s.timingSafeEqual(bytes(1, 2, 3), bytes(1, 2, 4))),
      kind(() => s.timingSafeEqual(new ArrayBuffer(0), new ArrayBuffer(0))),
      kind(() => s.timingSafeEqual(bytes(1, 2), bytes(1, 2, 3))),
      kind(() => s.timingSafeEqual(bytes(1), "x")),
    ].join(" "));
  },
};
"#;
    for (workerd, runner) in both(module, &["redirect", "wait", "tse"]).await {
        assert_eq!(workerd.0, 200, "workerd: {}", workerd.1);
        assert_eq!(runner, workerd, "the runner differs from workerd");
    }
}
