//! Errors, one variant per `DOMException` name that WebCrypto throws.

/// A WebCrypto failure. Each variant is one exception name from the
/// specification; the message names the member, format or limit at fault.
///
/// Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The algorithm, curve, hash or format is not supported for this operation.
    #[error("NotSupportedError: {0}")]
    NotSupported(String),
    /// Bad key usages (e.g. `encrypt` on an HMAC key, or none on a secret key).
    #[error("SyntaxError: {0}")]
    Syntax(String),
    /// The key cannot be used this way (wrong usage, wrong algorithm, not extractable).
    #[error("InvalidAccessError: {0}")]
    InvalidAccess(String),
    /// Key data is malformed or inconsistent with the requested algorithm.
    #[error("DataError: {0}")]
    Data(String),
    /// The operation failed (authentication failure, bad length, RNG failure).
    #[error("OperationError: {0}")]
    Operation(String),
    /// A dictionary member is missing or has the wrong type (WebIDL conversion).
    #[error("TypeError: {0}")]
    Type(String),
    /// `getRandomValues` asked for more than 65536 bytes.
    #[error("QuotaExceededError: {0}")]
    QuotaExceeded(String),
}

impl Error {
    /// The `DOMException` name (or `"TypeError"`) a JS binding must throw.
    pub fn dom_name(&self) -> &'static str {
        match self {
            Error::NotSupported(_) => "NotSupportedError",
            Error::Syntax(_) => "SyntaxError",
            Error::InvalidAccess(_) => "InvalidAccessError",
            Error::Data(_) => "DataError",
            Error::Operation(_) => "OperationError",
            Error::Type(_) => "TypeError",
            Error::QuotaExceeded(_) => "QuotaExceededError",
        }
    }

    /// True when JS must throw a plain `TypeError` rather than a `DOMException`.
    pub fn is_type_error(&self) -> bool {
        matches!(self, Error::Type(_))
    }

    /// The message without the exception-name prefix.
    pub fn message(&self) -> &str {
        match self {
            Error::NotSupported(m)
            | Error::Syntax(m)
            | Error::InvalidAccess(m)
            | Error::Data(m)
            | Error::Operation(m)
            | Error::Type(m)
            | Error::QuotaExceeded(m) => m,
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn not_supported(m: impl Into<String>) -> Error {
    Error::NotSupported(m.into())
}
pub(crate) fn syntax(m: impl Into<String>) -> Error {
    Error::Syntax(m.into())
}
pub(crate) fn invalid_access(m: impl Into<String>) -> Error {
    Error::InvalidAccess(m.into())
}
pub(crate) fn data(m: impl Into<String>) -> Error {
    Error::Data(m.into())
}
pub(crate) fn operation(m: impl Into<String>) -> Error {
    Error::Operation(m.into())
}
pub(crate) fn type_error(m: impl Into<String>) -> Error {
    Error::Type(m.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_names_match_the_spec() {
        assert_eq!(not_supported("x").dom_name(), "NotSupportedError");
        assert_eq!(syntax("x").dom_name(), "SyntaxError");
        assert_eq!(invalid_access("x").dom_name(), "InvalidAccessError");
        assert_eq!(data("x").dom_name(), "DataError");
        assert_eq!(operation("x").dom_name(), "OperationError");
        assert_eq!(type_error("x").dom_name(), "TypeError");
        assert!(type_error("x").is_type_error());
        assert_eq!(data("field k").message(), "field k");
        assert_eq!(data("field k").to_string(), "DataError: field k");
    }
}
