//! Restart policy: whether and when to start the child again after it exits.
//!
//! Pure logic, no syscalls, so every decision is unit-tested.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// When to restart the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartMode {
    /// Never restart: the first exit ends the enclave.
    Never,
    /// Restart after a crash (non-zero exit or death by signal); exit 0 ends the enclave.
    OnFailure,
    /// Restart after any exit.
    Always,
}

impl FromStr for RestartMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "never" => Ok(Self::Never),
            "on-failure" => Ok(Self::OnFailure),
            "always" => Ok(Self::Always),
            other => Err(format!("unknown restart mode {other:?} (expected never, on-failure or always)")),
        }
    }
}

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    Exited(i32),
    Signaled(i32),
}

impl ChildExit {
    pub fn is_success(self) -> bool {
        self == ChildExit::Exited(0)
    }
}

impl fmt::Display for ChildExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildExit::Exited(code) => write!(f, "exit status {code}"),
            ChildExit::Signaled(sig) => write!(f, "killed by signal {sig}"),
        }
    }
}

/// Restart policy with bounded exponential backoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartPolicy {
    pub mode: RestartMode,
    /// Consecutive restarts allowed before giving up; `None` = unbounded.
    pub max_restarts: Option<u32>,
    /// Delay before the first restart; doubles on each consecutive restart.
    pub backoff_initial: Duration,
    /// Upper bound of the delay.
    pub backoff_max: Duration,
    /// A run at least this long counts as healthy and resets the backoff.
    pub stable_after: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            mode: RestartMode::OnFailure,
            max_restarts: Some(10),
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            stable_after: Duration::from_secs(60),
        }
    }
}

/// Why supervision ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// A stop was requested (SIGTERM/SIGINT forwarded to the child).
    Requested,
    /// The policy does not restart after this exit.
    PolicyDone,
    /// Too many consecutive restarts.
    RestartLimit(u32),
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Requested => f.write_str("stop requested"),
            StopReason::PolicyDone => f.write_str("restart policy does not restart it"),
            StopReason::RestartLimit(n) => write!(f, "gave up after {n} consecutive restarts"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start the child again after `delay`; `attempt` counts from 1.
    Restart {
        delay: Duration,
        attempt: u32,
    },
    Stop(StopReason),
}

/// Tracks consecutive restarts against a [`RestartPolicy`].
#[derive(Debug)]
pub struct RestartTracker {
    policy: RestartPolicy,
    consecutive: u32,
}

impl RestartTracker {
    pub fn new(policy: RestartPolicy) -> Self {
        Self { policy, consecutive: 0 }
    }

    /// Decides what to do after the child ended with `exit` having run for `ran_for`.
    pub fn on_exit(&mut self, exit: ChildExit, ran_for: Duration, stop_requested: bool) -> Decision {
        if stop_requested {
            return Decision::Stop(StopReason::Requested);
        }
        let wants_restart = match self.policy.mode {
            RestartMode::Never => false,
            RestartMode::OnFailure => !exit.is_success(),
            RestartMode::Always => true,
        };
        if !wants_restart {
            return Decision::Stop(StopReason::PolicyDone);
        }
        if ran_for >= self.policy.stable_after {
            self.consecutive = 0;
        }
        if let Some(max) = self.policy.max_restarts {
            if self.consecutive >= max {
                return Decision::Stop(StopReason::RestartLimit(self.consecutive));
            }
        }
        let delay = backoff_delay(&self.policy, self.consecutive);
        self.consecutive += 1;
        Decision::Restart { delay, attempt: self.consecutive }
    }
}

/// `initial * 2^n`, capped at `max`, without overflow.
pub fn backoff_delay(policy: &RestartPolicy, n: u32) -> Duration {
    let factor = 1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX);
    policy.backoff_initial.checked_mul(factor).unwrap_or(policy.backoff_max).min(policy.backoff_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: RestartMode, max: Option<u32>) -> RestartPolicy {
        RestartPolicy {
            mode,
            max_restarts: max,
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            stable_after: Duration::from_secs(60),
        }
    }

    const SHORT: Duration = Duration::from_millis(10);

    #[test]
    fn parses_modes() {
        assert_eq!("never".parse(), Ok(RestartMode::Never));
        assert_eq!("on-failure".parse(), Ok(RestartMode::OnFailure));
        assert_eq!("always".parse(), Ok(RestartMode::Always));
        let err = "sometimes".parse::<RestartMode>().unwrap_err();
        assert!(err.contains("sometimes"), "{err}");
    }

    #[test]
    fn backoff_doubles_and_is_bounded() {
        let p = policy(RestartMode::Always, None);
        let delays: Vec<u64> = (0..8).map(|n| backoff_delay(&p, n).as_millis() as u64).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 2000, 2000, 2000]);
        assert_eq!(backoff_delay(&p, u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn on_failure_restarts_crashes_only() {
        let mut t = RestartTracker::new(policy(RestartMode::OnFailure, None));
        assert_eq!(
            t.on_exit(ChildExit::Exited(1), SHORT, false),
            Decision::Restart { delay: Duration::from_millis(100), attempt: 1 }
        );
        assert_eq!(
            t.on_exit(ChildExit::Signaled(11), SHORT, false),
            Decision::Restart { delay: Duration::from_millis(200), attempt: 2 }
        );
        assert_eq!(t.on_exit(ChildExit::Exited(0), SHORT, false), Decision::Stop(StopReason::PolicyDone));
    }

    #[test]
    fn never_and_always() {
        let mut never = RestartTracker::new(policy(RestartMode::Never, None));
        assert_eq!(never.on_exit(ChildExit::Exited(3), SHORT, false), Decision::Stop(StopReason::PolicyDone));
        let mut always = RestartTracker::new(policy(RestartMode::Always, None));
        assert!(matches!(always.on_exit(ChildExit::Exited(0), SHORT, false), Decision::Restart { .. }));
    }

    #[test]
    fn requested_stop_wins() {
        let mut t = RestartTracker::new(policy(RestartMode::Always, None));
        assert_eq!(t.on_exit(ChildExit::Signaled(15), SHORT, true), Decision::Stop(StopReason::Requested));
    }

    #[test]
    fn gives_up_after_limit() {
        let mut t = RestartTracker::new(policy(RestartMode::OnFailure, Some(2)));
        assert!(matches!(t.on_exit(ChildExit::Exited(1), SHORT, false), Decision::Restart { attempt: 1, .. }));
        assert!(matches!(t.on_exit(ChildExit::Exited(1), SHORT, false), Decision::Restart { attempt: 2, .. }));
        assert_eq!(t.on_exit(ChildExit::Exited(1), SHORT, false), Decision::Stop(StopReason::RestartLimit(2)));
    }

    #[test]
    fn stable_run_resets_backoff() {
        let mut t = RestartTracker::new(policy(RestartMode::OnFailure, Some(2)));
        t.on_exit(ChildExit::Exited(1), SHORT, false);
        t.on_exit(ChildExit::Exited(1), SHORT, false);
        assert_eq!(
            t.on_exit(ChildExit::Exited(1), Duration::from_secs(61), false),
            Decision::Restart { delay: Duration::from_millis(100), attempt: 1 }
        );
    }

    #[test]
    fn zero_limit_never_restarts() {
        let mut t = RestartTracker::new(policy(RestartMode::Always, Some(0)));
        assert_eq!(t.on_exit(ChildExit::Exited(1), SHORT, false), Decision::Stop(StopReason::RestartLimit(0)));
    }
}
