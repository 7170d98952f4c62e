//! Nitro attestation documents: parsing, and verification against the
//! pinned AWS Nitro root.
//!
//! A document is a COSE_Sign1 (tag 18 optional) whose payload is a CBOR map
//! (`module_id`, `digest`, `timestamp`, `pcrs`, `certificate`, `cabundle`,
//! `public_key`, `user_data`, `nonce`). Verification: `cabundle[0]` must be
//! the pinned root byte for byte; each following certificate and then the
//! leaf must be issued and signed by the one before; every certificate must
//! be valid at the document's timestamp (or a given time); the ES384
//! signature over `["Signature1", protected, h'', payload]` must verify with
//! the leaf's key.
//!
//! QEMU's `nitro-enclave` machine returns documents with real PCRs but a
//! zero signature and zero certificates. They are rejected unless the
//! caller opts in with [`VerifyOptions::allow_emulator`], and even then the
//! report says that nothing was authenticated.

use std::collections::BTreeMap;

use ciborium::Value;
use p384::ecdsa::{signature::Verifier, Signature};
use serde::Serialize;

use crate::cert::{Cert, CertError};
use crate::pcr::Pcr;

/// The AWS Nitro Enclaves root certificate (Root-G1), pinned.
pub const AWS_NITRO_ROOT_G1_PEM: &[u8] = include_bytes!("../../../tests/data/aws-nitro-root-g1.pem");
/// SHA-256 of the root's DER, as AWS publishes it.
pub const AWS_NITRO_ROOT_G1_SHA256: &str = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";

/// Largest document accepted (the NSM response buffer is 12 KiB).
pub const MAX_DOCUMENT_LEN: usize = 16 * 1024;
const MAX_CERT_LEN: usize = 1024;
const MAX_CABUNDLE: usize = 16;
const MAX_PUBLIC_KEY: usize = 1024;
const MAX_USER_DATA: usize = 512;
const MAX_NONCE: usize = 512;
const MAX_PCRS: usize = 32;
/// COSE algorithm ES384.
pub const COSE_ALG_ES384: i64 = -35;
const COSE_TAG_SIGN1: u64 = 18;

/// A document could not be parsed or did not verify.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AttestationError {
    #[error("document is {0} bytes, more than the {MAX_DOCUMENT_LEN}-byte limit")]
    TooLarge(usize),
    #[error("COSE_Sign1: {0}")]
    Cose(String),
    #[error("payload: {0}")]
    Cbor(String),
    #[error("payload field {field}: {problem}")]
    Field { field: &'static str, problem: String },
    #[error("protected header: algorithm {0:?} is not ES384 (-35)")]
    Algorithm(Option<i64>),
    #[error("document is unsigned (zero signature and certificates, as QEMU's emulated NSM makes them); pass --emulator to accept it without authentication")]
    Unsigned,
    #[error("cabundle[0] is not the pinned AWS Nitro root certificate (SHA-256 {AWS_NITRO_ROOT_G1_SHA256})")]
    UntrustedRoot,
    #[error("{field}: {source}")]
    Cert { field: String, source: CertError },
    #[error("ES384 signature does not verify with the leaf certificate's key")]
    BadSignature,
}

fn field(field: &'static str, problem: impl Into<String>) -> AttestationError {
    AttestationError::Field { field, problem: problem.into() }
}

