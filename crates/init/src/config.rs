//! Init settings from the kernel command line (`sworn.*` parameters).
//!
//! On Nitro the command line is part of the EIF and measured into PCR0/PCR1, so
//! these settings are attested. QEMU's `-append` adds unmeasured text, which is
//! how the same measured image runs under the emulator with `sworn.parent_cid=2`.
//!
//! Durations are written as on every Sworn command line (see `sworn-duration`):
//! with a unit (`sworn.stop_timeout=2500ms`, `sworn.heartbeat_timeout=30s`,
//! `sworn.stable_after=1m`) or as a bare number in the setting's old unit
//! (milliseconds; seconds for `sworn.stable_after`). The old names with the
//! unit in them (`sworn.stop_timeout_ms=2500`, `sworn.stable_after_s=60`) are
//! still accepted in this release; init warns about them on the console.

use std::time::Duration;

use thiserror::Error;

use sworn_duration::Unit;
use sworn_wire::{cid, kernel};

use crate::policy::{RestartMode, RestartPolicy};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitConfig {
    /// vsock CID the heartbeat goes to.
    pub parent_cid: u32,
    /// Deadline for the whole heartbeat exchange, retries included.
    pub heartbeat_timeout: Duration,
    pub restart: RestartPolicy,
    /// After forwarding SIGTERM/SIGINT, how long the child has before SIGKILL.
    pub stop_timeout: Duration,
    /// Old parameter names found on the command line, as (old, new).
    pub deprecated: Vec<(&'static str, &'static str)>,
    /// `sworn.selftest=`: a deliberate failure for the end-to-end tests.
    pub selftest: Option<SelfTest>,
}

impl Default for InitConfig {
    fn default() -> Self {
        Self {
            parent_cid: cid::PARENT,
            heartbeat_timeout: Duration::from_secs(10),
            restart: RestartPolicy::default(),
            stop_timeout: Duration::from_secs(10),
            deprecated: Vec::new(),
            selftest: None,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("kernel parameter {key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("unknown kernel parameter {0} (known: {known})", known = kernel::ALL.join(", "))]
    Unknown(String),
    #[error("kernel parameter {0} needs a value (key=value)")]
    MissingValue(String),
    #[error("unterminated quote in the kernel command line")]
    UnterminatedQuote,
}

/// A deliberate failure, so a test can watch init's last-resort paths work in
/// the real guest. On Nitro the command line is measured, so only an image
/// built with it (and other PCRs) can ask for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfTest {
    /// Panic right after the configuration is read: the panic hook must print
    /// the message and reboot at once.
    Panic,
}

/// The duration parameters renamed when they learned units: (old, new, unit
/// of a bare number).
const RENAMED: [(&str, &str, Unit); 5] = [
    ("heartbeat_timeout_ms", "heartbeat_timeout", Unit::Millis),
    ("backoff_initial_ms", "backoff_initial", Unit::Millis),
    ("backoff_max_ms", "backoff_max", Unit::Millis),
    ("stable_after_s", "stable_after", Unit::Secs),
    ("stop_timeout_ms", "stop_timeout", Unit::Millis),
];

/// `name`'s entry in [`RENAMED`] if it is an old name.
fn renamed(name: &str) -> Option<(&'static str, &'static str, Unit)> {
    RENAMED.iter().copied().find(|r| r.0 == name)
}

fn parse_duration(key: &str, value: &str, unit: Unit) -> Result<Duration, ConfigError> {
    sworn_duration::parse(value, unit).map_err(|e| ConfigError::Invalid { key: key.to_owned(), reason: e.to_string() })
}

/// Splits a kernel command line into words the way the kernel does: on
/// whitespace, with double quotes grouping (and removed).
pub fn split_cmdline(line: &str) -> Result<Vec<String>, ConfigError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err(ConfigError::UnterminatedQuote);
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

fn parse_num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| ConfigError::Invalid {
        key: key.to_owned(),
        reason: format!("{value:?} is not a valid number: {e}"),
    })
}

