//! The client side: what a certificate (or a document fetched over the
//! connection) must show before a client trusts the connection.

use std::sync::Arc;

use der::{Decode, Encode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::json;
use sworn_attestation::binding::TLS_KEY_USER_DATA;
use sworn_attestation::{
    check_claims, AttestationDocument, AttestationError, Authentication, ChainCache, Expectations, Measurements,
    Mismatch, SignedDocument, VerifyOptions,
};

use crate::extension;

/// What to accept.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The PCRs the enclave must report (a measurements file); `None`
    /// accepts any image, which proves only that *some* enclave holds the key.
    pub pcrs: Option<Measurements>,
    /// Accept QEMU's unsigned documents and the development NSM's: nothing
    /// is then authenticated, and [`Verified::authenticated`] says so.
    pub allow_unauthenticated: bool,
    /// Certificate chains of documents verified under this policy (shared
    /// by its clones): the certificate's document and the fresh one of a
    /// connection, and the next connection's, carry the same chain, whose
    /// signatures are then checked once.
    pub chains: ChainCache,
}

impl Policy {
    /// Real AWS documents only, with these PCRs.
    pub fn aws(pcrs: Option<Measurements>) -> Policy {
        Policy { pcrs, allow_unauthenticated: false, chains: ChainCache::default() }
    }

    /// Also QEMU's and the development NSM's documents (`--emulator`).
    pub fn emulator(pcrs: Option<Measurements>) -> Policy {
        Policy { pcrs, allow_unauthenticated: true, chains: ChainCache::default() }
    }
}

/// Where a verified document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// Chain and signature verified against the pinned AWS Nitro root.
    Aws,
    /// QEMU's unsigned document: nothing authenticated.
    Emulator,
    /// The development NSM's: signed under a throwaway root, nothing authenticated.
    Development,
}

/// What a successful check established.
#[derive(Debug, Clone)]
pub struct Verified {
    pub document: AttestationDocument,
    pub authentication: Authentication,
    pub kind: DocumentKind,
    /// The certificate's (= the document's) public key, DER SubjectPublicKeyInfo.
    pub public_key: Vec<u8>,
}

impl Verified {
    /// True only for AWS documents whose chain and signature verified.
    pub fn authenticated(&self) -> bool {
        self.kind == DocumentKind::Aws && self.authentication.authenticated
    }

    /// The decoded document and what was checked, for `--json` output.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "authenticated": self.authenticated(),
            "kind": self.kind,
            "publicKey": hex::encode(&self.public_key),
            "authentication": self.authentication,
            "document": self.document.to_json(),
        })
    }
}