/// The COSE_Sign1 envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sign1 {
    /// Serialized protected header (signed as is).
    pub protected: Vec<u8>,
    /// `alg` of the protected header.
    pub alg: Option<i64>,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Sign1 {
    /// Parses `[protected, unprotected, payload, signature]`, tagged or not.
    pub fn parse(bytes: &[u8]) -> Result<Self, AttestationError> {
        let cose = |m: &str| AttestationError::Cose(m.to_owned());
        let mut rest = bytes;
        let v: Value = ciborium::from_reader(&mut rest).map_err(|e| AttestationError::Cose(e.to_string()))?;
        if !rest.is_empty() {
            return Err(AttestationError::Cose(format!("{} trailing bytes", rest.len())));
        }
        let v = match v {
            Value::Tag(COSE_TAG_SIGN1, inner) => *inner,
            Value::Tag(t, _) => return Err(AttestationError::Cose(format!("unexpected tag {t} (expected 18)"))),
            v => v,
        };
        let Value::Array(items) = v else { return Err(cose("not an array")) };
        let [protected, unprotected, payload, signature]: [Value; 4] =
            items.try_into().map_err(|_| cose("array must have 4 elements"))?;
        let Value::Bytes(protected) = protected else { return Err(cose("protected header is not a byte string")) };
        if !matches!(unprotected, Value::Map(_)) {
            return Err(cose("unprotected header is not a map"));
        }
        let Value::Bytes(payload) = payload else { return Err(cose("payload is not a byte string")) };
        let Value::Bytes(signature) = signature else { return Err(cose("signature is not a byte string")) };
        let alg = if protected.is_empty() {
            None
        } else {
            let mut r = protected.as_slice();
            let h: Value =
                ciborium::from_reader(&mut r).map_err(|e| AttestationError::Cose(format!("protected header: {e}")))?;
            let Value::Map(h) = h else { return Err(cose("protected header is not a map")) };
            h.iter()
                .find(|(k, _)| k.as_integer() == Some(1.into()))
                .and_then(|(_, v)| v.as_integer())
                .and_then(|i| i64::try_from(i).ok())
        };
        Ok(Sign1 { protected, alg, payload, signature })
    }

    /// The bytes the signature covers: `["Signature1", protected, h'', payload]`.
    pub fn to_be_signed(&self) -> Vec<u8> {
        let v = Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(self.protected.clone()),
            Value::Bytes(Vec::new()),
            Value::Bytes(self.payload.clone()),
        ]);
        let mut out = Vec::new();
        let _ = ciborium::into_writer(&v, &mut out);
        out
    }
}

/// The attestation document payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttestationDocument {
    pub module_id: String,
    pub digest: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// PCR index -> value (48 bytes for SHA-384).
    #[serde(serialize_with = "hex_map")]
    pub pcrs: BTreeMap<u16, Vec<u8>>,
    #[serde(serialize_with = "hex_bytes")]
    pub certificate: Vec<u8>,
    #[serde(serialize_with = "hex_vec")]
    pub cabundle: Vec<Vec<u8>>,
    #[serde(serialize_with = "hex_opt")]
    pub public_key: Option<Vec<u8>>,
    #[serde(serialize_with = "hex_opt")]
    pub user_data: Option<Vec<u8>>,
    #[serde(serialize_with = "hex_opt")]
    pub nonce: Option<Vec<u8>>,
}

fn hex_bytes<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(v))
}
fn hex_opt<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_str(&hex::encode(b)),
        None => s.serialize_none(),
    }
}
fn hex_vec<S: serde::Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(hex::encode))
}
fn hex_map<S: serde::Serializer>(v: &BTreeMap<u16, Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(v.iter().map(|(k, b)| (k.to_string(), hex::encode(b))))
}

fn bytes(v: &Value, name: &'static str, max: usize) -> Result<Vec<u8>, AttestationError> {
    match v {
        Value::Bytes(b) if b.is_empty() => Err(field(name, "empty")),
        Value::Bytes(b) if b.len() > max => Err(field(name, format!("{} bytes, more than {max}", b.len()))),
        Value::Bytes(b) => Ok(b.clone()),
        _ => Err(field(name, "not a byte string")),
    }
}

fn opt_bytes(v: Option<&Value>, name: &'static str, max: usize) -> Result<Option<Vec<u8>>, AttestationError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bytes(b)) if b.len() > max => Err(field(name, format!("{} bytes, more than {max}", b.len()))),
        Some(Value::Bytes(b)) => Ok(Some(b.clone())),
        Some(_) => Err(field(name, "neither a byte string nor null")),
    }
}

