//! Wiring: listener, pool, boot-time workers, cron ticks and the SIGTERM drain.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::{Pool, PoolConfig};
use crate::registry::WorkerSpec;
use crate::server::{deploy, DeployError};

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
}

/// A runner that is listening.
pub struct Running {
    pub pool: Pool,
    pub local: sworn_net::Endpoint,
    accept: tokio::task::JoinHandle<()>,
    drain_timeout: Duration,
}

/// Binds, starts the pool and the boot workers, and begins accepting.
pub async fn start(config: RunnerConfig) -> Result<Running, StartupError> {
    let pool = Pool::start(config.pool).map_err(StartupError::Threads)?;
    for spec in config.workers {
        let name = spec.name.clone().unwrap_or_default();
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
    Ok(Running { pool, local, accept, drain_timeout: config.drain_timeout })
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (up to the drain
    /// timeout) and returns whether everything finished in time.
    pub async fn shutdown(self) -> bool {
        self.accept.abort();
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
        let Some(schedule) = worker.spec.schedule.as_ref() else {
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
