//! The COSE_Sign1 envelope of an attestation document:
//! `[protected bstr, unprotected {}, payload bstr, signature bstr]`,
//! untagged as the NSM returns it, or under tag 18.

use ciborium::value::{Integer, Value};

use crate::cbor;
use crate::limits::{MAX_DOCUMENT_LEN, MAX_PROTECTED_LEN, MAX_SIGNATURE_LEN};
use crate::ProtocolError;

/// COSE algorithm identifier of ECDSA with SHA-384.
pub const COSE_ALG_ES384: i64 = -35;
/// CBOR tag of COSE_Sign1; real NSM documents are untagged.
pub const COSE_SIGN1_TAG: u64 = 18;
/// The protected header every NSM document carries: `{1: -35}`.
pub const PROTECTED_ES384: [u8; 4] = [0xA1, 0x01, 0x38, 0x22];

/// Name of the envelope in errors.
pub(crate) const WHAT: &str = "attestation document";

/// A parsed COSE_Sign1 envelope (the payload still serialized).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sign1 {
    /// The serialized protected header, exactly as signed.
    pub protected: Vec<u8>,
    /// `alg` (label 1) of the protected header.
    pub alg: i64,
    /// The serialized payload, exactly as signed.
    pub payload: Vec<u8>,
    /// The signature (`r || s`, 96 bytes for ES384).
    pub signature: Vec<u8>,
}

impl Sign1 {
    /// Parses an untagged or tag-18 COSE_Sign1 of at most
    /// [`MAX_DOCUMENT_LEN`] bytes; the unprotected header must be a map.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut value = cbor::decode(bytes, WHAT, MAX_DOCUMENT_LEN)?;
        if let Value::Tag(tag, inner) = value {
            if tag != COSE_SIGN1_TAG {
                return Err(ProtocolError::WrongType { field: WHAT, expected: "COSE_Sign1 (tag 18)" });
            }
            value = *inner;
        }
        let Value::Array(items) = value else {
            return Err(ProtocolError::WrongType { field: WHAT, expected: "COSE_Sign1 array" });
        };
        let [protected, unprotected, payload, signature]: [Value; 4] = items.try_into().map_err(|v: Vec<Value>| {
            ProtocolError::BadLength { field: WHAT, len: v.len(), expected: "4 COSE_Sign1 items" }
        })?;
        let protected = cbor::bytes(&protected, "protected", MAX_PROTECTED_LEN)?;
        let alg = protected_alg(&protected)?;
        if !matches!(unprotected, Value::Map(_)) {
            return Err(ProtocolError::WrongType { field: "unprotected", expected: "map" });
        }
        let payload = cbor::bytes(&payload, "payload", MAX_DOCUMENT_LEN)?;
        let signature = cbor::bytes(&signature, "signature", MAX_SIGNATURE_LEN)?;
        Ok(Self { protected, alg, payload, signature })
    }

    /// The bytes the signature covers: `["Signature1", protected, h'', payload]`.
    pub fn to_be_signed(&self) -> Vec<u8> {
        sig_structure(&self.protected, &self.payload)
    }
}

/// The untagged COSE_Sign1 encoding with an empty unprotected header.
pub fn encode(protected: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
    cbor::encode(&Value::Array(vec![
        Value::Bytes(protected.to_vec()),
        Value::Map(vec![]),
        Value::Bytes(payload.to_vec()),
        Value::Bytes(signature.to_vec()),
    ]))
}

/// `Sig_structure` of COSE_Sign1 (RFC 9052 §4.4) with empty external AAD:
/// `["Signature1", protected, h'', payload]`.
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor::encode(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(vec![]),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// `alg` (label 1) of a serialized protected header.
pub fn protected_alg(protected: &[u8]) -> Result<i64, ProtocolError> {
    let value = cbor::decode(protected, "protected header", MAX_PROTECTED_LEN)?;
    let Value::Map(pairs) = value else {
        return Err(ProtocolError::WrongType { field: "protected", expected: "map" });
    };
    let alg = pairs.iter().find(|(k, _)| *k == Value::Integer(Integer::from(1u8))).map(|(_, v)| v);
    match alg {
        Some(Value::Integer(i)) => i64::try_from(*i).map_err(|_| ProtocolError::OutOfRange { field: "protected.alg" }),
        Some(_) => Err(ProtocolError::WrongType { field: "protected.alg", expected: "integer" }),
        None => Err(ProtocolError::MissingField { what: "protected header", field: "alg (1)" }),
    }
}
