//! What can go wrong between a client and a runner, each error naming the
//! URL, file, field or check at fault.

use hyper::StatusCode;
use sworn_atls::VerifyError;

use crate::target::TargetError;
use crate::tls::ClientCertError;

/// An error of [`crate::Client`] and [`crate::AttestedConnection`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    ClientCert(#[from] ClientCertError),
    /// rustls refused the configuration (e.g. a client key it cannot use).
    #[error("TLS configuration: {0}")]
    TlsConfig(rustls::Error),
    #[error("nonce: {0}")]
    Nonce(String),
    #[error("the system's random source failed: {0}")]
    Random(String),
    #[error("cannot connect to {authority}: {error}")]
    Connect { authority: String, error: std::io::Error },
    #[error("{authority}: no answer within {seconds} s ({stage})")]
    Timeout { authority: String, seconds: u64, stage: &'static str },
    /// The handshake failed; [`Error::attestation_failure`] says whether it
    /// was the attested-certificate check, and which part of it.
    ///
    /// (The errors inside are shown in the message, not as `source()`, so
    /// that a chain printer does not repeat them.)
    #[error("{}", describe_handshake(.authority, .error))]
    Handshake { authority: String, error: std::io::Error },
    #[error("HTTP with {authority}: {error}")]
    Http { authority: String, error: hyper::Error },
    /// The fresh document fetched over the connection was refused.
    #[error("fresh attestation document (GET /attestation) refused ({}): {}", check_name(.0), .0)]
    FreshDocument(VerifyError),
    /// The runner answered with an error status; `message` is its JSON
    /// `error` text (or the body).
    #[error("{request}: HTTP {status}: {message}")]
    Status { request: String, status: StatusCode, message: String },
    /// The runner answered 2xx with something that is not what the API says.
    #[error("{request}: unexpected answer: {reason}")]
    Response { request: String, reason: String },
}

fn describe_handshake(authority: &str, error: &std::io::Error) -> String {
    match sworn_atls::handshake_failure(error) {
        Some(v) => format!("TLS handshake with {authority} refused: attestation check failed ({}): {v}", check_name(v)),
        None => format!("TLS handshake with {authority} failed: {error}"),
    }
}

impl Error {
    /// The attestation check that failed, in the handshake or on the fresh
    /// document; `None` for any other error.
    pub fn attestation_failure(&self) -> Option<&VerifyError> {
        match self {
            Error::Handshake { error, .. } => sworn_atls::handshake_failure(error),
            Error::FreshDocument(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the caller's own input is at fault (URL, key files, nonce),
    /// rather than the network or the runner: the CLI's exit code 2.
    pub fn is_input(&self) -> bool {
        matches!(self, Error::Target(_) | Error::ClientCert(_) | Error::TlsConfig(_) | Error::Nonce(_))
    }
}

/// A short name of the check a [`VerifyError`] failed, for log lines and
/// the proxy's 502 answers (the error's text has the details).
pub fn check_name(error: &VerifyError) -> &'static str {
    match error {
        VerifyError::Certificate(_) => "certificate",
        VerifyError::NoExtension | VerifyError::DuplicateExtension | VerifyError::Extension(_) => {
            "attestation extension"
        }
        VerifyError::Document(_) => "document signature and chain",
        VerifyError::Development => "development document",
        VerifyError::KeyMismatch { .. } => "key binding",
        VerifyError::NotTlsBinding(_) => "TLS binding tag",
        VerifyError::Claims(m) if m.iter().all(|m| m.field == "nonce") => "nonce",
        VerifyError::Claims(_) => "measurements",
        VerifyError::Validity { .. } => "certificate validity",
    }
}
