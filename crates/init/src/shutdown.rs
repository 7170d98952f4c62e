//! The end of an enclave: stop every process, sync, reboot. A reboot
//! terminates a Nitro enclave (`reboot=k`).

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::reboot::{reboot, RebootMode};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{sync, Pid};

use crate::say;

/// Reaps until no child is left or `grace` passes. Returns true if none is left.
fn reap_all(grace: Duration) -> bool {
    let deadline = Instant::now() + grace;
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Err(Errno::ECHILD) => return true,
            Ok(WaitStatus::StillAlive) => {
                if Instant::now() >= deadline {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            _ => {}
        }
    }
}

/// Terminates every remaining process (SIGTERM, then SIGKILL), syncs and
/// reboots. Never returns.
pub fn reboot_now() -> ! {
    // kill(-1) reaches every process but init itself.
    if kill(Pid::from_raw(-1), Signal::SIGTERM).is_ok() && !reap_all(Duration::from_secs(2)) {
        let _ = kill(Pid::from_raw(-1), Signal::SIGKILL);
        reap_all(Duration::from_secs(1));
    }
    sync();
    say!("rebooting");
    let err = reboot(RebootMode::RB_AUTOBOOT).err();
    // Only reached if reboot failed; PID 1 must not exit (that panics the kernel).
    say!("reboot failed: {err:?}; halting");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
