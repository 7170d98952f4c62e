//! Admission control: a global connection cap and a per-source cap, so one
//! client (or one flood) cannot starve the others.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use sworn_net::PeerAddr;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Who a per-source limit counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SourceKey {
    Ip(IpAddr),
    VsockCid(u32),
    /// All local unix clients share one budget.
    Unix,
}

impl From<&PeerAddr> for SourceKey {
    fn from(p: &PeerAddr) -> Self {
        match p {
            PeerAddr::Tcp(a) => SourceKey::Ip(a.ip().to_canonical()),
            PeerAddr::Vsock { cid, .. } => SourceKey::VsockCid(*cid),
            PeerAddr::Unix(_) => SourceKey::Unix,
        }
    }
}

/// Shared admission state.
#[derive(Debug)]
pub struct Admission {
    global: Arc<Semaphore>,
    per_source_max: usize,
    per_source: Arc<Mutex<HashMap<SourceKey, usize>>>,
}

/// Held for the life of an admitted connection.
#[derive(Debug)]
pub struct Permit {
    _global: OwnedSemaphorePermit,
    key: SourceKey,
    per_source: Arc<Mutex<HashMap<SourceKey, usize>>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut m) = self.per_source.lock() {
            if let Some(n) = m.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&self.key);
                }
            }
        }
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Global,
    PerSource,
}

impl Admission {
    pub fn new(max_connections: usize, per_source_max: usize) -> Self {
        Admission {
            global: Arc::new(Semaphore::new(max_connections.min(Semaphore::MAX_PERMITS))),
            per_source_max,
            per_source: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Admits a connection from `peer` or says which limit refuses it.
    pub fn try_admit(&self, peer: &PeerAddr) -> Result<Permit, Refusal> {
        let global = self.global.clone().try_acquire_owned().map_err(|_| Refusal::Global)?;
        let key = SourceKey::from(peer);
        let mut m = self.per_source.lock().map_err(|_| Refusal::Global)?;
        let n = m.entry(key.clone()).or_default();
        if *n >= self.per_source_max {
            return Err(Refusal::PerSource);
        }
        *n += 1;
        Ok(Permit { _global: global, key, per_source: self.per_source.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(s: &str) -> PeerAddr {
        PeerAddr::Tcp(s.parse().unwrap())
    }

    #[test]
    fn global_and_per_source_caps() {
        let a = Admission::new(3, 2);
        let p1 = a.try_admit(&tcp("1.1.1.1:1")).unwrap();
        let _p2 = a.try_admit(&tcp("1.1.1.1:2")).unwrap();
        assert_eq!(a.try_admit(&tcp("1.1.1.1:3")).unwrap_err(), Refusal::PerSource);
        let _p3 = a.try_admit(&tcp("2.2.2.2:1")).unwrap();
        assert_eq!(a.try_admit(&tcp("3.3.3.3:1")).unwrap_err(), Refusal::Global);
        drop(p1);
        assert!(a.try_admit(&tcp("1.1.1.1:4")).is_ok());
        // v4-mapped peers count as their IPv4 address.
        assert_eq!(SourceKey::from(&tcp("[::ffff:1.1.1.1]:5")), SourceKey::Ip("1.1.1.1".parse().unwrap()));
    }
}
