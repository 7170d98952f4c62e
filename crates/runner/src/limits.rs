//! Resource limits applied to every worker. All have safe defaults and a CLI flag.

use std::time::Duration;

/// Limits enforced by the runner on workers and their requests.
#[derive(Clone, Debug)]
pub struct Limits {
    /// JavaScript CPU time one request (or scheduled event) may use.
    pub cpu_time: Duration,
    /// Wall-clock time before a request that got no response fails.
    pub request_timeout: Duration,
    /// QuickJS heap limit of one worker instance.
    pub memory_bytes: usize,
    /// Budget over all workers' QuickJS heaps together (see `memory`).
    pub memory_budget_bytes: u64,
    /// QuickJS stack limit of one worker instance.
    pub stack_bytes: usize,
    /// Largest request body accepted (also bounds management uploads).
    pub request_body_bytes: usize,
    /// Largest response body a worker may produce, or `fetch` may receive.
    pub response_body_bytes: usize,
    /// Requests one worker may serve at once, over all threads.
    pub concurrent_requests: u32,
    /// Workers that may exist at once.
    pub max_workers: usize,
    /// Console output kept per worker.
    pub log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_time: Duration::from_millis(1000),
            request_timeout: Duration::from_secs(30),
            memory_bytes: 128 << 20,
            memory_budget_bytes: crate::memory::default_budget_bytes(),
            stack_bytes: 1 << 20,
            request_body_bytes: 16 << 20,
            response_body_bytes: 32 << 20,
            concurrent_requests: 128,
            max_workers: 64,
            log_bytes: 64 << 10,
        }
    }
}
