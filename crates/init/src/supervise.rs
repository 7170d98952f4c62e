//! Starts the child in its own session and supervises it: forwards SIGTERM and
//! SIGINT, reaps every zombie, restarts per policy. Single-threaded: a
//! signalfd and poll(2) with a timeout drive everything.

use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::error::InitError;
use crate::launch::LaunchSpec;
use crate::policy::{ChildExit, Decision, RestartPolicy, RestartTracker, StopReason};
use crate::say;

/// Signals init handles itself, blocked and read from a signalfd.
pub fn handled_signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT] {
        set.add(s);
    }
    set
}

/// Blocks [`handled_signals`] and returns a non-blocking signalfd for them.
/// Children get an empty mask back: std's spawn resets it before exec.
pub fn signal_fd() -> Result<SignalFd, InitError> {
    let set = handled_signals();
    set.thread_block().map_err(InitError::Signals)?;
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).map_err(InitError::Signals)
}

/// How supervision ended.
#[derive(Debug)]
pub struct Outcome {
    pub reason: StopReason,
    pub last_exit: Option<ChildExit>,
}

enum State {
    Running { pid: Pid, started: Instant, kill_at: Option<Instant> },
    Waiting { until: Instant },
}

pub struct Supervisor<'a> {
    spec: &'a LaunchSpec,
    tracker: RestartTracker,
    stop_timeout: Duration,
    sigfd: &'a SignalFd,
    stop_requested: bool,
}

impl<'a> Supervisor<'a> {
    pub fn new(spec: &'a LaunchSpec, policy: RestartPolicy, stop_timeout: Duration, sigfd: &'a SignalFd) -> Self {
        Self { spec, tracker: RestartTracker::new(policy), stop_timeout, sigfd, stop_requested: false }
    }

    fn spawn(&self) -> Result<Pid, InitError> {
        let argv = &self.spec.argv;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).env_clear().envs(self.spec.env.iter().map(|(k, v)| (k, v))).current_dir("/");
        // SAFETY: setsid is async-signal-safe; the closure allocates nothing.
        unsafe {
            cmd.pre_exec(|| nix::unistd::setsid().map(drop).map_err(std::io::Error::from));
        }
        // spawn returns after exec succeeded (std reports exec errors through a CLOEXEC pipe).
        let child = cmd
            .spawn()
            .map_err(|source| InitError::Spawn { program: argv[0].to_string_lossy().into_owned(), source })?;
        Ok(Pid::from_raw(child.id() as i32))
    }

    /// Runs the child until the policy says stop. `on_exec` is called once,
    /// right after the first successful exec (for the boot timing line).
    pub fn run(mut self, on_exec: impl FnOnce(Pid)) -> Result<Outcome, InitError> {
        let pid = self.spawn()?;
        on_exec(pid);
        let mut state = State::Running { pid, started: Instant::now(), kill_at: None };
        let mut last_exit = None;
        loop {
            let timeout = match &state {
                State::Running { kill_at: Some(at), .. } => Some(at.saturating_duration_since(Instant::now())),
                State::Running { kill_at: None, .. } => None,
                State::Waiting { until } => Some(until.saturating_duration_since(Instant::now())),
            };
            self.wait_for_signal(timeout)?;

            // Signals first: they may ask for a stop.
            while let Some(info) = self.sigfd.read_signal().map_err(InitError::Signals)? {
                let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else { continue };
                if sig == Signal::SIGCHLD {
                    continue; // handled by the reap loop below
                }
                match &mut state {
                    State::Running { pid, kill_at, .. } => {
                        say!("received {sig}, forwarding to pid {pid}'s process group");
                        self.stop_requested = true;
                        signal_group(*pid, sig);
                        kill_at.get_or_insert(Instant::now() + self.stop_timeout);
                    }
                    State::Waiting { .. } => {
                        say!("received {sig} while waiting to restart; stopping");
                        return Ok(Outcome { reason: StopReason::Requested, last_exit });
                    }
                }
            }

            // Reap every zombie; the child's exit drives the policy.
            loop {
                match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break,
                    Err(Errno::EINTR) => continue,
                    Err(e) => return Err(InitError::Wait(e)),
                    Ok(status) => {
                        let (reaped, exit) = match status {
                            WaitStatus::Exited(p, code) => (p, ChildExit::Exited(code)),
                            WaitStatus::Signaled(p, sig, _) => (p, ChildExit::Signaled(sig as i32)),
                            _ => continue,
                        };
                        let State::Running { pid, started, .. } = state else { continue };
                        if reaped != pid {
                            continue; // an orphan re-parented to init
                        }
                        let ran_for = started.elapsed();
                        last_exit = Some(exit);
                        // Leftovers of the child's session go with it.
                        signal_group(pid, Signal::SIGKILL);
                        say!("child pid {pid} ended after {:.3}s: {exit}", ran_for.as_secs_f64());
                        match self.tracker.on_exit(exit, ran_for, self.stop_requested) {
                            Decision::Stop(reason) => return Ok(Outcome { reason, last_exit }),
                            Decision::Restart { delay, attempt } => {
                                say!("restart {attempt} in {} ms", delay.as_millis());
                                state = State::Waiting { until: Instant::now() + delay };
                            }
                        }
                    }
                }
            }

            // Deadlines.
            let now = Instant::now();
            match &mut state {
                State::Running { pid, kill_at, .. } => {
                    if kill_at.is_some_and(|at| at <= now) {
                        say!(
                            "child pid {pid} did not stop within {} ms; sending SIGKILL",
                            self.stop_timeout.as_millis()
                        );
                        signal_group(*pid, Signal::SIGKILL);
                        *kill_at = Some(now + Duration::from_secs(3600));
                    }
                }
                State::Waiting { until } if *until <= now => {
                    let pid = self.spawn()?;
                    say!("child restarted as pid {pid}");
                    state = State::Running { pid, started: now, kill_at: None };
                }
                State::Waiting { .. } => {}
            }
        }
    }

    fn wait_for_signal(&self, timeout: Option<Duration>) -> Result<(), InitError> {
        let timeout = match timeout {
            None => PollTimeout::NONE,
            // Round up so a deadline is never polled early in a busy loop.
            Some(d) => PollTimeout::try_from(d + Duration::from_micros(999)).unwrap_or(PollTimeout::MAX),
        };
        let mut fds = [PollFd::new(self.sigfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => Ok(()),
            Err(e) => Err(InitError::Signals(e)),
        }
    }
}

/// Sends `sig` to the process group led by `pid` (the child is a session
/// leader); a group already gone is fine.
fn signal_group(pid: Pid, sig: Signal) {
    let _ = kill(Pid::from_raw(-pid.as_raw()), sig);
}
