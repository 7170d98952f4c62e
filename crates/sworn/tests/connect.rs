//! `sworn connect`: the local plain-HTTP proxy, against a genuine server
//! and a man in the middle.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{pcrs_file, sworn, text, Mode, Server, GOOD};

/// A running `sworn connect`, killed when dropped.
struct Proxy {
    child: Child,
    /// What `--listen` resolved to, e.g. `tcp:127.0.0.1:40000`.
    listening: String,
    stderr: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    fn start(url: &str, pcrs: &Path, listen: &str, dir: &Path) -> Proxy {
        let stderr = dir.join("proxy.stderr");
        let mut child = Command::new(env!("CARGO_BIN_EXE_sworn"))
            .args(["connect", url, "--pcrs", pcrs.to_str().unwrap(), "--emulator", "--listen", listen])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let listening = loop {
            let line = lines.next().expect("sworn connect printed its address").unwrap();
            if let Some(rest) = line.strip_prefix("listening on ") {
                break rest.split(',').next().unwrap().to_owned();
            }
        };
        Proxy { child, listening, stderr }
    }

    fn tcp_addr(&self) -> String {
        self.listening.strip_prefix("tcp:").unwrap().to_owned()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

/// One plain HTTP/1.1 request over `stream`, read to the end.
fn get(mut stream: impl Read + Write, path: &str) -> String {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

fn tcp(addr: &str) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

#[test]
fn connect_relays_each_local_connection_over_its_own_verified_connection() {
    let server = Server::start(Mode::Genuine);
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&server.url, &pcrs_file(dir.path(), GOOD), "tcp:127.0.0.1:0", dir.path());
    for _ in 0..2 {
        let answer = get(tcp(&proxy.tcp_addr()), "/health");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains(r#"{"ok":true}"#), "{answer}");
    }
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 2, "one upstream handshake per local connection");
}

#[test]
fn connect_answers_502_naming_the_check_and_relays_nothing_to_a_man_in_the_middle() {
    let server = Server::start(Mode::Mitm);
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&server.url, &pcrs_file(dir.path(), GOOD), "tcp:127.0.0.1:0", dir.path());
    let answer = get(tcp(&proxy.tcp_addr()), "/health");
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["check"], "key binding", "{v}");
    assert!(v["error"].as_str().unwrap().contains("public_key"), "{v}");
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 0, "the server never completed a handshake");
    assert_eq!(server.requests.load(Ordering::SeqCst), 0, "no request reached it");
    // The log line is written before the 502 is.
    assert!(proxy.log().contains("refused"), "{}", proxy.log());
}

#[test]
fn connect_listens_on_a_unix_socket() {
    let server = Server::start(Mode::Genuine);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sworn.sock");
    let listen = format!("unix:{}", path.display());
    let proxy = Proxy::start(&server.url, &pcrs_file(dir.path(), GOOD), &listen, dir.path());
    assert_eq!(proxy.listening, listen);
    let stream = std::os::unix::net::UnixStream::connect(&path).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let answer = get(stream, "/health");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn connect_with_a_bad_listen_address_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let pcrs = pcrs_file(dir.path(), GOOD);
    for listen in ["127.0.0.1:80", "vsock:3:80"] {
        let out = sworn(&["connect", "https://127.0.0.1:1", "--pcrs", pcrs.to_str().unwrap(), "--listen", listen]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{listen}: {stderr}");
        assert!(stderr.contains("--listen"), "{stderr}");
    }
}
