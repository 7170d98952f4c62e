//! SOCKS5 egress under the policy, through the real binary.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};

use common::*;

fn egress_daemon(extra: &[&str]) -> (Daemon, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("socks.sock");
    let mut a = args(&["--egress", &format!("unix:{}", sock.display()), "--connect-timeout", "2"]);
    a.extend(args(extra));
    let d = Daemon::start(&a, path_ready(sock.clone()));
    (d, dir, sock)
}

#[test]
fn default_policy_denies_loopback_and_metadata() {
    let echo = tcp_echo();
    let (d, _dir, sock) = egress_daemon(&[]);
    for target in
        [echo, "169.254.169.254:80".parse().unwrap(), "[::1]:443".parse().unwrap(), "10.0.0.1:443".parse().unwrap()]
    {
        let mut s = unix_connect(&sock);
        assert_eq!(socks_connect(&mut s, target), 0x02, "{target}");
    }
    // Names are resolved on the host and the resolved address is checked.
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect_name(&mut s, "localhost", 443), 0x02);
    // A public address on a non-web port: no allow rule.
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect(&mut s, "192.0.2.1:22".parse::<SocketAddr>().unwrap()), 0x02);
    let log = d.log();
    assert!(log.contains("special:loopback") && log.contains("special:link-local"), "{log}");
}

#[test]
fn explicit_rule_allows_loopback_by_address_and_name() {
    let echo = tcp_echo();
    let rule = format!("127.0.0.1:{}", echo.port());
    let (_d, _dir, sock) = egress_daemon(&["--allow", &rule]);
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect(&mut s, echo), 0);
    assert_eq!(exchange(&mut s, b"by address", |s| s.shutdown(Shutdown::Write).unwrap()), b"BY ADDRESS");

    // "localhost" may resolve to ::1 first (denied: not named) and then to
    // 127.0.0.1 (allowed): the allowed address is used.
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect_name(&mut s, "localhost", echo.port()), 0);
    assert_eq!(exchange(&mut s, b"by name", |s| s.shutdown(Shutdown::Write).unwrap()), b"BY NAME");

    // Same address, other port: denied.
    let other = tcp_echo();
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect(&mut s, other), 0x02);
}

#[test]
fn wildcard_and_hostname_rules_do_not_unlock_loopback() {
    let echo = tcp_echo();
    let (_d, _dir, sock) = egress_daemon(&["--allow", "*", "--allow", "localhost", "--allow", "0.0.0.0/0"]);
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect(&mut s, echo), 0x02);
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect_name(&mut s, "localhost", echo.port()), 0x02);
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect(&mut s, format!("[::ffff:127.0.0.1]:{}", echo.port()).parse().unwrap()), 0x02);
}

#[test]
fn deny_wins_over_allow() {
    let echo = tcp_echo();
    let (_d, _dir, sock) = egress_daemon(&["--allow", "127.0.0.0/8", "--deny", &format!("127.0.0.1:{}", echo.port())]);
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect(&mut s, echo), 0x02);
}

#[test]
fn optimistic_data_and_protocol_errors() {
    let echo = tcp_echo();
    let (_d, _dir, sock) = egress_daemon(&["--allow", &format!("127.0.0.1:{}", echo.port())]);
    // Greeting, request and payload in one write, as optimistic clients do.
    let mut s = unix_connect(&sock);
    let mut msg = vec![5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1];
    msg.extend_from_slice(&echo.port().to_be_bytes());
    msg.extend_from_slice(b"payload");
    s.write_all(&msg).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    assert_eq!(&back[..2], &[5, 0]);
    assert_eq!(&back[2..4], &[5, 0]);
    assert_eq!(&back[12..], b"PAYLOAD");

    // BIND is not supported: reply 0x07.
    let mut s = unix_connect(&sock);
    s.write_all(&[5, 1, 0]).unwrap();
    let mut m = [0u8; 2];
    s.read_exact(&mut m).unwrap();
    s.write_all(&[5, 2, 0, 1, 127, 0, 0, 1, 0, 80]).unwrap();
    let mut r = [0u8; 10];
    s.read_exact(&mut r).unwrap();
    assert_eq!(r[1], 0x07);

    // Username/password only: no acceptable method.
    let mut s = unix_connect(&sock);
    s.write_all(&[5, 1, 2]).unwrap();
    s.read_exact(&mut m).unwrap();
    assert_eq!(m, [5, 0xFF]);
}
