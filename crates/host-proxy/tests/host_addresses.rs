//! Finding 5 of issue 17: the host's own addresses (denied to the
//! enclave) are read at every connect decision, not only at start.
//!
//! Needs root: it makes a network namespace, so nothing it does is visible
//! outside it and no traffic leaves it. It fails, never skips, without it.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn ip(args: &[&str]) -> std::process::Output {
    Command::new("ip").args(args).output().unwrap_or_else(|e| panic!("running ip {args:?}: {e} (needs iproute2)"))
}

fn ip_ok(args: &[&str]) {
    let out = ip(args);
    assert!(
        out.status.success(),
        "ip {args:?} failed (this test needs root and network namespaces): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network namespace of its own, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let name = format!("hp17-{}", std::process::id());
        let _ = ip(&["netns", "del", &name]);
        ip_ok(&["netns", "add", &name]);
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    fn ip(&self, args: &[&str]) {
        let mut v = vec!["-n", self.0.as_str()];
        v.extend_from_slice(args);
        ip_ok(&v);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.0]);
    }
}

/// host-proxy running inside a namespace; killed on drop.
struct NsDaemon(Child, std::path::PathBuf);

impl NsDaemon {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.1).unwrap_or_default()
    }
}

impl Drop for NsDaemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn socks_reply(socks: &Path, target: SocketAddr) -> u8 {
    let mut c = unix_connect(socks);
    socks_connect(&mut c, target)
}

/// Finding 5: an address the host gains after start is one of its own
/// addresses from the very next connect on (it used to be read at start
/// and on SIGHUP only, so it was dialled).
#[test]
fn host_address_added_after_start_is_refused_at_next_connect() {
    let dir = tempfile::tempdir().unwrap();
    let socks = dir.path().join("socks");
    let echo = dir.path().join("echo");
    unix_echo(&echo);
    let ns = Netns::new();
    let log = dir.path().join("log");
    // Inside the namespace: SOCKS5 egress on a unix socket (reachable from
    // here), allowing every public address, and an ingress listener on all
    // addresses of the namespace — the service a worker would reach by
    // dialling the host's new address.
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.0, env!("CARGO_BIN_EXE_host-proxy")])
        .args(["--egress", &format!("unix:{}", socks.display()), "--allow", "*"])
        .args(["--ingress", &format!("tcp:0.0.0.0:1057=unix:{}", echo.display())])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let d = NsDaemon(child, log);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socks.exists() {
        assert!(Instant::now() < deadline, "host-proxy did not start in the namespace:\n{}", d.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let new_addr: SocketAddr = "203.0.113.77:1057".parse().unwrap();

    // Not (yet) the host's: a public address, allowed and dialled; the
    // namespace has no route there, so the dial fails at once, locally.
    let before = socks_reply(&socks, new_addr);
    assert_ne!(before, 0x02, "a public address must be allowed before the host has it:\n{}", d.log());

    ns.ip(&["addr", "add", "203.0.113.77/32", "dev", "lo"]);
    let after = socks_reply(&socks, new_addr);
    assert_eq!(after, 0x02, "the host's new address must be refused (not allowed by ruleset):\n{}", d.log());
    assert!(d.log().contains("special:host-own-address"), "{}", d.log());

    // And gone again: no longer the host's, no longer special.
    ns.ip(&["addr", "del", "203.0.113.77/32", "dev", "lo"]);
    assert_ne!(socks_reply(&socks, new_addr), 0x02, "a removed address is no longer the host's:\n{}", d.log());
}
