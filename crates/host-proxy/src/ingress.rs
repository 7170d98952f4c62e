//! Ingress: clients on the host side forwarded to one of several targets
//! (enclaves), least connections first, with health checks and retries
//! while an enclave boots.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sworn_net::{connect, Endpoint, PeerAddr, Stream};
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::limits::Permit;
use crate::metrics::Role;
use crate::relay::{relay, RelayError};
use crate::server::Shared;
use sworn_proxy_protocol::Addresses;

/// One forward: `LISTEN=TARGET[,TARGET...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub listen: Endpoint,
    pub targets: Vec<Endpoint>,
    pub proxy_protocol: bool,
}

/// Why a route spec does not parse.
#[derive(Debug, thiserror::Error)]
pub enum RouteSpecError {
    #[error("ingress {0:?}: expected LISTEN=TARGET[,TARGET...], e.g. tcp:0.0.0.0:1057=vsock:16:1057")]
    Shape(String),
    #[error("ingress {spec:?}: {source}")]
    Endpoint { spec: String, source: sworn_net::ParseEndpointError },
}

impl std::str::FromStr for RouteSpec {
    type Err = RouteSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (l, t) = s.split_once('=').ok_or_else(|| RouteSpecError::Shape(s.into()))?;
        let ep = |x: &str| {
            x.trim().parse::<Endpoint>().map_err(|source| RouteSpecError::Endpoint { spec: s.into(), source })
        };
        let targets = t.split(',').map(ep).collect::<Result<Vec<_>, _>>()?;
        if targets.is_empty() {
            return Err(RouteSpecError::Shape(s.into()));
        }
        Ok(RouteSpec { listen: ep(l)?, targets, proxy_protocol: false })
    }
}

/// A target and what the balancer knows about it.
#[derive(Debug)]
pub struct Target {
    pub endpoint: Endpoint,
    active: AtomicUsize,
    healthy: AtomicBool,
}

/// Counts a connection against its target while alive.
struct TargetGuard(Arc<Target>);

impl Drop for TargetGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A live route.
#[derive(Debug)]
pub struct Route {
    pub spec: RouteSpec,
    targets: Vec<Arc<Target>>,
    next: AtomicUsize,
}

impl Route {
    pub fn new(spec: RouteSpec) -> Self {
        let targets = spec
            .targets
            .iter()
            .map(|e| {
                Arc::new(Target { endpoint: e.clone(), active: AtomicUsize::new(0), healthy: AtomicBool::new(true) })
            })
            .collect();
        Route { spec, targets, next: AtomicUsize::new(0) }
    }

    /// Targets in the order to try: healthy first, then fewest active
    /// connections, ties broken round-robin.
    fn candidates(&self) -> Vec<Arc<Target>> {
        let n = self.targets.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n.max(1);
        let mut v: Vec<(usize, Arc<Target>)> = (0..n).map(|i| ((i + n - start) % n, self.targets[i].clone())).collect();
        v.sort_by_key(|(rot, t)| (!t.healthy.load(Ordering::Relaxed), t.active.load(Ordering::Relaxed), *rot));
        v.into_iter().map(|(_, t)| t).collect()
    }

