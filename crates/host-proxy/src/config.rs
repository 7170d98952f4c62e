//! Configuration: command-line flags and a TOML file with the same
//! settings. Lists from flags are appended to the file's; scalars from
//! flags override it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;
use sworn_net::Endpoint;

use crate::ingress::RouteSpec;
use crate::policy::Rule;
use crate::server::Timeouts;

const AFTER_HELP: &str = "\
Replacing Escrin's three processes
  microsocks &
  socat VSOCK-LISTEN:1057,fork TCP:127.0.0.1:1080 &
  socat TCP4-LISTEN:1057,reuseaddr,fork VSOCK-CONNECT:16:1057 &
with one:
  host-proxy --ingress tcp:0.0.0.0:1057=vsock:16:1057 --egress vsock:-1:1057
(--egress vsock:-1:1057 is the default; egress only reaches public addresses
on ports 80 and 443 unless --allow rules say otherwise).

Under the emulator (vhost-device-vsock with uds-path=/tmp/vm.vsock):
  host-proxy --heartbeat vhost-uds:/tmp/vm.vsock:9000 \\
             --ingress tcp:127.0.0.1:1057=vhost-uds:/tmp/vm.vsock:1057 \\
             --egress vhost-uds:/tmp/vm.vsock:1057

Endpoints: vsock:CID:PORT (CID -1 = any), tcp:HOST:PORT (tcp:[::1]:80),
unix:PATH, vhost-uds:PATH:PORT.
Rules: HOST[:PORTS], HOST = * | name | *.suffix | IP | CIDR ([v6]/len),
PORTS = * | 443 | 80,443 | 8000-8100. Deny wins. Loopback, private,
link-local (cloud metadata), multicast, unspecified and this host's own
addresses are only reachable through an IP/CIDR allow rule inside their range.
Durations (--connect-timeout, --idle-timeout, --handshake-timeout,
--drain-timeout, --health-interval and their [limits] keys in the file) take
a unit: 250ms, 10s, 2m, 1m 30s. A bare number is seconds (1.5 = 1500ms), as
before units, in the file too (idle_timeout = 600 or idle_timeout = \"10m\").
Signals: SIGHUP reloads the policy from --config; SIGTERM/SIGINT drain.";

/// A duration setting, in seconds (what the settings held before they took
/// units): a bare number as it is, so the range check in [`Config::resolve`]
/// names the setting; anything else as a `sworn-duration` duration.
fn seconds(text: &str) -> Result<f64, sworn_duration::DurationError> {
    match text.trim().parse::<f64>() {
        Ok(n) if text.bytes().any(|b| b.is_ascii_digit()) => Ok(n),
        _ => sworn_duration::secs(text).map(|d| d.as_secs_f64()),
    }
}

/// A duration in the TOML file: a number of seconds or a string with a unit.
fn file_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Setting {
        Seconds(f64),
        Text(String),
    }
    match Option::<Setting>::deserialize(d)? {
        None => Ok(None),
        Some(Setting::Seconds(n)) => Ok(Some(n)),
        Some(Setting::Text(t)) => seconds(&t).map(Some).map_err(serde::de::Error::custom),
    }
}

