//! PROXY protocol at the runner's ingress (issue 17, finding 6): with
//! `--proxy-protocol` the client address of a v1 or v2 header reaches the
//! worker as CF-Connecting-IP; without it a PROXY header is refused; and a
//! CF-Connecting-IP the client sends itself never reaches a worker.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use common::{test_limits, TestRunner};
use sworn_runner::limits::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Answers with the CF-Connecting-IP the worker sees ("none" without one).
const WHO: &str =
    "export default { fetch(req) { return new Response(req.headers.get('cf-connecting-ip') ?? 'none') } }";

/// Sends `bytes` on a new connection and returns everything the runner
/// sends back before closing it.
async fn exchange(r: &TestRunner, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(r.base.trim_start_matches("http://")).await.expect("connect");
    s.write_all(bytes).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out))
        .await
        .expect("connection closed")
        .unwrap_or_default();
    String::from_utf8_lossy(&out).into_owned()
}

fn body(reply: &str) -> &str {
    reply.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A request for the WHO worker that also claims an address of its own.
const SPOOFED_GET: &[u8] =
    b"GET /workers/who/fetch/ HTTP/1.1\r\nHost: t\r\nCF-Connecting-IP: 6.6.6.6\r\nConnection: close\r\n\r\n";

/// host-proxy's header for a TCP client `src` (port 50000) reaching `dst`:1057.
fn v2_inet(src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let source = SocketAddr::new(src, 50000);
    let destination = SocketAddr::new(dst, 1057);
    sworn_proxy_protocol::encode_v2(&sworn_proxy_protocol::Addresses::Inet { source, destination })
}

/// A runner with `--proxy-protocol` and the WHO worker deployed (through a
/// connection that, like every one, starts with a PROXY header).
async fn proxied_runner() -> TestRunner {
    let r = TestRunner::start(Limits { proxy_protocol: true, ..test_limits() }).await;
    let code = serde_json::json!({ "code": WHO, "type": "module", "name": "who" }).to_string();
    let deploy = format!(
        "PROXY UNKNOWN\r\nPOST /workers HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{code}",
        code.len()
    );
    let reply = exchange(&r, deploy.as_bytes()).await;
    assert!(reply.starts_with("HTTP/1.1 201"), "deploy: {reply}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_v1_gives_the_worker_the_client_address() {
    let r = proxied_runner().await;
    for (header, ip) in [
        ("PROXY TCP4 192.0.2.7 10.0.0.1 50000 1057\r\n", "192.0.2.7"),
        ("PROXY TCP6 2001:db8::7 2001:db8::1 50000 1057\r\n", "2001:db8::7"),
    ] {
        let mut bytes = header.as_bytes().to_vec();
        bytes.extend_from_slice(SPOOFED_GET);
        let reply = exchange(&r, &bytes).await;
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert_eq!(body(&reply), ip, "{header:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_v2_gives_the_worker_the_client_address() {
    let r = proxied_runner().await;
    let mapped: Ipv6Addr = "::ffff:198.51.100.4".parse().expect("ip");
    for (mut bytes, ip) in [
        (v2_inet(Ipv4Addr::new(203, 0, 113, 9).into(), Ipv4Addr::new(10, 0, 0, 1).into()), "203.0.113.9"),
        (v2_inet("2001:db8::9".parse().expect("ip"), Ipv6Addr::LOCALHOST.into()), "2001:db8::9"),
        // host-proxy writes IPv4 clients this way when its listener is IPv6.
        (v2_inet(mapped.into(), Ipv6Addr::LOCALHOST.into()), "198.51.100.4"),
    ] {
        bytes.extend_from_slice(SPOOFED_GET);
        let reply = exchange(&r, &bytes).await;
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert_eq!(body(&reply), ip);
    }
    // LOCAL (a proxy's health check) names no client: the worker sees none,
    // and in particular not the client's own claim.
    let mut local = b"\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00".to_vec();
    local.extend_from_slice(SPOOFED_GET);
    assert_eq!(body(&exchange(&r, &local).await), "none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_flag_a_connection_without_a_proxy_header_is_refused() {
    let r = proxied_runner().await;
    let reply = exchange(&r, SPOOFED_GET).await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(reply.contains("PROXY protocol"), "{reply}");
    let reply = exchange(&r, b"PROXY TCP4 999.0.0.1 10.0.0.1 1 2\r\nGET /health HTTP/1.1\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 400") && reply.contains("source address"), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_a_proxy_header_is_refused() {
    let r = TestRunner::start(test_limits()).await;
    let mut v1 = b"PROXY TCP4 192.0.2.7 10.0.0.1 50000 1057\r\n".to_vec();
    v1.extend_from_slice(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut v2 = v2_inet(Ipv4Addr::new(192, 0, 2, 7).into(), Ipv4Addr::new(10, 0, 0, 1).into());
    v2.extend_from_slice(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    for bytes in [v1, v2] {
        let reply = exchange(&r, &bytes).await;
        assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
        assert!(reply.contains("--proxy-protocol"), "the refusal says why: {reply}");
    }
    // Plain HTTP, including methods that start like "PROXY", still works.
    assert_eq!(r.get("/health").await.status, 200);
    let propfind = exchange(&r, b"PROPFIND /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await;
    assert!(propfind.starts_with("HTTP/1.1 405"), "{propfind}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sent_cf_connecting_ip_never_reaches_the_worker() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("who", "module", WHO).await;
    let reply = r.request("GET", "/workers/who/fetch/", &[("cf-connecting-ip", "6.6.6.6")], Vec::new()).await;
    assert_eq!(reply.text(), "none");
    assert_eq!(body(&exchange(&r, SPOOFED_GET).await), "none");
}
