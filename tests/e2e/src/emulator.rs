//! One emulated enclave: vhost-device-vsock + QEMU `nitro-enclave` + the
//! host side of the boot heartbeat.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::console::Console;
use crate::process::Guarded;
use crate::tempdir::TempDir;
use crate::{http, io_err, E2eError, Result};

/// Port init sends the heartbeat to.
pub const HEARTBEAT_PORT: u32 = sworn_wire::heartbeat::PORT;
pub const HEARTBEAT_BYTE: u8 = sworn_wire::heartbeat::BYTE;
/// The runner's port in the guest.
pub const RUNNER_VSOCK_PORT: u32 = sworn_wire::port::RUNNER;
/// host-proxy's SOCKS5 egress port, as the guest dials it.
pub const EGRESS_VSOCK_PORT: u32 = sworn_wire::port::EGRESS;

/// Paths of the emulator tools and the image, from the environment `make test-e2e` sets.
#[derive(Debug, Clone)]
pub struct Tools {
    pub qemu: PathBuf,
    pub vhost_device_vsock: PathBuf,
    pub firmware: PathBuf,
    pub eif: PathBuf,
}

/// host-proxy in front of the enclave, wired as `make run` wires it:
/// heartbeat on port 9000, `tcp:127.0.0.1:<free port>` to the runner's vsock
/// port 1057, SOCKS5 egress on the guest's port 1057, plus `args` (policy).
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    pub binary: PathBuf,
    pub args: Vec<String>,
}

impl ProxyOptions {
    /// host-proxy from `SWORN_HOST_PROXY` (set by `make test-e2e`).
    pub fn from_env(args: Vec<String>) -> Result<Self> {
        Ok(Self { binary: env_path("SWORN_HOST_PROXY", "host-proxy (make host-proxy)")?, args })
    }
}

/// A running host-proxy; restartable with the same command line.
struct HostProxy {
    guard: Guarded,
    binary: PathBuf,
    args: Vec<String>,
    ingress: std::net::SocketAddr,
    /// Its output, across restarts (its log goes to stderr).
    log: Console,
}

impl HostProxy {
    fn spawn(binary: &Path, args: &[String], log: &Console) -> Result<Guarded> {
        let mut cmd = Guarded::new_command(binary);
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut guard = Guarded::spawn("host-proxy", cmd)?;
        if let Some(out) = guard.take_stdout() {
            log.attach(out, "proxy| ");
        }
        if let Some(err) = guard.child_mut().stderr.take() {
            log.attach(err, "proxy| ");
        }
        Ok(guard)
    }

    /// Waits until the ingress port accepts connections.
    fn wait_listening(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.guard.check_running()?;
            if std::net::TcpStream::connect_timeout(&self.ingress, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(E2eError::Timeout(timeout, format!("host-proxy to listen on {}", self.ingress)));
            }
            sleep(Duration::from_millis(50));
        }
    }
}

/// Opens a stream to guest vsock `port` through the backend's unix socket
/// `uds` (`CONNECT <port>\n`, answered `OK <n>\n`); one attempt. Reads
/// and writes time out after `io_timeout`.
pub fn connect_vsock(uds: &Path, port: u32, io_timeout: Duration) -> Result<UnixStream> {
    let mut s = UnixStream::connect(uds).map_err(io_err(format!("connect {}", uds.display())))?;
    s.set_read_timeout(Some(io_timeout)).map_err(io_err("set read timeout"))?;
    s.set_write_timeout(Some(io_timeout)).map_err(io_err("set write timeout"))?;
    s.write_all(format!("CONNECT {port}\n").as_bytes()).map_err(io_err("send CONNECT"))?;
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while line.len() < 64 {
        match s.read(&mut b).map_err(io_err(format!("read CONNECT {port} answer")))? {
            0 => return Err(E2eError::Protocol(format!("backend closed the connection to guest port {port}"))),
            _ if b[0] == b'\n' => break,
            _ => line.push(b[0]),
        }
    }
    let line = String::from_utf8_lossy(&line);
    if !line.starts_with("OK ") {
        return Err(E2eError::Protocol(format!("CONNECT {port} answered {line:?}")));
    }
    Ok(s)
}

