//! `runner`: serves Cloudflare-Workers-style JavaScript over HTTP.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;

use sworn_runner::api::{code_text, detect_kind};
use sworn_runner::app::{start, RunnerConfig};
use sworn_runner::engine::PoolConfig;
use sworn_runner::http_client::{EgressHttpClient, HttpClient, NoNetwork};
use sworn_runner::limits::Limits;
use sworn_runner::registry::{WorkerKind, WorkerSpec};
use sworn_runner::services::EnclaveServices;
use sworn_runner::tls::{OperatorCa, PlainHttp, TlsConfig, TlsError};

/// Shown after the flags in `--help`.
const AFTER_HELP: &str = "\
Durations (--cpu-limit, --request-timeout, --drain-timeout, --header-timeout,
--body-idle-timeout, --keepalive-timeout, --stream-timeout, --tls-rotate) take a unit:
250ms, 10s, 2m, 1m 30s. A bare number is milliseconds, as it was before
units. The old spellings --cpu-limit-ms, --request-timeout-ms and
--drain-timeout-ms are still accepted in this release, with a warning.";

/// The duration flags renamed when they learned units: (old, new).
const RENAMED_FLAGS: [(&str, &str); 3] = [
    ("--cpu-limit-ms", "--cpu-limit"),
    ("--request-timeout-ms", "--request-timeout"),
    ("--drain-timeout-ms", "--drain-timeout"),
];

/// The renamed flags among `args`, for a deprecation warning: they still
/// work (clap aliases) for one release.
fn deprecated_flags(args: impl IntoIterator<Item = String>) -> Vec<(&'static str, &'static str)> {
    let mut found = Vec::new();
    for arg in args {
        if arg == "--" {
            break;
        }
        let flag = arg.split_once('=').map_or(arg.as_str(), |(f, _)| f);
        if let Some(&pair) = RENAMED_FLAGS.iter().find(|(old, _)| *old == flag) {
            if !found.contains(&pair) {
                found.push(pair);
            }
        }
    }
    found
}

#[derive(Parser, Debug)]
#[command(name = "runner", version, about = "Cloudflare-Workers-compatible JavaScript runner on QuickJS",
          after_help = AFTER_HELP)]
