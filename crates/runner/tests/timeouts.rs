//! Timeouts wherever the runner waits for bytes (issue 17, finding 3): slow
//! or stalled clients lose their connection instead of holding it, its
//! buffers and a worker's concurrency slot forever. Assertions are about
//! what happens (closed, refused, dropped), never about how long it took;
//! the outer waits only keep a broken runner from hanging the test run.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{test_limits, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest a test waits for a connection to be closed before calling it
/// left open.
const PATIENCE: Duration = Duration::from_secs(30);

fn addr(r: &TestRunner) -> String {
    r.base.trim_start_matches("http://").to_string()
}

/// Reads until the runner closes the connection; what it sent, or `None`
/// if it was still open after [`PATIENCE`].
async fn read_to_close(s: &mut TcpStream) -> Option<String> {
    let mut out = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(PATIENCE, read).await.ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Resident set size of process `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_healthy(addr: &str) {
    for _ in 0..200 {
        if let Ok(mut s) = TcpStream::connect(addr).await {
            let _ = s.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await;
            if read_to_close(&mut s).await.is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("runner at {addr} did not become healthy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_unfinished_request_heads_are_closed_and_their_memory_reused() {
    let port = free_port();
    let child = Child(
        Command::new(env!("CARGO_BIN_EXE_runner"))
            .args(["--listen", &format!("tcp:127.0.0.1:{port}"), "--fetch", "none", "--nsm", "off"])
            .args(["--threads", "2", "--header-timeout", "1s"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn runner"),
    );
    let addr = format!("127.0.0.1:{port}");
    wait_healthy(&addr).await;
    let before = rss(child.0.id());
    let mut peaks = Vec::new();
    // Rounds of a thousand: what one round held must be freed and reused
    // by the next, or RSS grows by a round's worth each time.
    const ROUNDS: usize = 4;
    for round in 0..ROUNDS {
        let mut conns = Vec::new();
        for _ in 0..1000 {
            let mut s = TcpStream::connect(&addr).await.expect("connect");
            // A head that never ends: no blank line.
            s.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ").await.expect("write");
            conns.push(s);
        }
        // Lets the runner take in every connection before measuring.
        tokio::time::sleep(Duration::from_millis(300)).await;
        peaks.push(rss(child.0.id()));
        // All at once, so a runner that never closes them costs one
        // PATIENCE, not a thousand.
        let mut waits = tokio::task::JoinSet::new();
        for mut s in conns {
            waits.spawn(async move { read_to_close(&mut s).await.is_some() });
        }
        let closed = waits.join_all().await.into_iter().filter(|&c| c).count();
        assert_eq!(closed, 1000, "round {round}: unfinished heads still open after the header timeout");
        wait_healthy(&addr).await;
    }
    let after = rss(child.0.id());
    eprintln!(
        "runner RSS (KiB): {} idle, {:?} with each round of 1000 open heads, {} after",
        before >> 10,
        peaks.iter().map(|p| p >> 10).collect::<Vec<_>>(),
        after >> 10
    );
    // Kept memory would cost a round's worth per round; allocator slack
    // costs a fraction of one. Allow two rounds' worth for all of them.
    let one_round = peaks[0].saturating_sub(before);
    assert!(after <= before + 2 * one_round, "RSS grew round after round: {before} -> {peaks:?} -> {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_before_its_first_request_is_closed() {
    let limits = sworn_runner::limits::Limits { header_timeout: Duration::from_millis(300), ..test_limits() };
    let r = TestRunner::start(limits).await;
    let mut s = TcpStream::connect(addr(&r)).await.expect("connect");
    assert!(read_to_close(&mut s).await.is_some(), "a silent connection stays open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_stalled_short_of_its_content_length_is_dropped() {
    let limits = sworn_runner::limits::Limits { body_idle_timeout: Duration::from_millis(300), ..test_limits() };
    let r = TestRunner::start(limits).await;
    r.deploy(
        "echo",
        "module",
        "export default { async fetch(req) { return new Response(String((await req.arrayBuffer()).byteLength)) } }",
    )
    .await;
    for path in ["/workers/echo/fetch/", "/workers"] {
        let mut s = TcpStream::connect(addr(&r)).await.expect("connect");
        let head = format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n");
        s.write_all(head.as_bytes()).await.expect("head");
        s.write_all(&[b'x'; 64 << 10]).await.expect("some of the body");
        let reply = read_to_close(&mut s).await.unwrap_or_else(|| panic!("{path}: stalled upload still open"));
        assert!(reply.starts_with("HTTP/1.1 408"), "{path}: {reply}");
        assert!(reply.contains("made no progress"), "{path}: {reply}");
    }
    // An upload that keeps coming is unaffected.
    let ok = r.request("POST", "/workers/echo/fetch/", &[], vec![b'y'; 100_000]).await;
    assert_eq!(ok.text(), "100000");
}

/// A worker whose streamed response never ends (its stream is never closed).
const ENDLESS: &str = "export default { fetch(req) {
    const headers = req.url.endsWith('/optin') ? { 'sworn-stream-timeout': '1h' } : {};
    return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('first')); } }), { headers });
} }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_never_closes_ends_at_the_request_timeout_and_holds_its_slot_until_then() {
    let limits = sworn_runner::limits::Limits {
        request_timeout: Duration::from_secs(2),
        concurrent_requests: 1,
        ..test_limits()
    };
    let r = TestRunner::start(limits).await;
    r.deploy("endless", "module", ENDLESS).await;
    let (mut s, head) = start_request(&r, "/workers/endless/fetch/").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // While it streams, it holds the worker's only slot.
    let (_, busy) = start_request(&r, "/workers/endless/fetch/").await;
    assert!(busy.starts_with("HTTP/1.1 503"), "a second request while the stream is open: {busy}");
    assert!(busy.contains("concurrent requests"), "{busy}");
    let rest = read_to_close(&mut s).await.expect("the stream is cut at the request timeout");
    // Cut, not completed: no terminating zero-length chunk.
    assert!(!format!("{head}{rest}").ends_with("0\r\n\r\n"), "an endless stream looked complete");
    // Its slot is free again.
    let (_, again) = start_request(&r, "/workers/endless/fetch/").await;
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
}

/// Sends a GET for `path` and returns the connection and the first bytes
/// of the answer (its head, at least), without waiting for the body to end.
async fn start_request(r: &TestRunner, path: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr(r)).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes()).await.expect("request");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(PATIENCE, s.read(&mut buf)).await.expect("answer starts").expect("read");
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    (s, head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_asking_for_a_longer_stream_budget_gets_at_most_the_cap() {
    // The request timeout alone would keep the stream open for a minute;
    // the worker asks for an hour; the cap allows 200 ms.
    let limits = sworn_runner::limits::Limits {
        request_timeout: Duration::from_secs(60),
        stream_timeout: Duration::from_millis(200),
        ..test_limits()
    };
    let r = TestRunner::start(limits).await;
    r.deploy("endless", "module", ENDLESS).await;
    let mut s = TcpStream::connect(addr(&r)).await.expect("connect");
    s.write_all(b"GET /workers/endless/fetch/optin HTTP/1.1\r\nHost: t\r\n\r\n").await.expect("request");
    let reply = read_to_close(&mut s).await.expect("the stream is cut at the cap");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        !reply.to_ascii_lowercase().contains("sworn-stream-timeout"),
        "the opt-in header reached the client: {reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keepalive_connection_is_closed_and_a_busy_one_is_not() {
    let limits = sworn_runner::limits::Limits {
        keepalive_timeout: Duration::from_millis(300),
        header_timeout: Duration::from_secs(120),
        ..test_limits()
    };
    let r = TestRunner::start(limits).await;
    r.deploy(
        "slow",
        "module",
        "export default { async fetch() { await new Promise(r => setTimeout(r, 1000)); return new Response('done') } }",
    )
    .await;
    let mut s = TcpStream::connect(addr(&r)).await.expect("connect");
    // A request longer than the keep-alive timeout is not cut by it ...
    s.write_all(b"GET /workers/slow/fetch/ HTTP/1.1\r\nHost: t\r\n\r\n").await.expect("request");
    // ... and once answered, the idle connection is closed (no Connection:
    // close was asked for) long before the 120 s header timeout.
    let reply = read_to_close(&mut s).await.expect("idle keep-alive connection closed");
    assert!(reply.starts_with("HTTP/1.1 200") && reply.ends_with("done"), "{reply}");
}