fn free_tcp_port() -> Result<std::net::SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(io_err("bind 127.0.0.1:0"))?;
    l.local_addr().map_err(io_err("local address"))
}

/// What it takes to build a variant of the image (same kernel and bootstrap
/// ramdisk, another application ramdisk), from `make test-e2e`'s environment.
#[derive(Debug, Clone)]
pub struct ImageInputs {
    pub eif_tool: PathBuf,
    pub kernel: PathBuf,
    pub cmdline: String,
    /// `eif build --ramdisk-compression` of the reference image.
    pub ramdisk_compression: String,
    /// `make eif`'s staging directory with `bootstrap/` and `app/`.
    pub stage: PathBuf,
}

impl ImageInputs {
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            eif_tool: env_path("SWORN_EIF_TOOL", "eif tool")?,
            kernel: env_path("SWORN_KERNEL", "kernel")?,
            cmdline: std::env::var("SWORN_EIF_CMDLINE").map_err(|_| E2eError::MissingEnv("SWORN_EIF_CMDLINE"))?,
            ramdisk_compression: std::env::var("SWORN_EIF_RAMDISK_COMPRESSION")
                .map_err(|_| E2eError::MissingEnv("SWORN_EIF_RAMDISK_COMPRESSION"))?,
            stage: env_path("SWORN_ENCLAVE_STAGE", "ramdisk staging directory (make eif)")?,
        })
    }

    /// Builds `dir/variant.eif` whose application ramdisk is the reference one
    /// with `/cmd` replaced by `cmd`.
    pub fn build_with_cmd(&self, dir: &Path, cmd: &str) -> Result<PathBuf> {
        self.build_variant(dir, cmd, &[])
    }

    /// Same, plus `files` (path relative to the application ramdisk, e.g.
    /// `rootfs/etc/x.pem`, and contents), written with mode 0644 in
    /// directories of mode 0755.
    pub fn build_variant(&self, dir: &Path, cmd: &str, files: &[(&str, &[u8])]) -> Result<PathBuf> {
        let app = dir.join("app");
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(self.stage.join("app"))
            .arg(&app)
            .status()
            .map_err(io_err("run cp"))?;
        if !status.success() {
            return Err(E2eError::Protocol(format!("cp -a {}/app failed: {status}", self.stage.display())));
        }
        std::fs::write(app.join("cmd"), cmd).map_err(io_err("write variant /cmd"))?;
        for (rel, contents) in files {
            use std::os::unix::fs::PermissionsExt;
            let path = app.join(rel);
            let mut parent = path.parent();
            let mut made = Vec::new();
            while let Some(p) = parent.filter(|p| !p.exists()) {
                made.push(p.to_path_buf());
                parent = p.parent();
            }
            for d in made.iter().rev() {
                std::fs::create_dir(d).map_err(io_err(format!("create {}", d.display())))?;
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))
                    .map_err(io_err(format!("chmod {}", d.display())))?;
            }
            std::fs::write(&path, contents).map_err(io_err(format!("write {}", path.display())))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                .map_err(io_err(format!("chmod {}", path.display())))?;
        }
        let out = dir.join("variant.eif");
        let status = std::process::Command::new(&self.eif_tool)
            .arg("build")
            .arg("--kernel")
            .arg(&self.kernel)
            .arg("--cmdline")
            .arg(&self.cmdline)
            .arg("--ramdisk")
            .arg(self.stage.join("bootstrap"))
            .arg("--ramdisk")
            .arg(&app)
            .arg("--ramdisk-compression")
            .arg(&self.ramdisk_compression)
            .arg("--output")
            .arg(&out)
            .stdout(Stdio::null())
            .status()
            .map_err(io_err(format!("run {}", self.eif_tool.display())))?;
        if !status.success() {
            return Err(E2eError::Protocol(format!("eif build of the variant image failed: {status}")));
        }
        Ok(out)
    }
}

pub(crate) fn env_path(name: &'static str, what: &'static str) -> Result<PathBuf> {
    let p = PathBuf::from(std::env::var_os(name).ok_or(E2eError::MissingEnv(name))?);
    if !p.exists() {
        return Err(E2eError::MissingFile { what, path: p.display().to_string() });
    }
    Ok(p)
}

