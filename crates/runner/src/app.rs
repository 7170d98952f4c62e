//! Wiring: listener, pool, boot-time workers, cron ticks and the SIGTERM drain.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::{Pool, PoolConfig};
use crate::gas::{GasAccount, GasOrigin};
use crate::registry::{Worker, WorkerSpec};
use crate::server::{deploy, DeployError};
use crate::state::{Journal, SkipReason, Skipped, StateError};
use crate::tls::{TlsConfig, TlsServer};

/// Why the runner did not start. The cause is the error's source, so the
/// binary's report reads "cannot listen on …" then "Caused by: …".
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot start the JavaScript threads")]
    Threads(#[source] std::io::Error),
    #[error("boot worker {name:?}")]
    BootWorker {
        name: String,
        #[source]
        source: DeployError,
    },
    #[error("--state-dir")]
    State(#[source] StateError),
    #[error("attested TLS (--tls)")]
    Tls(#[source] crate::tls::TlsError),
    #[error("gas account: {0}")]
    Gas(crate::gas::GasError),
    #[error("cannot listen on {endpoint}")]
    Listen {
        endpoint: sworn_net::Endpoint,
        #[source]
        source: sworn_net::Error,
    },
}

pub struct RunnerConfig {
    pub listen: sworn_net::Endpoint,
    pub pool: PoolConfig,
    pub workers: Vec<WorkerSpec>,
    pub drain_timeout: Duration,
    /// `--state-dir`: journal workers there and restore them on start.
    pub state_dir: Option<PathBuf>,
    /// `--tls`: terminate attested TLS on the listener (needs the pool's
    /// NSM); `None` serves plain HTTP only.
    pub tls: Option<TlsConfig>,
    /// Escrin's `GAS_KEY`, when the environment sets it; `None` has the gas
    /// key born in the enclave (see [`crate::gas`]).
    pub gas_key: Option<zeroize::Zeroizing<String>>,
}

/// A runner that is listening.
pub struct Running {
    pub pool: Pool,
    pub local: sworn_net::Endpoint,
    accept: tokio::task::JoinHandle<()>,
    /// Rotates the TLS certificate (`--tls-rotate`); `None` without `--tls`.
    rotation: Option<tokio::task::JoinHandle<()>>,
    /// The listener's attested TLS, if on.
    pub tls: Option<Arc<TlsServer>>,
    drain_timeout: Duration,
}

/// Binds, starts the pool and the boot workers, and begins accepting.
pub async fn start(config: RunnerConfig) -> Result<Running, StartupError> {
    // The first certificate before anything listens: a runner started
    // with --tls never serves a connection without it.
    let tls = match config.tls {
        Some(settings) => Some(TlsServer::start(settings, config.pool.nsm.clone()).await.map_err(StartupError::Tls)?),
        None => None,
    };
    let mut pool_config = config.pool;
    // The management rules follow what the listener really does: with TLS
    // on, plain connections lose credentials and the management routes.
    // (A caller may set it without a listener to test those rules.)
    pool_config.limits.tls_enabled |= tls.is_some();
    let pool = Pool::start(pool_config, tls.clone()).map_err(StartupError::Threads)?;
    let journal = match &config.state_dir {
        Some(dir) => {
            // An entry holds the code, config and args; JSON escaping can at
            // worst multiply their size by six.
            let max_entry = (pool.shared.limits.request_body_bytes as u64).saturating_mul(6).saturating_add(1 << 20);
            Some(Arc::new(Journal::open(dir, max_entry).map_err(StartupError::State)?))
        }
        None => None,
    };
    let gas = GasAccount::load_or_create(journal.as_deref(), config.gas_key.as_deref().map(String::as_str))
        .map_err(StartupError::Gas)?;
    tracing::info!(
        "gas account {} (key {}): fund it to pay for on-chain calls",
        gas.address().to_checksum(),
        match gas.origin() {
            GasOrigin::Enclave => "born in the enclave",
            GasOrigin::Environment => "from GAS_KEY",
        }
    );
    let _ = pool.shared.gas.set(Arc::new(gas));
    if let Some(journal) = &journal {
        pool.shared.registry.attach_journal(journal.clone());
        restore(&pool, journal).await.map_err(StartupError::State)?;
    }
    for spec in config.workers {
        let name = spec.name.clone().unwrap_or_default();
        if keep_restored_boot_worker(&pool, &spec) {
            continue;
        }
        deploy(&pool, spec).await.map_err(|source| StartupError::BootWorker { name, source })?;
    }
    let listener = sworn_net::Listener::bind(&config.listen)
        .await
        .map_err(|source| StartupError::Listen { endpoint: config.listen.clone(), source })?;
    let local = listener.local_endpoint().unwrap_or_else(|_| config.listen.clone());
    let accept_pool = pool.clone();
    let accept = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => accept_pool.serve(Box::new(stream)),
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    });
    tokio::spawn(cron_loop(pool.clone()));
    let rotation = tls.clone().map(|t| tokio::spawn(t.rotate_forever()));
    Ok(Running { pool, local, accept, rotation, tls, drain_timeout: config.drain_timeout })
}

