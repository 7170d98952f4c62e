//! Collects the lines of a process's output (the guest's serial console on
//! QEMU's stdout, host-proxy's log), echoes them to stderr with a prefix,
//! and lets the test wait for a line.

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::{E2eError, Result};

#[derive(Default)]
struct Lines {
    lines: Vec<String>,
    /// Sources still being read; none left means no line can come.
    open: usize,
}

#[derive(Clone, Default)]
pub struct Console {
    inner: Arc<(Mutex<Lines>, Condvar)>,
}

impl Console {
    /// Starts a thread that reads `source` until EOF.
    pub fn capture(source: impl Read + Send + 'static, echo_prefix: &'static str) -> Self {
        let console = Console::default();
        console.attach(source, echo_prefix);
        console
    }

    /// Also collects the lines of `source` (a restarted process's output
    /// joins the lines of the one before it); a thread reads it until EOF.
    pub fn attach(&self, source: impl Read + Send + 'static, echo_prefix: &'static str) {
        let c = self.clone();
        self.inner.0.lock().unwrap_or_else(|e| e.into_inner()).open += 1;
        std::thread::spawn(move || {
            let mut reader = BufReader::new(source);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_owned();
                        eprintln!("{echo_prefix}{line}");
                        let (m, cv) = &*c.inner;
                        m.lock().unwrap_or_else(|e| e.into_inner()).lines.push(line);
                        cv.notify_all();
                    }
                }
            }
            let (m, cv) = &*c.inner;
            m.lock().unwrap_or_else(|e| e.into_inner()).open -= 1;
            cv.notify_all();
        });
    }

    /// Waits until a line containing `needle` appears (also among lines seen
    /// before the call) and returns it.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.inner;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(line) = g.lines.iter().find(|l| l.contains(needle)) {
                return Ok(line.clone());
            }
            let now = Instant::now();
            let closed = g.open == 0;
            if closed || now >= deadline {
                let tail: Vec<&str> = g.lines.iter().rev().take(30).rev().map(String::as_str).collect();
                let why = if closed { "console closed" } else { "deadline" };
                return Err(E2eError::Timeout(
                    timeout,
                    format!("console line containing {needle:?} ({why}); last lines:\n  {}", tail.join("\n  ")),
                ));
            }
            g = cv.wait_timeout(g, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Lines that contain `needle`.
    pub fn grep(&self, needle: &str) -> Vec<String> {
        let g = self.inner.0.lock().unwrap_or_else(|e| e.into_inner());
        g.lines.iter().filter(|l| l.contains(needle)).cloned().collect()
    }
}
