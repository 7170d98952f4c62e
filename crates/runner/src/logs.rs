//! Bounded ring buffer of a worker's console output.

use std::collections::VecDeque;

/// One console line.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch.
    pub time: u64,
    pub level: &'static str,
    pub message: String,
}

/// Keeps the newest lines whose total size stays under `capacity` bytes.
#[derive(Debug)]
pub struct LogRing {
    lines: VecDeque<LogLine>,
    bytes: usize,
    capacity: usize,
    dropped: u64,
}

/// A single line longer than this is cut, so one huge `console.log` cannot
/// flush the whole buffer.
const MAX_LINE: usize = 8 << 10;

impl LogRing {
    pub fn new(capacity: usize) -> Self {
        LogRing { lines: VecDeque::new(), bytes: 0, capacity, dropped: 0 }
    }

    pub fn push(&mut self, time: u64, level: &'static str, mut message: String) {
        // Half the capacity leaves room for the "[... cut]" note.
        let max = MAX_LINE.min(self.capacity / 2);
        cut_to(&mut message, max);
        self.bytes += message.len();
        self.lines.push_back(LogLine { time, level, message });
        while self.bytes > self.capacity {
            match self.lines.pop_front() {
                Some(old) => {
                    self.bytes -= old.message.len();
                    self.dropped += 1;
                }
                None => break,
            }
        }
    }

    pub fn lines(&self) -> impl Iterator<Item = &LogLine> {
        self.lines.iter()
    }

    /// Lines evicted so far to stay within capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Cuts `message` to at most `max` bytes on a character boundary and says
/// how much was cut. One rule for log lines and for error texts.
pub fn cut_to(message: &mut String, max: usize) {
    if message.len() > max {
        let mut end = max;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let extra = message.len() - end;
        message.truncate(end);
        message.push_str(&format!("... [{extra} bytes cut]"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_lines_beyond_capacity() {
        let mut ring = LogRing::new(10);
        ring.push(1, "log", "abcd".into());
        ring.push(2, "log", "efgh".into());
        ring.push(3, "log", "ijkl".into());
        let kept: Vec<_> = ring.lines().map(|l| l.message.as_str()).collect();
        assert_eq!(kept, ["efgh", "ijkl"]);
        assert_eq!(ring.dropped(), 1);
    }

    #[test]
    fn cuts_a_single_huge_line() {
        let mut ring = LogRing::new(100);
        ring.push(1, "log", "x".repeat(1000));
        let line = ring.lines().next().unwrap();
        assert!(line.message.starts_with(&"x".repeat(50)));
        assert!(line.message.ends_with("[950 bytes cut]"));
    }
}
