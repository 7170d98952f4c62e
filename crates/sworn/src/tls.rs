//! The client's TLS: one rustls configuration per connection whose
//! certificate verifier is the attested-TLS check, and the optional
//! operator certificate for mutual TLS.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use sworn_atls::{AttestedServerVerifier, Policy, Verified};

/// ALPN of every connection: the runner speaks HTTP/1.1.
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

/// An operator certificate chain and its private key (mutual TLS).
#[derive(Debug)]
pub struct ClientCert {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for ClientCert {
    fn clone(&self) -> Self {
        ClientCert { chain: self.chain.clone(), key: self.key.clone_key() }
    }
}

/// A `--cert`/`--key` file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{what} {}: {reason}", path.display())]
pub struct ClientCertError {
    pub what: &'static str,
    pub path: PathBuf,
    pub reason: String,
}

impl ClientCert {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key
    /// (PKCS#8, SEC1 or PKCS#1).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<ClientCert, ClientCertError> {
        let cert_err = |reason: String| ClientCertError { what: "client certificate", path: cert.to_owned(), reason };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| cert_err(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| cert_err(e.to_string()))?;
        if chain.is_empty() {
            return Err(cert_err("no PEM CERTIFICATE block".into()));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| ClientCertError {
            what: "client key",
            path: key.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(ClientCert { chain, key })
    }

    /// From DER already in memory (leaf first).
    pub fn from_der(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> ClientCert {
        ClientCert { chain, key }
    }
}

/// What the verifier of one handshake established, kept for the
/// connection: rustls only says "accepted", and callers want the decoded
/// document and how long the check took.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub verified: Option<Verified>,
    pub elapsed: Duration,
}

/// [`AttestedServerVerifier`] plus a record of its result.
///
/// The certificate check is the inner verifier's
/// [`AttestedServerVerifier::check`], which returns the [`Verified`] that
/// `verify_server_cert` only accepts (so the document is checked once); the
/// handshake signatures are the inner verifier's too.
#[derive(Debug)]
pub(crate) struct RecordingVerifier {
    inner: AttestedServerVerifier,
    outcome: Mutex<Outcome>,
}

impl RecordingVerifier {
    pub fn new(policy: Policy) -> RecordingVerifier {
        RecordingVerifier { inner: AttestedServerVerifier::new(policy), outcome: Mutex::new(Outcome::default()) }
    }

    pub fn take(&self) -> Outcome {
        std::mem::take(&mut *self.outcome.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let start = Instant::now();
        let result = self.inner.check(end_entity, now);
        let elapsed = start.elapsed();
        let verified = result?;
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Outcome { verified: Some(verified), elapsed };
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A configuration for exactly one connection.
///
/// Session resumption is off: a resumed TLS session skips the certificate
/// check, so every connection must run a full handshake against the
/// attested certificate (and the verifier must be this connection's own,
/// to report this connection's document).
pub(crate) fn client_config(
    policy: &Policy,
    client_cert: Option<&ClientCert>,
) -> Result<(rustls::ClientConfig, Arc<RecordingVerifier>), rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(RecordingVerifier::new(policy.clone()));
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone());
    let mut config = match client_cert {
        Some(c) => builder.with_client_auth_cert(c.chain.clone(), c.key.clone_key())?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    config.resumption = Resumption::disabled();
    Ok((config, verifier))
}