/// host-proxy: the parent-instance side of a Sworn enclave.
#[derive(Debug, Clone, Default, Parser)]
#[command(name = "host-proxy", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// TOML configuration file (same settings as the flags).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Forward LISTEN to TARGET (several targets: least connections).
    #[arg(long, value_name = "LISTEN=TARGET[,TARGET...]")]
    pub ingress: Vec<RouteSpec>,
    /// Send a PROXY protocol v2 header to targets of --ingress routes.
    #[arg(long)]
    pub proxy_protocol: bool,
    /// SOCKS5 egress listener [default: vsock:-1:1057].
    #[arg(long, value_name = "ENDPOINT")]
    pub egress: Vec<Endpoint>,
    /// Disable the SOCKS5 egress listener.
    #[arg(long, conflicts_with = "egress")]
    pub no_egress: bool,
    /// Answer the enclave boot heartbeat here (emulators; nitro-cli does it on Nitro).
    #[arg(long, value_name = "ENDPOINT")]
    pub heartbeat: Vec<Endpoint>,
    /// Egress allow rule (repeatable); replaces the default *:80,443.
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<Rule>,
    /// Egress deny rule (repeatable); deny wins over allow.
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<Rule>,
    /// Maximum concurrent connections, all listeners together [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Maximum concurrent connections per source IP / vsock CID / unix [default: 1000].
    #[arg(long, value_name = "N")]
    pub max_per_source: Option<usize>,
    /// Outbound connect timeout, including ingress retries while an enclave boots [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = seconds)]
    pub connect_timeout: Option<f64>,
    /// Close relays that move fewer than --idle-min-bytes within this long [default: 10m].
    #[arg(long, value_name = "DURATION", value_parser = seconds)]
    pub idle_timeout: Option<f64>,
    /// Progress that resets the idle timeout: a relay is idle when fewer than this many bytes
    /// (both directions together) moved within --idle-timeout [default: 1024].
    #[arg(long, value_name = "BYTES")]
    pub idle_min_bytes: Option<u64>,
    /// SOCKS5 and heartbeat handshakes must finish within this [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = seconds)]
    pub handshake_timeout: Option<f64>,
    /// On SIGTERM, wait this long for connections to finish [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = seconds)]
    pub drain_timeout: Option<f64>,
    /// Health-check interval for routes with several targets [default: 2s].
    #[arg(long, value_name = "DURATION", value_parser = seconds)]
    pub health_interval: Option<f64>,
    /// Serve Prometheus metrics here (off unless given), e.g. tcp:127.0.0.1:9187.
    #[arg(long, value_name = "ENDPOINT")]
    pub metrics: Option<Endpoint>,
    /// Log format: text or json [default: text].
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Log level: error, warn, info, debug, trace [default: info].
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<tracing::Level>,
    /// Validate the configuration, print it resolved, and exit.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The TOML file. Unknown keys are errors, so typos do not silently