struct Args {
    /// Where to serve HTTP: vsock:CID:PORT (CID -1 = any), tcp:HOST:PORT or unix:PATH.
    #[arg(long, default_value_t = sworn_net::Endpoint::Vsock { cid: sworn_wire::cid::ANY, port: sworn_wire::port::RUNNER })]
    listen: sworn_net::Endpoint,
    /// Worker to start at boot, as [NAME=]FILE; repeatable. NAME defaults to the file stem.
    #[arg(long = "worker", value_name = "[NAME=]FILE")]
    workers: Vec<String>,
    /// JSON given as env.config to boot workers.
    #[arg(long, default_value = "{}")]
    worker_config: String,
    /// JavaScript threads (each holds one instance of every worker); 0 = one per core.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Outbound fetch.
    #[arg(long, value_enum, default_value_t = FetchMode::Direct)]
    fetch: FetchMode,
    /// SOCKS5 proxy of --fetch egress. Default: vsock:$SWORN_PARENT_CID:1057
    /// (init sets SWORN_PARENT_CID from sworn.parent_cid; 3 without it).
    #[arg(long, value_name = "ENDPOINT")]
    egress_proxy: Option<sworn_net::Endpoint>,
    /// Extra trusted CA certificates (PEM) for fetch over TLS; repeatable.
    #[arg(long = "egress-ca", value_name = "FILE")]
    egress_ca: Vec<PathBuf>,
    /// Refuse plain http:// fetches (their bytes are visible to the host).
    #[arg(long)]
    https_only: bool,
    /// Destination fetch may reach; repeatable. Without it every destination is allowed.
    /// A host (api.example.com), a host glob (*.example.com: subdomains, not the apex), or an
    /// IPv4/IPv6 address or CIDR (10.0.0.0/8, [2001:db8::]/32), each with an optional :PORT.
    /// CIDRs match only URLs with an IP-literal host: names are never resolved to check them.
    #[arg(long = "egress-allow", value_name = "PATTERN")]
    egress_allow: Vec<sworn_egress::AllowRule>,
    /// Who may create workers (POST /workers and POST /): open (anyone, as in Escrin) or
    /// operator (only TLS clients with a certificate under --operator-ca).
    #[arg(long, value_enum, default_value_t = DeployMode::Open)]
    deploy: DeployMode,
    /// CPU time one request may use (a bare number is milliseconds).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = sworn_duration::millis,
          alias = "cpu-limit-ms")]
    cpu_limit: Duration,
    /// CPU time one turn of a worker's JavaScript may run on a shared thread before the worker
    /// moves, for good, to the slow lane: one low-priority thread for all such workers, so a
    /// worker that spins holds no thread other workers need. 0 keeps every worker on the
    /// shared threads (a spinning request then holds its thread and its connections).
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = sworn_duration::millis)]
    slow_lane_after: Duration,
    /// Wall-clock time before a request without a response fails (a bare number is milliseconds).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = sworn_duration::millis,
          alias = "request-timeout-ms")]
    request_timeout: Duration,
    /// Time a client has to send a request head (from accept, or from the first
    /// byte of a later head on a keep-alive connection).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = sworn_duration::millis)]
    header_timeout: Duration,
    /// Longest pause between chunks of a request body before the request is dropped (408).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = sworn_duration::millis)]
    body_idle_timeout: Duration,
    /// Time a keep-alive connection may sit idle between requests.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = sworn_duration::millis)]
    keepalive_timeout: Duration,
    /// Most a worker may ask for, with a `sworn-stream-timeout` response header, as the
    /// whole-response budget of a streamed response (otherwise --request-timeout applies).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = sworn_duration::millis)]
    stream_timeout: Duration,
    /// Expect a PROXY v1/v2 header on every connection (host-proxy --proxy-protocol) and give
    /// workers its client address as CF-Connecting-IP; without it such headers are refused.
    #[arg(long)]
    proxy_protocol: bool,
    /// Terminate attested TLS on --listen: the certificate's key is born in the enclave and
    /// carries an NSM document that binds it, so a client that checks it knows the connection
    /// ends inside the measured image, and the host in between sees only ciphertext. Needs
    /// attestation (not with --nsm off).
    #[arg(long, overrides_with = "no_tls")]
    tls: bool,
    /// Serve plain HTTP only: the default, for local development (curl needs no TLS options).
    /// The last of --tls and --no-tls wins, so a wrapper can override a command line it extends.
    #[arg(long, overrides_with = "tls")]
    no_tls: bool,
    /// How often --tls makes a new key, document and certificate: bounds how long one key
    /// serves. A certificate is valid for two intervals (plus 5 minutes of clock skew before),
    /// so a client that connected just before a rotation still validates it.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = sworn_duration::millis)]
    tls_rotate: Duration,
    /// Subject alternative name (DNS name or IP address) of the --tls certificate; repeatable.
    /// Attested clients check the document, not the name; this is for generic TLS clients.
    #[arg(long = "tls-name", value_name = "NAME", default_value = "localhost")]
    tls_names: Vec<String>,
    /// With --tls, what a connection that starts with plain HTTP gets: `compat` serves it
    /// (clients and health checks not yet on TLS; the management rules see it as plain),
    /// `off` answers 400 (this port speaks TLS only) and closes.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = PlainHttpMode::Compat)]
    plain_http: PlainHttpMode,
    /// CA certificates (PEM) of operators, for --tls: a client that presents a certificate
    /// chaining to them is an operator; one with a certificate from elsewhere fails the
    /// handshake; one without a certificate is still served, as a non-operator.
    #[arg(long, value_name = "FILE")]
    operator_ca: Option<PathBuf>,
    /// QuickJS heap per worker instance, in MiB.
    #[arg(long, default_value_t = 128)]
    memory_limit_mib: usize,
    /// Budget over all workers' QuickJS heaps together, in MiB: past it new
    /// instances and requests get 503. Default: 75 % of MemTotal (the enclave's memory).
    #[arg(long, value_name = "MIB")]
    memory_budget_mib: Option<u64>,
    /// QuickJS stack per worker instance, in KiB.
    #[arg(long, default_value_t = 1024)]
    stack_limit_kib: usize,
    /// Largest request body (and management upload), in bytes.
    #[arg(long, default_value_t = 16 << 20)]
    max_request_body: usize,
    /// Largest response body a worker may send or fetch may receive, in bytes.
    #[arg(long, default_value_t = 32 << 20)]
    max_response_body: usize,
    /// Requests one worker may serve at once.
    #[arg(long, default_value_t = 128)]
    max_concurrent_requests: u32,
    /// Workers that may exist at once.
    #[arg(long, default_value_t = 64)]
    max_workers: usize,
    /// Console output kept per worker, in bytes.
    #[arg(long, default_value_t = 64 << 10)]
    log_buffer: usize,
    /// Time in-flight requests get after SIGTERM (a bare number is milliseconds).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = sworn_duration::millis,
          alias = "drain-timeout-ms")]
    drain_timeout: Duration,
    /// Attestation (`GET /attestation`).
    #[arg(long, value_enum, default_value_t = NsmMode::Auto)]
    nsm: NsmMode,
    /// PCRs the development NSM reports (nitro-cli measurements JSON); zeros without it.
    #[arg(long, value_name = "FILE")]
    dev_measurements: Option<PathBuf>,
    /// user_data of documents requested through workers.
    #[arg(long, value_enum, default_value_t = UserDataMode::BindWorker)]
    user_data_policy: UserDataMode,
    /// Journal every worker (spec and ephemeral account key) to this directory
    /// and restore them on start. It holds secret keys: use enclave memory
    /// (a tmpfs), never a disk. Off when absent.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

