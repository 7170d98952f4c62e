//! host-proxy: the parent-instance daemon of a Sworn enclave.
//!
//! * ingress: TCP (or unix) clients forwarded to enclaves over vsock,
//!   balanced by least connections, with retries while an enclave boots;
//! * egress: a SOCKS5 server for the enclave whose every destination is
//!   checked, after DNS resolution, against an allow/deny [`policy`];
//! * heartbeat: answers the Nitro boot heartbeat where nitro-cli is absent.

#![forbid(unsafe_code)]

pub mod config;
pub mod egress;
pub mod heartbeat;
pub mod ingress;
pub mod limits;
pub mod metrics;
pub mod policy;
pub mod relay;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sworn_net::Listener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

use crate::config::{Cli, Config};
use crate::ingress::Route;
use crate::limits::Admission;
use crate::metrics::{Metrics, Role};
use crate::policy::Policy;
use crate::server::{accept_loop, Shared};

/// Builds the policy of a configuration. This host's addresses are read
/// at every connect decision, not once here.
pub fn build_policy(cfg: &Config) -> Policy {
    Policy::live(cfg.allow.clone(), cfg.deny.clone())
}

/// Runs the daemon until SIGTERM/SIGINT and the drain that follows.
/// `cli` is kept to re-read `--config` on SIGHUP.
pub async fn run(cli: Cli, cfg: Config) -> anyhow::Result<()> {
    // Bind everything first: a typo'd endpoint fails at start, not later.
    let mut ingress = Vec::new();
    for spec in &cfg.ingress {
        let l = Listener::bind(&spec.listen).await.map_err(|e| anyhow::anyhow!("ingress listener: {e}"))?;
        ingress.push((l, Arc::new(Route::new(spec.clone()))));
    }
    let mut egress = Vec::new();
    for e in &cfg.egress {
        egress.push(Listener::bind(e).await.map_err(|e| anyhow::anyhow!("egress listener: {e}"))?);
    }
    let mut heartbeat = Vec::new();
    for h in &cfg.heartbeat {
        heartbeat.push(Listener::bind(h).await.map_err(|e| anyhow::anyhow!("heartbeat listener: {e}"))?);
    }
    let metrics_listener = match &cfg.metrics {
        Some(m) => Some(Listener::bind(m).await.map_err(|e| anyhow::anyhow!("metrics listener: {e}"))?),
        None => None,
    };

    let metrics = Arc::new(Metrics::default());
    let (drain_tx, drain_rx) = watch::channel(false);
    let shared = Arc::new(
        Shared::new(
            metrics.clone(),
            Admission::new(cfg.max_connections, cfg.max_per_source),
            build_policy(&cfg),
            cfg.timeouts,
            drain_rx,
        )
        .with_idle_min_bytes(cfg.idle_min_bytes),
    );

    let mut loops = tokio::task::JoinSet::new();
    for (l, route) in ingress {
        let probe_timeout = cfg.timeouts.connect.min(Duration::from_secs(2));
        tokio::spawn(route.clone().health_checks(cfg.health_interval, probe_timeout));
        loops.spawn(accept_loop(l, Role::Ingress, shared.clone(), move |s, p, permit, sh| {
            ingress::handle(route.clone(), s, p, permit, sh)
        }));
    }
    for l in egress {
        loops.spawn(accept_loop(l, Role::Egress, shared.clone(), egress::handle));
    }
    for l in heartbeat {
        loops.spawn(accept_loop(l, Role::Heartbeat, shared.clone(), heartbeat::handle));
    }
    if let Some(l) = metrics_listener {
        tokio::spawn(metrics::serve(l, metrics.clone()));
    }
    tracing::info!(config = %cfg.summary().trim_end().replace('\n', "; "), "host-proxy ready");

    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    loop {
        tokio::select! {
            _ = hup.recv() => reload(&cli, &shared),
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }

    tracing::info!(active = metrics.active_total(), timeout = ?cfg.drain_timeout, "draining");
    let _ = drain_tx.send(true);
    // Listeners close (and unix socket files go) as the accept loops end.
    while loops.join_next().await.is_some() {}
    let deadline = tokio::time::Instant::now() + cfg.drain_timeout;
    while metrics.active_total() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = metrics.active_total();
    if left > 0 {
        tracing::warn!(left, "drain timeout: closing remaining connections");
    } else {
        tracing::info!("drained");
    }
    Ok(())
}

/// SIGHUP: re-reads the configuration and swaps in the new policy. Live
/// connections are untouched; listener or limit changes need a restart.
fn reload(cli: &Cli, shared: &Shared) {
    match Config::from_cli(cli) {
        Ok(cfg) => {
            shared.set_policy(build_policy(&cfg));
            tracing::info!(allow = cfg.allow.len(), deny = cfg.deny.len(), "policy reloaded");
        }
        Err(e) => {
            shared.metrics.error("reload");
            tracing::error!(error = %e, "reload failed; keeping the previous policy");
        }
    }
}
