//! Operations: SIGHUP reload, SIGTERM drain, metrics, config file, --help.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::process::Command;
use std::time::Duration;

use common::*;
use nix::sys::signal::Signal;

fn http_get(port: u16) -> String {
    let mut s = tcp_connect(port);
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn sighup_reloads_policy_without_dropping_live_connections() {
    let dir = tempfile::tempdir().unwrap();
    let echo = tcp_echo();
    let sock = dir.path().join("socks.sock");
    let cfg = dir.path().join("host-proxy.toml");
    let write_cfg = |allow: &str| {
        std::fs::write(&cfg, format!("[egress]\nlisten = [\"unix:{}\"]\n[policy]\nallow = [{allow}]\n", sock.display()))
            .unwrap()
    };
    write_cfg(&format!("\"127.0.0.1:{}\"", echo.port()));
    let d = Daemon::start(&args(&["--config", cfg.to_str().unwrap()]), path_ready(sock.clone()));

    let mut live = unix_connect(&sock);
    assert_eq!(socks_connect(&mut live, echo), 0);
    live.write_all(b"before ").unwrap();

    write_cfg("");
    d.signal(Signal::SIGHUP);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !d.log().contains("policy reloaded") {
        assert!(std::time::Instant::now() < deadline, "{}", d.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    // New connections see the new (default) policy: loopback denied.
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect(&mut s, echo), 0x02);
    // The live one keeps working.
    assert_eq!(exchange(&mut live, b"after", |s| s.shutdown(Shutdown::Write).unwrap()), b"BEFORE AFTER");

    // A broken file keeps the old policy and says why.
    std::fs::write(&cfg, "[policy]\nallow = [\"::1:80\"]\n").unwrap();
    d.signal(Signal::SIGHUP);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !d.log().contains("reload failed") {
        assert!(std::time::Instant::now() < deadline, "{}", d.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(d.log().contains("brackets"));
}

#[test]
fn sigterm_drains_live_connections_then_exits() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("enclave.sock");
    unix_echo(&target);
    let port = free_port();
    let mut d = Daemon::start(
        &args(&["--no-egress", "--ingress", &format!("tcp:127.0.0.1:{port}=unix:{}", target.display())]),
        tcp_ready(port),
    );
    let mut live = tcp_connect(port);
    live.write_all(b"draining ").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    d.signal(Signal::SIGTERM);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !d.log().contains("stopped accepting") {
        assert!(std::time::Instant::now() < deadline, "{}", d.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    // No new clients...
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    // ...but the live one finishes its exchange.
    assert!(d.child.try_wait().unwrap().is_none(), "exited before draining");
    assert_eq!(exchange(&mut live, b"works", |s| s.shutdown(Shutdown::Write).unwrap()), b"DRAINING WORKS");
    let st = d.wait_exit(Duration::from_secs(5));
    assert!(st.success(), "{}", d.log());
    assert!(d.log().contains("drained"));
}

#[test]
fn metrics_count_connections_bytes_and_denials_by_rule() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("socks.sock");
    let echo = tcp_echo();
    let mport = free_port();
    let _d = Daemon::start(
        &args(&[
            "--egress",
            &format!("unix:{}", sock.display()),
            "--allow",
            &format!("127.0.0.1:{}", echo.port()),
            "--deny",
            "192.0.2.0/24",
            "--metrics",
            &format!("tcp:127.0.0.1:{mport}"),
        ]),
        tcp_ready(mport),
    );
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect(&mut s, echo), 0);
    exchange(&mut s, b"12345", |s| s.shutdown(Shutdown::Write).unwrap());
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect(&mut s, "192.0.2.7:443".parse().unwrap()), 2);
    let mut s = unix_connect(&sock);
    assert_eq!(socks_connect(&mut s, "169.254.169.254:80".parse().unwrap()), 2);
    std::thread::sleep(Duration::from_millis(100));
    let m = http_get(mport);
    assert!(m.starts_with("HTTP/1.0 200 OK"), "{m}");
    assert!(m.contains("host_proxy_connections_total{role=\"egress\"} 3"), "{m}");
    assert!(m.contains("host_proxy_bytes_total{role=\"egress\",direction=\"up\"} 5"), "{m}");
    assert!(m.contains("host_proxy_bytes_total{role=\"egress\",direction=\"down\"} 5"), "{m}");
    assert!(m.contains("host_proxy_egress_denied_total{rule=\"192.0.2.0/24\"} 1"), "{m}");
    assert!(m.contains("host_proxy_egress_denied_total{rule=\"special:link-local\"} 1"), "{m}");
    assert!(m.contains("host_proxy_egress_allowed_total 1"), "{m}");
}

#[test]
fn help_shows_the_socat_microsocks_equivalent_and_check_validates() {
    let out = Command::new(env!("CARGO_BIN_EXE_host-proxy")).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("socat TCP4-LISTEN:1057,reuseaddr,fork VSOCK-CONNECT:16:1057"), "{help}");
    assert!(help.contains("host-proxy --ingress tcp:0.0.0.0:1057=vsock:16:1057"), "{help}");

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[[ingress]]\nlisten = \"tcp:0.0.0.0:1057\"\ntargets = [\"vsock:16:1057\"]\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_host-proxy"))
        .args(["--check", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("ingress tcp:0.0.0.0:1057 -> vsock:16:1057") && s.contains("egress socks5 vsock:-1:1057"),
        "{s}"
    );

    std::fs::write(&cfg, "[policy]\nallow = [\"*.example.com:99999\"]\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_host-proxy"))
        .args(["--check", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(e.contains("c.toml") && e.contains("policy.allow") && e.contains("99999"), "{e}");
}

#[test]
fn shipped_example_config_is_valid() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/host-proxy.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_host-proxy")).args(["--check", "--config", cfg]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("ingress tcp:0.0.0.0:1057 -> vsock:16:1057"), "{s}");
    assert!(s.contains("egress socks5 vsock:-1:1057"), "{s}");
}
