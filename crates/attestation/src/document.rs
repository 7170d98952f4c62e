//! Attestation documents: COSE_Sign1 envelope and payload.
//!
//! This module *parses* documents and builds the bytes a signature covers;
//! it does not decide whether a document is trustworthy. Chain validation
//! against the AWS root is the verifier's job (`eif attestation verify` in
//! `sworn-image`). What it does promise: every field is type- and
//! size-checked, and anything malformed is an error naming the field.

use std::collections::BTreeMap;

use ciborium::value::{Integer, Value};

use crate::cbor::{self, Map};
use crate::error::ProtocolError;
use crate::protocol::{
    pcr_value, MAX_MODULE_ID_LEN, MAX_NONCE_LEN, MAX_PUBLIC_KEY_LEN, MAX_RESPONSE_LEN, MAX_USER_DATA_LEN,
};

/// COSE algorithm identifier of ECDSA with SHA-384.
pub const COSE_ALG_ES384: i64 = -35;
/// `alg` QEMU's virtio-nsm writes in the protected header of its unsigned documents.
pub const COSE_ALG_UNSIGNED_EMULATOR: i64 = -1;
/// CBOR tag of COSE_Sign1; real NSM documents are untagged.
pub const COSE_SIGN1_TAG: u64 = 18;
/// The protected header every NSM document carries: `{1: -35}`.
pub const PROTECTED_ES384: [u8; 4] = [0xA1, 0x01, 0x38, 0x22];

const MAX_CERT_LEN: usize = 4096;
const MAX_CABUNDLE: usize = 16;
const MAX_SIGNATURE_LEN: usize = 512;
const MAX_PCR_INDEX: u16 = 32;

/// The payload of an attestation document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationDocument {
    pub module_id: String,
    /// Digest of the PCRs; always "SHA384" on Nitro.
    pub digest: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    pub pcrs: BTreeMap<u16, Vec<u8>>,
    /// DER of the leaf certificate.
    pub certificate: Vec<u8>,
    /// DER certificates: the root first, then intermediates.
    pub cabundle: Vec<Vec<u8>>,
    pub public_key: Option<Vec<u8>>,
    pub user_data: Option<Vec<u8>>,
    pub nonce: Option<Vec<u8>>,
}

/// A parsed COSE_Sign1 attestation document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDocument {
    /// The serialized protected header (`{1: -35}`).
    pub protected: Vec<u8>,
    /// The serialized payload, exactly as signed.
    pub payload: Vec<u8>,
    /// ES384 signature, `r || s` (96 bytes) on real documents.
    pub signature: Vec<u8>,
    /// The decoded payload.
    pub document: AttestationDocument,
}

impl AttestationDocument {
    /// Serializes the payload in the field order AWS documents use.
    pub fn to_cbor(&self) -> Vec<u8> {
        let pcrs = Value::Map(self.pcrs.iter().map(|(i, v)| (Value::from(*i), Value::Bytes(v.clone()))).collect());
        cbor::encode(&cbor::tmap(vec![
            ("module_id", Value::Text(self.module_id.clone())),
            ("digest", Value::Text(self.digest.clone())),
            ("timestamp", Value::from(self.timestamp)),
            ("pcrs", pcrs),
            ("certificate", Value::Bytes(self.certificate.clone())),
            ("cabundle", Value::Array(self.cabundle.iter().map(|c| Value::Bytes(c.clone())).collect())),
            ("public_key", cbor::opt_bytes_value(&self.public_key)),
            ("user_data", cbor::opt_bytes_value(&self.user_data)),
            ("nonce", cbor::opt_bytes_value(&self.nonce)),
        ]))
    }