/// Starts every worker in the journal with its id, code, account and
/// schedule. Entries that cannot be used, or whose worker does not start,
/// are reported and skipped; only an unreadable directory is an error.
async fn restore(pool: &Pool, journal: &Journal) -> Result<(), StateError> {
    let loaded = journal.load()?;
    let shared = &pool.shared;
    for (file, entry) in loaded.entries {
        let worker = Arc::new(Worker::restore(entry, pool.instance_slots(), shared.limits.log_bytes));
        let skip = |reason| journal.report(&Skipped { file: file.clone(), reason });
        // A worker the registry would refuse (over --max-workers, name
        // taken) never starts, as a deploy would not.
        if let Err(e) = shared.registry.check(Some(&worker.name), shared.limits.max_workers) {
            skip(SkipReason::Registry(e.to_string()));
            continue;
        }
        if let Err(e) = pool.start_worker(worker.clone()).await {
            skip(SkipReason::Start(e.to_string()));
            continue;
        }
        // Rewrites the entry: the same bytes, or an account added when the
        // previous runner could not make one.
        if let Err(e) = shared.registry.insert(worker.clone(), shared.limits.max_workers) {
            pool.stop_worker(&worker.id);
            skip(SkipReason::Registry(e.to_string()));
            continue;
        }
        tracing::info!("state: restored worker {} ({}) from {}", worker.id, worker.name, file.display());
    }
    Ok(())
}

/// Whether boot worker `spec` is already running because the journal
/// restored it (same name, same code): it keeps its id and account. A
/// restored worker of that name with other code is replaced by the boot
/// worker, as the command line is what the image asks for.
fn keep_restored_boot_worker(pool: &Pool, spec: &WorkerSpec) -> bool {
    let Some(name) = spec.name.as_deref() else {
        return false;
    };
    let Some(restored) = pool.shared.registry.get(name) else {
        return false;
    };
    if restored.spec.code == spec.code && restored.spec.config == spec.config && restored.spec.kind == spec.kind {
        return true;
    }
    tracing::info!("state: boot worker {name} has new code or config; replacing the restored one ({})", restored.id);
    pool.shared.registry.remove(&restored.id);
    pool.stop_worker(&restored.id);
    false
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (up to the drain
    /// timeout) and returns whether everything finished in time.
    pub async fn shutdown(self) -> bool {
        self.accept.abort();
        if let Some(r) = &self.rotation {
            r.abort();
        }
        self.pool.begin_shutdown();
        let deadline = tokio::time::Instant::now() + self.drain_timeout;
        loop {
            if self.pool.shared.inflight.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Fires scheduled handlers at the top of every matching UTC minute.
async fn cron_loop(pool: Pool) {
    loop {
        let now_ms = crate::registry::unix_ms();
        let next_minute_ms = (now_ms / 60_000 + 1) * 60_000;
        tokio::time::sleep(Duration::from_millis(next_minute_ms - now_ms)).await;
        if pool.shared.draining.load(Ordering::Relaxed) {
            return;
        }
        fire_due(&pool, crate::cron::minute_of(next_minute_ms / 1000));
    }
}

/// Starts the scheduled handler of every worker whose schedule matches
/// `minute`; returns how many were started.
pub fn fire_due(pool: &Pool, minute: crate::cron::Minute) -> usize {
    let mut fired = 0;
    for worker in pool.shared.registry.all() {
        let Some(schedule) = worker.active_schedule() else {
            continue;
        };
        if schedule.matches(minute) {
            let cron = schedule.source().to_string();
            let pool = pool.clone();
            let w: Arc<_> = worker.clone();
            tokio::spawn(async move {
                let _ = pool.run_scheduled(w, cron).await;
            });
            fired += 1;
        }
    }
    fired
}
