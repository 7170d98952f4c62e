//! `runner`: serves Cloudflare-Workers-style JavaScript over HTTP.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;

use sworn_runner::api::detect_kind;
use sworn_runner::app::{start, RunnerConfig};
use sworn_runner::engine::PoolConfig;
use sworn_runner::http_client::{EgressHttpClient, HttpClient, NoNetwork};
use sworn_runner::limits::Limits;
use sworn_runner::registry::{WorkerKind, WorkerSpec};
use sworn_runner::services::EnclaveServices;

#[derive(Parser, Debug)]
#[command(name = "runner", version, about = "Cloudflare-Workers-compatible JavaScript runner on QuickJS")]
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
    /// Outbound fetch: "egress" (SOCKS5 to the host proxy, TLS in the enclave),
    /// "direct" (this host's network and resolver; local development) or "none".
    #[arg(long, default_value = "direct")]
    fetch: String,
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
    /// CPU time one request may use, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    cpu_limit_ms: u64,
    /// Wall-clock time before a request without a response fails, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    request_timeout_ms: u64,
    /// QuickJS heap per worker instance, in MiB.
    #[arg(long, default_value_t = 128)]
    memory_limit_mib: usize,
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
    /// Time in-flight requests get after SIGTERM, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    drain_timeout_ms: u64,
    /// Attestation (`GET /attestation`): "auto" uses /dev/nsm when it exists and
    /// otherwise a development NSM whose documents never verify; "off" disables it.
    #[arg(long, default_value = "auto")]
    nsm: String,
    /// PCRs the development NSM reports (nitro-cli measurements JSON); zeros without it.
    #[arg(long, value_name = "FILE")]
    dev_measurements: Option<PathBuf>,
    /// user_data of documents requested through workers: "bind-worker"
    /// (SHA-384 of the worker's code, then the worker's data) or "raw" (the
    /// worker's data only; safe only when the image pins one worker).
    #[arg(long, default_value = "bind-worker")]
    user_data_policy: String,
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
    let route = match args.fetch.as_str() {
        "none" => return Ok(Arc::new(NoNetwork)),
        "direct" => sworn_egress::Route::Direct,
        "egress" => sworn_egress::Route::Socks5 {
            proxy: match &args.egress_proxy {
                Some(p) => p.clone(),
                None => default_egress_proxy()?,
            },
        },
        other => anyhow::bail!("--fetch {other:?}: use \"egress\", \"direct\" or \"none\""),
    };
    let mut config = sworn_egress::EgressConfig::new(route);
    config.extra_ca_files = args.egress_ca.clone();
    config.allow_http = !args.https_only;
    config.total_timeout = limits.request_timeout;
    config.max_response_bytes = limits.response_body_bytes as u64;
    config.max_request_bytes = limits.request_body_bytes as u64;
    let client = EgressHttpClient::new(config).context("cannot set up outbound fetch")?;
    match &client.config().route {
        sworn_egress::Route::Direct => tracing::info!("fetch: direct"),
        sworn_egress::Route::Socks5 { proxy } => tracing::info!("fetch: SOCKS5 via {proxy}"),
    }
    Ok(Arc::new(client))
}

/// Opens the NSM for `--nsm`. A `/dev/nsm` that exists but cannot be used is
/// an error: never a silent fall-back to the development NSM.
fn open_nsm(mode: &str, dev_measurements: Option<&PathBuf>) -> anyhow::Result<Option<Arc<sworn_nsm::Nsm>>> {
    match mode {
        "off" => Ok(None),
        "auto" => {
            let measurements = match dev_measurements {
                Some(path) => sworn_nsm::Measurements::from_file(path)
                    .with_context(|| format!("--dev-measurements {}", path.display()))?,
                None => sworn_nsm::Measurements::default(),
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
        other => anyhow::bail!("--nsm {other:?}: use \"auto\" or \"off\""),
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
    let code = std::fs::read_to_string(&path).with_context(|| format!("--worker {}", path.display()))?;
    let kind = if path.extension().is_some_and(|e| e == "mjs") { WorkerKind::Module } else { detect_kind(&code) };
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
    let threads = if args.threads == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    } else {
        args.threads
    };
    let nsm = open_nsm(&args.nsm, args.dev_measurements.as_ref())?;
    let policy = match args.user_data_policy.as_str() {
        "bind-worker" => sworn_nsm::UserDataPolicy::BindWorker,
        "raw" => sworn_nsm::UserDataPolicy::Raw,
        other => anyhow::bail!("--user-data-policy {other:?}: use \"bind-worker\" or \"raw\""),
    };
    let limits = Limits {
        cpu_time: Duration::from_millis(args.cpu_limit_ms.max(1)),
        request_timeout: Duration::from_millis(args.request_timeout_ms.max(1)),
        memory_bytes: args.memory_limit_mib.max(1) << 20,
        stack_bytes: args.stack_limit_kib.max(64) << 10,
        request_body_bytes: args.max_request_body,
        response_body_bytes: args.max_response_body,
        concurrent_requests: args.max_concurrent_requests.max(1),
        max_workers: args.max_workers,
        log_bytes: args.log_buffer.max(1024),
    };
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
            drain_timeout: Duration::from_millis(args.drain_timeout_ms),
        })
        .await?;
        tracing::info!("runner listening on {} with {threads} JavaScript threads", running.local);
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
