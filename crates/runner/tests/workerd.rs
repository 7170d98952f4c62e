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

/// `GET /{path}` on both, workerd's first, as status, how the body's length
/// was sent (`length N` or `chunked`), and body.
async fn both_framed(module: &str, paths: &[&str]) -> Vec<(String, String)> {
    let workerd = Workerd::start(module).await;
    let runner = TestRunner::start(test_limits()).await;
    runner.deploy("w", "module", module).await;
    let framed = |r: &common::Reply| {
        let length = r.headers.get("content-length").and_then(|v| v.to_str().ok());
        let chunked = r.headers.get("transfer-encoding").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
        let framing = match (length, chunked) {
            (Some(n), false) => format!("length {n}"),
            (None, true) => "chunked".to_string(),
            (l, c) => format!("content-length {l:?}, chunked {c}"),
        };
        format!("{} {framing} {}", r.status, r.text())
    };
    let mut out = Vec::new();
    for path in paths {
        let a = workerd.client.get(&format!("/{path}")).await;
        let b = runner.fetch("w", path).await;
        out.push((format!("{path}: {}", framed(&a)), format!("{path}: {}", framed(&b))));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_of_known_length_keep_their_content_length_as_on_workerd() {
    let module = r#"
const bytes = (s) => new TextEncoder().encode(s);
const once = (chunk) => new ReadableStream({ start(c) { c.enqueue(chunk); c.close(); } });
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/rebuilt") return new Response(new Response("hello world").body);
    if (path === "/init") { const r = new Response("abc", { headers: { "x-a": "1" } }); return new Response(r.body, r); }
    if (path === "/stream") return new Response(once(bytes("x")));
    if (path === "/blob") return new Response(new Blob(["abcd"]).stream());
    if (path === "/tee") { const [a] = new Response("hello").body.tee(); return new Response(a); }
    if (path === "/piped") return new Response(new Response("hello").body.pipeThrough(new TransformStream()));
    if (path === "/fixed") {
      const { readable, writable } = new FixedLengthStream(5);
      const w = writable.getWriter(); w.write(bytes("hel")); w.write(bytes("lo")); w.close();
      return new Response(readable);
    }
    if (path === "/explicit") return new Response(once(bytes("xy")), { headers: { "content-length": "2" } });
    if (path === "/cloned") return new Response("cloned").clone();
    if (path === "/errors") {
      const kind = (f) => { try { f(); return "ok"; } catch (e) { return e.constructor.name; } };
      return new Response([kind(() => new FixedLengthStream(-1)), kind(() => new FixedLengthStream(1.5)), kind(() => new FixedLengthStream(0)), typeof FixedLengthStream].join(" "));
    }
    return new Response("abcdef");
  },
};
"#;
    let paths = ["rebuilt", "init", "stream", "blob", "tee", "piped", "fixed", "explicit", "cloned", "errors", "plain"];
    for (workerd, runner) in both_framed(module, &paths).await {
        assert_eq!(runner, workerd, "the runner differs from workerd");
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_decoder_encodings_and_structured_clone_transfer_match_workerd() {
    let module = r#"
const kind = (f) => { try { return JSON.stringify(f()); } catch (e) { return e.constructor.name; } };
const b = (...x) => new Uint8Array(x);
export default {
  async fetch() {
    return Response.json({
      latin1: kind(() => new TextDecoder("latin1").decode(b(0x41, 0xe9, 0x80, 0x9f, 0xff))),
      ascii: kind(() => [new TextDecoder("us-ascii").encoding, new TextDecoder(" ISO-8859-1 ").encoding]),
      le: kind(() => new TextDecoder("utf-16le").decode(b(0x41, 0, 0x3d, 0xd8, 0x00, 0xde))),
      be: kind(() => new TextDecoder("utf-16be").decode(b(0, 0x41, 0xd8, 0x3d, 0xde, 0x00))),
      names: kind(() => [new TextDecoder("utf-16").encoding, new TextDecoder("unicodefffe").encoding, new TextDecoder().encoding]),
      bom: kind(() => [new TextDecoder("utf-16le").decode(b(0xff, 0xfe, 0x41, 0)), new TextDecoder("utf-16le", { ignoreBOM: true }).decode(b(0xff, 0xfe, 0x41, 0)).length]),
      lone: kind(() => new TextDecoder("utf-16le").decode(b(0x00, 0xd8, 0x41, 0x00))),
      odd: kind(() => new TextDecoder("utf-16le").decode(b(0x41, 0x00, 0x42))),
      fatal: kind(() => new TextDecoder("utf-16le", { fatal: true }).decode(b(0x00, 0xdc))),
      stream: kind(() => { const d = new TextDecoder("utf-16le"); return d.decode(b(0x41), { stream: true }) + "|" + d.decode(b(0x00, 0x3d, 0xd8), { stream: true }) + "|" + d.decode(b(0x00, 0xde)); }),
      bad: kind(() => new TextDecoder("koi8-x")),
      streamName: kind(() => [new TextDecoderStream("latin1").encoding, new TextDecoderStream().encoding]),
      sc: kind(() => { const buf = new ArrayBuffer(4); new Uint8Array(buf).set([1, 2, 3, 4]); const v = new Uint8Array(buf, 1, 2);
        const c = structuredClone({ buf, v }, { transfer: [buf] }); return [buf.byteLength, c.buf.byteLength, [...c.v], c.v.buffer === c.buf]; }),
      scBad: kind(() => structuredClone(1, { transfer: [{}] })),
      scDup: kind(() => { const x = new ArrayBuffer(1); return structuredClone(x, { transfer: [x, x] }); }),
    });
  },
};
"#;
    for (workerd, runner) in both(module, &[""]).await {
        assert_eq!(workerd.0, 200, "workerd: {}", workerd.1);
        let (w, r): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(&workerd.1).expect("workerd JSON"),
            serde_json::from_str(&runner.1).unwrap_or_else(|e| panic!("runner JSON ({e}): {}", runner.1)),
        );
        assert_eq!(r, w, "the runner differs from workerd");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_streams_match_workerd() {
    // The blobs are Python's zlib output for the same line three times:
    // gzip.compress(mtime=0), zlib.compress, and raw deflate (wbits=-15).
    let module = r#"
const hex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));
const GZIP = hex("1f8b08000000000002030b2ecf2fca5348cecf2d284a2d2e4e2d5628c9c82c56c8c9cc4bd5530826530e00f4beb5e554000000");
const ZLIB = hex("789c0b2ecf2fca5348cecf2d284a2d2e4e2d5628c9c82c56c8c9cc4bd5530826530e0046c91f42");
const RAW = hex("0b2ecf2fca5348cecf2d284a2d2e4e2d5628c9c82c56c8c9cc4bd5530826530e00");
const FORMATS = ["gzip", "deflate", "deflate-raw"];
const BLOB = { gzip: GZIP, deflate: ZLIB, "deflate-raw": RAW };
const name = (e) => (e && e.constructor ? e.constructor.name : String(e));
const outcome = async (f) => { try { return await f(); } catch (e) { return name(e); } };
// Writes the chunks, closes, and reads the whole output back.
async function run(stream, chunks) {
  const writer = stream.writable.getWriter();
  const out = new Response(stream.readable).arrayBuffer();
  for (const c of chunks) writer.write(c).catch(() => {});
  writer.close().catch(() => {});
  return new Uint8Array(await out);
}
const text = (u8) => new TextDecoder().decode(u8);
const join = (...parts) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let i = 0; for (const p of parts) { out.set(p, i); i += p.length; } return out; };
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const result = {};
    if (path === "/kinds") {
      const c = new CompressionStream("gzip"), d = new DecompressionStream("deflate");
      result.types = [c instanceof TransformStream, d instanceof TransformStream, String(c), String(d),
        typeof CompressionStream, c.readable instanceof ReadableStream, d.writable instanceof WritableStream];
      for (const bad of ["brotli", "GZIP", "", undefined]) result["new " + bad] = await outcome(() => new CompressionStream(bad) && "made");
      result.decBad = await outcome(() => new DecompressionStream("zstd") && "made");
      result.noArg = await outcome(() => new CompressionStream() && "made");
      result.stringChunk = await outcome(async () => (await run(new CompressionStream("gzip"), ["text"])).length);
      return Response.json(result);
    }
    const line = "Sworn compresses this line. ".repeat(3);
    const big = "0123456789abcdef".repeat(40000) + "end";
    for (const f of FORMATS) {
      result[f + " known"] = await outcome(async () => text(await run(new DecompressionStream(f), [BLOB[f]])));
      result[f + " bytewise"] = await outcome(async () => text(await run(new DecompressionStream(f), [...BLOB[f]].map((b) => new Uint8Array([b])))));
      result[f + " round trip"] = await outcome(async () => {
        const packed = await run(new CompressionStream(f), [new TextEncoder().encode(big), new Uint8Array(0), new TextEncoder().encode(line).buffer]);
        const back = text(await run(new DecompressionStream(f), [packed]));
        return [back === big + line, packed.length < big.length / 50];
      });
      result[f + " empty"] = await outcome(async () => { const p = await run(new CompressionStream(f), []); return (await run(new DecompressionStream(f), [p])).length; });
      result[f + " truncated"] = await outcome(async () => text(await run(new DecompressionStream(f), [BLOB[f].slice(0, BLOB[f].length - 5)])));
      result[f + " trailing"] = await outcome(async () => text(await run(new DecompressionStream(f), [join(BLOB[f], hex("0000"))])));
      result[f + " garbage"] = await outcome(async () => text(await run(new DecompressionStream(f), [hex("ffffffffffffffffffffffff")])));
    }
    result.piped = await outcome(async () => await new Response(new Response(GZIP).body.pipeThrough(new DecompressionStream("gzip"))).text());
    return Response.json(result);
  },
};
"#;
    for (workerd, runner) in both(module, &["kinds", "formats"]).await {
        assert_eq!(workerd.0, 200, "workerd: {}", workerd.1);
        let (w, r): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(&workerd.1).expect("workerd JSON"),
            serde_json::from_str(&runner.1).unwrap_or_else(|e| panic!("runner JSON ({e}): {}", runner.1)),
        );
        assert_eq!(r, w, "the runner differs from workerd");
    }
}
