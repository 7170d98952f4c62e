//! What one run may use, and the store's resource limiter that enforces the
//! memory part of it.

use std::sync::Arc;
use std::time::Duration;

/// Limits of one run of a module.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// CPU time of the thread running the module.
    pub cpu: Duration,
    /// Wall-clock time, sleeps in `poll_oneoff` included.
    pub wall: Duration,
    /// Linear memory (all memories together) the run may hold.
    pub memory_bytes: u64,
    /// Most bytes the module may write to stdout: more ends the run.
    pub stdout_bytes: usize,
    /// Most bytes of stderr kept; the rest is dropped (and said so).
    pub stderr_bytes: usize,
}

/// Table elements a run may hold (each is a pointer-sized slot).
pub const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// A budget shared with the rest of the process (the runner's
/// `--memory-budget-mib`), charged as linear memory grows and refunded
/// when the run ends.
pub trait MemoryCharge: Send + Sync {
    /// Takes `bytes` if the budget has room; `false` refuses the growth.
    fn charge(&self, bytes: u64) -> bool;
    fn release(&self, bytes: u64);
}

/// No budget beyond [`RunLimits::memory_bytes`].
#[derive(Debug, Default, Clone, Copy)]
pub struct NoCharge;

impl MemoryCharge for NoCharge {
    fn charge(&self, _: u64) -> bool {
        true
    }
    fn release(&self, _: u64) {}
}

/// Why the limiter last refused to grow memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Limit { desired: u64 },
    Budget,
    Table { desired: usize },
}

pub(crate) struct Limiter {
    limit: u64,
    charge: Arc<dyn MemoryCharge>,
    charged: u64,
    pub(crate) refused: Option<Refusal>,
}

impl Limiter {
    pub(crate) fn new(limit: u64, charge: Arc<dyn MemoryCharge>) -> Limiter {
        Limiter { limit, charge, charged: 0, refused: None }
    }
}

impl Drop for Limiter {
    fn drop(&mut self) {
        self.charge.release(self.charged);
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let desired64 = desired as u64;
        let grow = desired64.saturating_sub(current as u64);
        if self.charged.saturating_add(grow) > self.limit {
            self.refused = Some(Refusal::Limit { desired: desired64 });
            return Ok(false);
        }
        if !self.charge.charge(grow) {
            self.refused = Some(Refusal::Budget);
            return Ok(false);
        }
        self.charged += grow;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.refused = Some(Refusal::Table { desired });
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        4
    }

    fn memories(&self) -> usize {
        1
    }
}
