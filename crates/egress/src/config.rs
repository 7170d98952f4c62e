//! Egress configuration.

use std::path::PathBuf;
use std::time::Duration;

use sworn_net::Endpoint;

use crate::allow::AllowList;

/// How connections leave the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Straight out with the host's resolver: local development only.
    Direct,
    /// Through a SOCKS5 proxy (the Sworn host proxy), reached over any
    /// `sworn-net` endpoint: `vsock:3:1057` in an enclave.
    Socks5 { proxy: Endpoint },
}

/// Configuration of an [`crate::EgressClient`].
#[derive(Debug, Clone)]
pub struct EgressConfig {
    pub route: Route,
    /// Use the Mozilla roots bundled by `webpki-roots` (default true).
    pub webpki_roots: bool,
    /// Extra trusted CAs: PEM files holding one or more certificates.
    pub extra_ca_files: Vec<PathBuf>,
    /// Dial + SOCKS handshake + TLS handshake (default 10 s).
    pub connect_timeout: Duration,
    /// Whole fetch, redirects and body included (default 60 s).
    pub total_timeout: Duration,
    /// Redirects followed before giving up (default 20, as in the Fetch standard).
    pub max_redirects: u32,
    /// Response body bytes a fetch may read (default 32 MiB).
    pub max_response_bytes: u64,
    /// Request body bytes a fetch may send (default 32 MiB).
    pub max_request_bytes: u64,
    /// Allow `http://` URLs. Over the proxy their bytes are visible to the
    /// host, so an enclave that must hide traffic sets this false.
    pub allow_http: bool,
    /// Idle pooled connections kept per host (default 8).
    pub pool_max_idle_per_host: usize,
    /// How long an idle pooled connection is kept (default 90 s).
    pub pool_idle_timeout: Duration,
    /// Destinations requests may go to; `None` (the default) allows every
    /// destination. Checked for every request, redirect hops included,
    /// before a connection is opened ([`crate::allow`]).
    pub allow: Option<AllowList>,
}

impl EgressConfig {
    /// Defaults for a route.
    pub fn new(route: Route) -> Self {
        Self {
            route,
            webpki_roots: true,
            extra_ca_files: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(60),
            max_redirects: 20,
            max_response_bytes: 32 * 1024 * 1024,
            max_request_bytes: 32 * 1024 * 1024,
            allow_http: true,
            pool_max_idle_per_host: 8,
            pool_idle_timeout: Duration::from_secs(90),
            allow: None,
        }
    }

    /// The enclave default: SOCKS5 to the parent (CID 3) on port 1057, where
    /// host-proxy's egress listens by default (as in Escrin's setup).
    pub fn enclave_default() -> Self {
        Self::new(Route::Socks5 { proxy: Endpoint::Vsock { cid: DEFAULT_PARENT_CID, port: DEFAULT_PROXY_PORT } })
    }
}

/// The Nitro parent instance's vsock CID ([`sworn_wire::cid::PARENT`]).
pub const DEFAULT_PARENT_CID: u32 = sworn_wire::cid::PARENT;
/// Port of the host proxy's SOCKS5 listener ([`sworn_wire::port::EGRESS`]).
pub const DEFAULT_PROXY_PORT: u32 = sworn_wire::port::EGRESS;
