//! Attestation documents: the payload ([`AttestationDocument`]) and the
//! parsed COSE_Sign1 with it ([`SignedDocument`]).
//!
//! Parsing does not decide whether a document is trustworthy (that is
//! [`crate::verify()`]). What it does promise: every field is type- and
//! size-checked against [`crate::limits`], unknown and duplicate keys are
//! refused, and anything malformed is an error naming the field.

use std::collections::BTreeMap;

use ciborium::value::Value;

use crate::cbor::{self, Map};
use crate::cose::{self, Sign1, COSE_ALG_ES384};
use crate::emulator::{self, COSE_ALG_UNSIGNED_EMULATOR};
use crate::limits::{
    DIGEST, MAX_CABUNDLE, MAX_CERT_LEN, MAX_DOCUMENT_LEN, MAX_MODULE_ID_LEN, MAX_NONCE_LEN, MAX_PCRS,
    MAX_PUBLIC_KEY_LEN, MAX_USER_DATA_LEN,
};
use crate::measurements::Pcr;
use crate::verify::AttestationError;
use crate::ProtocolError;

/// The payload of an attestation document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationDocument {
    pub module_id: String,
    /// Digest of the PCRs; always "SHA384" on Nitro.
    pub digest: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// PCR index (`0..MAX_PCRS`) -> value (48 bytes for SHA-384).
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

const FIELDS: [&str; 9] =
    ["module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key", "user_data", "nonce"];

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

    /// Parses and bounds-checks a payload.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let value = cbor::decode(bytes, "attestation payload", MAX_DOCUMENT_LEN)?;
        let map = Map::new(&value, "attestation payload")?;
        map.deny_unknown(&FIELDS)?;
        let module_id = cbor::text(map.require("module_id")?, "module_id", MAX_MODULE_ID_LEN)?;
        if module_id.is_empty() {
            return Err(ProtocolError::BadLength { field: "module_id", len: 0, expected: "a non-empty module id" });
        }
        let digest = cbor::text(map.require("digest")?, "digest", 16)?;
        if digest != DIGEST {
            return Err(ProtocolError::BadValue { field: "digest", value: digest, expected: "\"SHA384\"" });
        }
        let timestamp: u64 = cbor::uint(map.require("timestamp")?, "timestamp")?;
        if timestamp == 0 {
            return Err(ProtocolError::OutOfRange { field: "timestamp" });
        }
        let Value::Map(pcr_pairs) = map.require("pcrs")? else {
            return Err(ProtocolError::WrongType { field: "pcrs", expected: "map" });
        };
        if pcr_pairs.is_empty() || pcr_pairs.len() > usize::from(MAX_PCRS) {
            return Err(ProtocolError::BadCount { field: "pcrs", len: pcr_pairs.len(), expected: "1..=32" });
        }
        let mut pcrs = BTreeMap::new();
        for (k, v) in pcr_pairs {
            let index: u16 = cbor::uint(k, "pcrs")?;
            if index >= MAX_PCRS {
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
        if cabundle.is_empty() {
            return Err(ProtocolError::BadCount { field: "cabundle", len: 0, expected: "1..=16 (the root first)" });
        }
        Ok(Self {
            module_id,
            digest,
            timestamp,
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

    /// A JSON view for people and HTTP clients (`GET /attestation?format=json`,
    /// `eif attestation verify --json`): byte strings in lowercase hex, PCRs
    /// keyed by decimal index.
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

    /// The SHA-384 PCRs (48-byte values) by index.
    pub fn pcr_map(&self) -> BTreeMap<u16, Pcr> {
        self.pcrs.iter().filter_map(|(i, v)| Some((*i, <Pcr>::try_from(v.as_slice()).ok()?))).collect()
    }

    /// Whether `certificate` and every `cabundle` entry are all zero bytes.
    pub fn has_zero_certificates(&self) -> bool {
        self.certificate.iter().all(|&b| b == 0) && self.cabundle.iter().all(|c| c.iter().all(|&b| b == 0))
    }
}

/// A PCR value: 32, 48 or 64 bytes (SHA-256/384/512).
pub fn pcr_value(value: &Value, field: &'static str) -> Result<Vec<u8>, ProtocolError> {
    let data = cbor::bytes(value, field, 64)?;
    match data.len() {
        32 | 48 | 64 => Ok(data),
        len => Err(ProtocolError::BadLength { field, len, expected: "32, 48 or 64 bytes" }),
    }
}

fn nonempty(v: Vec<u8>, field: &'static str) -> Result<Vec<u8>, ProtocolError> {
    if v.is_empty() {
        return Err(ProtocolError::BadLength { field, len: 0, expected: "a non-empty DER certificate" });
    }
    Ok(v)
}

impl SignedDocument {
    /// Parses an untagged (or tag-18) COSE_Sign1 attestation document, as
    /// the NSM returns it. The protected header must say ES384, or -1 on a
    /// document of QEMU's unsigned form ([`crate::emulator`]).
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, ProtocolError> {
        Self::from_sign1(Sign1::from_cbor(bytes)?)
    }

    /// [`Self::from_cbor`] with the errors of the verifier: the size limit
    /// ([`AttestationError::TooLarge`]), the envelope
    /// ([`AttestationError::Cose`]) and the payload
    /// ([`AttestationError::Document`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, AttestationError> {
        if bytes.len() > MAX_DOCUMENT_LEN {
            return Err(AttestationError::TooLarge(bytes.len()));
        }
        let sign1 = Sign1::from_cbor(bytes).map_err(|e| AttestationError::Cose(e.to_string()))?;
        Ok(Self::from_sign1(sign1)?)
    }

    /// Decodes the payload of a parsed envelope and checks its algorithm.
    pub fn from_sign1(sign1: Sign1) -> Result<Self, ProtocolError> {
        let Sign1 { protected, alg, payload, signature } = sign1;
        if alg != COSE_ALG_ES384 && alg != COSE_ALG_UNSIGNED_EMULATOR {
            return Err(ProtocolError::OutOfRange { field: "protected.alg" });
        }
        let document = AttestationDocument::from_cbor(&payload)?;
        let parsed = Self { protected, payload, signature, document };
        // QEMU's virtio-nsm marks its unsigned documents with alg -1; on
        // anything else that algorithm is refused.
        if alg == COSE_ALG_UNSIGNED_EMULATOR && !parsed.is_emulator_document() {
            return Err(ProtocolError::OutOfRange { field: "protected.alg" });
        }
        Ok(parsed)
    }

    /// `alg` of the protected header, when it has one.
    pub fn alg(&self) -> Option<i64> {
        cose::protected_alg(&self.protected).ok()
    }

    /// The untagged COSE_Sign1 encoding, as the NSM returns it.
    pub fn to_cbor(&self) -> Vec<u8> {
        cose::encode(&self.protected, &self.payload, &self.signature)
    }

    /// The bytes the ES384 signature covers:
    /// `["Signature1", protected, h'', payload]`.
    pub fn sig_structure(&self) -> Vec<u8> {
        cose::sig_structure(&self.protected, &self.payload)
    }

    /// True when certificate, CA bundle and signature are all zero-filled,
    /// as QEMU's virtio-nsm produces them. Such a document proves nothing.
    pub fn is_emulator_document(&self) -> bool {
        emulator::is_unsigned_form(&self.signature, &self.document)
    }

    /// True when the module id says the development NSM made it
    /// ([`crate::dev`]); a label, not a proof.
    pub fn is_development_document(&self) -> bool {
        crate::dev::is_development_document(&self.document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cose::PROTECTED_ES384;

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