impl Tools {
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            qemu: env_path("SWORN_QEMU", "QEMU (make emulator)")?,
            vhost_device_vsock: env_path("SWORN_VHOST_DEVICE_VSOCK", "vhost-device-vsock (make emulator)")?,
            firmware: env_path("SWORN_QEMU_FIRMWARE", "QEMU firmware directory")?,
            eif: env_path("SWORN_EIF", "enclave image (make eif)")?,
        })
    }

    /// `OUT.eif.json` next to the image.
    pub fn eif_json(&self) -> PathBuf {
        let mut s = self.eif.clone().into_os_string();
        s.push(".json");
        PathBuf::from(s)
    }
}

#[derive(Debug, Clone)]
pub struct BootOptions {
    pub memory_mib: u32,
    pub cpus: u32,
    pub guest_cid: u32,
    /// Unmeasured kernel command-line text (QEMU `-append`).
    pub append: String,
}

impl Default for BootOptions {
    fn default() -> Self {
        Self { memory_mib: 512, cpus: 2, guest_cid: 16, append: parent_cid_is_host() }
    }
}

/// The `-append` text that points init at the emulator's parent, the host
/// (vhost-device-vsock drops packets to any other CID).
pub fn parent_cid_is_host() -> String {
    format!("{}={}", sworn_wire::kernel::PARENT_CID, sworn_wire::cid::HOST)
}

/// What the host side of the heartbeat saw.
#[derive(Debug, Clone, Copy)]
pub struct HeartbeatSeen {
    pub byte: u8,
    pub at: Instant,
}

/// Answers heartbeats on the backend's `uds-path_9000` socket until dropped.
struct HeartbeatListener {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<HeartbeatSeen>>>,
}

impl HeartbeatListener {
    fn start(path: &Path) -> Result<Self> {
        let listener = UnixListener::bind(path).map_err(io_err(format!("bind {}", path.display())))?;
        listener.set_nonblocking(true).map_err(io_err("heartbeat listener nonblocking"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s, v) = (stop.clone(), seen.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                        let mut b = [0u8; 1];
                        if conn.read_exact(&mut b).is_ok() {
                            v.lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(HeartbeatSeen { byte: b[0], at: Instant::now() });
                            if b[0] == HEARTBEAT_BYTE {
                                let _ = conn.write_all(&[HEARTBEAT_BYTE]);
                            }
                        }
                    }
                    Err(_) => sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(Self { stop, seen })
    }
}

impl Drop for HeartbeatListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A running emulator. Dropping it kills QEMU and the backend.
pub struct Enclave {
    // Field order = drop order: QEMU first, then the proxy, its backend, files.
    qemu: Guarded,
    qemu_stdin: Option<std::process::ChildStdin>,
    proxy: Option<HostProxy>,
    backend: Guarded,
    heartbeat: Option<HeartbeatListener>,
    pub console: Console,
    pub started: Instant,
    uds: PathBuf,
    _dir: TempDir,
}

fn wait_for_path(path: &Path, timeout: Duration, proc_: &mut Guarded) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while !path.exists() {
        proc_.check_running()?;
        if Instant::now() >= deadline {
            return Err(E2eError::Timeout(timeout, format!("{} to appear", path.display())));
        }
        sleep(Duration::from_millis(20));
    }
    Ok(())
}

impl Enclave {
    /// Starts the vsock backend and QEMU with `tools.eif`; the harness answers
    /// the heartbeat. Returns once QEMU runs.
    pub fn boot(tools: &Tools, opts: &BootOptions) -> Result<Self> {
        Self::boot_with(tools, opts, None)
    }

    /// Same, with host-proxy answering the heartbeat, forwarding a local TCP
    /// port into the enclave and serving SOCKS5 egress.
    pub fn boot_behind_proxy(tools: &Tools, opts: &BootOptions, proxy: &ProxyOptions) -> Result<Self> {
        Self::boot_with(tools, opts, Some(proxy))
    }