/// `--fetch`: where outbound `fetch()` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FetchMode {
    /// SOCKS5 to the host proxy, TLS in the enclave.
    Egress,
    /// This host's network and resolver (local development).
    Direct,
    /// No outbound network: every fetch fails.
    None,
}

/// `--deploy`: who may create workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DeployMode {
    /// Anyone who can reach the management API.
    Open,
    /// Operators only.
    Operator,
}

impl From<DeployMode> for sworn_runner::auth::DeployPolicy {
    fn from(mode: DeployMode) -> Self {
        match mode {
            DeployMode::Open => sworn_runner::auth::DeployPolicy::Open,
            DeployMode::Operator => sworn_runner::auth::DeployPolicy::Operator,
        }
    }
}

/// `--nsm`: where attestation documents come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum NsmMode {
    /// /dev/nsm when it exists, otherwise a development NSM whose documents never verify.
    Auto,
    /// No attestation: `GET /attestation` and env.NSM answer that it is off.
    Off,
}

/// `--plain-http`: plain HTTP on a `--tls` listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PlainHttpMode {
    /// Served as before (its peer is plain, so the management rules can tell).
    Compat,
    /// Refused with a 400: the port speaks TLS only.
    Off,
}

/// The TLS settings of the flags; `None` without `--tls`. Refuses `--tls`
/// with `--nsm off` (no attestation, no attested TLS), a bad
/// `--operator-ca` file, and a `--tls-rotate` or `--tls-name` out of range.
fn tls_config(args: &Args) -> Result<Option<TlsConfig>, TlsError> {
    if !args.tls {
        if args.operator_ca.is_some() || args.plain_http != PlainHttpMode::Compat {
            tracing::warn!("--operator-ca and --plain-http apply only with --tls; ignored");
        }
        return Ok(None);
    }
    if args.nsm == NsmMode::Off {
        return Err(TlsError::NoNsm);
    }
    let config = TlsConfig {
        rotate: args.tls_rotate,
        names: args.tls_names.clone(),
        plain_http: match args.plain_http {
            PlainHttpMode::Compat => PlainHttp::Compat,
            PlainHttpMode::Off => PlainHttp::Off,
        },
        operator_ca: args.operator_ca.as_deref().map(OperatorCa::from_pem_file).transpose()?,
    };
    config.check()?;
    Ok(Some(config))
}