impl AttestationDocument {
    /// Parses and bounds-checks the payload map.
    pub fn parse(payload: &[u8]) -> Result<Self, AttestationError> {
        let mut rest = payload;
        let v: Value = ciborium::from_reader(&mut rest).map_err(|e| AttestationError::Cbor(e.to_string()))?;
        if !rest.is_empty() {
            return Err(AttestationError::Cbor(format!("{} trailing bytes", rest.len())));
        }
        let Value::Map(m) = v else { return Err(AttestationError::Cbor("not a map".into())) };
        let get = |k: &str| m.iter().find(|(key, _)| key.as_text() == Some(k)).map(|(_, v)| v);
        let need = |k: &'static str| get(k).ok_or_else(|| field(k, "missing"));

        let module_id = need("module_id")?
            .as_text()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| field("module_id", "not a non-empty text string"))?
            .to_owned();
        let digest = need("digest")?.as_text().ok_or_else(|| field("digest", "not a text string"))?.to_owned();
        if digest != "SHA384" {
            return Err(field("digest", format!("{digest:?}, expected \"SHA384\"")));
        }
        let timestamp = need("timestamp")?
            .as_integer()
            .and_then(|i| u64::try_from(i).ok())
            .filter(|&t| t > 0)
            .ok_or_else(|| field("timestamp", "not a positive integer"))?;
        let Value::Map(pcr_map) = need("pcrs")? else { return Err(field("pcrs", "not a map")) };
        if pcr_map.is_empty() || pcr_map.len() > MAX_PCRS {
            return Err(field("pcrs", format!("{} entries, expected 1..={MAX_PCRS}", pcr_map.len())));
        }
        let mut pcrs = BTreeMap::new();
        for (k, v) in pcr_map {
            let idx = k
                .as_integer()
                .and_then(|i| u16::try_from(i).ok())
                .filter(|&i| usize::from(i) < MAX_PCRS)
                .ok_or_else(|| field("pcrs", "index is not an integer in 0..32"))?;
            let val = match v {
                Value::Bytes(b) if matches!(b.len(), 32 | 48 | 64) => b.clone(),
                _ => return Err(field("pcrs", format!("PCR{idx} is not a 32-, 48- or 64-byte string"))),
            };
            if pcrs.insert(idx, val).is_some() {
                return Err(field("pcrs", format!("PCR{idx} appears twice")));
            }
        }
        let certificate = bytes(need("certificate")?, "certificate", MAX_CERT_LEN)?;
        let Value::Array(bundle) = need("cabundle")? else { return Err(field("cabundle", "not an array")) };
        if bundle.is_empty() || bundle.len() > MAX_CABUNDLE {
            return Err(field("cabundle", format!("{} entries, expected 1..={MAX_CABUNDLE}", bundle.len())));
        }
        let cabundle = bundle.iter().map(|c| bytes(c, "cabundle", MAX_CERT_LEN)).collect::<Result<_, _>>()?;
        Ok(AttestationDocument {
            module_id,
            digest,
            timestamp,
            pcrs,
            certificate,
            cabundle,
            public_key: opt_bytes(get("public_key"), "public_key", MAX_PUBLIC_KEY)?,
            user_data: opt_bytes(get("user_data"), "user_data", MAX_USER_DATA)?,
            nonce: opt_bytes(get("nonce"), "nonce", MAX_NONCE)?,
        })
    }

    /// The SHA-384 PCRs (48-byte values) by index.
    pub fn pcr_map(&self) -> BTreeMap<u8, Pcr> {
        self.pcrs
            .iter()
            .filter_map(|(i, v)| Some((u8::try_from(*i).ok()?, <Pcr>::try_from(v.as_slice()).ok()?)))
            .collect()
    }

    /// Whether this looks like QEMU's unsigned document: all-zero
    /// certificate and cabundle entries.
    pub fn has_zero_certificates(&self) -> bool {
        self.certificate.iter().all(|&b| b == 0) && self.cabundle.iter().all(|c| c.iter().all(|&b| b == 0))
    }
}

/// A parsed document with its envelope.
#[derive(Clone, Debug)]
pub struct SignedDocument {
    pub sign1: Sign1,
    pub document: AttestationDocument,
}

