//! The `runner` binary: boot workers, start-up, SIGTERM drain.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn get(port: u16, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if get(port, "/health").map(|r| r.starts_with("HTTP/1.1 200")).unwrap_or(false) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("runner did not become ready on port {port}");
}

#[test]
fn boot_worker_and_sigterm_drain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("slow.js");
    std::fs::write(
        &file,
        "export default { async fetch(req, env) { await new Promise(r => setTimeout(r, 700)); return new Response('slow ' + env.config.who) } }",
    )
    .expect("write worker");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["--listen", &format!("tcp:127.0.0.1:{port}"), "--fetch", "none", "--worker-config", r#"{"who":"cli"}"#])
        .arg("--worker")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn runner");
    wait_ready(port);
    let slow = std::thread::spawn(move || get(port, "/workers/slow/fetch/"));
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let reply = slow.join().expect("join").expect("in-flight request completes");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.ends_with("slow cli"), "{reply}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "runner did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
    assert!(get(port, "/health").is_err(), "still accepting after exit");
}

#[test]
fn a_webassembly_file_given_to_worker_boots_as_a_wasi_worker() {
    let module = common::wasi_example("cgi");
    assert!(module.exists(), "{}: run `make wasi-examples` first", module.display());
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["--listen", &format!("tcp:127.0.0.1:{port}"), "--fetch", "none", "--worker"])
        .arg(format!("tool={}", module.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn runner");
    wait_ready(port);
    let reply = get(port, "/workers/tool/fetch/echo?q=1");
    let listing = get(port, "/workers");
    let _ = child.kill();
    let _ = child.wait();
    let reply = reply.expect("answer");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("method=GET path=/echo query=q=1"), "{reply}");
    let listing = listing.expect("listing");
    let measurement = hex::encode(<sha2::Sha384 as sha2::Digest>::digest(std::fs::read(&module).expect("module")));
    assert!(listing.contains(&measurement), "measured as the module's SHA-384: {listing}");
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["--listen", "tcp:127.0.0.1:1", "--worker", "/nonexistent/w.js"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/w.js"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_runner")).args(["--listen", "carrier-pigeon:1"]).output().expect("run");
    assert!(!out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["--listen", "tcp:127.0.0.1:1", "--egress-allow", "api.example.com", "--egress-allow", "*.*.example"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--egress-allow") && err.contains("\"*.*.example\""), "{err}");
}

#[test]
fn memory_budget_flag_is_documented_and_reaches_stats() {
    let help = Command::new(env!("CARGO_BIN_EXE_runner")).arg("--help").output().expect("run");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--memory-budget-mib") && help.contains("75 % of MemTotal"), "{help}");

    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["--listen", &format!("tcp:127.0.0.1:{port}"), "--fetch", "none", "--nsm", "off"])
        .args(["--memory-budget-mib", "48"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn runner");
    wait_ready(port);
    let stats = get(port, "/stats");
    let _ = child.kill();
    let _ = child.wait();
    let stats = stats.expect("GET /stats");
    assert!(stats.contains(&format!("\"memoryBudget\":{}", 48u64 << 20)), "{stats}");
    assert!(stats.contains("\"heapCommitted\":"), "{stats}");
}