/// `--user-data-policy`: what goes into user_data of documents requested
/// through workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum UserDataMode {
    /// SHA-384 of the worker's code, then the worker's data.
    BindWorker,
    /// The worker's data only; safe only when the image pins one worker.
    Raw,
}

impl From<UserDataMode> for sworn_nsm::UserDataPolicy {
    fn from(mode: UserDataMode) -> Self {
        match mode {
            UserDataMode::BindWorker => sworn_nsm::UserDataPolicy::BindWorker,
            UserDataMode::Raw => sworn_nsm::UserDataPolicy::Raw,
        }
    }
}

/// Where `--fetch egress` goes without `--egress-proxy`: the parent (the CID
/// init was told, or Nitro's 3) on host-proxy's egress port.
fn default_egress_proxy() -> anyhow::Result<sworn_net::Endpoint> {
    let var = sworn_wire::env::PARENT_CID;
    let cid = match std::env::var(var) {
        Ok(v) => v.parse::<u32>().with_context(|| format!("{var}={v:?} is not a vsock CID"))?,
        Err(_) => sworn_egress::DEFAULT_PARENT_CID,
    };
    Ok(sworn_net::Endpoint::Vsock { cid, port: sworn_egress::DEFAULT_PROXY_PORT })
}

fn http_client(args: &Args, limits: &Limits) -> anyhow::Result<Arc<dyn HttpClient>> {
    let route = match args.fetch {
        FetchMode::None => {
            if !args.egress_allow.is_empty() {
                tracing::warn!("--egress-allow has no effect with --fetch none: no destination is reachable");
            }
            return Ok(Arc::new(NoNetwork));
        }
        FetchMode::Direct => sworn_egress::Route::Direct,
        FetchMode::Egress => sworn_egress::Route::Socks5 {
            proxy: match &args.egress_proxy {
                Some(p) => p.clone(),
                None => default_egress_proxy()?,
            },
        },
    };
    let mut config = sworn_egress::EgressConfig::new(route);
    config.extra_ca_files = args.egress_ca.clone();
    config.allow_http = !args.https_only;
    config.total_timeout = limits.request_timeout;
    config.max_response_bytes = limits.response_body_bytes as u64;
    config.max_request_bytes = limits.request_body_bytes as u64;
    if !args.egress_allow.is_empty() {
        config.allow = Some(sworn_egress::AllowList::new(args.egress_allow.clone()));
    }
    let client = EgressHttpClient::new(config).context("cannot set up outbound fetch")?;
    match &client.config().route {
        sworn_egress::Route::Direct => tracing::info!("fetch: direct"),
        sworn_egress::Route::Socks5 { proxy } => tracing::info!("fetch: SOCKS5 via {proxy}"),
    }
    if let Some(allow) = &client.config().allow {
        tracing::info!("fetch: only to {} (--egress-allow)", allow.patterns().join(", "));
    }
    Ok(Arc::new(client))
}

/// Opens the NSM for `--nsm`. A `/dev/nsm` that exists but cannot be used is
/// an error: never a silent fall-back to the development NSM.
fn open_nsm(mode: NsmMode, dev_measurements: Option<&PathBuf>) -> anyhow::Result<Option<Arc<sworn_nsm::Nsm>>> {
    match mode {
        NsmMode::Off => Ok(None),
        NsmMode::Auto => {
            let measurements = match dev_measurements {
                Some(path) => sworn_attestation::Measurements::from_file(path)
                    .with_context(|| format!("--dev-measurements {}", path.display()))?,
                None => sworn_attestation::Measurements::default(),
            };
            let nsm = sworn_nsm::Nsm::open_or_development(&measurements).context("cannot open the NSM")?;
            match nsm.kind() {
                sworn_nsm::DeviceKind::Hardware => tracing::info!("attestation: /dev/nsm"),
                sworn_nsm::DeviceKind::Development => {
                    tracing::warn!("attestation: no /dev/nsm, using the development NSM (its documents prove nothing)")
                }
            }
            Ok(Some(Arc::new(nsm)))
        }
    }
}

