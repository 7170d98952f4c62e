//! X.509 certificates as Nitro uses them: P-384 keys, ECDSA signatures.

use der::{Decode, Encode};
use p384::ecdsa::{signature::hazmat::PrehashVerifier, Signature, VerifyingKey};
use sha2::{Digest, Sha256, Sha384};
use x509_cert::Certificate;

/// ecdsa-with-SHA256
const ECDSA_SHA256: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384
const ECDSA_SHA384: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

/// A certificate could not be used.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CertError {
    #[error("certificate PEM: {0}")]
    Pem(String),
    #[error("certificate DER: {0}")]
    Der(String),
    #[error("certificate {subject}: subjectPublicKeyInfo is not a P-384 EC key")]
    NotP384 { subject: String },
    #[error("certificate {subject}: unsupported signatureAlgorithm {oid} (expected ecdsa-with-SHA384 or -SHA256)")]
    SignatureAlgorithm { subject: String, oid: String },
    #[error("certificate {subject}: signatureValue is not a DER ECDSA signature")]
    SignatureEncoding { subject: String },
    #[error("certificate {subject}: signature does not verify with the key of {issuer}")]
    BadSignature { subject: String, issuer: String },
    #[error("certificate {subject}: issuer {issuer} does not match the subject of the next certificate ({next})")]
    IssuerMismatch { subject: String, issuer: String, next: String },
    #[error("certificate {subject}: not a CA (basicConstraints cA is not true) but it issues the next certificate")]
    NotCa { subject: String },
    #[error("certificate {subject}: not valid at {at} (valid {not_before} to {not_after})")]
    Expired { subject: String, at: String, not_before: String, not_after: String },
}

/// A parsed certificate with its original DER.
#[derive(Clone, Debug)]
pub struct Cert {
    pub der: Vec<u8>,
    pub cert: Certificate,
}

impl Cert {
    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let cert = Certificate::from_der(der).map_err(|e| CertError::Der(e.to_string()))?;
        Ok(Cert { der: der.to_vec(), cert })
    }

    /// Parses the first PEM `CERTIFICATE` block.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CertError> {
        let (label, der) = pem_rfc7468::decode_vec(pem).map_err(|e| CertError::Pem(e.to_string()))?;
        if label != "CERTIFICATE" {
            return Err(CertError::Pem(format!("expected a CERTIFICATE block, found {label}")));
        }
        Self::from_der(&der)
    }

    /// Subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// Issuer as an RFC 4514 string.
    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// Start of validity, Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.cert.tbs_certificate.validity.not_before.to_unix_duration().as_secs() as i64
    }

    /// End of validity, Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.cert.tbs_certificate.validity.not_after.to_unix_duration().as_secs() as i64
    }

    /// Whether `t` (Unix seconds) lies within the validity period.
    pub fn valid_at(&self, t: i64) -> bool {
        self.not_before() <= t && t <= self.not_after()
    }

    /// Errs unless valid at `t`.
    pub fn check_valid_at(&self, t: i64) -> Result<(), CertError> {
        if self.valid_at(t) {
            return Ok(());
        }
        Err(CertError::Expired {
            subject: self.subject(),
            at: crate::rfc3339(t),
            not_before: crate::rfc3339(self.not_before()),
            not_after: crate::rfc3339(self.not_after()),
        })
    }

    /// Whether basicConstraints marks this certificate as a CA.
    pub fn is_ca(&self) -> bool {
        use x509_cert::ext::pkix::BasicConstraints;
        const BASIC_CONSTRAINTS: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("2.5.29.19");
        self.cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == BASIC_CONSTRAINTS)
            .any(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).is_ok_and(|b| b.ca))
    }

    /// The P-384 public key.
    pub fn p384_key(&self) -> Result<VerifyingKey, CertError> {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
            .map_err(|_| CertError::NotP384 { subject: self.subject() })
    }

    /// Checks that `issuer` issued and signed this certificate.
    pub fn verify_issued_by(&self, issuer: &Cert) -> Result<(), CertError> {
        let subject = self.subject();
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err(CertError::IssuerMismatch { subject, issuer: self.issuer(), next: issuer.subject() });
        }
        let oid = self.cert.signature_algorithm.oid;
        let tbs = self.cert.tbs_certificate.to_der().map_err(|e| CertError::Der(e.to_string()))?;
        let digest: Vec<u8> = if oid == ECDSA_SHA384 {
            Sha384::digest(&tbs).to_vec()
        } else if oid == ECDSA_SHA256 {
            Sha256::digest(&tbs).to_vec()
        } else {
            return Err(CertError::SignatureAlgorithm { subject, oid: oid.to_string() });
        };
        let sig_bytes =
            self.cert.signature.as_bytes().ok_or(CertError::SignatureEncoding { subject: subject.clone() })?;
        let sig =
            Signature::from_der(sig_bytes).map_err(|_| CertError::SignatureEncoding { subject: subject.clone() })?;
        issuer
            .p384_key()?
            .verify_prehash(&digest, &sig)
            .map_err(|_| CertError::BadSignature { subject, issuer: issuer.subject() })
    }
}
