//! EIF signing (PCR8 and the signature section), as nitro-cli does it.
//!
//! The section is a CBOR array of `{signing_certificate, signature}` maps
//! whose byte strings are encoded as CBOR arrays of integers (serde's
//! default for `Vec<u8>`, which nitro-cli uses). `signature` is an untagged
//! COSE_Sign1 (ES384) over CBOR `{register_index: 0, register_value: PCR0}`.
//! Signing is deterministic (RFC 6979), so signed images are reproducible.

use ciborium::Value;
use coset::{iana, CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder};
use p384::ecdsa::{signature::Signer as _, signature::Verifier as _, Signature, SigningKey};
use p384::pkcs8::DecodePrivateKey;

use crate::cert::{Cert, CertError};
use crate::pcr::{self, Pcr};

/// Largest signature section accepted (the real one is about 1-2 KiB).
pub const MAX_SECTION_LEN: usize = 64 * 1024;

/// Why signing or checking a signature failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SignError {
    #[error("signature section: {0}")]
    Cbor(String),
    #[error("signature section: {0} bytes exceeds the limit of {MAX_SECTION_LEN}")]
    TooLarge(usize),
    #[error("signature section: field {0} missing or of the wrong type")]
    Field(&'static str),
    #[error("signature section: empty array")]
    Empty,
    #[error("signing certificate: {0}")]
    Cert(#[from] CertError),
    #[error("private key: {0}")]
    Key(String),
    #[error("private key does not match the signing certificate's public key")]
    KeyMismatch,
    #[error("COSE_Sign1: {0}")]
    Cose(String),
    #[error("COSE_Sign1: algorithm is {0}, expected ES384")]
    Algorithm(String),
}

/// One entry of the signature section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcrSignature {
    /// PEM bytes of the signing certificate, as given to the builder.
    pub signing_certificate: Vec<u8>,
    /// Serialized COSE_Sign1.
    pub signature: Vec<u8>,
}

fn byte_array(b: &[u8]) -> Value {
    Value::Array(b.iter().map(|&x| Value::Integer(x.into())).collect())
}

/// Accepts both encodings of a byte string: CBOR bstr or array of u8.
fn bytes_of(v: &Value, field: &'static str) -> Result<Vec<u8>, SignError> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_integer().and_then(|n| u8::try_from(n).ok()).ok_or(SignError::Field(field)))
            .collect(),
        _ => Err(SignError::Field(field)),
    }
}

fn to_cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = ciborium::into_writer(v, &mut out);
    out
}

fn map_get<'a>(m: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    m.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v)
}

/// Encodes the section.
pub fn encode_section(sigs: &[PcrSignature]) -> Vec<u8> {
    let v = Value::Array(
        sigs.iter()
            .map(|s| {
                Value::Map(vec![
                    (Value::Text("signing_certificate".into()), byte_array(&s.signing_certificate)),
                    (Value::Text("signature".into()), byte_array(&s.signature)),
                ])
            })
            .collect(),
    );
    to_cbor(&v)
}

/// Decodes the section.
pub fn decode_section(bytes: &[u8]) -> Result<Vec<PcrSignature>, SignError> {
    if bytes.len() > MAX_SECTION_LEN {
        return Err(SignError::TooLarge(bytes.len()));
    }
    let mut rest = bytes;
    let v: Value = ciborium::from_reader(&mut rest).map_err(|e| SignError::Cbor(e.to_string()))?;
    if !rest.is_empty() {
        return Err(SignError::Cbor(format!("{} trailing bytes", rest.len())));
    }
    let items = v.as_array().ok_or(SignError::Field("(top-level array)"))?;
    if items.is_empty() {
        return Err(SignError::Empty);
    }
    items
        .iter()
        .map(|item| {
            let m = item.as_map().ok_or(SignError::Field("(entry map)"))?;
            Ok(PcrSignature {
                signing_certificate: bytes_of(
                    map_get(m, "signing_certificate").ok_or(SignError::Field("signing_certificate"))?,
                    "signing_certificate",
                )?,
                signature: bytes_of(map_get(m, "signature").ok_or(SignError::Field("signature"))?, "signature")?,
            })
        })
        .collect()
}