fn boot_worker(arg: &str, config: &str) -> anyhow::Result<WorkerSpec> {
    let (name, path) = match arg.split_once('=') {
        Some((n, p)) => (n.to_string(), PathBuf::from(p)),
        None => {
            let p = PathBuf::from(arg);
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("worker").to_string();
            (stem, p)
        }
    };
    let bytes = std::fs::read(&path).with_context(|| format!("--worker {}", path.display()))?;
    // A WebAssembly file is a WASI worker, whatever its name.
    let code = code_text(bytes).ok_or_else(|| anyhow::anyhow!("--worker {}: not UTF-8 text", path.display()))?;
    let kind = match detect_kind(&code) {
        WorkerKind::Wasi => WorkerKind::Wasi,
        _ if path.extension().is_some_and(|e| e == "mjs") => WorkerKind::Module,
        kind => kind,
    };
    let mut fields = serde_json::Map::new();
    fields.insert("code".into(), code.into());
    fields.insert("name".into(), name.into());
    fields.insert("type".into(), kind.as_str().into());
    fields.insert("config".into(), config.into());
    sworn_runner::api::spec_from_fields(fields).with_context(|| format!("--worker {}", path.display()))
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("RUNNER_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    for (old, new) in deprecated_flags(std::env::args().skip(1)) {
        tracing::warn!("{old} is deprecated and goes away in the next release: use {new} (e.g. {new} 250ms)");
    }
    let threads = if args.threads == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    } else {
        args.threads
    };
    let tls = tls_config(&args)?;
    let nsm = open_nsm(args.nsm, args.dev_measurements.as_ref())?;
    let policy = sworn_nsm::UserDataPolicy::from(args.user_data_policy);
    let limits = Limits {
        cpu_time: args.cpu_limit.max(Duration::from_millis(1)),
        slow_lane_after: Some(args.slow_lane_after).filter(|d| !d.is_zero()),
        request_timeout: args.request_timeout.max(Duration::from_millis(1)),
        memory_bytes: args.memory_limit_mib.max(1) << 20,
        memory_budget_bytes: args
            .memory_budget_mib
            .map_or_else(sworn_runner::memory::default_budget_bytes, |m| m.max(1).saturating_mul(1 << 20)),
        stack_bytes: args.stack_limit_kib.max(64) << 10,
        request_body_bytes: args.max_request_body,
        response_body_bytes: args.max_response_body,
        concurrent_requests: args.max_concurrent_requests.max(1),
        max_workers: args.max_workers,
        log_bytes: args.log_buffer.max(1024),
        header_timeout: args.header_timeout.max(Duration::from_millis(1)),
        body_idle_timeout: args.body_idle_timeout.max(Duration::from_millis(1)),
        keepalive_timeout: args.keepalive_timeout.max(Duration::from_millis(1)),
        stream_timeout: args.stream_timeout.max(Duration::from_millis(1)),
        proxy_protocol: args.proxy_protocol,
        // app::start sets it from the TLS front end (--tls).
        tls_enabled: tls.is_some(),
        deploy: args.deploy.into(),
    };
    if args.deploy == DeployMode::Operator && !limits.tls_enabled {
        tracing::warn!(
            "--deploy operator without TLS: there are no operators, so no worker can be created through the API"
        );
    }
    if tls.is_none() {
        tracing::warn!("plain HTTP only (no --tls): for local development; owner credentials travel in the clear");
    }
    let http = http_client(&args, &limits)?;
    let bindings = Arc::new(EnclaveServices::new(nsm.clone(), policy).bindings());
    let workers =
        args.workers.iter().map(|w| boot_worker(w, &args.worker_config)).collect::<anyhow::Result<Vec<_>>>()?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let running = start(RunnerConfig {
            listen: args.listen,
            pool: PoolConfig { threads, limits, http, bindings, nsm },
            workers,
            drain_timeout: args.drain_timeout,
            state_dir: args.state_dir,
            tls,
            // Escrin's runner takes its gas key from the environment.
            gas_key: std::env::var("GAS_KEY").ok().map(zeroize::Zeroizing::new),
        })
        .await?;
        let scheme = if running.tls.is_some() { "attested TLS" } else { "plain HTTP" };
        tracing::info!("runner listening on {} ({scheme}) with {threads} JavaScript threads", running.local);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("shutting down: draining in-flight requests");
        if !running.shutdown().await {
            tracing::warn!("drain timeout reached with requests still in flight");
        }
        anyhow::Ok(())
    })?;
    // Worker threads may still hold instances; the process exits regardless.
    std::process::exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("runner").chain(args.iter().copied()))
    }

    #[test]
    fn modes_accept_the_same_spellings_as_before() {
        let a = parse(&[]).expect("defaults");
        assert_eq!((a.fetch, a.nsm, a.user_data_policy), (FetchMode::Direct, NsmMode::Auto, UserDataMode::BindWorker));
        for (word, mode) in [("egress", FetchMode::Egress), ("direct", FetchMode::Direct), ("none", FetchMode::None)] {
            assert_eq!(parse(&["--fetch", word]).expect(word).fetch, mode);
        }
        for (word, mode) in [("auto", NsmMode::Auto), ("off", NsmMode::Off)] {
            assert_eq!(parse(&["--nsm", word]).expect(word).nsm, mode);
        }
        for (word, mode) in [("bind-worker", UserDataMode::BindWorker), ("raw", UserDataMode::Raw)] {
            assert_eq!(parse(&["--user-data-policy", word]).expect(word).user_data_policy, mode);
        }
        for bad in [["--fetch", "socks"], ["--nsm", "on"], ["--user-data-policy", "bind_worker"]] {
            assert!(parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_take_units_and_bare_numbers_stay_milliseconds() {
        let a = parse(&[]).expect("defaults");
        assert_eq!(
            (a.cpu_limit, a.request_timeout, a.drain_timeout),
            (Duration::from_secs(1), Duration::from_secs(30), Duration::from_secs(10))
        );
        let a = parse(&["--cpu-limit", "250ms", "--request-timeout", "2m", "--drain-timeout", "1500"]).expect("units");
        assert_eq!(
            (a.cpu_limit, a.request_timeout, a.drain_timeout),
            (Duration::from_millis(250), Duration::from_secs(120), Duration::from_millis(1500))
        );
        assert!(parse(&["--cpu-limit", "fast"]).is_err());
    }

    #[test]
    fn connection_timeouts_default_and_take_units() {
        let a = parse(&[]).expect("defaults");
        assert_eq!(
            (a.header_timeout, a.body_idle_timeout, a.keepalive_timeout, a.stream_timeout, a.proxy_protocol),
            (
                Duration::from_secs(10),
                Duration::from_secs(10),
                Duration::from_secs(60),
                Duration::from_secs(300),
                false
            )
        );
        let a = parse(&[
            "--header-timeout",
            "2s",
            "--body-idle-timeout",
            "500",
            "--keepalive-timeout",
            "1m",
            "--stream-timeout",
            "1h",
            "--proxy-protocol",
        ])
        .expect("units");
        assert_eq!(
            (a.header_timeout, a.body_idle_timeout, a.keepalive_timeout, a.stream_timeout, a.proxy_protocol),
            (
                Duration::from_secs(2),
                Duration::from_millis(500),
                Duration::from_secs(60),
                Duration::from_secs(3600),
                true
            )
        );
    }

    #[test]
    fn egress_allow_is_repeatable_and_a_bad_pattern_is_an_error_naming_it() {
        assert!(parse(&[]).expect("defaults").egress_allow.is_empty());
        let a = parse(&["--egress-allow", "api.example.com", "--egress-allow=[2001:db8::]/32:443"]).expect("two");
        let shown: Vec<&str> = a.egress_allow.iter().map(|r| r.as_str()).collect();
        assert_eq!(shown, ["api.example.com", "[2001:db8::]/32:443"]);
        let e = parse(&["--egress-allow", "10.0.0.0/99"]).unwrap_err().to_string();
        assert!(e.contains("--egress-allow") && e.contains("\"10.0.0.0/99\""), "{e}");
    }

    #[test]
    fn deploy_defaults_to_open_and_takes_operator() {
        assert_eq!(parse(&[]).expect("defaults").deploy, DeployMode::Open);
        assert_eq!(parse(&["--deploy", "operator"]).expect("operator").deploy, DeployMode::Operator);
        assert!(parse(&["--deploy", "closed"]).is_err());
    }

    #[test]
    fn tls_is_off_by_default_and_the_last_of_tls_and_no_tls_wins() {
        let a = parse(&[]).expect("defaults");
        assert!(!a.tls);
        assert!(tls_config(&a).expect("no TLS").is_none());
        assert_eq!(
            (a.tls_rotate, a.tls_names.clone(), a.plain_http),
            (Duration::from_secs(86_400), vec!["localhost".to_string()], PlainHttpMode::Compat)
        );
        assert!(parse(&["--tls"]).expect("on").tls);
        assert!(!parse(&["--tls", "--no-tls"]).expect("off wins").tls);
        assert!(parse(&["--no-tls", "--tls"]).expect("on wins").tls);
        let a = parse(&[
            "--tls",
            "--tls-rotate",
            "1h",
            "--tls-name",
            "a.example",
            "--tls-name",
            "10.0.0.1",
            "--plain-http",
            "off",
        ])
        .expect("TLS flags");
        let c = tls_config(&a).expect("valid").expect("on");
        assert_eq!(
            (c.rotate, c.names, c.plain_http),
            (Duration::from_secs(3600), vec!["a.example".to_string(), "10.0.0.1".to_string()], PlainHttp::Off)
        );
        assert!(parse(&["--plain-http", "maybe"]).is_err());
    }

    #[test]
    fn tls_with_nsm_off_is_refused_naming_both_flags() {
        let e = tls_config(&parse(&["--tls", "--nsm", "off"]).expect("parses")).unwrap_err().to_string();
        assert!(e.contains("--tls") && e.contains("--nsm off"), "{e}");
    }

    #[test]
    fn a_bad_operator_ca_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ops.pem");
        std::fs::write(&path, "not PEM at all").expect("write");
        let shown = path.display().to_string();
        let e = tls_config(&parse(&["--tls", "--operator-ca", &shown]).expect("parses")).unwrap_err().to_string();
        assert!(e.contains("--operator-ca") && e.contains(&shown), "{e}");
        let e = tls_config(&parse(&["--tls", "--tls-rotate", "10ms"]).expect("parses")).unwrap_err().to_string();
        assert!(e.contains("--tls-rotate"), "{e}");
    }

    #[test]
    fn old_millisecond_flags_still_work_and_are_reported() {
        let args = ["--cpu-limit-ms", "50", "--request-timeout-ms=700", "--drain-timeout-ms", "3000"];
        let a = parse(&args).expect("old spellings");
        assert_eq!(
            (a.cpu_limit, a.request_timeout, a.drain_timeout),
            (Duration::from_millis(50), Duration::from_millis(700), Duration::from_secs(3))
        );
        assert_eq!(deprecated_flags(args.map(String::from)), RENAMED_FLAGS.to_vec());
        assert!(deprecated_flags(["--cpu-limit".to_string(), "1s".into()]).is_empty());
    }
}
