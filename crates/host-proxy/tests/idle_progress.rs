//! Finding 3 of issue 17: the idle timeout counts progress (at least
//! `--idle-min-bytes` per `--idle-timeout`), not single bytes.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::mpsc;
use std::time::Duration;

use common::*;

fn idle_daemon() -> (Daemon, u16) {
    let echo = tcp_echo();
    let port = free_port();
    let d = Daemon::start(
        &args(&["--no-egress", "--idle-timeout", "3", "--ingress", &format!("tcp:127.0.0.1:{port}=tcp:{echo}")]),
        tcp_ready(port),
    );
    (d, port)
}

/// Finding 3: one byte a second, below the default progress of 1 KiB per
/// idle timeout, no longer keeps a connection open. The trickle follows a
/// bulk start, so it runs through the splice path and then the buffered one.
#[test]
fn client_trickling_a_byte_a_second_is_closed_as_idle() {
    let (d, port) = idle_daemon();
    let mut c = tcp_connect(port);
    let mut reader = c.try_clone().unwrap();
    reader.set_read_timeout(None).unwrap();
    let (tx, rx) = mpsc::channel();
    // The echo answers only after EOF: any return of read means closed.
    std::thread::spawn(move || {
        let mut b = [0u8; 64];
        let _ = reader.read(&mut b);
        let _ = tx.send(());
    });
    c.write_all(&vec![b'x'; 256 * 1024]).unwrap();
    let mut closed = false;
    // Ten idle timeouts' worth of trickling, at most.
    for _ in 0..30 {
        if rx.try_recv().is_ok() || c.write_all(b"y").is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(closed, "a trickling client must be closed by --idle-timeout 3:\n{}", d.log());
}

/// The counterpart: a client streaming steadily past several idle
/// timeouts is not closed, and everything it sent arrives.
#[test]
fn client_streaming_steadily_is_not_closed() {
    let (d, port) = idle_daemon();
    let mut c = tcp_connect(port);
    let chunk = vec![b'z'; 64 * 1024];
    let mut sent = 0usize;
    // About three idle timeouts of 64 KiB every 100 ms.
    for _ in 0..90 {
        c.write_all(&chunk).unwrap_or_else(|e| panic!("closed while streaming after {sent} bytes: {e}\n{}", d.log()));
        sent += chunk.len();
        std::thread::sleep(Duration::from_millis(100));
    }
    c.shutdown(Shutdown::Write).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(back.len(), sent, "every byte streamed must come back:\n{}", d.log());
}

/// `--idle-min-bytes` (TOML `limits.idle_min_bytes`) defaults to 1 KiB;
/// 0 would never count as idle and is refused.
#[test]
fn idle_min_bytes_defaults_to_one_kib_and_refuses_zero() {
    use clap::Parser;
    use sworn_host_proxy::config::{Cli, Config};
    let cfg = |a: &[&str]| {
        let cli = Cli::try_parse_from(std::iter::once("host-proxy").chain(a.iter().copied())).unwrap();
        Config::resolve(&cli, None)
    };
    assert_eq!(cfg(&[]).unwrap().idle_min_bytes, 1024);
    assert_eq!(cfg(&["--idle-min-bytes", "1"]).unwrap().idle_min_bytes, 1);
    let e = cfg(&["--idle-min-bytes", "0"]).unwrap_err().to_string();
    assert!(e.contains("idle_min_bytes"), "{e}");
    let file: sworn_host_proxy::config::FileConfig = toml::from_str("[limits]\nidle_min_bytes = 4096\n").unwrap();
    assert_eq!(Config::resolve(&Cli::default(), Some(file)).unwrap().idle_min_bytes, 4096);
}
