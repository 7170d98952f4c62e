//! Prometheus text exposition, written by hand: a few counters and gauges
//! do not justify a metrics framework plus an HTTP stack in a daemon whose
//! attack surface we want small.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use sworn_net::{Endpoint, Listener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a connection is for; a metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Ingress = 0,
    Egress = 1,
    Heartbeat = 2,
}

const ROLES: [&str; 3] = ["ingress", "egress", "heartbeat"];

/// Counters shared by every task.
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: [AtomicU64; 3],
    active: [AtomicU64; 3],
    rejected_limit: [AtomicU64; 3],
    /// Client to target / target to client.
    pub bytes_up: [AtomicU64; 3],
    pub bytes_down: [AtomicU64; 3],
    egress_allowed: AtomicU64,
    denials: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<&'static str, u64>>,
}

/// Decrements the active gauge when a connection ends.
pub struct ActiveGuard<'a>(&'a AtomicU64);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn accepted(&self, role: Role) -> ActiveGuard<'_> {
        self.accepted[role as usize].fetch_add(1, Ordering::Relaxed);
        self.active[role as usize].fetch_add(1, Ordering::Relaxed);
        ActiveGuard(&self.active[role as usize])
    }

    pub fn rejected_by_limit(&self, role: Role) {
        self.rejected_limit[role as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn active_total(&self) -> u64 {
        self.active.iter().map(|a| a.load(Ordering::Relaxed)).sum()
    }

    pub fn active(&self, role: Role) -> u64 {
        self.active[role as usize].load(Ordering::Relaxed)
    }

    pub fn allowed(&self) {
        self.egress_allowed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn denied(&self, rule: &str) {
        if let Ok(mut m) = self.denials.lock() {
            *m.entry(rule.to_owned()).or_default() += 1;
        }
    }

    pub fn error(&self, kind: &'static str) {
        if let Ok(mut m) = self.errors.lock() {
            *m.entry(kind).or_default() += 1;
        }
    }

    pub fn error_count(&self, kind: &str) -> u64 {
        self.errors.lock().map(|m| m.get(kind).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// Renders the text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut o = String::new();
        let per_role = |o: &mut String, name: &str, kind: &str, help: &str, v: &[AtomicU64; 3]| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (i, r) in ROLES.iter().enumerate() {
                let _ = writeln!(o, "{name}{{role=\"{r}\"}} {}", v[i].load(Ordering::Relaxed));
            }
        };
        per_role(&mut o, "host_proxy_connections_total", "counter", "Connections accepted.", &self.accepted);
        per_role(&mut o, "host_proxy_connections_active", "gauge", "Connections open now.", &self.active);
        per_role(
            &mut o,
            "host_proxy_connections_rejected_total",
            "counter",
            "Connections refused by a limit.",
            &self.rejected_limit,
        );
        let _ = writeln!(o, "# HELP host_proxy_bytes_total Bytes relayed.\n# TYPE host_proxy_bytes_total counter");
        for (i, r) in ROLES.iter().enumerate() {
            let _ = writeln!(
                o,
                "host_proxy_bytes_total{{role=\"{r}\",direction=\"up\"}} {}",
                self.bytes_up[i].load(Ordering::Relaxed)
            );
            let _ = writeln!(
                o,
                "host_proxy_bytes_total{{role=\"{r}\",direction=\"down\"}} {}",
                self.bytes_down[i].load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            o,
            "# HELP host_proxy_egress_allowed_total Egress connections allowed by policy.\n# TYPE host_proxy_egress_allowed_total counter\nhost_proxy_egress_allowed_total {}",
            self.egress_allowed.load(Ordering::Relaxed)
        );
        let _ = writeln!(o, "# HELP host_proxy_egress_denied_total Egress connections denied, by deciding rule.\n# TYPE host_proxy_egress_denied_total counter");
        if let Ok(m) = self.denials.lock() {
            for (rule, n) in m.iter() {
                let _ = writeln!(o, "host_proxy_egress_denied_total{{rule=\"{}\"}} {n}", escape(rule));
            }
        }
        let _ = writeln!(o, "# HELP host_proxy_errors_total Errors, by kind.\n# TYPE host_proxy_errors_total counter");
        if let Ok(m) = self.errors.lock() {
            for (kind, n) in m.iter() {
                let _ = writeln!(o, "host_proxy_errors_total{{kind=\"{kind}\"}} {n}");
            }
        }
        o
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Serves `GET /metrics` (any path, in fact) over minimal HTTP/1.0.
pub async fn serve(listener: Listener, metrics: std::sync::Arc<Metrics>) {
    loop {
        let (mut s, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "metrics accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            // Read the request head, bounded in size and time.
            let mut head = [0u8; 2048];
            let mut n = 0;
            let read = tokio::time::timeout(Duration::from_secs(5), async {
                while n < head.len() {
                    let k = s.read(&mut head[n..]).await?;
                    if k == 0 {
                        break;
                    }
                    n += k;
                    if head[..n].windows(4).any(|w| w == b"\r\n\r\n") || head[..n].windows(2).any(|w| w == b"\n\n") {
                        break;
                    }
                }
                Ok::<_, std::io::Error>(())
            })
            .await;
            if !matches!(read, Ok(Ok(()))) || !head.starts_with(b"GET ") {
                let _ = s.write_all(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
                return;
            }
            let body = metrics.render();
            let resp = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
            let _ = s.shutdown().await;
        });
    }
}

/// Binds the metrics endpoint.
pub async fn bind(endpoint: &Endpoint) -> Result<Listener, sworn_net::Error> {
    Listener::bind(endpoint).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_labels() {
        let m = Metrics::default();
        let g = m.accepted(Role::Egress);
        m.denied("special:loopback");
        m.denied("evil\"rule");
        m.error("connect");
        let t = m.render();
        assert!(t.contains("host_proxy_connections_total{role=\"egress\"} 1"));
        assert!(t.contains("host_proxy_connections_active{role=\"egress\"} 1"));
        assert!(t.contains("host_proxy_egress_denied_total{rule=\"special:loopback\"} 1"));
        assert!(t.contains("host_proxy_egress_denied_total{rule=\"evil\\\"rule\"} 1"));
        assert!(t.contains("host_proxy_errors_total{kind=\"connect\"} 1"));
        drop(g);
        assert!(m.render().contains("host_proxy_connections_active{role=\"egress\"} 0"));
    }
}
