//! Verification of attestation documents against the pinned AWS Nitro root.
//!
//! `cabundle[0]` must be the pinned root byte for byte; each following
//! certificate and then the leaf must be issued and signed by the one
//! before; every certificate must be valid at the document's timestamp (or
//! a given time); the ES384 signature over
//! `["Signature1", protected, h'', payload]` must verify with the leaf's key.
//!
//! QEMU's `nitro-enclave` machine returns documents with real PCRs but a
//! zero signature and zero certificates ([`crate::emulator`]). They are
//! rejected unless the caller opts in with [`VerifyOptions::allow_emulator`],
//! and even then the report says that nothing was authenticated.
//! Documents of the development NSM ([`crate::dev`]) fail with
//! [`AttestationError::UntrustedRoot`] unless their own root is given
//! ([`VerifyOptions::development`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use p384::ecdsa::{signature::Verifier, Signature};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::cert::{Cert, CertError};
use crate::cose::COSE_ALG_ES384;
use crate::document::{AttestationDocument, SignedDocument};
use crate::limits::MAX_DOCUMENT_LEN;
use crate::measurements::{compare, Measurements, Mismatch};
use crate::ProtocolError;

/// The AWS Nitro Enclaves root certificate (Root-G1), pinned.
pub const AWS_NITRO_ROOT_G1_PEM: &[u8] = include_bytes!("../../../tests/data/aws-nitro-root-g1.pem");
/// SHA-256 of the root's DER, as AWS publishes it.
pub const AWS_NITRO_ROOT_G1_SHA256: &str = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";

/// A document could not be parsed or did not verify.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AttestationError {
    #[error("document is {0} bytes, more than the {MAX_DOCUMENT_LEN}-byte limit")]
    TooLarge(usize),
    /// The COSE_Sign1 envelope is malformed (the text of its [`ProtocolError`]).
    #[error("COSE_Sign1: {0}")]
    Cose(String),
    /// The payload, or the algorithm of the protected header, is not accepted.
    #[error("{0}")]
    Document(#[from] ProtocolError),
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
    /// Chains verified before, whose signatures need not be checked again.
    pub chains: Option<ChainCache>,
}

/// Chains (root, `cabundle`, leaf certificate) whose signatures verified.
///
/// An enclave's NSM signs every document with one leaf certificate for
/// hours, so a client that checks the certificate's document and then a
/// fresh one (`sworn attest`), or that connects again, would check the same
/// four chain signatures each time: P-384 verifications, most of the cost.
/// With a cache, a document whose chain bytes were verified before costs
/// only its own signature. Validity times and CA flags are still checked at
/// each document's time, and the document's signature always is. Clones
/// share one cache, which holds the last [`ChainCache::CAPACITY`] chains.
#[derive(Clone, Debug, Default)]
pub struct ChainCache(Arc<Mutex<VecDeque<[u8; 32]>>>);

impl ChainCache {
    pub const CAPACITY: usize = 32;

    /// SHA-256 over every certificate, each preceded by its length, so no
    /// two different chains share a key.
    fn key(root_der: &[u8], cabundle: &[Vec<u8>], certificate: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        let parts = std::iter::once(root_der).chain(cabundle.iter().map(Vec::as_slice)).chain([certificate]);
        for part in parts {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.finalize().into()
    }

    fn contains(&self, key: &[u8; 32]) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).contains(key)
    }

    fn insert(&self, key: [u8; 32]) {
        let mut keys = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if keys.contains(&key) {
            return;
        }
        if keys.len() == Self::CAPACITY {
            keys.pop_front();
        }
        keys.push_back(key);
    }

    /// Chains held.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl VerifyOptions {
    /// Pinned AWS root, document time, no emulator.
    pub fn aws() -> Self {
        let root = Cert::from_pem(AWS_NITRO_ROOT_G1_PEM).map(|c| c.der).unwrap_or_default();
        VerifyOptions { at: None, allow_emulator: false, root_der: root, chains: None }
    }

    /// A development NSM's root (`DevNsm::root_certificate_der`), document
    /// time, no emulator. What verifies under it proves nothing about AWS.
    pub fn development(root_der: Vec<u8>) -> Self {
        VerifyOptions { at: None, allow_emulator: false, root_der, chains: None }
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
            not_before: crate::rfc3339(c.not_before()),
            not_after: crate::rfc3339(c.not_after()),
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
    let at = opts.at.unwrap_or(i64::try_from(doc.document.timestamp / 1000).unwrap_or(i64::MAX));
    let checked_at = crate::rfc3339(at);
    if doc.is_emulator_document() {
        if !opts.allow_emulator {
            return Err(AttestationError::Unsigned);
        }
        return Ok(Authentication { authenticated: false, emulator_document: true, checked_at, chain: vec![] });
    }
    let alg = doc.alg();
    if alg != Some(COSE_ALG_ES384) {
        return Err(AttestationError::Algorithm(alg));
    }
    let d = &doc.document;
    if d.cabundle.first() != Some(&opts.root_der) {
        return Err(AttestationError::UntrustedRoot);
    }
    let cert_err = |field: String| move |source| AttestationError::Cert { field, source };
    let mut chain = Vec::with_capacity(d.cabundle.len() + 1);
    for (i, der) in d.cabundle.iter().enumerate() {
        chain.push(Cert::from_der(der).map_err(cert_err(format!("cabundle[{i}]")))?);
    }
    chain.push(Cert::from_der(&d.certificate).map_err(cert_err("certificate".into()))?);
    let last = chain.len() - 1;
    let name = |i: usize| if i == last { "certificate".to_owned() } else { format!("cabundle[{i}]") };
    let cached = opts.chains.as_ref().map(|c| (c, ChainCache::key(&opts.root_der, &d.cabundle, &d.certificate)));
    let known = cached.as_ref().is_some_and(|(c, key)| c.contains(key));
    for (i, cert) in chain.iter().enumerate() {
        cert.check_valid_at(at).map_err(cert_err(name(i)))?;
        if let Some(issuer) = i.checked_sub(1).and_then(|p| chain.get(p)).filter(|_| !known) {
            cert.verify_issued_by(issuer).map_err(cert_err(name(i)))?;
        }
        if i < last && !cert.is_ca() {
            return Err(AttestationError::Cert {
                field: name(i),
                source: CertError::NotCa { subject: cert.subject() },
            });
        }
    }
    if let Some((cache, key)) = cached {
        cache.insert(key);
    }
    let leaf = chain.last().ok_or(AttestationError::UntrustedRoot)?;
    let key = leaf.p384_key().map_err(cert_err("certificate".into()))?;
    let sig = Signature::from_slice(&doc.signature).map_err(|_| AttestationError::BadSignature)?;
    key.verify(&doc.sig_structure(), &sig).map_err(|_| AttestationError::BadSignature)?;
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
    pub pcrs: Option<Measurements>,
    pub nonce: Option<Vec<u8>>,
    pub user_data: Option<Vec<u8>>,
}