impl InitConfig {
    /// Parses the `sworn.*` parameters of a kernel command line; other words are ignored.
    pub fn from_cmdline(line: &str) -> Result<Self, ConfigError> {
        let mut cfg = InitConfig::default();
        for word in split_cmdline(line)? {
            let Some(rest) = word.strip_prefix(kernel::PREFIX) else { continue };
            let Some((name, value)) = rest.split_once('=') else {
                return Err(ConfigError::MissingValue(word.clone()));
            };
            let key = format!("{}{name}", kernel::PREFIX);
            let invalid = |reason: &str| ConfigError::Invalid { key: key.clone(), reason: reason.to_owned() };
            let (name, unit) = match renamed(name) {
                Some((old, new, unit)) => {
                    if !cfg.deprecated.contains(&(old, new)) {
                        cfg.deprecated.push((old, new));
                    }
                    (new, Some(unit))
                }
                None => (name, RENAMED.iter().find(|r| r.1 == name).map(|r| r.2)),
            };
            let duration = || parse_duration(&key, value, unit.unwrap_or(Unit::Millis));
            match format!("{}{name}", kernel::PREFIX).as_str() {
                kernel::PARENT_CID => {
                    let cid: u32 = parse_num(&key, value)?;
                    // 0 = hypervisor, 1 = local, u32::MAX = any: none is a parent.
                    if cid < cid::HOST || cid == cid::ANY {
                        return Err(invalid("CID must be 2 (host) or a guest CID >= 3"));
                    }
                    cfg.parent_cid = cid;
                }
                kernel::HEARTBEAT_TIMEOUT => {
                    cfg.heartbeat_timeout = duration()?;
                    if cfg.heartbeat_timeout.is_zero() {
                        return Err(invalid("must be greater than 0"));
                    }
                }
                kernel::RESTART => {
                    cfg.restart.mode = value.parse::<RestartMode>().map_err(|e| invalid(&e))?;
                }
                kernel::RESTART_MAX => {
                    cfg.restart.max_restarts = if value == "unlimited" { None } else { Some(parse_num(&key, value)?) };
                }
                kernel::BACKOFF_INITIAL => {
                    cfg.restart.backoff_initial = duration()?;
                    if cfg.restart.backoff_initial.is_zero() {
                        return Err(invalid("must be greater than 0"));
                    }
                }
                kernel::BACKOFF_MAX => cfg.restart.backoff_max = duration()?,
                kernel::STABLE_AFTER => cfg.restart.stable_after = duration()?,
                kernel::STOP_TIMEOUT => cfg.stop_timeout = duration()?,
                kernel::SELFTEST => {
                    cfg.selftest = match value {
                        "panic" => Some(SelfTest::Panic),
                        _ => return Err(invalid("the only self-test is \"panic\"")),
                    }
                }
                _ => return Err(ConfigError::Unknown(key)),
            }
        }
        if cfg.restart.backoff_max < cfg.restart.backoff_initial {
            return Err(ConfigError::Invalid {
                key: kernel::BACKOFF_MAX.into(),
                reason: format!(
                    "{:?} is below {} ({:?})",
                    cfg.restart.backoff_max,
                    kernel::BACKOFF_INITIAL,
                    cfg.restart.backoff_initial
                ),
            });
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NITRO: &str = "reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux \
i8042.nopnp i8042.dumbkbd random.trust_cpu=on virtio_mmio.device=4K@0xd0000000:5";

    #[test]
    fn nitro_cmdline_gives_defaults() {
        assert_eq!(InitConfig::from_cmdline(NITRO), Ok(InitConfig::default()));
        assert_eq!(InitConfig::default().parent_cid, 3);
    }

    #[test]
    fn parent_cid_override() {
        let cfg = InitConfig::from_cmdline(&format!("{NITRO} sworn.parent_cid=2\n")).unwrap();
        assert_eq!(cfg.parent_cid, 2);
        for bad in ["0", "1", "4294967295", "-3", "two", ""] {
            let err = InitConfig::from_cmdline(&format!("sworn.parent_cid={bad}")).unwrap_err();
            assert!(err.to_string().contains("sworn.parent_cid"), "{err}");
        }
    }

    #[test]
    fn restart_settings() {
        let cfg = InitConfig::from_cmdline(
            "sworn.restart=always sworn.restart_max=unlimited sworn.backoff_initial_ms=50 \
             sworn.backoff_max_ms=5000 sworn.stable_after_s=5 sworn.stop_timeout_ms=2500 \
             sworn.heartbeat_timeout_ms=30000",
        )
        .unwrap();
        assert_eq!(cfg.restart.mode, RestartMode::Always);
        assert_eq!(cfg.restart.max_restarts, None);
        assert_eq!(cfg.restart.backoff_initial, Duration::from_millis(50));
        assert_eq!(cfg.restart.backoff_max, Duration::from_secs(5));
        assert_eq!(cfg.restart.stable_after, Duration::from_secs(5));
        assert_eq!(cfg.stop_timeout, Duration::from_millis(2500));
        assert_eq!(cfg.heartbeat_timeout, Duration::from_secs(30));
        let cfg = InitConfig::from_cmdline("sworn.restart_max=3").unwrap();
        assert_eq!(cfg.restart.max_restarts, Some(3));
    }

    #[test]
    fn rejects_bad_settings() {
        let cases = [
            ("sworn.restart=sometimes", "sometimes"),
            ("sworn.parnet_cid=2", "unknown kernel parameter sworn.parnet_cid"),
            ("sworn.restart", "needs a value"),
            ("sworn.backoff_initial_ms=0", "greater than 0"),
            ("sworn.backoff_initial_ms=500 sworn.backoff_max_ms=100", "below"),
            ("sworn.heartbeat_timeout_ms=0", "greater than 0"),
            ("a=\"b", "unterminated quote"),
        ];
        for (line, needle) in cases {
            let err = InitConfig::from_cmdline(line).unwrap_err().to_string();
            assert!(err.contains(needle), "{line}: {err}");
        }
    }

    #[test]
    fn durations_take_units_and_bare_numbers_keep_their_old_unit() {
        let cfg = InitConfig::from_cmdline(
            "sworn.backoff_initial=50ms sworn.backoff_max=5s sworn.stable_after=1m sworn.stop_timeout=2500 \
             sworn.heartbeat_timeout=30s",
        )
        .unwrap();
        assert_eq!(cfg.restart.backoff_initial, Duration::from_millis(50));
        assert_eq!(cfg.restart.backoff_max, Duration::from_secs(5));
        assert_eq!(cfg.restart.stable_after, Duration::from_secs(60));
        assert_eq!(cfg.stop_timeout, Duration::from_millis(2500));
        assert_eq!(cfg.heartbeat_timeout, Duration::from_secs(30));
        assert!(cfg.deprecated.is_empty());
        let cfg = InitConfig::from_cmdline("sworn.stable_after=5").unwrap();
        assert_eq!(cfg.restart.stable_after, Duration::from_secs(5));
        for bad in ["sworn.stop_timeout=soon", "sworn.backoff_initial=0s", "sworn.heartbeat_timeout=-1"] {
            let err = InitConfig::from_cmdline(bad).unwrap_err().to_string();
            assert!(err.contains(bad.split('=').next().unwrap_or_default()), "{bad}: {err}");
        }
    }

    #[test]
    fn old_parameter_names_still_work_and_are_reported() {
        let cfg =
            InitConfig::from_cmdline("sworn.stop_timeout_ms=2500 sworn.stable_after_s=5 sworn.stop_timeout_ms=10")
                .unwrap();
        assert_eq!(cfg.stop_timeout, Duration::from_millis(10));
        assert_eq!(cfg.restart.stable_after, Duration::from_secs(5));
        assert_eq!(cfg.deprecated, vec![("stop_timeout_ms", "stop_timeout"), ("stable_after_s", "stable_after")]);
    }

    #[test]
    fn splits_like_the_kernel() {
        assert_eq!(split_cmdline("  a=1  b=\"x y\"\tc \"d\"e\n").unwrap(), vec!["a=1", "b=x y", "c", "de"]);
        assert!(split_cmdline("").unwrap().is_empty());
    }

    #[test]
    fn selftest_panic_is_parsed_and_other_selftests_are_refused() {
        assert_eq!(InitConfig::from_cmdline("sworn.selftest=panic").map(|c| c.selftest), Ok(Some(SelfTest::Panic)));
        assert_eq!(InitConfig::default().selftest, None);
        assert!(matches!(
            InitConfig::from_cmdline("sworn.selftest=reboot"),
            Err(ConfigError::Invalid { key, .. }) if key == "sworn.selftest"
        ));
    }
}