    fn boot_with(tools: &Tools, opts: &BootOptions, proxy: Option<&ProxyOptions>) -> Result<Self> {
        let dir = TempDir::new("sworn-e2e").map_err(io_err("create temporary directory"))?;
        let vhost_sock = dir.path().join("vhost.sock");
        let uds = dir.path().join("vsock");

        let mut cmd = Guarded::new_command(&tools.vhost_device_vsock);
        cmd.arg("--vm").arg(format!(
            "guest-cid={},socket={},uds-path={}",
            opts.guest_cid,
            vhost_sock.display(),
            uds.display()
        ));
        let mut backend = Guarded::spawn("vhost-device-vsock", cmd)?;
        wait_for_path(&vhost_sock, Duration::from_secs(20), &mut backend)?;

        let (heartbeat, proxy) = match proxy {
            None => {
                let mut hb_path = uds.clone().into_os_string();
                hb_path.push(format!("_{HEARTBEAT_PORT}"));
                (Some(HeartbeatListener::start(Path::new(&hb_path))?), None)
            }
            Some(p) => {
                let ingress = free_tcp_port()?;
                let u = uds.display();
                let mut args = vec![
                    "--heartbeat".to_string(),
                    format!("vhost-uds:{u}:{HEARTBEAT_PORT}"),
                    "--ingress".into(),
                    format!("tcp:{ingress}=vhost-uds:{u}:{RUNNER_VSOCK_PORT}"),
                    "--egress".into(),
                    format!("vhost-uds:{u}:{EGRESS_VSOCK_PORT}"),
                ];
                args.extend(p.args.iter().cloned());
                let log = Console::default();
                let guard = HostProxy::spawn(&p.binary, &args, &log)?;
                let mut hp = HostProxy { guard, binary: p.binary.clone(), args, ingress, log };
                hp.wait_listening(Duration::from_secs(20))?;
                (None, Some(hp))
            }
        };

        let mut cmd = Guarded::new_command(&tools.qemu);
        cmd.args(["-M", "nitro-enclave,vsock=c", "-nographic", "-no-reboot"])
            .arg("-kernel")
            .arg(&tools.eif)
            .arg("-m")
            .arg(format!("{}M", opts.memory_mib))
            .arg("-smp")
            .arg(opts.cpus.to_string())
            .arg("-chardev")
            .arg(format!("socket,id=c,path={}", vhost_sock.display()))
            .arg("-L")
            .arg(&tools.firmware)
            .arg("-append")
            .arg(&opts.append)
            // The serial console's input: `sysrq` sends a BREAK through it.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut qemu = Guarded::spawn("qemu-system-x86_64", cmd)?;
        let qemu_stdin = qemu.child_mut().stdin.take();
        let console =
            Console::capture(qemu.take_stdout().ok_or_else(|| E2eError::Protocol("no QEMU stdout".into()))?, "guest| ");
        if let Some(err) = qemu.child_mut().stderr.take() {
            Console::capture(err, "qemu!  ");
        }
        Ok(Self { qemu, qemu_stdin, proxy, backend, heartbeat, console, started, uds, _dir: dir })
    }

    /// Waits for the guest's heartbeat (answered by the harness).
    pub fn wait_heartbeat(&mut self, timeout: Duration) -> Result<HeartbeatSeen> {
        let deadline = Instant::now() + timeout;
        let Some(heartbeat) = &self.heartbeat else {
            return Err(E2eError::Protocol(
                "host-proxy answers the heartbeat: wait for init's console line instead".into(),
            ));
        };
        loop {
            if let Some(seen) = heartbeat.seen.lock().unwrap_or_else(|e| e.into_inner()).first().copied() {
                return Ok(seen);
            }
            self.qemu.check_running()?;
            self.backend.check_running()?;
            if Instant::now() >= deadline {
                return Err(E2eError::Timeout(timeout, "the guest's heartbeat on port 9000".into()));
            }
            sleep(Duration::from_millis(20));
        }
    }

    /// Opens a stream to guest vsock `port` with the backend's
    /// `CONNECT <port>\n` / `OK <n>\n` handshake; one attempt.
    pub fn connect(&self, port: u32, io_timeout: Duration) -> Result<UnixStream> {
        connect_vsock(&self.uds, port, io_timeout)
    }

    /// A loopback TCP port that reaches guest vsock `port`, for clients that
    /// speak TCP only (`sworn`); it stops when dropped.
    pub fn tcp_bridge(&self, port: u32) -> Result<crate::bridge::TcpBridge> {
        crate::bridge::TcpBridge::start(self.uds.clone(), port)
    }