/// weaken the policy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub ingress: Vec<FileRoute>,
    pub egress: Option<FileListen>,
    pub heartbeat: Option<FileListen>,
    #[serde(default)]
    pub policy: FilePolicy,
    #[serde(default)]
    pub limits: FileLimits,
    pub metrics: Option<FileMetrics>,
    #[serde(default)]
    pub log: FileLog,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRoute {
    pub listen: String,
    pub targets: Vec<String>,
    #[serde(default)]
    pub proxy_protocol: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileListen {
    pub listen: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePolicy {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub max_connections: Option<usize>,
    pub max_per_source: Option<usize>,
    #[serde(default, deserialize_with = "file_seconds")]
    pub connect_timeout: Option<f64>,
    #[serde(default, deserialize_with = "file_seconds")]
    pub idle_timeout: Option<f64>,
    pub idle_min_bytes: Option<u64>,
    #[serde(default, deserialize_with = "file_seconds")]
    pub handshake_timeout: Option<f64>,
    #[serde(default, deserialize_with = "file_seconds")]
    pub drain_timeout: Option<f64>,
    #[serde(default, deserialize_with = "file_seconds")]
    pub health_interval: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMetrics {
    pub listen: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLog {
    pub format: Option<LogFormat>,
    pub level: Option<String>,
}

/// A configuration problem, naming the file and setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Toml { path: PathBuf, source: toml::de::Error },
    #[error("{path}: {field}: {message}")]
    Field { path: PathBuf, field: String, message: String },
    #[error("{setting} = {value}: must be a positive number of seconds")]
    Duration { setting: &'static str, value: f64 },
    #[error("{setting} must be at least 1")]
    Zero { setting: &'static str },
}

/// The resolved configuration the daemon runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub ingress: Vec<RouteSpec>,
    pub egress: Vec<Endpoint>,
    pub heartbeat: Vec<Endpoint>,
    pub allow: Vec<Rule>,
    pub deny: Vec<Rule>,
    pub max_connections: usize,
    pub max_per_source: usize,
    pub timeouts: Timeouts,
    /// Bytes a relay must move per idle timeout (see [`crate::relay::Idle`]).
    pub idle_min_bytes: u64,
    pub drain_timeout: Duration,
    pub health_interval: Duration,
    pub metrics: Option<Endpoint>,
    pub log_format: LogFormat,
    pub log_level: tracing::Level,
}

/// The default egress listener as the help text spells it: any CID, the
/// wire contract's egress port ([`default_egress`] is the value).
pub const DEFAULT_EGRESS: &str = "vsock:-1:1057";

/// The default egress listener: `vsock:-1:`[`sworn_wire::port::EGRESS`].
pub fn default_egress() -> Endpoint {
    Endpoint::Vsock { cid: sworn_wire::cid::ANY, port: sworn_wire::port::EGRESS }
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Toml { path: path.into(), source })
    }
}

fn secs(setting: &'static str, v: Option<f64>, default: f64) -> Result<Duration, ConfigError> {
    let v = v.unwrap_or(default);
    if !(v.is_finite() && v > 0.0 && v < 1e9) {
        return Err(ConfigError::Duration { setting, value: v });
    }
    Ok(Duration::from_secs_f64(v))
}

impl Config {
    /// Merges the file (if any) and the flags.
    pub fn resolve(cli: &Cli, file: Option<FileConfig>) -> Result<Config, ConfigError> {
        let path = cli.config.clone().unwrap_or_default();
        let file = file.unwrap_or_default();
        let field = |field: String, message: String| ConfigError::Field { path: path.clone(), field, message };
        let mut ingress = Vec::new();
        for (i, r) in file.ingress.iter().enumerate() {
            let listen = r
                .listen
                .parse()
                .map_err(|e: sworn_net::ParseEndpointError| field(format!("ingress[{i}].listen"), e.to_string()))?;
            let targets = r
                .targets
                .iter()
                .map(|t| t.parse::<Endpoint>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| field(format!("ingress[{i}].targets"), e.to_string()))?;
            if targets.is_empty() {
                return Err(field(format!("ingress[{i}].targets"), "needs at least one target".into()));
            }
            ingress.push(RouteSpec { listen, targets, proxy_protocol: r.proxy_protocol });
        }
        ingress.extend(cli.ingress.iter().cloned().map(|mut r| {
            r.proxy_protocol |= cli.proxy_protocol;
            r
        }));

        let endpoints = |section: &str, l: &Option<FileListen>| -> Result<Option<Vec<Endpoint>>, ConfigError> {
            l.as_ref()
                .map(|l| {
                    l.listen
                        .iter()
                        .map(|e| e.parse::<Endpoint>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| field(format!("{section}.listen"), e.to_string()))
                })
                .transpose()
        };
        let file_egress = endpoints("egress", &file.egress)?;
        let egress = if cli.no_egress {
            Vec::new()
        } else {
            match (file_egress, cli.egress.is_empty()) {
                (None, true) => vec![default_egress()],
                (f, _) => f.unwrap_or_default().into_iter().chain(cli.egress.iter().cloned()).collect(),
            }
        };
        let mut heartbeat = endpoints("heartbeat", &file.heartbeat)?.unwrap_or_default();
        heartbeat.extend(cli.heartbeat.iter().cloned());

        let rules = |name: &str, v: &[String]| -> Result<Vec<Rule>, ConfigError> {
            v.iter().map(|r| r.parse::<Rule>().map_err(|e| field(format!("policy.{name}"), e.to_string()))).collect()
        };
        let mut allow = rules("allow", &file.policy.allow)?;
        allow.extend(cli.allow.iter().cloned());
        let mut deny = rules("deny", &file.policy.deny)?;
        deny.extend(cli.deny.iter().cloned());

        let l = &file.limits;
        let max_connections = cli.max_connections.or(l.max_connections).unwrap_or(10_000);
        let max_per_source = cli.max_per_source.or(l.max_per_source).unwrap_or(1_000);
        if max_connections == 0 {
            return Err(ConfigError::Zero { setting: "max_connections" });
        }
        if max_per_source == 0 {
            return Err(ConfigError::Zero { setting: "max_per_source" });
        }
        let timeouts = Timeouts {
            connect: secs("connect_timeout", cli.connect_timeout.or(l.connect_timeout), 10.0)?,
            idle: secs("idle_timeout", cli.idle_timeout.or(l.idle_timeout), 600.0)?,
            handshake: secs("handshake_timeout", cli.handshake_timeout.or(l.handshake_timeout), 10.0)?,
        };
        let idle_min_bytes = cli.idle_min_bytes.or(l.idle_min_bytes).unwrap_or(crate::relay::DEFAULT_IDLE_MIN_BYTES);
        if idle_min_bytes == 0 {
            return Err(ConfigError::Zero { setting: "idle_min_bytes" });
        }
        let metrics = match (&cli.metrics, &file.metrics) {
            (Some(m), _) => Some(m.clone()),
            (None, Some(m)) => Some(
                m.listen
                    .parse()
                    .map_err(|e: sworn_net::ParseEndpointError| field("metrics.listen".into(), e.to_string()))?,
            ),
            (None, None) => None,
        };
        let log_level = match (cli.log_level, &file.log.level) {
            (Some(l), _) => l,
            (None, Some(s)) => s
                .parse()
                .map_err(|_| field("log.level".into(), format!("{s:?}: expected error, warn, info, debug or trace")))?,
            (None, None) => tracing::Level::INFO,
        };
        Ok(Config {
            ingress,
            egress,
            heartbeat,
            allow,
            deny,
            max_connections,
            max_per_source,
            timeouts,
            idle_min_bytes,
            drain_timeout: secs("drain_timeout", cli.drain_timeout.or(l.drain_timeout), 30.0)?,
            health_interval: secs("health_interval", cli.health_interval.or(l.health_interval), 2.0)?,
            metrics,
            log_format: cli.log_format.or(file.log.format).unwrap_or_default(),
            log_level,
        })
    }

    /// Loads `--config` (if given) and merges the flags.
    pub fn from_cli(cli: &Cli) -> Result<Config, ConfigError> {
        let file = cli.config.as_deref().map(FileConfig::load).transpose()?;
        Config::resolve(cli, file)
    }

    /// A human-readable summary for `--check` and the startup log.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for r in &self.ingress {
            let t: Vec<String> = r.targets.iter().map(|t| t.to_string()).collect();
            s += &format!(
                "ingress {} -> {}{}\n",
                r.listen,
                t.join(", "),
                if r.proxy_protocol { " (PROXY v2)" } else { "" }
            );
        }
        for e in &self.egress {
            s += &format!("egress socks5 {e}\n");
        }
        for h in &self.heartbeat {
            s += &format!("heartbeat {h}\n");
        }
        if self.allow.is_empty() {
            s += "allow *:80,443 (default)\n";
        }
        for r in &self.allow {
            s += &format!("allow {}\n", r.text());
        }
        for r in &self.deny {
            s += &format!("deny {}\n", r.text());
        }
        s += &format!(
            "limits max_connections={} max_per_source={} connect={:?} idle={:?} handshake={:?} drain={:?}\n",
            self.max_connections,
            self.max_per_source,
            self.timeouts.connect,
            self.timeouts.idle,
            self.timeouts.handshake,
            self.drain_timeout
        );
        if let Some(m) = &self.metrics {
            s += &format!("metrics {m}\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("host-proxy").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn default_egress_text_is_the_wire_egress_port() {
        assert_eq!(DEFAULT_EGRESS.parse::<Endpoint>().unwrap(), default_egress());
    }

    #[test]
    fn durations_take_units_and_bare_numbers_stay_seconds() {
        let c = Config::resolve(
            &cli(&[
                "--connect-timeout",
                "250ms",
                "--idle-timeout",
                "2m",
                "--drain-timeout",
                "1.5",
                "--health-interval=3",
            ]),
            None,
        )
        .unwrap();
        assert_eq!(c.timeouts.connect, Duration::from_millis(250));
        assert_eq!(c.timeouts.idle, Duration::from_secs(120));
        assert_eq!(c.drain_timeout, Duration::from_millis(1500));
        assert_eq!(c.health_interval, Duration::from_secs(3));
        assert!(Cli::try_parse_from(["host-proxy", "--idle-timeout", "forever"]).is_err());
        let file: FileConfig =
            toml::from_str("[limits]\nidle_timeout = \"90s\"\nconnect_timeout = 2\nhandshake_timeout = 0.5\n").unwrap();
        let c = Config::resolve(&cli(&[]), Some(file)).unwrap();
        assert_eq!(c.timeouts.idle, Duration::from_secs(90));
        assert_eq!(c.timeouts.connect, Duration::from_secs(2));
        assert_eq!(c.timeouts.handshake, Duration::from_millis(500));
        let bad = toml::from_str::<FileConfig>("[limits]\nidle_timeout = \"soon\"\n").unwrap_err().to_string();
        assert!(bad.contains("not a duration"), "{bad}");
    }

    #[test]
    fn defaults() {
        let c = Config::resolve(&cli(&[]), None).unwrap();
        assert_eq!(c.egress, vec![DEFAULT_EGRESS.parse().unwrap()]);
        assert!(c.ingress.is_empty() && c.heartbeat.is_empty() && c.allow.is_empty());
        assert_eq!(c.timeouts.connect, Duration::from_secs(10));
        assert!(c.metrics.is_none());
    }

    #[test]
    fn file_and_flags_merge() {
        let file: FileConfig = toml::from_str(
            r#"
            [[ingress]]
            listen = "tcp:0.0.0.0:1057"
            targets = ["vsock:16:1057", "vsock:17:1057"]
            proxy_protocol = true
            [egress]
            listen = ["vsock:-1:1057"]
            [heartbeat]
            listen = ["vsock:-1:9000"]
            [policy]
            allow = ["*.example.com:443"]
            deny = ["169.254.169.254"]
            [limits]
            max_connections = 50
            idle_timeout = 1.5
            [metrics]
            listen = "tcp:127.0.0.1:9187"
            [log]
            format = "json"
            level = "debug"
            "#,
        )
        .unwrap();
        let c = Config::resolve(
            &cli(&["--allow", "api.x.org:443", "--max-connections", "7", "--egress", "unix:/tmp/s"]),
            Some(file),
        )
        .unwrap();
        assert_eq!(c.ingress.len(), 1);
        assert!(c.ingress[0].proxy_protocol);
        assert_eq!(c.ingress[0].targets.len(), 2);
        assert_eq!(c.egress.len(), 2);
        assert_eq!(c.heartbeat.len(), 1);
        assert_eq!(c.allow.len(), 2);
        assert_eq!(c.deny.len(), 1);
        assert_eq!(c.max_connections, 7);
        assert_eq!(c.timeouts.idle, Duration::from_millis(1500));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.log_level, tracing::Level::DEBUG);
        assert!(c.metrics.is_some());
    }

    #[test]
    fn errors_name_the_setting() {
        let bad: Result<FileConfig, _> = toml::from_str("[policy]\nalow = []\n");
        assert!(bad.unwrap_err().to_string().contains("alow"));
        let file: FileConfig = toml::from_str("[policy]\nallow = [\"::1:80\"]\n").unwrap();
        let e = Config::resolve(&cli(&[]), Some(file)).unwrap_err().to_string();
        assert!(e.contains("policy.allow") && e.contains("brackets"), "{e}");
        let file: FileConfig = toml::from_str("[[ingress]]\nlisten = \"tcp:x\"\ntargets = []\n").unwrap();
        let e = Config::resolve(&cli(&[]), Some(file)).unwrap_err().to_string();
        assert!(e.contains("ingress[0].listen"), "{e}");
        let e = Config::resolve(&cli(&["--idle-timeout=-1"]), None).unwrap_err().to_string();
        assert!(e.contains("idle_timeout"), "{e}");
        assert!(Cli::try_parse_from(["host-proxy", "--ingress", "nonsense"]).is_err());
        assert!(Cli::try_parse_from(["host-proxy", "--no-egress", "--egress", "unix:/x"]).is_err());
    }

    #[test]
    fn no_egress_disables_default() {
        assert!(Config::resolve(&cli(&["--no-egress"]), None).unwrap().egress.is_empty());
    }
}
