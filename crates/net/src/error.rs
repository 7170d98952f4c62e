//! Errors of binding, accepting and connecting.

use std::io;

/// A socket operation on an endpoint failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bind {endpoint}: {source}")]
    Bind { endpoint: String, source: io::Error },
    #[error("bind {endpoint}: {path} exists and is not a socket; refusing to remove it")]
    NotASocket { endpoint: String, path: String },
    #[error("bind {endpoint}: a live server is listening on {path}")]
    InUse { endpoint: String, path: String },
    #[error("accept on {endpoint}: {source}")]
    Accept { endpoint: String, source: io::Error },
    #[error("connect {endpoint}: {source}")]
    Connect { endpoint: String, source: io::Error },
    #[error("connect {endpoint}: hybrid vsock handshake failed: {reason}")]
    Handshake { endpoint: String, reason: String },
}

impl Error {
    /// The underlying I/O error kind, for callers that retry on
    /// `ConnectionRefused` and the like (e.g. while an enclave boots).
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            Error::Bind { source, .. } | Error::Accept { source, .. } | Error::Connect { source, .. } => {
                Some(source.kind())
            }
            _ => None,
        }
    }
}
