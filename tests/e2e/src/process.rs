//! Child processes in their own process group, killed with the whole group
//! when the guard drops.

use std::process::{Child, Command, ExitStatus};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::{E2eError, Result};

pub struct Guarded {
    name: &'static str,
    child: Option<Child>,
}

impl Guarded {
    /// Spawns `cmd` as the leader of a new process group.
    pub fn spawn(name: &'static str, mut cmd: std::process::Command) -> Result<Self> {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        let program = format!("{:?}", cmd.get_program());
        let child = cmd.spawn().map_err(|source| E2eError::Spawn { program, source })?;
        Ok(Self { name, child: Some(child) })
    }

    pub fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("child present until drop")
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.as_ref().map(|c| c.id() as i32).unwrap_or(0))
    }

    /// Fails if the process has already exited.
    pub fn check_running(&mut self) -> Result<()> {
        let name = self.name;
        match self.child_mut().try_wait() {
            Ok(Some(status)) => Err(E2eError::Exited { name, status }),
            Ok(None) => Ok(()),
            Err(e) => Err(E2eError::Io { context: format!("wait for {name}"), source: e }),
        }
    }

    /// Sends `sig` to the process and waits up to `timeout` for it to exit.
    pub fn stop(&mut self, sig: Signal, timeout: Duration) -> Result<ExitStatus> {
        let name = self.name;
        let _ = kill(self.pid(), sig);
        let deadline = Instant::now() + timeout;
        loop {
            match self.child_mut().try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < deadline => sleep(Duration::from_millis(50)),
                Ok(None) => return Err(E2eError::Timeout(timeout, format!("{name} to exit after {sig}"))),
                Err(e) => return Err(E2eError::Io { context: format!("wait for {name}"), source: e }),
            }
        }
    }

    /// Takes stdout for a reader thread.
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child_mut().stdout.take()
    }

    pub fn new_command(program: &std::path::Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.stdin(std::process::Stdio::null());
        cmd
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(None) = child.try_wait() {
                // The whole group: QEMU and anything it started.
                let _ = kill(Pid::from_raw(-(child.id() as i32)), Signal::SIGKILL);
                let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            }
            let _ = child.wait();
        }
    }
}
