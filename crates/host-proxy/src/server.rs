//! State shared by every listener, and the accept loop they all use.

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sworn_net::{Listener, PeerAddr, Stream};
use tokio::sync::watch;

use crate::limits::{Admission, Permit, Refusal};
use crate::metrics::{Metrics, Role};
use crate::policy::Policy;
use crate::relay::{Idle, DEFAULT_IDLE_MIN_BYTES};

/// Time limits applied to every connection.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Establishing an outbound connection (ingress keeps retrying the
    /// enclave within this time while it boots).
    pub connect: Duration,
    /// A relay moving fewer than `Shared::idle_min_bytes` (both ways
    /// together) within this is closed.
    pub idle: Duration,
    /// A client must finish its SOCKS5 handshake (or heartbeat) within
    /// this, which bounds slowloris clients.
    pub handshake: Duration,
}

/// Everything the connection handlers share.
pub struct Shared {
    pub metrics: Arc<Metrics>,
    pub admission: Admission,
    policy: RwLock<Arc<Policy>>,
    pub timeouts: Timeouts,
    /// Bytes a relay must move per idle timeout.
    pub idle_min_bytes: u64,
    /// Flips to `true` when the daemon starts draining.
    pub draining: watch::Receiver<bool>,
}

impl Shared {
    pub fn new(
        metrics: Arc<Metrics>,
        admission: Admission,
        policy: Policy,
        timeouts: Timeouts,
        draining: watch::Receiver<bool>,
    ) -> Self {
        Shared {
            metrics,
            admission,
            policy: RwLock::new(Arc::new(policy)),
            timeouts,
            idle_min_bytes: DEFAULT_IDLE_MIN_BYTES,
            draining,
        }
    }

    /// Sets the bytes a relay must move per idle timeout (at least 1).
    pub fn with_idle_min_bytes(mut self, n: u64) -> Self {
        self.idle_min_bytes = n.max(1);
        self
    }

    /// When relays count as idle.
    pub fn idle(&self) -> Idle {
        Idle { timeout: self.timeouts.idle, min_bytes: self.idle_min_bytes }
    }

    /// The policy in force; a reload swaps it without touching live
    /// connections, which keep the policy they were admitted under.
    pub fn policy(&self) -> Arc<Policy> {
        match self.policy.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set_policy(&self, p: Policy) {
        match self.policy.write() {
            Ok(mut g) => *g = Arc::new(p),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(p),
        }
    }
}

/// Accepts until draining starts, admitting each connection against the
/// limits and handing it to `handle` on its own task.
pub async fn accept_loop<F, Fut>(listener: Listener, role: Role, shared: Arc<Shared>, handle: F)
where
    F: Fn(Stream, PeerAddr, Permit, Arc<Shared>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut draining = shared.draining.clone();
    let endpoint = listener.endpoint().to_string();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = draining.wait_for(|d| *d) => break,
        };
        let (stream, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                shared.metrics.error("accept");
                tracing::warn!(listener = %endpoint, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match shared.admission.try_admit(&peer) {
            Ok(permit) => {
                tokio::spawn(handle(stream, peer, permit, shared.clone()));
            }
            Err(refusal) => {
                shared.metrics.rejected_by_limit(role);
                tracing::debug!(
                    listener = %endpoint,
                    %peer,
                    limit = match refusal { Refusal::Global => "max_connections", Refusal::PerSource => "max_per_source" },
                    "connection refused by limit"
                );
                drop(stream);
            }
        }
    }
    tracing::info!(listener = %endpoint, "stopped accepting");
}
