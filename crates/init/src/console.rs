//! Console output with boot-relative timestamps, in the kernel's own
//! `[seconds.micros]` format so init lines interleave readably with printk.

use std::fmt;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::time::{clock_gettime, ClockId};
use nix::unistd::dup2_stdin;

/// Time since the kernel started (CLOCK_BOOTTIME), or zero if the clock is unreadable.
pub fn since_boot() -> Duration {
    clock_gettime(ClockId::CLOCK_BOOTTIME).map(Duration::from).unwrap_or_default()
}

/// Formats one console line: `[    1.234567] init: message`.
pub fn format_line(at: Duration, msg: fmt::Arguments<'_>) -> String {
    format!("[{:5}.{:06}] init: {}\n", at.as_secs(), at.subsec_micros(), msg)
}

/// Writes a line to fd 2, which [`attach`] points at `/dev/console`.
/// Errors are ignored: PID 1 has nowhere else to report them.
pub fn write_line(msg: fmt::Arguments<'_>) {
    let line = format_line(since_boot(), msg);
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Opens `/dev/console` and makes it fds 0, 1 and 2, which the child inherits.
/// Needed because the kernel opens the console for init only when the
/// bootstrap ramdisk already carries a `/dev/console` node.
pub fn attach(path: &str) -> nix::Result<()> {
    let fd: OwnedFd = open(path, OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC, Mode::empty())?;
    let raw = fd.as_raw_fd();
    // dup2 onto 0..=2; if open returned one of them, keep it open.
    dup2_stdin(&fd)?;
    nix::unistd::dup2_stdout(&fd)?;
    nix::unistd::dup2_stderr(&fd)?;
    if raw <= 2 {
        std::mem::forget(fd);
    }
    Ok(())
}

/// `info!`-style macro for console lines.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::console::write_line(format_args!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format_matches_printk() {
        let line = format_line(Duration::new(1, 234_567_891), format_args!("hello {}", 7));
        assert_eq!(line, "[    1.234567] init: hello 7\n");
        let line = format_line(Duration::new(12345, 0), format_args!("x"));
        assert_eq!(line, "[12345.000000] init: x\n");
    }
}
