//! Resource limits applied to every worker. All have safe defaults and a CLI flag.

use std::time::Duration;

/// Limits enforced by the runner on workers and their requests.
#[derive(Clone, Debug)]
pub struct Limits {
    /// JavaScript CPU time one request (or scheduled event) may use.
    pub cpu_time: Duration,
    /// `--slow-lane-after`: CPU time one turn of a worker's JavaScript may
    /// run on a shared thread before the worker moves to the slow lane; `None`
    /// keeps every worker on the shared threads.
    pub slow_lane_after: Option<Duration>,
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
    /// Time a client has to send a whole request head: from accept for the
    /// first request, from its first byte for later ones. Unfinished heads
    /// otherwise hold a connection and its buffers forever.
    pub header_timeout: Duration,
    /// Longest wait for the next chunk of a request body: an upload that
    /// stalls short of its length is dropped (408) and its memory freed.
    pub body_idle_timeout: Duration,
    /// Time a keep-alive connection may sit idle between requests.
    pub keepalive_timeout: Duration,
    /// Most a worker may ask for as the whole-response budget of a streamed
    /// response (`sworn-stream-timeout` response header); without asking it
    /// gets `request_timeout`.
    pub stream_timeout: Duration,
    /// Ingress connections start with a PROXY v1/v2 header (required), whose
    /// client address workers see as `CF-Connecting-IP`. Off: a connection
    /// that starts with one is refused. Not a limit, but, like them, read by
    /// every pool thread for every connection.
    pub proxy_protocol: bool,
    /// TLS termination is configured (set by the TLS front end's flags):
    /// plain connections then reach only what [`crate::auth::transport`]
    /// allows. Off (the default) for local development, where credentials
    /// travel over plain HTTP because there is no TLS to require.
    pub tls_enabled: bool,
    /// `--deploy`: who may create workers.
    pub deploy: crate::auth::DeployPolicy,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_time: Duration::from_millis(1000),
            slow_lane_after: Some(Duration::from_millis(50)),
            request_timeout: Duration::from_secs(30),
            memory_bytes: 128 << 20,
            memory_budget_bytes: crate::memory::default_budget_bytes(),
            stack_bytes: 1 << 20,
            request_body_bytes: 16 << 20,
            response_body_bytes: 32 << 20,
            concurrent_requests: 128,
            max_workers: 64,
            log_bytes: 64 << 10,
            header_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(60),
            stream_timeout: Duration::from_secs(300),
            proxy_protocol: false,
            tls_enabled: false,
            deploy: crate::auth::DeployPolicy::Open,
        }
    }
}
