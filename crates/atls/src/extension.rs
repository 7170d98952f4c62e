//! The X.509 extension that carries the attestation document.
//!
//! OID `id-pe-cmw` (1.3.6.1.5.5.7.1.35), the PKIX extension for a RATS
//! Conceptual Message Wrapper (IETF draft-ietf-rats-msg-wrap): its value is
//! `CMW ::= CHOICE { json UTF8String, cbor OCTET STRING }`; Sworn uses the
//! CBOR choice with the record form `[media-type, COSE_Sign1 bytes]`. The
//! extension is not critical: stock TLS clients that do not know it still
//! connect (they just cannot check it; `sworn connect` does that for them).

use der::asn1::OctetString;
use der::{Decode, Encode};

/// `id-pe-cmw`, as arcs (rcgen's form).
pub const OID_ARCS: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 1, 35];
/// `id-pe-cmw`, dotted.
pub const OID: &str = "1.3.6.1.5.5.7.1.35";
/// The CMW record's type: a Nitro attestation document (COSE_Sign1). Not an
/// IANA-registered media type; it names the format for readers of the
/// certificate.
pub const MEDIA_TYPE: &str = "application/vnd.aws.nitro-enclaves.attestation+cose";
/// Largest extension value accepted: a document (16 KiB limit of
/// `sworn-attestation`) plus the wrapping.
pub const MAX_VALUE_LEN: usize = sworn_attestation::limits::MAX_DOCUMENT_LEN + 256;

/// The extension value could not be read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ExtensionError {
    #[error("attestation extension ({OID}) is {0} bytes, over the limit of {MAX_VALUE_LEN}")]
    TooLarge(usize),
    #[error("attestation extension ({OID}): not a DER OCTET STRING (the CBOR choice of CMW): {0}")]
    Der(String),
    #[error("attestation extension ({OID}): the CMW is not a CBOR array [media type, document]: {0}")]
    Record(String),
    #[error("attestation extension ({OID}): media type {0:?}, expected {MEDIA_TYPE:?}")]
    MediaType(String),
    #[error("cannot encode the attestation extension: {0}")]
    Encode(String),
}

/// The extension value (`extnValue` contents) for `document`.
pub fn encode(document: &[u8]) -> Result<Vec<u8>, ExtensionError> {
    let record = ciborium::Value::Array(vec![
        ciborium::Value::Text(MEDIA_TYPE.into()),
        ciborium::Value::Bytes(document.to_vec()),
    ]);
    let mut cbor = Vec::with_capacity(document.len() + 64);
    ciborium::into_writer(&record, &mut cbor).map_err(|e| ExtensionError::Encode(e.to_string()))?;
    OctetString::new(cbor).and_then(|o| o.to_der()).map_err(|e| ExtensionError::Encode(e.to_string()))
}

/// The document inside an extension value.
pub fn decode(value: &[u8]) -> Result<Vec<u8>, ExtensionError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(ExtensionError::TooLarge(value.len()));
    }
    let octets = OctetString::from_der(value).map_err(|e| ExtensionError::Der(e.to_string()))?;
    let record: ciborium::Value =
        ciborium::from_reader(octets.as_bytes()).map_err(|e| ExtensionError::Record(e.to_string()))?;
    let ciborium::Value::Array(items) = record else {
        return Err(ExtensionError::Record("not an array".into()));
    };
    match items.as_slice() {
        [ciborium::Value::Text(media_type), ciborium::Value::Bytes(document)] => {
            if media_type != MEDIA_TYPE {
                return Err(ExtensionError::MediaType(media_type.clone()));
            }
            Ok(document.clone())
        }
        _ => Err(ExtensionError::Record("expected exactly [text, bytes]".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let value = encode(b"doc").unwrap();
        assert_eq!(decode(&value).unwrap(), b"doc");
        assert!(matches!(decode(b"\x30\x00"), Err(ExtensionError::Der(_))));
        // An OCTET STRING around CBOR that is not the record.
        let not_record = OctetString::new(vec![0x01]).unwrap().to_der().unwrap();
        assert!(matches!(decode(&not_record), Err(ExtensionError::Record(_))));
        let mut cbor = Vec::new();
        let other =
            ciborium::Value::Array(vec![ciborium::Value::Text("text/plain".into()), ciborium::Value::Bytes(vec![1])]);
        ciborium::into_writer(&other, &mut cbor).unwrap();
        let other = OctetString::new(cbor).unwrap().to_der().unwrap();
        assert_eq!(decode(&other), Err(ExtensionError::MediaType("text/plain".into())));
        assert_eq!(decode(&vec![0; MAX_VALUE_LEN + 1]), Err(ExtensionError::TooLarge(MAX_VALUE_LEN + 1)));
    }
}