/// CBOR `{register_index, register_value}`, the signed payload.
pub fn pcr_payload(index: i32, value: &[u8]) -> Vec<u8> {
    to_cbor(&Value::Map(vec![
        (Value::Text("register_index".into()), Value::Integer(index.into())),
        (Value::Text("register_value".into()), byte_array(value)),
    ]))
}

/// A P-384 key and its certificate.
pub struct Signer {
    cert_pem: Vec<u8>,
    cert: Cert,
    key: SigningKey,
}

impl Signer {
    /// Loads a PEM certificate and a PEM private key (SEC1 `EC PRIVATE KEY`
    /// or PKCS#8 `PRIVATE KEY`), checking that they belong together.
    pub fn from_pem(cert_pem: Vec<u8>, key_pem: &str) -> Result<Self, SignError> {
        let cert = Cert::from_pem(&cert_pem)?;
        let secret = if key_pem.contains("BEGIN EC PRIVATE KEY") {
            p384::SecretKey::from_sec1_pem(key_pem).map_err(|e| SignError::Key(format!("SEC1 P-384 key: {e}")))?
        } else {
            p384::SecretKey::from_pkcs8_pem(key_pem).map_err(|e| SignError::Key(format!("PKCS#8 P-384 key: {e}")))?
        };
        let key = SigningKey::from(secret);
        if cert.p384_key()? != *key.verifying_key() {
            return Err(SignError::KeyMismatch);
        }
        Ok(Signer { cert_pem, cert, key })
    }

    /// DER of the certificate (what PCR8 measures).
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert.der
    }

    /// The signature section for an image whose PCR0 is `pcr0`.
    pub fn signature_section(&self, pcr0: &Pcr) -> Result<Vec<u8>, SignError> {
        let sign1 = CoseSign1Builder::new()
            .protected(HeaderBuilder::new().algorithm(iana::Algorithm::ES384).build())
            .payload(pcr_payload(0, pcr0))
            .create_signature(b"", |tbs| {
                let sig: Signature = self.key.sign(tbs);
                sig.to_bytes().to_vec()
            })
            .build();
        let signature = sign1.to_vec().map_err(|e| SignError::Cose(e.to_string()))?;
        Ok(encode_section(&[PcrSignature { signing_certificate: self.cert_pem.clone(), signature }]))
    }
}

/// Parses a COSE_Sign1, tagged (18) or not.
pub fn parse_cose_sign1(bytes: &[u8]) -> Result<CoseSign1, SignError> {
    CoseSign1::from_slice(bytes)
        .or_else(|_| <CoseSign1 as coset::TaggedCborSerializable>::from_tagged_slice(bytes))
        .map_err(|e| SignError::Cose(e.to_string()))
}

/// Verifies an ES384 COSE_Sign1 with `key`.
pub fn verify_es384(sign1: &CoseSign1, key: &p384::ecdsa::VerifyingKey) -> Result<bool, SignError> {
    match &sign1.protected.header.alg {
        Some(coset::RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES384)) => {}
        other => return Err(SignError::Algorithm(format!("{other:?}"))),
    }
    Ok(sign1
        .verify_signature(b"", |sig, data| {
            let sig = Signature::from_slice(sig).map_err(|_| ())?;
            key.verify(data, &sig).map_err(|_| ())
        })
        .is_ok())
}

/// What `describe` and `verify` report about a signed image.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SignatureReport {
    pub certificate_subject: String,
    pub certificate_issuer: String,
    pub not_before: String,
    pub not_after: String,
    /// Certificate valid at the time of the check.
    pub certificate_valid_now: bool,
    /// PCR8 computed from the certificate.
    #[serde(serialize_with = "hex_ser")]
    pub pcr8: Pcr,
    /// The COSE payload is `{register_index: 0, register_value: PCR0}` of this image.
    pub payload_matches_pcr0: bool,
    /// The ES384 signature verifies with the certificate's key.
    pub signature_valid: bool,
}

fn hex_ser<S: serde::Serializer>(v: &Pcr, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(v))
}

impl SignatureReport {
    /// Signature verifies and covers this image's PCR0.
    pub fn ok(&self) -> bool {
        self.payload_matches_pcr0 && self.signature_valid
    }
}

