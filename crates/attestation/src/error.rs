//! Shape errors of CBOR messages and documents. Every variant names the
//! message, field or limit at fault.

/// A CBOR message or document that does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("{what}: malformed CBOR: {reason}")]
    Cbor { what: &'static str, reason: String },
    #[error("{what}: {len} trailing bytes after the CBOR item")]
    TrailingBytes { what: &'static str, len: usize },
    #[error("{what} is {len} bytes, over the limit of {limit}")]
    TooLarge { what: &'static str, len: usize, limit: usize },
    #[error("{what}: field `{field}` is missing")]
    MissingField { what: &'static str, field: &'static str },
    #[error("{what}: field `{field}` appears twice")]
    DuplicateField { what: &'static str, field: String },
    #[error("{what}: unknown field `{field}`")]
    UnknownField { what: &'static str, field: String },
    #[error("field `{field}` has the wrong type (expected {expected})")]
    WrongType { field: &'static str, expected: &'static str },
    #[error("field `{field}` is out of range")]
    OutOfRange { field: &'static str },
    #[error("field `{field}` is {len} long, over the limit of {limit}")]
    FieldTooLong { field: &'static str, len: usize, limit: usize },
    #[error("field `{field}` is {len} bytes; expected {expected}")]
    BadLength { field: &'static str, len: usize, expected: &'static str },
    #[error("field `{field}` has {len} entries; expected {expected}")]
    BadCount { field: &'static str, len: usize, expected: &'static str },
    #[error("field `{field}` is {value:?}; expected {expected}")]
    BadValue { field: &'static str, value: String, expected: &'static str },
    #[error("unknown {what} `{name}`")]
    UnknownVariant { what: &'static str, name: String },
}