    /// Parses a payload.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let value = cbor::decode(bytes, "attestation payload", MAX_RESPONSE_LEN)?;
        let map = Map::new(&value, "attestation payload")?;
        map.deny_unknown(&[
            "module_id",
            "digest",
            "timestamp",
            "pcrs",
            "certificate",
            "cabundle",
            "public_key",
            "user_data",
            "nonce",
        ])?;
        let Value::Map(pcr_pairs) = map.require("pcrs")? else {
            return Err(ProtocolError::WrongType { field: "pcrs", expected: "map" });
        };
        let mut pcrs = BTreeMap::new();
        for (k, v) in pcr_pairs {
            let index: u16 = cbor::uint(k, "pcrs")?;
            if index >= MAX_PCR_INDEX {
                return Err(ProtocolError::OutOfRange { field: "pcrs" });
            }
            if pcrs.insert(index, pcr_value(v, "pcrs")?).is_some() {
                return Err(ProtocolError::DuplicateField { what: "pcrs", field: index.to_string() });
            }
        }
        let cabundle = cbor::array(map.require("cabundle")?, "cabundle", MAX_CABUNDLE)?
            .iter()
            .map(|c| nonempty(cbor::bytes(c, "cabundle", MAX_CERT_LEN)?, "cabundle"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            module_id: cbor::text(map.require("module_id")?, "module_id", MAX_MODULE_ID_LEN)?,
            digest: cbor::text(map.require("digest")?, "digest", 16)?,
            timestamp: cbor::uint(map.require("timestamp")?, "timestamp")?,
            pcrs,
            certificate: nonempty(
                cbor::bytes(map.require("certificate")?, "certificate", MAX_CERT_LEN)?,
                "certificate",
            )?,
            cabundle,
            public_key: cbor::opt_bytes(map.get("public_key"), "public_key", MAX_PUBLIC_KEY_LEN)?,
            user_data: cbor::opt_bytes(map.get("user_data"), "user_data", MAX_USER_DATA_LEN)?,
            nonce: cbor::opt_bytes(map.get("nonce"), "nonce", MAX_NONCE_LEN)?,
        })
    }

    /// A JSON view for people and HTTP clients (`GET /attestation?format=json`):
    /// byte strings in lowercase hex, PCRs keyed by decimal index.
    pub fn to_json(&self) -> serde_json::Value {
        let pcrs: serde_json::Map<String, serde_json::Value> =
            self.pcrs.iter().map(|(i, v)| (i.to_string(), hex::encode(v).into())).collect();
        serde_json::json!({
            "module_id": self.module_id,
            "digest": self.digest,
            "timestamp": self.timestamp,
            "pcrs": pcrs,
            "certificate": hex::encode(&self.certificate),
            "cabundle": self.cabundle.iter().map(hex::encode).collect::<Vec<_>>(),
            "public_key": self.public_key.as_ref().map(hex::encode),
            "user_data": self.user_data.as_ref().map(hex::encode),
            "nonce": self.nonce.as_ref().map(hex::encode),
        })
    }
}

fn nonempty(v: Vec<u8>, field: &'static str) -> Result<Vec<u8>, ProtocolError> {
    if v.is_empty() {
        return Err(ProtocolError::BadLength { field, len: 0, expected: "a non-empty DER certificate" });
    }
    Ok(v)
}

impl SignedDocument {
    /// Parses an untagged (or tag-18) COSE_Sign1 attestation document.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut value = cbor::decode(bytes, "attestation document", MAX_RESPONSE_LEN)?;
        if let Value::Tag(tag, inner) = value {
            if tag != COSE_SIGN1_TAG {
                return Err(ProtocolError::WrongType {
                    field: "attestation document",
                    expected: "COSE_Sign1 (tag 18)",
                });
            }
            value = *inner;
        }
        let Value::Array(items) = value else {
            return Err(ProtocolError::WrongType { field: "attestation document", expected: "COSE_Sign1 array" });
        };
        let [protected, unprotected, payload, signature]: [Value; 4] = items.try_into().map_err(|v: Vec<Value>| {
            ProtocolError::BadLength { field: "attestation document", len: v.len(), expected: "4 COSE_Sign1 items" }
        })?;
        let protected = cbor::bytes(&protected, "protected", 64)?;
        let alg = protected_alg(&protected)?;
        if !matches!(unprotected, Value::Map(_)) {
            return Err(ProtocolError::WrongType { field: "unprotected", expected: "map" });
        }
        let payload = cbor::bytes(&payload, "payload", MAX_RESPONSE_LEN)?;
        let signature = cbor::bytes(&signature, "signature", MAX_SIGNATURE_LEN)?;
        let document = AttestationDocument::from_cbor(&payload)?;
        let parsed = Self { protected, payload, signature, document };
        // QEMU's virtio-nsm marks its unsigned documents with alg -1; any
        // other algorithm than ES384 is refused.
        let accepted = alg == i128::from(COSE_ALG_ES384)
            || (alg == i128::from(COSE_ALG_UNSIGNED_EMULATOR) && parsed.is_emulator_document());
        if !accepted {
            return Err(ProtocolError::OutOfRange { field: "protected.alg" });
        }
        Ok(parsed)
    }

    /// The untagged COSE_Sign1 encoding, as the NSM returns it.
    pub fn to_cbor(&self) -> Vec<u8> {
        cbor::encode(&Value::Array(vec![
            Value::Bytes(self.protected.clone()),
            Value::Map(vec![]),
            Value::Bytes(self.payload.clone()),
            Value::Bytes(self.signature.clone()),
        ]))
    }

    /// The bytes the ES384 signature covers:
    /// `["Signature1", protected, h'', payload]`.
    pub fn sig_structure(&self) -> Vec<u8> {
        sig_structure(&self.protected, &self.payload)
    }

    /// True when certificate, CA bundle and signature are all zero-filled,
    /// as QEMU's virtio-nsm produces them. Such a document proves nothing.
    pub fn is_emulator_document(&self) -> bool {
        let zero = |b: &[u8]| b.iter().all(|x| *x == 0);
        zero(&self.signature) && zero(&self.document.certificate) && self.document.cabundle.iter().all(|c| zero(c))
    }
}