/// Why a certificate or document was not accepted. Each names what failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("server certificate: {0}")]
    Certificate(String),
    #[error(
        "server certificate carries no attestation extension ({}): it was not made by a Sworn enclave",
        extension::OID
    )]
    NoExtension,
    #[error("server certificate carries the attestation extension more than once")]
    DuplicateExtension,
    #[error(transparent)]
    Extension(#[from] extension::ExtensionError),
    #[error("attestation document: {0}")]
    Document(#[from] AttestationError),
    #[error("attestation document is from the development NSM (signed under a throwaway root); pass --emulator to accept it without authentication")]
    Development,
    #[error("attestation document: public_key {}, but the TLS key is {} (the connection does not end in the attested enclave)", hex_or_absent(.document), hex::encode(.tls))]
    KeyMismatch { document: Option<Vec<u8>>, tls: Vec<u8> },
    #[error("attestation document: user_data {} is not the TLS binding {:?}: the document was not made for a TLS key", hex_or_absent(.0), String::from_utf8_lossy(TLS_KEY_USER_DATA))]
    NotTlsBinding(Option<Vec<u8>>),
    #[error("attestation document does not match: {}", describe(.0))]
    Claims(Vec<Mismatch>),
    #[error("server certificate is not valid now ({now}): valid from {not_before} to {not_after}")]
    Validity { now: i64, not_before: i64, not_after: i64 },
}

fn hex_or_absent(v: &Option<Vec<u8>>) -> String {
    v.as_ref().map_or_else(|| "(absent)".into(), hex::encode)
}

fn describe(mismatches: &[Mismatch]) -> String {
    mismatches
        .iter()
        .map(|m| format!("{} is {}, expected {}", m.field, m.actual, m.expected))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks an attested certificate (DER) at Unix time `now`: validity, the
/// extension, the document (chain, signature, PCRs), and that the document
/// binds this certificate's key. A handshake must still prove the server
/// holds the key ([`AttestedServerVerifier`] leaves that to rustls).
pub fn verify_certificate(cert_der: &[u8], policy: &Policy, now: i64) -> Result<Verified, VerifyError> {
    let cert = x509_cert::Certificate::from_der(cert_der).map_err(|e| VerifyError::Certificate(e.to_string()))?;
    let tbs = &cert.tbs_certificate;
    let not_before = tbs.validity.not_before.to_unix_duration().as_secs() as i64;
    let not_after = tbs.validity.not_after.to_unix_duration().as_secs() as i64;
    if now < not_before || now > not_after {
        return Err(VerifyError::Validity { now, not_before, not_after });
    }
    let spki = tbs.subject_public_key_info.to_der().map_err(|e| VerifyError::Certificate(e.to_string()))?;
    let oid = der::oid::ObjectIdentifier::new_unwrap(extension::OID);
    let mut found = tbs.extensions.iter().flatten().filter(|e| e.extn_id == oid);
    let ext = found.next().ok_or(VerifyError::NoExtension)?;
    if found.next().is_some() {
        return Err(VerifyError::DuplicateExtension);
    }
    let document = extension::decode(ext.extn_value.as_bytes())?;
    check_document(&document, &spki, None, policy)
}

/// Checks a document fetched over an attested connection with `nonce`: the
/// same as the certificate's, plus the nonce, and its key must be
/// `tls_public_key` (the connection's certificate's).
pub fn verify_fresh_document(
    document: &[u8],
    tls_public_key: &[u8],
    nonce: &[u8],
    policy: &Policy,
) -> Result<Verified, VerifyError> {
    check_document(document, tls_public_key, Some(nonce), policy)
}

fn check_document(bytes: &[u8], spki: &[u8], nonce: Option<&[u8]>, policy: &Policy) -> Result<Verified, VerifyError> {
    let doc = SignedDocument::parse(bytes)?;
    let (kind, authentication) = if doc.is_emulator_document() {
        let opts = VerifyOptions { allow_emulator: policy.allow_unauthenticated, ..VerifyOptions::aws() };
        // QEMU's documents carry no chain: nothing to remember.
        (DocumentKind::Emulator, sworn_attestation::verify(&doc, &opts)?)
    } else if doc.is_development_document() {
        if !policy.allow_unauthenticated {
            return Err(VerifyError::Development);
        }
        let root = doc.document.cabundle.first().cloned().unwrap_or_default();
        let opts = VerifyOptions { chains: Some(policy.chains.clone()), ..VerifyOptions::development(root) };
        let mut auth = sworn_attestation::verify(&doc, &opts)?;
        auth.authenticated = false;
        (DocumentKind::Development, auth)
    } else {
        let opts = VerifyOptions { chains: Some(policy.chains.clone()), ..VerifyOptions::aws() };
        (DocumentKind::Aws, sworn_attestation::verify(&doc, &opts)?)
    };
    let d = doc.document;
    if d.public_key.as_deref() != Some(spki) {
        return Err(VerifyError::KeyMismatch { document: d.public_key, tls: spki.to_vec() });
    }
    if d.user_data.as_deref() != Some(TLS_KEY_USER_DATA) {
        return Err(VerifyError::NotTlsBinding(d.user_data));
    }
    let want = Expectations { pcrs: policy.pcrs.clone(), nonce: nonce.map(<[u8]>::to_vec), user_data: None };
    let mismatches = check_claims(&d, &want);
    if !mismatches.is_empty() {
        return Err(VerifyError::Claims(mismatches));
    }
    Ok(Verified { document: d, authentication, kind, public_key: spki.to_vec() })
}

/// The attestation failure behind a failed handshake, if that is why it
/// failed (rustls shows it only as a `Debug` dump): for clear messages.
pub fn handshake_failure<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a VerifyError> {
    let mut cur = Some(error);
    while let Some(e) = cur {
        if let Some(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner)))) =
            e.downcast_ref::<rustls::Error>()
        {
            return inner.downcast_ref::<VerifyError>();
        }
        if let Some(v) = e.downcast_ref::<VerifyError>() {
            return Some(v);
        }
        // std::io::Error hides its payload from source(); look inside.
        cur = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// A rustls verifier that accepts exactly the attested certificates
/// [`verify_certificate`] accepts (no Web PKI: the document is the
/// identity), and checks the handshake signature with the certificate's key
/// as any verifier does.
#[derive(Debug)]
pub struct AttestedServerVerifier {
    policy: Policy,
    provider: Arc<CryptoProvider>,
}

impl AttestedServerVerifier {
    pub fn new(policy: Policy) -> AttestedServerVerifier {
        AttestedServerVerifier { policy, provider: Arc::new(rustls::crypto::ring::default_provider()) }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The certificate check of [`ServerCertVerifier::verify_server_cert`],
    /// returning what it established, with its error as rustls carries it
    /// (so [`handshake_failure`] finds it): for verifiers that keep the
    /// [`Verified`] of a connection.
    pub fn check(&self, end_entity: &CertificateDer<'_>, now: UnixTime) -> Result<Verified, rustls::Error> {
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        verify_certificate(end_entity, &self.policy, now)
            .map_err(|e| rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e)))))
    }
}

impl ServerCertVerifier for AttestedServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
