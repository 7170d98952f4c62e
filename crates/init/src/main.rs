//! Sworn enclave init (PID 1).
//!
//! Boot: mount /dev and open the console, read `/cmd` and `/env`, load
//! `nsm.ko` when the image carries one, switch into `/rootfs` when present
//! (nitro-cli's layout), mount the rest, bring up loopback, send the 0xB7
//! heartbeat to the parent, then start and supervise the child. When the child
//! is done for good, or anything fails, print why and reboot: on Nitro that
//! ends the enclave.
//!
//! Settings come from `sworn.*` kernel parameters (see `config`).

mod config;
mod console;
mod error;
mod heartbeat;
mod launch;
mod module;
mod mounts;
mod net;
mod policy;
mod shutdown;
mod supervise;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::InitConfig;
use error::InitError;
use launch::LaunchSpec;
use module::NsmModule;
use supervise::{Outcome, Supervisor};
use sworn_wire::heartbeat::PORT as HEARTBEAT_PORT;

fn main() {
    // A panic in PID 1 would end the process, and the kernel would panic in
    // turn and wait `panic=` seconds; instead say why and reboot at once,
    // which ends the enclave cleanly.
    std::panic::set_hook(Box::new(|info| {
        // One console line: the message and where it was raised.
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        say!("panic{at}: {message}");
        shutdown::reboot_now()
    }));
    let kernel_to_init = console::since_boot();
    let pid = std::process::id() as i32;
    if pid != 1 {
        eprintln!("init: {}", InitError::NotPid1(pid));
        std::process::exit(2);
    }
    match boot(kernel_to_init) {
        Ok(Outcome { reason, last_exit }) => {
            let last = last_exit.map(|e| e.to_string()).unwrap_or_else(|| "none".into());
            say!("child done for good ({reason}; last: {last}); shutting down");
        }
        Err(e) => say!("fatal: {e}"),
    }
    shutdown::reboot_now()
}

fn read_file(path: &Path) -> Result<Vec<u8>, InitError> {
    fs::read(path).map_err(|source| InitError::Read { path: path.to_owned(), source })
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, InitError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(InitError::Read { path: path.to_owned(), source }),
    }
}

fn mount_tolerant(root: &Path, spec: &mounts::MountSpec) -> Result<(), InitError> {
    match mounts::mount_one(root, spec) {
        Err(e) if !mounts::already_mounted(&e) => Err(e),
        _ => Ok(()),
    }
}

fn boot(kernel_to_init: Duration) -> Result<Outcome, InitError> {
    // The console first: without a /dev/console node in the ramdisk, the
    // kernel starts init with fds 0-2 closed, and any fd opened before this
    // would land there and be overwritten.
    let initramfs = Path::new("/");
    mount_tolerant(initramfs, &mounts::DEV)?;
    console::attach("/dev/console").map_err(|source| InitError::Console { path: "/dev/console", source })?;

    // No child exists yet, and init ignores signals it has no handler for, so
    // nothing is lost before this point.
    let sigfd = supervise::signal_fd()?;
    // Ctrl-Alt-Del becomes SIGINT to init (a clean stop) instead of an instant reboot.
    let _ = nix::sys::reboot::set_cad_enabled(false);
    say!("sworn-init {} started ({:.3}s after kernel start)", env!("CARGO_PKG_VERSION"), kernel_to_init.as_secs_f64());

    let cmd = read_file(Path::new("/cmd"))?;
    let env = read_optional(Path::new("/env"))?;
    let mut spec = LaunchSpec::parse(&cmd, env.as_deref())?;

    match module::load_nsm(Path::new("/nsm.ko"), Path::new("/dev/nsm"))? {
        NsmModule::Loaded => say!("loaded /nsm.ko"),
        NsmModule::BuiltIn => say!("/nsm.ko present but /dev/nsm exists already (driver built in); not loaded"),
        NsmModule::NotCarried => {}
    }
    if Path::new("/dev/nsm").exists() {
        say!("NSM device /dev/nsm present");
    } else {
        say!("warning: no /dev/nsm (kernel without the NSM driver, or not a Nitro enclave); attestation unavailable");
    }

    if let Some(rootfs) = mounts::app_root(initramfs) {
        mounts::switch_root(&rootfs)?;
        say!("switched root to {}", rootfs.display());
        mount_tolerant(Path::new("/"), &mounts::DEV)?;
    }
    mounts::mount_others(Path::new("/"))?;

    let cmdline = read_file(Path::new("/proc/cmdline"))?;
    let cfg = InitConfig::from_cmdline(&String::from_utf8_lossy(&cmdline))?;
    if cfg.selftest == Some(config::SelfTest::Panic) {
        panic!("self-test requested by sworn.selftest=panic");
    }
    for (old, new) in &cfg.deprecated {
        say!("warning: kernel parameter sworn.{old} is deprecated and goes away in the next release; use sworn.{new}");
    }

    net::loopback_up().map_err(InitError::Loopback)?;
    // The runner reaches the host proxy's egress at this CID too.
    spec.set_env(sworn_wire::env::PARENT_CID, &cfg.parent_cid.to_string());

    let rtt = heartbeat::send(cfg.parent_cid, HEARTBEAT_PORT, cfg.heartbeat_timeout)
        .map_err(|source| InitError::Heartbeat { cid: cfg.parent_cid, port: HEARTBEAT_PORT, source })?;
    say!("heartbeat acknowledged by CID {} port {HEARTBEAT_PORT} in {} ms", cfg.parent_cid, rtt.as_millis());

    let program = PathBuf::from(&spec.argv[0]);
    say!("starting {} ({} args, restart policy {:?})", program.display(), spec.argv.len() - 1, cfg.restart.mode);
    let supervisor = Supervisor::new(&spec, cfg.restart.clone(), cfg.stop_timeout, &sigfd);
    supervisor.run(|pid| {
        let at_exec = console::since_boot();
        say!(
            "boot timings: kernel->init {:.3}s, init->exec {:.3}s, kernel->exec {:.3}s (pid {pid})",
            kernel_to_init.as_secs_f64(),
            at_exec.saturating_sub(kernel_to_init).as_secs_f64(),
            at_exec.as_secs_f64()
        );
    })
}