impl SignedDocument {
    /// Parses a document (COSE_Sign1 bytes as the NSM returns them).
    pub fn parse(bytes: &[u8]) -> Result<Self, AttestationError> {
        if bytes.len() > MAX_DOCUMENT_LEN {
            return Err(AttestationError::TooLarge(bytes.len()));
        }
        let sign1 = Sign1::parse(bytes)?;
        let document = AttestationDocument::parse(&sign1.payload)?;
        Ok(SignedDocument { sign1, document })
    }

    /// QEMU's emulated NSM: zero signature and zero certificates.
    pub fn is_emulator_document(&self) -> bool {
        self.sign1.signature.iter().all(|&b| b == 0) && self.document.has_zero_certificates()
    }
}

/// How to verify.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Unix seconds at which certificates must be valid; default: the
    /// document's own timestamp.
    pub at: Option<i64>,
    /// Accept QEMU's unsigned documents (nothing is authenticated).
    pub allow_emulator: bool,
    /// DER of the trusted root.
    pub root_der: Vec<u8>,
}

impl VerifyOptions {
    /// Pinned AWS root, document time, no emulator.
    pub fn aws() -> Self {
        let root = Cert::from_pem(AWS_NITRO_ROOT_G1_PEM).map(|c| c.der).unwrap_or_default();
        VerifyOptions { at: None, allow_emulator: false, root_der: root }
    }
}

/// Summary of one certificate of the chain.
#[derive(Clone, Debug, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
}

impl From<&Cert> for CertSummary {
    fn from(c: &Cert) -> Self {
        CertSummary {
            subject: c.subject(),
            issuer: c.issuer(),
            not_before: crate::metadata::rfc3339(c.not_before()),
            not_after: crate::metadata::rfc3339(c.not_after()),
        }
    }
}

/// What verification established.
#[derive(Clone, Debug, Serialize)]
pub struct Authentication {
    /// True only when chain and signature verified against the root.
    pub authenticated: bool,
    /// The document is QEMU's unsigned kind.
    pub emulator_document: bool,
    /// Time at which certificates were checked (RFC 3339).
    pub checked_at: String,
    /// Root first, leaf last (empty for emulator documents).
    pub chain: Vec<CertSummary>,
}

/// Verifies chain, validity and signature.
pub fn verify(doc: &SignedDocument, opts: &VerifyOptions) -> Result<Authentication, AttestationError> {
    let at = opts.at.unwrap_or((doc.document.timestamp / 1000) as i64);
    let checked_at = crate::metadata::rfc3339(at);
    if doc.is_emulator_document() {
        if !opts.allow_emulator {
            return Err(AttestationError::Unsigned);
        }
        return Ok(Authentication { authenticated: false, emulator_document: true, checked_at, chain: vec![] });
    }
    if doc.sign1.alg != Some(COSE_ALG_ES384) {
        return Err(AttestationError::Algorithm(doc.sign1.alg));
    }
    let d = &doc.document;
    if d.cabundle[0] != opts.root_der {
        return Err(AttestationError::UntrustedRoot);
    }
    let cert_err = |field: String| move |source| AttestationError::Cert { field, source };
    let mut chain = Vec::with_capacity(d.cabundle.len() + 1);
    for (i, der) in d.cabundle.iter().enumerate() {
        chain.push(Cert::from_der(der).map_err(cert_err(format!("cabundle[{i}]")))?);
    }
    chain.push(Cert::from_der(&d.certificate).map_err(cert_err("certificate".into()))?);
    let name = |i: usize| if i == chain.len() - 1 { "certificate".to_owned() } else { format!("cabundle[{i}]") };
    for i in 0..chain.len() {
        chain[i].check_valid_at(at).map_err(cert_err(name(i)))?;
        if i > 0 {
            chain[i].verify_issued_by(&chain[i - 1]).map_err(cert_err(name(i)))?;
        }
        if i + 1 < chain.len() && !chain[i].is_ca() {
            return Err(AttestationError::Cert {
                field: name(i),
                source: CertError::NotCa { subject: chain[i].subject() },
            });
        }
    }
    let leaf = chain.last().ok_or(AttestationError::UntrustedRoot)?;
    let key = leaf.p384_key().map_err(cert_err("certificate".into()))?;
    let sig = Signature::from_slice(&doc.sign1.signature).map_err(|_| AttestationError::BadSignature)?;
    key.verify(&doc.sign1.to_be_signed(), &sig).map_err(|_| AttestationError::BadSignature)?;
    Ok(Authentication {
        authenticated: true,
        emulator_document: false,
        checked_at,
        chain: chain.iter().map(CertSummary::from).collect(),
    })
}

