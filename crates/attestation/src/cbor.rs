//! Strict CBOR helpers over `ciborium::Value`.
//!
//! NSM messages and attestation documents are small CBOR maps with text keys.
//! Decoding goes through `Value` so every error can name the field it is
//! about; maps with duplicate keys and trailing bytes are rejected because
//! two readers must never disagree about what a message says.

use ciborium::value::{Integer, Value};

use crate::ProtocolError;

/// Decodes exactly one CBOR item from `bytes`, which must hold nothing else.
pub fn decode(bytes: &[u8], what: &'static str, limit: usize) -> Result<Value, ProtocolError> {
    if bytes.len() > limit {
        return Err(ProtocolError::TooLarge { what, len: bytes.len(), limit });
    }
    if bytes.is_empty() {
        return Err(ProtocolError::Cbor { what, reason: "empty input".into() });
    }
    let mut rest = bytes;
    let value: Value =
        ciborium::de::from_reader(&mut rest).map_err(|e| ProtocolError::Cbor { what, reason: e.to_string() })?;
    if !rest.is_empty() {
        return Err(ProtocolError::TrailingBytes { what, len: rest.len() });
    }
    Ok(value)
}

/// Encodes a value; writing into a `Vec` cannot fail for the values we build.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Serialising a `Value` into memory has no failure mode besides I/O,
    // and `Vec<u8>` never reports I/O errors.
    if ciborium::ser::into_writer(value, &mut out).is_err() {
        out.clear();
    }
    out
}

/// A decoded map with text keys, checked for duplicates.
pub struct Map<'a> {
    entries: Vec<(&'a str, &'a Value)>,
    what: &'static str,
}

impl<'a> Map<'a> {
    pub fn new(value: &'a Value, what: &'static str) -> Result<Self, ProtocolError> {
        let Value::Map(pairs) = value else {
            return Err(ProtocolError::WrongType { field: what, expected: "map" });
        };
        let mut entries: Vec<(&str, &Value)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let Value::Text(key) = k else {
                return Err(ProtocolError::WrongType { field: what, expected: "map with text keys" });
            };
            if entries.iter().any(|(seen, _)| *seen == key.as_str()) {
                return Err(ProtocolError::DuplicateField { what, field: key.clone() });
            }
            entries.push((key.as_str(), v));
        }
        Ok(Self { entries, what })
    }

    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.entries.iter().find(|(k, _)| *k == field).map(|(_, v)| *v)
    }

    pub fn require(&self, field: &'static str) -> Result<&'a Value, ProtocolError> {
        self.get(field).ok_or(ProtocolError::MissingField { what: self.what, field })
    }

    /// Rejects keys outside `known`: a field we do not understand may change
    /// the meaning of the message.
    pub fn deny_unknown(&self, known: &[&str]) -> Result<(), ProtocolError> {
        for (k, _) in &self.entries {
            if !known.contains(k) {
                return Err(ProtocolError::UnknownField { what: self.what, field: (*k).to_string() });
            }
        }
        Ok(())
    }
}

/// Byte strings; the AWS library also accepts arrays of small integers
/// (serde's default `Vec<u8>` encoding), so we do too.
pub fn bytes(value: &Value, field: &'static str, limit: usize) -> Result<Vec<u8>, ProtocolError> {
    let out = match value {
        Value::Bytes(b) => b.clone(),
        Value::Array(items) => {
            if items.len() > limit {
                return Err(ProtocolError::FieldTooLong { field, len: items.len(), limit });
            }
            items
                .iter()
                .map(|item| match item {
                    Value::Integer(i) => u8::try_from(*i).map_err(|_| ProtocolError::OutOfRange { field }),
                    _ => Err(ProtocolError::WrongType { field, expected: "byte string" }),
                })
                .collect::<Result<Vec<u8>, _>>()?
        }
        _ => return Err(ProtocolError::WrongType { field, expected: "byte string" }),
    };
    if out.len() > limit {
        return Err(ProtocolError::FieldTooLong { field, len: out.len(), limit });
    }
    Ok(out)
}

/// Optional byte strings: absent or `null` mean `None`.
pub fn opt_bytes(value: Option<&Value>, field: &'static str, limit: usize) -> Result<Option<Vec<u8>>, ProtocolError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => bytes(v, field, limit).map(Some),
    }
}

pub fn uint<T: TryFrom<Integer>>(value: &Value, field: &'static str) -> Result<T, ProtocolError> {
    match value {
        Value::Integer(i) => T::try_from(*i).map_err(|_| ProtocolError::OutOfRange { field }),
        _ => Err(ProtocolError::WrongType { field, expected: "unsigned integer" }),
    }
}

pub fn text(value: &Value, field: &'static str, limit: usize) -> Result<String, ProtocolError> {
    match value {
        Value::Text(s) if s.len() <= limit => Ok(s.clone()),
        Value::Text(s) => Err(ProtocolError::FieldTooLong { field, len: s.len(), limit }),
        _ => Err(ProtocolError::WrongType { field, expected: "text" }),
    }
}

pub fn boolean(value: &Value, field: &'static str) -> Result<bool, ProtocolError> {
    match value {
        Value::Bool(b) => Ok(*b),
        _ => Err(ProtocolError::WrongType { field, expected: "bool" }),
    }
}

pub fn array<'a>(value: &'a Value, field: &'static str, limit: usize) -> Result<&'a [Value], ProtocolError> {
    match value {
        Value::Array(items) if items.len() <= limit => Ok(items),
        Value::Array(items) => Err(ProtocolError::FieldTooLong { field, len: items.len(), limit }),
        _ => Err(ProtocolError::WrongType { field, expected: "array" }),
    }
}

pub fn tmap(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (Value::Text(k.to_string()), v)).collect())
}

pub fn opt_bytes_value(v: &Option<Vec<u8>>) -> Value {
    v.as_ref().map_or(Value::Null, |b| Value::Bytes(b.clone()))
}
