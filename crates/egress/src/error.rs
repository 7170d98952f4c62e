//! Errors. Every variant names the URL, host, proxy or limit involved.

use std::time::Duration;

use crate::ReplyCode;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("CA file {path}: {source}")]
    CaFile { path: String, source: std::io::Error },
    #[error("CA file {path}: {reason}")]
    CaPem { path: String, reason: String },
    #[error("no trusted CA: webpki roots are off and no CA file is configured")]
    NoTrustAnchors,
    #[error("TLS configuration: {0}")]
    Tls(String),
}

/// A failed fetch. Cheap to clone (no I/O handles inside).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("URL scheme {0:?} is not supported (only http and https)")]
    UnsupportedScheme(String),
    #[error("plain http:// to {0} is disabled by the egress configuration")]
    HttpNotAllowed(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Refused by [`crate::EgressConfig::allow`] before any connection.
    #[error("{destination} is not allowed by the egress allowlist (allowed: {})", rules.join(", "))]
    NotAllowed { destination: String, rules: Vec<String> },
    /// `reason` already names the endpoint (sworn-net's error).
    #[error("cannot reach the egress proxy: {reason}")]
    ProxyUnreachable { proxy: String, reason: String },
    /// The proxy answered CONNECT with a failure code.
    #[error("egress proxy refused {target}: {code}")]
    ProxyRefused { target: String, code: ReplyCode },
    #[error("egress proxy {proxy}: {reason}")]
    ProxyProtocol { proxy: String, reason: String },
    #[error("connecting to {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("TLS with {host}: {reason}")]
    Tls { host: String, reason: String },
    #[error("connecting to {target} took longer than the connect timeout of {after:?}")]
    ConnectTimeout { target: String, after: Duration },
    #[error("fetch of {url} took longer than the total timeout of {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("more than {limit} redirects (last: {url})")]
    TooManyRedirects { limit: u32, url: String },
    #[error("redirect from {url} refused: the request's redirect mode is \"error\"")]
    RedirectRefused { url: String },
    #[error("redirect from {url}: {reason}")]
    BadRedirect { url: String, reason: String },
    #[error("request body is {len} bytes, over the limit of {limit} bytes")]
    RequestTooLarge { len: u64, limit: u64 },
    #[error("response body of {url} exceeds the limit of {limit} bytes")]
    ResponseTooLarge { url: String, limit: u64 },
    #[error("HTTP exchange with {url}: {reason}")]
    Http { url: String, reason: String },
}

/// Carries a [`FetchError`] through hyper-util's connector error box.
#[derive(Debug)]
pub(crate) struct ConnectFailure(pub(crate) FetchError);

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ConnectFailure {}

/// Finds our connector's error in a hyper-util error chain.
pub(crate) fn connect_failure(err: &(dyn std::error::Error + 'static)) -> Option<FetchError> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(ConnectFailure(inner)) = e.downcast_ref::<ConnectFailure>() {
            return Some(inner.clone());
        }
        cur = e.source();
    }
    None
}

/// Renders an error with its sources, for messages.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}