pub(crate) fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor::encode(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(vec![]),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// `alg` of the protected header.
fn protected_alg(protected: &[u8]) -> Result<i128, ProtocolError> {
    let value = cbor::decode(protected, "protected header", 64)?;
    let Value::Map(pairs) = value else {
        return Err(ProtocolError::WrongType { field: "protected", expected: "map" });
    };
    let alg = pairs.iter().find(|(k, _)| *k == Value::Integer(Integer::from(1u8))).map(|(_, v)| v);
    match alg {
        Some(Value::Integer(i)) => Ok(i128::from(*i)),
        Some(_) => Err(ProtocolError::WrongType { field: "protected.alg", expected: "integer" }),
        None => Err(ProtocolError::MissingField { what: "protected header", field: "alg (1)" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real AWS document; a missing fixture fails the build of this test.
    const REAL_DOCUMENT: &[u8] = include_bytes!("../../../tests/data/aws-nitro-attestation-debug.cbor");

    #[test]
    fn parses_the_real_aws_document() {
        let bytes = REAL_DOCUMENT.to_vec();
        let doc = SignedDocument::from_cbor(&bytes).unwrap();
        assert_eq!(doc.protected, PROTECTED_ES384);
        assert_eq!(doc.signature.len(), 96);
        assert_eq!(doc.document.module_id, "i-04e250099155f9e9f-enc018c88bffa961e5d");
        assert_eq!(doc.document.timestamp, 1703101342719);
        assert_eq!(doc.document.digest, "SHA384");
        assert_eq!(doc.document.cabundle.len(), 4);
        assert_eq!(doc.document.pcrs[&0], vec![0; 48]);
        assert_eq!(doc.document.user_data.as_ref().map(Vec::len), Some(32));
        assert!(!doc.is_emulator_document());
        // Re-encoding the envelope gives the device's bytes back.
        assert_eq!(doc.to_cbor(), bytes);
        let json = doc.document.to_json();
        assert_eq!(json["pcrs"]["0"], "0".repeat(96));
    }

    #[test]
    fn truncations_of_the_real_document_are_errors() {
        let bytes = REAL_DOCUMENT;
        for n in (0..bytes.len()).step_by(7) {
            assert!(SignedDocument::from_cbor(&bytes[..n]).is_err(), "prefix {n} accepted");
        }
    }

    #[test]
    fn payload_round_trips_and_rejects_oversized_fields() {
        let mut doc = AttestationDocument {
            module_id: "dev-x".into(),
            digest: "SHA384".into(),
            timestamp: 1,
            pcrs: (0..16).map(|i| (i, vec![i as u8; 48])).collect(),
            certificate: vec![1; 10],
            cabundle: vec![vec![2; 10]],
            public_key: None,
            user_data: Some(vec![3; 512]),
            nonce: None,
        };
        assert_eq!(AttestationDocument::from_cbor(&doc.to_cbor()), Ok(doc.clone()));
        doc.user_data = Some(vec![3; 513]);
        assert_eq!(
            AttestationDocument::from_cbor(&doc.to_cbor()),
            Err(ProtocolError::FieldTooLong { field: "user_data", len: 513, limit: 512 })
        );
        doc.user_data = None;
        doc.pcrs.insert(40, vec![0; 48]);
        assert_eq!(AttestationDocument::from_cbor(&doc.to_cbor()), Err(ProtocolError::OutOfRange { field: "pcrs" }));
    }

    #[test]
    fn wrong_algorithm_is_rejected() {
        let doc = SignedDocument {
            protected: vec![0xA1, 0x01, 0x26], // {1: -7} = ES256
            payload: vec![],
            signature: vec![],
            document: AttestationDocument {
                module_id: String::new(),
                digest: String::new(),
                timestamp: 0,
                pcrs: BTreeMap::new(),
                certificate: vec![1],
                cabundle: vec![],
                public_key: None,
                user_data: None,
                nonce: None,
            },
        };
        let mut signed = doc.clone();
        signed.payload = doc.document.to_cbor();
        assert_eq!(
            SignedDocument::from_cbor(&signed.to_cbor()),
            Err(ProtocolError::OutOfRange { field: "protected.alg" })
        );
    }
}
