//! One convention for durations on every Sworn command line (the runner's
//! flags, host-proxy's flags and TOML file, init's `sworn.*` kernel
//! parameters): a number with a unit, as [humantime] reads it — `250ms`,
//! `10s`, `2m`, `1m 30s`, `1h` — or a bare number, which keeps the unit the
//! setting had before units were written (milliseconds for the runner's
//! `--cpu-limit`, seconds for host-proxy's `--idle-timeout`, …), so old
//! command lines mean what they meant.
#![forbid(unsafe_code)]

use std::time::Duration;

/// The unit of a bare number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Secs,
}

impl Unit {
    fn suffix(self) -> &'static str {
        match self {
            Unit::Millis => "ms",
            Unit::Secs => "s",
        }
    }

    fn seconds(self) -> f64 {
        match self {
            Unit::Millis => 1e-3,
            Unit::Secs => 1.0,
        }
    }
}

/// Text that is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a duration: {reason} (write e.g. 250ms, 10s or 2m; a bare number is in {unit})")]
pub struct DurationError {
    text: String,
    reason: String,
    unit: &'static str,
}

/// Reads `text` as a duration; a bare (decimal) number is in `bare` units.
pub fn parse(text: &str, bare: Unit) -> Result<Duration, DurationError> {
    let text = text.trim();
    let error = |reason: String| DurationError { text: text.to_owned(), reason, unit: bare.suffix() };
    if let Some(n) = bare_number(text) {
        let n = n.map_err(|reason| error(reason.into()))?;
        return Duration::try_from_secs_f64(n * bare.seconds()).map_err(|e| error(e.to_string()));
    }
    humantime::parse_duration(text).map_err(|e| error(e.to_string()))
}

/// `Some` when `text` is a plain number (no unit): its value if it is a
/// finite, non-negative one.
fn bare_number(text: &str) -> Option<Result<f64, &'static str>> {
    let n: f64 = text.parse().ok()?;
    // "inf" and "NaN" parse as f64 but are no one's idea of a number here.
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(if !n.is_finite() || n < 0.0 { Err("must be a finite number of at least 0") } else { Ok(n) })
}

/// A clap value parser: a duration whose bare numbers are milliseconds.
pub fn millis(text: &str) -> Result<Duration, DurationError> {
    parse(text, Unit::Millis)
}

/// A clap value parser: a duration whose bare numbers are seconds.
pub fn secs(text: &str) -> Result<Duration, DurationError> {
    parse(text, Unit::Secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_read_as_written() {
        assert_eq!(parse("250ms", Unit::Secs), Ok(Duration::from_millis(250)));
        assert_eq!(parse("10s", Unit::Millis), Ok(Duration::from_secs(10)));
        assert_eq!(parse("2m", Unit::Millis), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1m 30s", Unit::Millis), Ok(Duration::from_secs(90)));
        assert_eq!(parse(" 1h ", Unit::Millis), Ok(Duration::from_secs(3600)));
    }

    #[test]
    fn a_bare_number_keeps_the_settings_old_unit() {
        assert_eq!(millis("1000"), Ok(Duration::from_secs(1)));
        assert_eq!(millis("0"), Ok(Duration::ZERO));
        assert_eq!(secs("600"), Ok(Duration::from_secs(600)));
        assert_eq!(secs("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(secs("0.05"), Ok(Duration::from_millis(50)));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in ["", "ten", "10 parsecs", "-1", "-1s", "1e400", "inf", "NaN", "5 s s"] {
            let e = millis(bad).expect_err(bad).to_string();
            assert!(e.contains("is not a duration"), "{bad}: {e}");
        }
        assert!(millis("x").unwrap_err().to_string().contains("a bare number is in ms"));
        assert!(secs("x").unwrap_err().to_string().contains("a bare number is in s"));
    }
}
