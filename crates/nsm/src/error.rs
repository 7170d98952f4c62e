//! Error types. Every variant names the message, field or limit at fault.

use std::fmt;

/// A CBOR message or document that does not have the expected shape (the
/// one type of `sworn-attestation`, shared by NSM messages and documents).
pub use sworn_attestation::ProtocolError;

/// Error codes the NSM returns as `{"Error": "<code>"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidArgument,
    InvalidIndex,
    InvalidResponse,
    ReadOnlyIndex,
    InvalidOperation,
    BufferTooSmall,
    InputTooLarge,
    InternalError,
    /// A code this crate does not know (kept verbatim, at most 64 bytes).
    Other(String),
}

impl ErrorCode {
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::InvalidArgument => "InvalidArgument",
            ErrorCode::InvalidIndex => "InvalidIndex",
            ErrorCode::InvalidResponse => "InvalidResponse",
            ErrorCode::ReadOnlyIndex => "ReadOnlyIndex",
            ErrorCode::InvalidOperation => "InvalidOperation",
            ErrorCode::BufferTooSmall => "BufferTooSmall",
            ErrorCode::InputTooLarge => "InputTooLarge",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::Other(s) => s,
        }
    }

    pub(crate) fn from_name(name: &str) -> Self {
        match name {
            "InvalidArgument" => ErrorCode::InvalidArgument,
            "InvalidIndex" => ErrorCode::InvalidIndex,
            "InvalidResponse" => ErrorCode::InvalidResponse,
            "ReadOnlyIndex" => ErrorCode::ReadOnlyIndex,
            "InvalidOperation" => ErrorCode::InvalidOperation,
            "BufferTooSmall" => ErrorCode::BufferTooSmall,
            "InputTooLarge" => ErrorCode::InputTooLarge,
            "InternalError" => ErrorCode::InternalError,
            other => ErrorCode::Other(other.chars().take(64).collect()),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of the [`crate::Nsm`] client.
#[derive(Debug, thiserror::Error)]
pub enum NsmError {
    #[error("NSM device {path}: {source}")]
    Device { path: String, source: std::io::Error },
    #[error("NSM response to {request}: {source}")]
    Protocol { request: &'static str, source: ProtocolError },
    #[error("NSM rejected {request}: {code}")]
    Rejected { request: &'static str, code: ErrorCode },
    #[error("NSM answered {request} with a {got} response")]
    UnexpectedResponse { request: &'static str, got: &'static str },
    #[error("attestation request: {0}")]
    Request(#[from] RequestError),
    #[error(transparent)]
    Development(#[from] crate::dev::DevNsmError),
}

/// A caller's attestation request that breaks a documented limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{field} is {len} bytes, over the limit of {limit} bytes")]
    TooLong { field: &'static str, len: usize, limit: usize },
    #[error("{field} is not valid hex: {reason}")]
    BadHex { field: &'static str, reason: String },
    #[error("PCR index {index} is out of range (0..{max})")]
    PcrIndex { index: u16, max: u16 },
    /// Only the runner's TLS module may ask for documents whose user_data
    /// is the TLS key binding (`sworn_attestation::binding`).
    #[error(
        "user_data starts with the runner's TLS key binding tag {:?}, which only the runner itself may use",
        String::from_utf8_lossy(sworn_attestation::binding::TLS_KEY_USER_DATA)
    )]
    ReservedUserData,
}