/// Compares the document's claims with `want`; empty when all match.
pub fn check_claims(doc: &AttestationDocument, want: &Expectations) -> Vec<Mismatch> {
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
    use crate::PCR_LEN;
    use sha2::{Digest, Sha256};

    const DOC: &[u8] = include_bytes!("../../../tests/data/aws-nitro-attestation-debug.cbor");
    use crate::{SignedDocument, COSE_ALG_ES384};

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
        assert_eq!(d.alg(), Some(COSE_ALG_ES384));
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

    fn cached() -> (SignedDocument, VerifyOptions) {
        let d = SignedDocument::parse(DOC).unwrap();
        let opts = VerifyOptions { chains: Some(ChainCache::default()), ..VerifyOptions::aws() };
        verify(&d, &opts).unwrap();
        assert_eq!(opts.chains.as_ref().map(ChainCache::len), Some(1), "the verified chain is remembered");
        (d, opts)
    }

    #[test]
    fn a_remembered_chain_still_needs_the_document_signature() {
        let (mut d, opts) = cached();
        assert!(verify(&d, &opts).unwrap().authenticated, "the same document again");
        d.signature[10] ^= 1;
        assert_eq!(verify(&d, &opts).unwrap_err(), AttestationError::BadSignature);
    }

    #[test]
    fn a_remembered_chain_is_still_checked_for_validity_at_the_document_time() {
        let (d, opts) = cached();
        let later = VerifyOptions { at: Some(1_800_000_000), ..opts };
        let e = verify(&d, &later).unwrap_err();
        assert!(matches!(&e, AttestationError::Cert { source: CertError::Expired { .. }, .. }), "{e}");
    }

    #[test]
    fn a_chain_with_one_byte_changed_is_verified_again_and_refused() {
        let (mut d, opts) = cached();
        let sig_end = d.document.cabundle[2].len() - 1;
        d.document.cabundle[2][sig_end] ^= 1;
        let e = verify(&d, &opts).unwrap_err();
        assert!(matches!(&e, AttestationError::Cert { field, .. } if field == "cabundle[2]"), "{e}");
        assert_eq!(opts.chains.as_ref().map(ChainCache::len), Some(1), "a refused chain is not remembered");
    }

    #[test]
    fn the_chain_cache_keeps_the_most_recent_chains_only() {
        let cache = ChainCache::default();
        for i in 0..ChainCache::CAPACITY + 3 {
            cache.insert(ChainCache::key(b"root", &[vec![i as u8]], b"leaf"));
        }
        assert_eq!(cache.len(), ChainCache::CAPACITY);
        assert!(!cache.contains(&ChainCache::key(b"root", &[vec![0]], b"leaf")), "the oldest went first");
        assert!(cache.contains(&ChainCache::key(b"root", &[vec![(ChainCache::CAPACITY + 2) as u8]], b"leaf")));
        // Lengths are part of the key: moving a byte between certificates is another chain.
        assert_ne!(ChainCache::key(b"ab", &[b"c".to_vec()], b""), ChainCache::key(b"a", &[b"bc".to_vec()], b""));
    }

    #[test]
    fn other_root_is_rejected() {
        let d = SignedDocument::parse(DOC).unwrap();
        let opts = VerifyOptions { root_der: vec![1, 2, 3], ..VerifyOptions::aws() };
        assert_eq!(verify(&d, &opts).unwrap_err(), AttestationError::UntrustedRoot);
    }
}
