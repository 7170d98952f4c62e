//! Ingress forwarding: retries while the enclave boots, least-connections
//! balancing with health checks, PROXY protocol v2.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

#[test]
fn retries_the_target_while_it_boots() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("enclave.sock");
    let port = free_port();
    let _d = Daemon::start(
        &args(&["--no-egress", "--ingress", &format!("tcp:127.0.0.1:{port}=unix:{}", target.display())]),
        tcp_ready(port),
    );
    let client = std::thread::spawn(move || {
        let mut c = tcp_connect(port);
        exchange(&mut c, b"early bird", |s| s.shutdown(Shutdown::Write).unwrap())
    });
    // The "enclave" comes up only after the client connected.
    std::thread::sleep(Duration::from_millis(700));
    unix_echo(&target);
    assert_eq!(client.join().unwrap(), b"EARLY BIRD");
}

#[test]
fn gives_up_after_the_connect_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let d = Daemon::start(
        &args(&[
            "--no-egress",
            "--connect-timeout",
            "0.5",
            "--ingress",
            &format!("tcp:127.0.0.1:{port}=unix:{}", dir.path().join("never").display()),
        ]),
        tcp_ready(port),
    );
    let mut c = tcp_connect(port);
    let mut b = [0u8; 1];
    assert_eq!(c.read(&mut b).unwrap(), 0, "closed once no target came up");
    assert!(d.log().contains("no target reachable"), "{}", d.log());
}

/// A target that counts connections and holds each open until the client
/// closes.
fn counting_target(path: &std::path::Path) -> Arc<AtomicUsize> {
    let n = Arc::new(AtomicUsize::new(0));
    let l = UnixListener::bind(path).unwrap();
    let n2 = n.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            n2.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut buf = [0u8; 64];
                while s.read(&mut buf).unwrap_or(0) > 0 {}
            });
        }
    });
    n
}

#[test]
fn least_connections_and_health_checks() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
    let na = counting_target(&a);
    let nb = counting_target(&b);
    let port = free_port();
    let d = Daemon::start(
        &args(&[
            "--no-egress",
            "--health-interval",
            "0.2",
            "--ingress",
            &format!("tcp:127.0.0.1:{port}=unix:{},unix:{}", a.display(), b.display()),
        ]),
        tcp_ready(port),
    );
    // Health probes connect too: measure deltas of held client connections.
    std::thread::sleep(Duration::from_millis(300));
    let (a0, b0) = (na.load(Ordering::SeqCst), nb.load(Ordering::SeqCst));
    let mut held = Vec::new();
    for _ in 0..6 {
        let mut c = tcp_connect(port);
        c.write_all(b"x").unwrap();
        held.push(c);
        std::thread::sleep(Duration::from_millis(30));
    }
    std::thread::sleep(Duration::from_millis(100));
    let (da, db) = (na.load(Ordering::SeqCst) - a0, nb.load(Ordering::SeqCst) - b0);
    // Probes may add one or two each; the 6 clients split evenly.
    assert!(da >= 3 && db >= 3, "a got {da}, b got {db}\n{}", d.log());

    // Target b goes away: after a health check, every client goes to a.
    std::fs::remove_file(&b).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let a1 = na.load(Ordering::SeqCst);
    for _ in 0..4 {
        let mut c = tcp_connect(port);
        c.write_all(b"y").unwrap();
        held.push(c);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(na.load(Ordering::SeqCst) - a1 >= 4, "{}", d.log());
    assert!(
        d.log().contains("healthy=false") || d.log().contains("healthy: false") || d.log().contains("health changed"),
        "{}",
        d.log()
    );
}

#[test]
fn proxy_protocol_v2_header_carries_the_client_address() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("enclave.sock");
    let l = UnixListener::bind(&target).unwrap();
    let port = free_port();
    let _d = Daemon::start_quiet(&args(&[
        "--no-egress",
        "--proxy-protocol",
        "--ingress",
        &format!("tcp:127.0.0.1:{port}=unix:{}", target.display()),
    ]));
    let mut c = tcp_connect(port);
    let client_port = c.local_addr().unwrap().port();
    c.write_all(b"GET /").unwrap();
    let (mut s, _) = l.accept().unwrap();
    let mut h = [0u8; 28 + 5];
    s.read_exact(&mut h).unwrap();
    // Read back with the runner's parser: the client's address, then its bytes.
    let Ok(sworn_proxy_protocol::Parsed::Complete { header, consumed }) = sworn_proxy_protocol::parse(&h) else {
        panic!("not a complete PROXY header: {h:?}");
    };
    let client = std::net::SocketAddr::from(([127, 0, 0, 1], client_port));
    let listener = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    assert_eq!(header.addresses, sworn_proxy_protocol::Addresses::Inet { source: client, destination: listener });
    assert_eq!((header.version, header.local), (sworn_proxy_protocol::Version::V2, false));
    assert_eq!(&h[consumed..], b"GET /");
}