/// Claims the caller expects the document to carry.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// PCR values (from a measurements file).
    pub pcrs: Option<crate::measurements::Expected>,
    pub nonce: Option<Vec<u8>>,
    pub user_data: Option<Vec<u8>>,
}

/// Compares the document's claims with `want`; empty when all match.
pub fn check_claims(doc: &AttestationDocument, want: &Expectations) -> Vec<crate::measurements::Mismatch> {
    use crate::measurements::{compare, Mismatch};
    let mut out = want.pcrs.as_ref().map(|e| compare(e, &doc.pcr_map())).unwrap_or_default();
    let mut bytes_claim = |name: &str, want: &Option<Vec<u8>>, got: &Option<Vec<u8>>| {
        if let Some(w) = want {
            if got.as_ref() != Some(w) {
                out.push(Mismatch {
                    field: name.to_owned(),
                    expected: hex::encode(w),
                    actual: got.as_ref().map(hex::encode).unwrap_or_else(|| "(absent)".to_owned()),
                });
            }
        }
    };
    bytes_claim("nonce", &want.nonce, &doc.nonce);
    bytes_claim("user_data", &want.user_data, &doc.user_data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcr::PCR_LEN;
    use sha2::{Digest, Sha256};

    const DOC: &[u8] = include_bytes!("../../../tests/data/aws-nitro-attestation-debug.cbor");

    #[test]
    fn pinned_root_fingerprint() {
        let root = Cert::from_pem(AWS_NITRO_ROOT_G1_PEM).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&root.der)), AWS_NITRO_ROOT_G1_SHA256);
        assert!(root.subject().contains("aws.nitro-enclaves"));
    }

    #[test]
    fn real_document_parses_and_verifies() {
        let d = SignedDocument::parse(DOC).unwrap();
        assert_eq!(d.document.module_id, "i-04e250099155f9e9f-enc018c88bffa961e5d");
        assert_eq!(d.document.timestamp, 1_703_101_342_719);
        assert_eq!(d.document.cabundle.len(), 4);
        assert_eq!(d.document.user_data.as_ref().map(Vec::len), Some(32));
        assert_eq!(d.document.nonce.as_ref().map(Vec::len), Some(32));
        assert_eq!(d.document.pcr_map()[&0], [0u8; PCR_LEN]);
        assert_eq!(d.sign1.alg, Some(COSE_ALG_ES384));
        let auth = verify(&d, &VerifyOptions::aws()).unwrap();
        assert!(auth.authenticated);
        assert_eq!(auth.chain.len(), 5);
        assert_eq!(auth.checked_at, "2023-12-20T19:42:22Z");
    }

    #[test]
    fn expired_leaf_is_rejected() {
        let d = SignedDocument::parse(DOC).unwrap();
        let opts = VerifyOptions { at: Some(1_800_000_000), ..VerifyOptions::aws() };
        let e = verify(&d, &opts).unwrap_err();
        assert!(matches!(&e, AttestationError::Cert { source: CertError::Expired { .. }, .. }), "{e}");
    }

    #[test]
    fn other_root_is_rejected() {
        let d = SignedDocument::parse(DOC).unwrap();
        let opts = VerifyOptions { root_der: vec![1, 2, 3], ..VerifyOptions::aws() };
        assert_eq!(verify(&d, &opts).unwrap_err(), AttestationError::UntrustedRoot);
    }
}
