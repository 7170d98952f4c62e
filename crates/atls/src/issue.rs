//! The enclave side: a TLS key born in the enclave and its attested
//! certificate.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use p256::pkcs8::EncodePrivateKey as _;
use rustls::sign::CertifiedKey;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::extension;

/// Common name of every attested certificate (clients do not rely on it).
pub const CERT_COMMON_NAME: &str = "sworn enclave (attested TLS)";

/// A key or certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("kernel random source failed: {0}")]
    Random(String),
    #[error("NSM entropy is {0} bytes; at least 32 are needed")]
    ShortEntropy(usize),
    #[error("cannot encode the TLS key: {0}")]
    Key(String),
    #[error("cannot build the attested certificate: {0}")]
    Certificate(String),
    #[error(transparent)]
    Extension(#[from] extension::ExtensionError),
}

/// An ECDSA P-256 key pair that exists only in this process's memory. Its
/// private half is never formatted ([`std::fmt::Debug`] shows the public
/// key only) and is wiped when dropped.
pub struct EnclaveKey {
    pkcs8: Zeroizing<Vec<u8>>,
    spki: Vec<u8>,
    signer: rcgen::KeyPair,
}

impl std::fmt::Debug for EnclaveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnclaveKey").field("public_key", &hex::encode(&self.spki)).finish_non_exhaustive()
    }
}

impl EnclaveKey {
    /// A new key from `nsm_entropy` (the NSM's GetRandom, at least 32
    /// bytes) mixed with 32 bytes of the kernel's random source: either one
    /// alone, if good, makes the key unpredictable.
    pub fn generate(nsm_entropy: &[u8]) -> Result<EnclaveKey, IssueError> {
        if nsm_entropy.len() < 32 {
            return Err(IssueError::ShortEntropy(nsm_entropy.len()));
        }
        let mut os = Zeroizing::new([0u8; 32]);
        getrandom::fill(os.as_mut()).map_err(|e| IssueError::Random(e.to_string()))?;
        // A scalar out of range (zero or >= n) has probability ~2^-128; the
        // counter makes the next try a different candidate.
        for counter in 0u8..8 {
            let mut h = Sha256::new();
            h.update(b"sworn attested TLS key v1\0");
            h.update(nsm_entropy);
            h.update(os.as_ref());
            h.update([counter]);
            let seed = Zeroizing::new(h.finalize());
            if let Ok(secret) = p256::SecretKey::from_bytes(&seed) {
                return Self::from_secret(&secret);
            }
        }
        Err(IssueError::Key("no valid P-256 scalar in 8 candidates".into()))
    }

    fn from_secret(secret: &p256::SecretKey) -> Result<EnclaveKey, IssueError> {
        let doc = secret.to_pkcs8_der().map_err(|e| IssueError::Key(e.to_string()))?;
        let pkcs8 = Zeroizing::new(doc.as_bytes().to_vec());
        let signer = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
        .map_err(|e| IssueError::Key(e.to_string()))?;
        let spki = rcgen::PublicKeyData::subject_public_key_info(&signer);
        Ok(EnclaveKey { pkcs8, spki, signer })
    }

    /// The DER SubjectPublicKeyInfo: what the document's `public_key` must be.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    /// A self-signed certificate for this key carrying `document` (the
    /// NSM's document whose `public_key` is [`Self::public_key_der`]), valid
    /// from `not_before` for `lifetime`, with `names` as DNS subject
    /// alternative names, ready for a rustls server.
    pub fn certify(
        &self,
        document: &[u8],
        names: &[String],
        not_before: SystemTime,
        lifetime: Duration,
    ) -> Result<Arc<CertifiedKey>, IssueError> {
        let cert_err = |e: rcgen::Error| IssueError::Certificate(e.to_string());
        let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(cert_err)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(rcgen::DnType::CommonName, CERT_COMMON_NAME);
        params.not_before = time::OffsetDateTime::from(not_before);
        params.not_after = time::OffsetDateTime::from(not_before + lifetime);
        let mut serial = [0u8; 16];
        getrandom::fill(&mut serial).map_err(|e| IssueError::Random(e.to_string()))?;
        serial[0] &= 0x7f;
        params.serial_number = Some(rcgen::SerialNumber::from(serial.to_vec()));
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(&extension::OID_ARCS, extension::encode(document)?));
        let cert = params.self_signed(&self.signer).map_err(cert_err)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.pkcs8.to_vec()));
        let signing = rustls::crypto::ring::sign::any_ecdsa_type(&key)
            .map_err(|e| IssueError::Key(format!("rustls refused the key: {e}")))?;
        Ok(Arc::new(CertifiedKey::new(vec![cert.der().clone()], signing)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_and_debug_shows_no_secret() {
        let a = EnclaveKey::generate(&[7; 32]).unwrap();
        let b = EnclaveKey::generate(&[7; 32]).unwrap();
        assert_ne!(a.public_key_der(), b.public_key_der(), "the kernel's entropy is mixed in");
        let shown = format!("{a:?}");
        assert!(shown.contains(&hex::encode(a.public_key_der())));
        assert!(!shown.contains(&hex::encode(&a.pkcs8[..])));
        assert!(matches!(EnclaveKey::generate(&[1; 31]), Err(IssueError::ShortEntropy(31))));
    }
}
