//! Egress for Sworn workers: the HTTP(S) client behind `fetch()`.
//!
//! In an enclave, connections leave through the host proxy: a SOCKS5
//! CONNECT (RFC 1928) over vsock to the parent, with the host name sent as a
//! domain-name address so the enclave does no DNS. TLS is terminated inside
//! the enclave (rustls, ring provider, bundled Mozilla roots plus configured
//! CA files), so the host relays only ciphertext. For local development,
//! [`Route::Direct`] connects straight out with the host's resolver; the
//! client API is the same.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use sworn_egress::{EgressClient, EgressConfig, FetchRequest, Route};
//! let proxy = "vsock:3:1057".parse()?;
//! let client = EgressClient::new(EgressConfig::new(Route::Socks5 { proxy }))?;
//! let response = client.fetch(FetchRequest::get("https://example.com/")).await?;
//! let body = response.body.bytes().await?;
//! # Ok(()) }
//! ```
//!
//! HTTP/1.1 and HTTP/2 (chosen by ALPN), pooled connections, connect and
//! total timeouts, bounded redirects (Fetch semantics), a response size
//! limit, an optional allowlist of destinations ([`AllowList`], checked
//! before any connection is made), and named errors for proxy refusals
//! ([`FetchError::ProxyRefused`] with the SOCKS [`ReplyCode`]).

#![forbid(unsafe_code)]

pub mod allow;
mod body;
mod client;
mod config;
mod connector;
mod error;
pub mod socks5;
mod tls;

pub use allow::{AllowList, AllowRule, AllowRuleError};
pub use body::ResponseBody;
pub use client::{EgressClient, FetchRequest, FetchResponse, RedirectMode};
pub use config::{EgressConfig, Route, DEFAULT_PARENT_CID, DEFAULT_PROXY_PORT};
pub use error::{ConfigError, FetchError};
pub use sworn_net::Endpoint;
/// The SOCKS reply code of [`FetchError::ProxyRefused`]: the one `Reply` of
/// the shared codec.
pub use sworn_socks5::Reply as ReplyCode;
