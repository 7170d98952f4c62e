//! Five-field cron expressions (minute hour day-of-month month day-of-week),
//! evaluated in UTC as Cloudflare Workers cron triggers are.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CronError {
    #[error("schedule must have 5 fields (minute hour day-of-month month day-of-week), got {0}")]
    FieldCount(usize),
    #[error("schedule field {field}: {problem}")]
    Field { field: &'static str, problem: String },
    #[error("schedule never fires")]
    Never,
}

/// A parsed schedule: one bit set per allowed value of each field.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    source: String,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Day-of-month and day-of-week were both restricted: either may match.
    day_or: bool,
}

/// A UTC calendar minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Minute {
    pub minute: u32,
    pub hour: u32,
    pub day: u32,
    pub month: u32,
    pub weekday: u32,
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    names_base: u32,
}

const SPECS: [FieldSpec; 5] = [
    FieldSpec { name: "minute", min: 0, max: 59, names: &[], names_base: 0 },
    FieldSpec { name: "hour", min: 0, max: 23, names: &[], names_base: 0 },
    FieldSpec { name: "day-of-month", min: 1, max: 31, names: &[], names_base: 1 },
    FieldSpec { name: "month", min: 1, max: 12, names: &MONTHS, names_base: 1 },
    // 7 is accepted as Sunday and folded onto 0 below.
    FieldSpec { name: "day-of-week", min: 0, max: 7, names: &DAYS, names_base: 0 },
];

impl Schedule {
    pub fn parse(expr: &str) -> Result<Schedule, CronError> {
        let expanded = match expr.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(CronError::FieldCount(fields.len()));
        }
        let mut bits = [0u64; 5];
        for (i, (field, spec)) in fields.iter().zip(SPECS.iter()).enumerate() {
            bits[i] = parse_field(field, spec)?;
        }
        if bits[4] & (1 << 7) != 0 {
            bits[4] = (bits[4] & !(1 << 7)) | 1;
        }
        let schedule = Schedule {
            source: expr.trim().to_string(),
            minutes: bits[0],
            hours: bits[1],
            days: bits[2],
            months: bits[3],
            weekdays: bits[4],
            day_or: !fields[2].starts_with('*') && !fields[4].starts_with('*'),
        };
        // Reject schedules such as "0 0 31 2 *" that can never fire.
        if schedule.next_after(unix_now_secs()).is_none() {
            return Err(CronError::Never);
        }
        Ok(schedule)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, m: Minute) -> bool {
        let day_ok = if self.day_or {
            self.days & (1 << m.day) != 0 || self.weekdays & (1 << m.weekday) != 0
        } else {
            self.days & (1 << m.day) != 0 && self.weekdays & (1 << m.weekday) != 0
        };
        self.minutes & (1 << m.minute) != 0
            && self.hours & (1 << m.hour) != 0
            && self.months & (1 << m.month) != 0
            && day_ok
    }

    /// First matching minute strictly after `secs` (Unix seconds), looking at
    /// most five years ahead.
    pub fn next_after(&self, secs: u64) -> Option<u64> {
        let mut t = (secs / 60 + 1) * 60;
        let end = t + 5 * 366 * 86400;
        while t < end {
            let m = minute_of(t);
            if self.months & (1 << m.month) == 0 {
                // Skip to the next day quickly; months are rare misses.
                t = (t / 86400 + 1) * 86400;
                continue;
            }
            if self.matches(m) {
                return Some(t);
            }
            t += 60;
        }
        None
    }
}

fn parse_field(field: &str, spec: &FieldSpec) -> Result<u64, CronError> {
    let err = |problem: String| CronError::Field { field: spec.name, problem };
    let mut bits = 0u64;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| err(format!("bad step {s:?}")))?;
                if step == 0 {
                    return Err(err("step must be at least 1".into()));
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (spec.min, if spec.max == 7 { 6 } else { spec.max })
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, spec).map_err(err)?, value(b, spec).map_err(err)?)
        } else {
            let v = value(range, spec).map_err(err)?;
            (v, if part.contains('/') { spec.max } else { v })
        };
        if lo > hi {
            return Err(err(format!("range {lo}-{hi} is backwards")));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

fn value(s: &str, spec: &FieldSpec) -> Result<u32, String> {
    let lower = s.to_ascii_lowercase();
    if let Some(i) = spec.names.iter().position(|n| *n == lower) {
        return Ok(i as u32 + spec.names_base);
    }
    let v: u32 = s.parse().map_err(|_| format!("bad value {s:?}"))?;
    if v < spec.min || v > spec.max {
        return Err(format!("{v} is outside {}-{}", spec.min, spec.max));
    }
    Ok(v)
}

pub fn unix_now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The UTC calendar minute containing Unix time `secs`.
pub fn minute_of(secs: u64) -> Minute {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    Minute {
        minute: ((rem / 60) % 60) as u32,
        hour: (rem / 3600) as u32,
        day,
        month,
        // 1970-01-01 was a Thursday.
        weekday: ((days + 4).rem_euclid(7)) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_conversion() {
        // 2024-02-29 13:45 UTC, a Thursday.
        let m = minute_of(1_709_214_300);
        assert_eq!(m, Minute { minute: 45, hour: 13, day: 29, month: 2, weekday: 4 });
        assert_eq!(minute_of(0).weekday, 4);
    }

    #[test]
    fn every_five_minutes() {
        let s = Schedule::parse("*/5 * * * *").unwrap();
        assert_eq!(s.next_after(1_709_214_300), Some(1_709_214_300 + 300));
        assert!(s.matches(minute_of(1_709_214_300)));
        assert!(!s.matches(minute_of(1_709_214_360)));
    }

    #[test]
    fn names_ranges_and_lists() {
        let s = Schedule::parse("0 9-17/4 * jan,JUL mon-fri").unwrap();
        assert!(s.matches(Minute { minute: 0, hour: 13, day: 3, month: 7, weekday: 1 }));
        assert!(!s.matches(Minute { minute: 0, hour: 11, day: 3, month: 7, weekday: 1 }));
        assert!(!s.matches(Minute { minute: 0, hour: 9, day: 3, month: 7, weekday: 0 }));
        let sunday = Schedule::parse("0 0 * * 7").unwrap();
        assert!(sunday.matches(Minute { minute: 0, hour: 0, day: 1, month: 1, weekday: 0 }));
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        let s = Schedule::parse("0 0 1 * mon").unwrap();
        assert!(s.matches(Minute { minute: 0, hour: 0, day: 1, month: 5, weekday: 3 }));
        assert!(s.matches(Minute { minute: 0, hour: 0, day: 9, month: 5, weekday: 1 }));
        assert!(!s.matches(Minute { minute: 0, hour: 0, day: 9, month: 5, weekday: 2 }));
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(Schedule::parse("* * * *"), Err(CronError::FieldCount(4)));
        assert!(matches!(Schedule::parse("60 * * * *"), Err(CronError::Field { field: "minute", .. })));
        assert!(matches!(Schedule::parse("*/0 * * * *"), Err(CronError::Field { .. })));
        assert!(matches!(Schedule::parse("5-1 * * * *"), Err(CronError::Field { .. })));
        assert!(matches!(Schedule::parse("0 0 * foo *"), Err(CronError::Field { field: "month", .. })));
        assert_eq!(Schedule::parse("0 0 31 2 *"), Err(CronError::Never));
        assert!(Schedule::parse("@hourly").is_ok());
    }
}
