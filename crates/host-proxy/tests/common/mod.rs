//! Helpers shared by the integration tests: run the real binary, fake
//! enclave-side services, a minimal SOCKS5 client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts host-proxy and waits until `ready` says its listeners are up.
    pub fn start(args: &[String], ready: impl Fn() -> bool) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        Daemon::start_in(dir, log, args, ready)
    }

    fn start_in(dir: tempfile::TempDir, log: PathBuf, args: &[String], ready: impl Fn() -> bool) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_host-proxy"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let d = Daemon { child, log, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ready() {
            assert!(Instant::now() < deadline, "host-proxy did not become ready:\n{}", d.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }

    /// Starts host-proxy and waits for its "ready" log line, without
    /// touching its listeners (a probe would be forwarded like a client).
    pub fn start_quiet(args: &[String]) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let log2 = log.clone();
        Daemon::start_in(dir, log, args, move || {
            std::fs::read_to_string(&log2).unwrap_or_default().contains("host-proxy ready")
        })
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig).unwrap();
    }

    /// Resident memory of the daemon, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Waits for exit, failing the test after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "host-proxy did not exit:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback TCP port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn tcp_ready(port: u16) -> impl Fn() -> bool {
    move || TcpStream::connect(("127.0.0.1", port)).is_ok()
}

pub fn path_ready(p: PathBuf) -> impl Fn() -> bool {
    move || p.exists()
}

/// An echo server on loopback TCP that upper-cases what it gets until EOF,
/// then half-closes back. Returns its address.
pub fn tcp_echo() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf);
                let _ = s.write_all(&buf.to_ascii_uppercase());
            });
        }
    });
    a
}

/// The same on a unix socket (an "enclave" behind vhost-uds or unix).
pub fn unix_echo(path: &Path) {
    let l = UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf);
                let _ = s.write_all(&buf.to_ascii_uppercase());
            });
        }
    });
}

/// A fake vhost-device-vsock host socket at `path`: accepts
/// `CONNECT <port>\n`, answers `OK <port>\n` for `port` and then upper-cases
/// like `unix_echo`; closes for any other port.
pub fn fake_vhost_backend(path: &Path, port: u32) {
    let l = UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut line = Vec::new();
                let mut b = [0u8; 1];
                while s.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
                    line.push(b[0]);
                }
                if line != format!("CONNECT {port}").as_bytes() {
                    return;
                }
                s.write_all(format!("OK {port}\n").as_bytes()).unwrap();
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf);
                let _ = s.write_all(&buf.to_ascii_uppercase());
            });
        }
    });
}

/// Sends `msg`, half-closes, returns everything read back.
pub fn exchange<S: Read + Write>(s: &mut S, msg: &[u8], shutdown: impl FnOnce(&S)) -> Vec<u8> {
    s.write_all(msg).unwrap();
    shutdown(s);
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    back
}

/// SOCKS5 CONNECT by IP; returns the reply code.
pub fn socks_connect<S: Read + Write>(s: &mut S, target: SocketAddr) -> u8 {
    let mut req = vec![5, 1, 0];
    match target {
        SocketAddr::V4(a) => {
            req.push(1);
            req.extend_from_slice(&a.ip().octets());
        }
        SocketAddr::V6(a) => {
            req.push(4);
            req.extend_from_slice(&a.ip().octets());
        }
    }
    req.extend_from_slice(&target.port().to_be_bytes());
    socks_request(s, &req)
}

/// SOCKS5 CONNECT by domain name; returns the reply code.
pub fn socks_connect_name<S: Read + Write>(s: &mut S, name: &str, port: u16) -> u8 {
    let mut req = vec![5, 1, 0, 3, name.len() as u8];
    req.extend_from_slice(name.as_bytes());
    req.extend_from_slice(&port.to_be_bytes());
    socks_request(s, &req)
}

fn socks_request<S: Read + Write>(s: &mut S, req: &[u8]) -> u8 {
    s.write_all(&[5, 1, 0]).unwrap();
    let mut m = [0u8; 2];
    s.read_exact(&mut m).unwrap();
    assert_eq!(m, [5, 0], "method selection");
    s.write_all(req).unwrap();
    let mut r = [0u8; 10];
    s.read_exact(&mut r).unwrap();
    assert_eq!(r[0], 5);
    r[1]
}

/// Connects to the unix socket at `p`. The daemon creates the socket file at
/// bind(2) and accepts only from listen(2) on, so a connect in between is
/// refused: retry that (bounded), nothing else.
pub fn unix_connect(p: &Path) -> UnixStream {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let s = loop {
        match UnixStream::connect(p) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => break other.unwrap(),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

pub fn tcp_connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

pub fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Raises this process's descriptor limit to `want` (tests that hold thousands
/// of connections need about two descriptors each).
#[allow(dead_code)] // not every test binary uses it
pub fn raise_nofile(want: u64) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    if soft < want {
        setrlimit(Resource::RLIMIT_NOFILE, want.min(hard), hard).unwrap();
    }
    let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    assert!(soft >= want, "RLIMIT_NOFILE hard limit too low for this test: {soft} < {want}");
}
