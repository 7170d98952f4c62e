//! PROXY protocol headers (HAProxy's proxy-protocol.txt), sans-IO.
//!
//! The ingress (host-proxy over vsock, or a load balancer) puts a header
//! before the client's bytes so the runner learns the client's address
//! although the connection arrives from the proxy. host-proxy writes v2
//! ([`encode_v2`]); the runner reads v1 and v2 ([`parse`]). One copy of
//! the format and its types, so the two ends cannot drift apart.

#![forbid(unsafe_code)]

mod encode;
mod parse;

pub use encode::encode_v2;
pub use parse::{
    detect_signature, parse, Addresses, Parsed, ProxyHeader, ProxyHeaderError, Version, V1_MAX_BYTES, V1_PREFIX,
    V2_MAX_PAYLOAD, V2_SIGNATURE,
};