    /// host-proxy's log, across its restarts (`boot_behind_proxy` only).
    pub fn proxy_log(&self) -> Option<&Console> {
        self.proxy.as_ref().map(|p| &p.log)
    }

    /// GET `path` on guest `port`, retrying the connection until `timeout`
    /// (the server may not listen yet).
    pub fn http_get_retry(&mut self, port: u32, path: &str, timeout: Duration) -> Result<http::Response> {
        let deadline = Instant::now() + timeout;
        loop {
            self.qemu.check_running()?;
            let last = match self.connect(port, Duration::from_secs(30)).and_then(|mut s| http::get(&mut s, path)) {
                Ok(r) => return Ok(r),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(E2eError::Timeout(
                    timeout,
                    format!("GET {path} on guest port {port} (last error: {last})"),
                ));
            }
            sleep(Duration::from_millis(250));
        }
    }

    /// host-proxy's ingress address (`boot_behind_proxy` only).
    pub fn ingress(&self) -> Option<std::net::SocketAddr> {
        self.proxy.as_ref().map(|p| p.ingress)
    }

    /// One HTTP request through host-proxy's ingress, retrying refused or
    /// failed exchanges until `timeout` (the runner may be (re)starting).
    pub fn ingress_request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> Result<http::Response> {
        let addr = self.ingress().ok_or_else(|| E2eError::Protocol("no host-proxy in front of this enclave".into()))?;
        let deadline = Instant::now() + timeout;
        loop {
            self.qemu.check_running()?;
            if let Some(p) = self.proxy.as_mut() {
                p.guard.check_running()?;
            }
            let attempt = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                .map_err(io_err(format!("connect {addr}")))
                .and_then(|mut s| {
                    s.set_read_timeout(Some(Duration::from_secs(60))).map_err(io_err("set read timeout"))?;
                    http::request(&mut s, method, path, headers, body)
                });
            let last = match attempt {
                Ok(r) if r.status != 502 && r.status != 503 => return Ok(r),
                Ok(r) => format!("HTTP {} {}", r.status, r.text()),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(E2eError::Timeout(timeout, format!("{method} {path} through host-proxy (last: {last})")));
            }
            sleep(Duration::from_millis(250));
        }
    }

    /// Stops host-proxy with SIGTERM and starts it again with the same command
    /// line; returns once it listens again.
    pub fn restart_proxy(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let p = self.proxy.as_mut().ok_or_else(|| E2eError::Protocol("no host-proxy to restart".into()))?;
        let status = p.guard.stop(Signal::SIGTERM, timeout)?;
        p.guard = HostProxy::spawn(&p.binary, &p.args, &p.log)?;
        p.wait_listening(timeout)?;
        Ok(status)
    }

    /// Magic SysRq on the guest's serial console: QEMU's `Ctrl-A b` sends a
    /// BREAK, then `key` (e.g. `i`: SIGKILL to every process but init).
    pub fn sysrq(&mut self, key: char) -> Result<()> {
        let stdin = self.qemu_stdin.as_mut().ok_or_else(|| E2eError::Protocol("QEMU's stdin is not piped".into()))?;
        stdin.write_all(b"\x01b").map_err(io_err("send Ctrl-A b to QEMU"))?;
        stdin.flush().map_err(io_err("flush QEMU stdin"))?;
        sleep(Duration::from_millis(300));
        stdin.write_all(key.to_string().as_bytes()).map_err(io_err("send the SysRq key"))?;
        stdin.flush().map_err(io_err("flush QEMU stdin"))
    }

    /// Stops the emulator like `nitro-cli terminate-enclave` stops an enclave:
    /// QEMU gets SIGTERM and must exit by itself within `timeout`; then the
    /// backend. Returns QEMU's exit status.
    pub fn shutdown(mut self, timeout: Duration) -> Result<ExitStatus> {
        let status = self.qemu.stop(Signal::SIGTERM, timeout)?;
        // The backend may already have exited when QEMU disconnected.
        let _ = self.backend.stop(Signal::SIGTERM, timeout);
        Ok(status)
    }
}
