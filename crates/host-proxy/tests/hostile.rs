//! Hostile clients: garbage, slowloris, half-open floods, per-source
//! floods and 5,000 idle connections. Memory stays bounded and other
//! clients keep being served. Every test runs in seconds.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use common::*;

/// Reads until EOF or error; returns how long that took.
fn time_to_close(s: &mut TcpStream) -> Duration {
    let t = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut b = [0u8; 256];
    loop {
        match s.read(&mut b) {
            Ok(0) | Err(_) => return t.elapsed(),
            Ok(_) => {}
        }
    }
}

fn served(sock: &std::path::Path, echo: std::net::SocketAddr) {
    let mut c = unix_connect(sock);
    assert_eq!(socks_connect(&mut c, echo), 0);
    assert_eq!(exchange(&mut c, b"still here", |s| s.shutdown(Shutdown::Write).unwrap()), b"STILL HERE");
}

fn egress_daemon(
    handshake_timeout: &str,
) -> (Daemon, tempfile::TempDir, std::path::PathBuf, u16, std::net::SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("socks.sock");
    let echo = tcp_echo();
    let port = free_port();
    let d = Daemon::start(
        &args(&[
            "--egress",
            &format!("tcp:127.0.0.1:{port}"),
            "--egress",
            &format!("unix:{}", sock.display()),
            "--allow",
            &format!("127.0.0.1:{}", echo.port()),
            "--handshake-timeout",
            handshake_timeout,
            "--max-per-source",
            "5000",
        ]),
        path_ready(sock.clone()),
    );
    (d, dir, sock, port, echo)
}

#[test]
fn garbage_is_refused_at_once() {
    // A handshake timeout far beyond the read timeout: a close proves the
    // parser refused the bytes, not that a timer fired.
    let (d, _dir, sock, port, echo) = egress_daemon("60");
    for junk in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        &[0xff; 600][..],
        &[5, 0][..],
        &[5, 1, 0, 5, 9, 0, 1][..],
        &[5, 1, 0, 5, 1, 0, 3, 3, b'a', b' ', b'b', 0, 80][..],
    ] {
        let mut s = tcp_connect(port);
        let _ = s.write_all(junk);
        assert!(time_to_close(&mut s) < Duration::from_secs(10), "{junk:?}\n{}", d.log());
    }
    served(&sock, echo);
}

#[test]
fn slowloris_and_half_open_flood_are_cut_off() {
    raise_nofile(8192);
    let (d, _dir, sock, port, echo) = egress_daemon("1");
    // Half-open flood: 2,000 connections that never speak.
    let flood: Vec<TcpStream> = (0..2000).map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
    // Slowloris: a request trickled out one byte every 800 ms (8 s in all)
    // is cut off by the 1 s handshake timeout long before it completes.
    let slow = std::thread::spawn(move || {
        let mut s = tcp_connect(port);
        let mut sent = 0;
        for b in [5u8, 1, 0, 5, 1, 0, 1, 127, 0, 0] {
            if s.write_all(&[b]).is_err() {
                break;
            }
            sent += 1;
            std::thread::sleep(Duration::from_millis(800));
        }
        sent
    });
    // Meanwhile a well-behaved client is served.
    served(&sock, echo);
    // Every flood connection gets closed by the server.
    for mut s in flood {
        assert!(time_to_close(&mut s) < Duration::from_secs(10));
    }
    let sent = slow.join().unwrap();
    assert!(sent < 10, "slowloris sent its whole request ({sent} bytes)");
    served(&sock, echo);
    assert!(d.log().contains("host-proxy ready"));
}

#[test]
fn per_source_limit_protects_other_sources() {
    raise_nofile(4096);
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("socks.sock");
    let echo = tcp_echo();
    let port = free_port();
    let _d = Daemon::start(
        &args(&[
            "--egress",
            &format!("tcp:127.0.0.1:{port}"),
            "--egress",
            &format!("unix:{}", sock.display()),
            "--allow",
            &format!("127.0.0.1:{}", echo.port()),
            "--max-per-source",
            "100",
        ]),
        path_ready(sock.clone()),
    );
    // One TCP source opens 150 connections: 100 are admitted, the rest closed.
    let conns: Vec<TcpStream> = (0..150).map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut closed = 0;
    for mut s in conns {
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut b = [0u8; 1];
        if matches!(s.read(&mut b), Ok(0)) {
            closed += 1;
        }
    }
    assert_eq!(closed, 50);
    // The unix source has its own budget.
    served(&sock, echo);
}

/// A target that accepts and holds connections without reading.
fn sink(path: &std::path::Path) {
    let l = UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
}

#[test]
fn five_thousand_idle_connections_bounded_memory() {
    const N: usize = 5000;
    raise_nofile(3 * N as u64 + 1000);
    let dir = tempfile::tempdir().unwrap();
    let (sink_path, echo_path) = (dir.path().join("sink.sock"), dir.path().join("echo.sock"));
    sink(&sink_path);
    unix_echo(&echo_path);
    let (p_idle, p_live) = (free_port(), free_port());
    let d = Daemon::start(
        &args(&[
            "--no-egress",
            "--max-per-source",
            "10000",
            "--ingress",
            &format!("tcp:127.0.0.1:{p_idle}=unix:{}", sink_path.display()),
            "--ingress",
            &format!("tcp:127.0.0.1:{p_live}=unix:{}", echo_path.display()),
        ]),
        tcp_ready(p_live),
    );
    let before = d.rss_kib();
    let mut idle = Vec::with_capacity(N);
    for i in 0..N {
        match TcpStream::connect(("127.0.0.1", p_idle)) {
            Ok(s) => idle.push(s),
            Err(e) => panic!("connection {i}: {e}\n{}", d.log()),
        }
    }
    // Let the daemon accept and connect all of them to the sink.
    std::thread::sleep(Duration::from_millis(1500));
    let after = d.rss_kib();
    let per_conn = (after.saturating_sub(before)) * 1024 / N as u64;
    eprintln!("host-proxy RSS: {before} KiB idle, {after} KiB with {N} idle connections ({per_conn} B each)");
    // Bounded: no per-connection buffers while idle (2 x 64 KiB would be
    // 640 MB); allow 16 KiB of bookkeeping per connection.
    assert!(per_conn < 16 * 1024, "{per_conn} bytes per idle connection");

    // Others keep being served.
    let mut c = tcp_connect(p_live);
    assert_eq!(exchange(&mut c, b"not starved", |s| s.shutdown(Shutdown::Write).unwrap()), b"NOT STARVED");
    drop(idle);
}