    /// Connects to the best target, retrying (with backoff, across targets)
    /// until `deadline`: an enclave that is still booting refuses at first.
    async fn connect(&self, deadline: Instant) -> Result<(Stream, TargetGuard), String> {
        let mut backoff = Duration::from_millis(25);
        let mut last_err = String::from("no attempt");
        loop {
            for t in self.candidates() {
                let now = Instant::now();
                if now >= deadline {
                    return Err(last_err);
                }
                t.active.fetch_add(1, Ordering::Relaxed);
                let guard = TargetGuard(t.clone());
                match tokio::time::timeout(deadline - now, connect(&t.endpoint)).await {
                    Ok(Ok(s)) => {
                        t.healthy.store(true, Ordering::Relaxed);
                        return Ok((s, guard));
                    }
                    Ok(Err(e)) => {
                        if self.targets.len() > 1 {
                            t.healthy.store(false, Ordering::Relaxed);
                        }
                        tracing::debug!(target = %t.endpoint, error = %e, "ingress connect failed, will retry");
                        last_err = e.to_string();
                    }
                    Err(_) => last_err = format!("connect {}: timed out", t.endpoint),
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(last_err);
            }
            tokio::time::sleep(backoff.min(deadline - now)).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    /// Probes every target periodically; only used with several targets.
    pub async fn health_checks(self: Arc<Self>, interval: Duration, timeout: Duration) {
        if self.targets.len() < 2 {
            return;
        }
        loop {
            for t in &self.targets {
                let ok = matches!(tokio::time::timeout(timeout, connect(&t.endpoint)).await, Ok(Ok(_)));
                let was = t.healthy.swap(ok, Ordering::Relaxed);
                if was != ok {
                    tracing::info!(target = %t.endpoint, healthy = ok, "ingress target health changed");
                }
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// Whether the balancer currently considers `endpoint` healthy.
    pub fn is_healthy(&self, endpoint: &Endpoint) -> Option<bool> {
        self.targets.iter().find(|t| &t.endpoint == endpoint).map(|t| t.healthy.load(Ordering::Relaxed))
    }
}

/// Serves one accepted ingress client.
pub async fn handle(route: Arc<Route>, mut client: Stream, peer: PeerAddr, _permit: Permit, shared: Arc<Shared>) {
    let m = &shared.metrics;
    let _active = m.accepted(Role::Ingress);
    let deadline = Instant::now() + shared.timeouts.connect;
    let (mut upstream, guard) = match route.connect(deadline).await {
        Ok(c) => c,
        Err(e) => {
            m.error("ingress_connect");
            tracing::warn!(listener = %route.spec.listen, %peer, error = %e, "no target reachable");
            return;
        }
    };
    tracing::debug!(listener = %route.spec.listen, %peer, target = %guard.0.endpoint, "ingress connected");
    if route.spec.proxy_protocol {
        let local = client.local_addr().unwrap_or(PeerAddr::Unix(None));
        let header = sworn_proxy_protocol::encode_v2(&proxy_addresses(&peer, &local));
        if let Err(e) = upstream.write_all(&header).await {
            m.error("ingress_io");
            tracing::warn!(%peer, error = %e, "writing PROXY header failed");
            return;
        }
    }
    let r = relay(
        &mut client,
        &mut upstream,
        shared.idle(),
        &m.bytes_up[Role::Ingress as usize],
        &m.bytes_down[Role::Ingress as usize],
    )
    .await;
    match r {
        Ok(t) => tracing::debug!(%peer, up = t.a_to_b, down = t.b_to_a, "ingress closed"),
        Err(RelayError::Idle(d)) => {
            m.error("idle_timeout");
            tracing::debug!(%peer, idle = ?d, "ingress idle timeout");
        }
        Err(RelayError::Io(e)) => {
            m.error("ingress_io");
            tracing::debug!(%peer, error = %e, "ingress relay error");
        }
    }
    drop(guard);
}

/// What the PROXY header says about a connection: TCP clients' addresses;
/// for unix and vsock clients nothing (UNSPEC), so the runner uses the
/// connection's own.
fn proxy_addresses(source: &PeerAddr, dest: &PeerAddr) -> Addresses {
    match (source, dest) {
        (PeerAddr::Tcp(source), PeerAddr::Tcp(destination)) => {
            Addresses::Inet { source: *source, destination: *destination }
        }
        _ => Addresses::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_spec_parses() {
        let r: RouteSpec = "tcp:0.0.0.0:1057=vsock:16:1057,vsock:17:1057".parse().unwrap();
        assert_eq!(r.listen.to_string(), "tcp:0.0.0.0:1057");
        assert_eq!(r.targets.len(), 2);
        assert!("tcp:0.0.0.0:1057".parse::<RouteSpec>().unwrap_err().to_string().contains("LISTEN=TARGET"));
        assert!("tcp:0.0.0.0:1057=vsock:x:1".parse::<RouteSpec>().unwrap_err().to_string().contains("invalid CID"));
    }

    #[test]
    fn least_connections_then_round_robin() {
        let r = Route::new("tcp:127.0.0.1:1=tcp:127.0.0.1:2,tcp:127.0.0.1:3".parse().unwrap());
        let first = r.candidates()[0].endpoint.clone();
        let second = r.candidates()[0].endpoint.clone();
        assert_ne!(first, second, "ties rotate");
        r.targets[0].active.store(5, Ordering::Relaxed);
        for _ in 0..3 {
            assert_eq!(r.candidates()[0].endpoint, r.targets[1].endpoint);
        }
        r.targets[1].healthy.store(false, Ordering::Relaxed);
        assert_eq!(r.candidates()[0].endpoint, r.targets[0].endpoint);
    }
}