/// Checks a signature section against the image's PCR0 at time `now`.
pub fn check_section(section: &[u8], pcr0: &Pcr, now: i64) -> Result<SignatureReport, SignError> {
    let entries = decode_section(section)?;
    let first = &entries[0];
    let cert = Cert::from_pem(&first.signing_certificate)?;
    let sign1 = parse_cose_sign1(&first.signature)?;
    let signature_valid = verify_es384(&sign1, &cert.p384_key()?)?;
    let payload_matches_pcr0 = sign1.payload.as_deref().is_some_and(|p| payload_is(p, 0, pcr0));
    Ok(SignatureReport {
        certificate_subject: cert.subject(),
        certificate_issuer: cert.issuer(),
        not_before: crate::metadata::rfc3339(cert.not_before()),
        not_after: crate::metadata::rfc3339(cert.not_after()),
        certificate_valid_now: cert.valid_at(now),
        pcr8: pcr::extend(&cert.der),
        payload_matches_pcr0,
        signature_valid,
    })
}

/// PCR8 of a signature section (extend of the certificate's DER).
pub fn section_pcr8(section: &[u8]) -> Result<Pcr, SignError> {
    let entries = decode_section(section)?;
    Ok(pcr::extend(&Cert::from_pem(&entries[0].signing_certificate)?.der))
}

fn payload_is(payload: &[u8], index: i64, value: &[u8]) -> bool {
    let mut rest = payload;
    let Ok(Value::Map(m)) = ciborium::from_reader::<Value, _>(&mut rest) else { return false };
    let idx_ok = map_get(&m, "register_index").and_then(|v| v.as_integer()) == Some(index.into());
    let val_ok =
        map_get(&m, "register_value").and_then(|v| bytes_of(v, "register_value").ok()).as_deref() == Some(value);
    rest.is_empty() && idx_ok && val_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_matches_nitro_cli_bytes() {
        // PcrInfo { register_index: 0, register_value: 0x00..=0x2f } as
        // serialized by nitro-cli (serde_cbor 0.11), published as a test
        // vector in aws-nitro-enclaves-image-format.
        let expected = "a26e72656769737465725f696e646578006e72656769737465725f76616c75659830000102030405060708090a0b0c0d0e0f101112131415161718181819181a181b181c181d181e181f1820182118221823182418251826182718281829182a182b182c182d182e182f";
        let value: Vec<u8> = (0u8..48).collect();
        assert_eq!(hex::encode(pcr_payload(0, &value)), expected);
        assert!(payload_is(&pcr_payload(0, &value), 0, &value));
        assert!(!payload_is(&pcr_payload(1, &value), 0, &value));
    }

    #[test]
    fn section_matches_nitro_cli_bytes() {
        let expected = "81a2737369676e696e675f6365727469666963617465983b182d182d182d182d182d1842184518471849184e182018431845185218541849184618491843184118541845182d182d182d182d182d0a184d1849184918420a182d182d182d182d182d1845184e1844182018431845185218541849184618491843184118541845182d182d182d182d182d0a697369676e61747572658a18d21884184418a1011838182218a018401840";
        let s = PcrSignature {
            signing_certificate: b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_vec(),
            signature: vec![0xd2, 0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x40, 0x40],
        };
        let bytes = encode_section(std::slice::from_ref(&s));
        assert_eq!(hex::encode(&bytes), expected);
        assert_eq!(decode_section(&bytes).unwrap(), vec![s]);
    }

    #[test]
    fn bad_sections_name_the_problem() {
        assert!(matches!(decode_section(&[0xff]), Err(SignError::Cbor(_))));
        assert_eq!(decode_section(&[0x80]), Err(SignError::Empty));
        assert_eq!(decode_section(&[0xa0]), Err(SignError::Field("(top-level array)")));
        assert_eq!(decode_section(&[0x81, 0xa0]), Err(SignError::Field("signing_certificate")));
        assert!(matches!(decode_section(&[0x80, 0x00]), Err(SignError::Cbor(_))));
        // Array claiming 2^32 elements: error, no allocation of that size.
        assert!(decode_section(&[0x9a, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(matches!(decode_section(&vec![0; MAX_SECTION_LEN + 1]), Err(SignError::TooLarge(_))));
    }
}
