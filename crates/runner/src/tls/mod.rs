//! Attested TLS on the runner's listener (`--tls`).
//!
//! At start, and then every `--tls-rotate`, the runner makes a *generation*:
//! a P-256 key from NSM entropy ([`sworn_atls::EnclaveKey`]), an NSM
//! document with `public_key` = the key's SubjectPublicKeyInfo and
//! `user_data` = [`TLS_KEY_USER_DATA`], and a certificate for the key that
//! carries the document ([`sworn_atls::EnclaveKey::certify`]). A client that
//! checks the certificate ([`sworn_atls::AttestedServerVerifier`]) knows the
//! connection ends inside the attested enclave; the host in between sees
//! only ciphertext.
//!
//! Each generation has its own rustls [`ServerConfig`] whose certificate
//! resolver hands out that generation's certificate. A connection takes the
//! current generation when its handshake starts, so it knows exactly which
//! key it was served with (for `GET /attestation`, which binds a fresh
//! document to it), and a resumed session stays with the key of the session
//! it resumes (each generation has its own session cache). Rotation swaps
//! the current generation atomically; connections already open keep theirs.
//!
//! The private key lives in the generation's signing key only: it is never
//! logged, written or exported.

mod config;

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use sha2::{Digest, Sha256};
use sworn_attestation::binding::TLS_KEY_USER_DATA;
use sworn_nsm::{AttestationRequest, Nsm};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use zeroize::Zeroizing;

pub use config::{OperatorCa, PlainHttp, TlsConfig, TlsError, MAX_ROTATE, MIN_ROTATE};

use crate::peer::{Peer, TlsKey};

/// The first byte of a TLS connection: a handshake record (RFC 8446 §5.1).
/// No HTTP/1 request starts with it (a method is a token).
pub const HANDSHAKE_RECORD: u8 = 0x16;

/// The one application protocol served.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// How far back a certificate's validity starts: clients whose clocks run
/// behind the enclave's still accept a certificate made just now.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// Wait before retrying a failed rotation (or the rotation interval, if
/// shorter): the current certificate stays in use meanwhile.
pub const ROTATE_RETRY: Duration = Duration::from_secs(60);

/// Validity of a certificate made now for rotation interval `rotate`: from
/// [`CLOCK_SKEW`] ago to two intervals from now, so a client that connected
/// just before the next rotation still validates it for a whole interval.
pub fn certificate_lifetime(rotate: Duration) -> Duration {
    CLOCK_SKEW.saturating_add(rotate.saturating_mul(2))
}

/// One key, its document and certificate, and the server configuration
/// that presents them.
struct Generation {
    config: Arc<ServerConfig>,
    key: Arc<TlsKey>,
}

/// Makes generations: everything but the key is the same for each.
#[derive(Clone)]
struct Issuer {
    nsm: Arc<Nsm>,
    names: Arc<[String]>,
    rotate: Duration,
    verifier: Arc<dyn ClientCertVerifier>,
    provider: Arc<CryptoProvider>,
}

impl Issuer {
    /// A new generation. Blocking: NSM calls (an ioctl, or the development
    /// NSM's signature) and key generation.
    fn issue(&self) -> Result<Generation, TlsError> {
        let entropy = Zeroizing::new(self.nsm.get_random().map_err(TlsError::Random)?);
        let key = sworn_atls::EnclaveKey::generate(&entropy)?;
        let request =
            AttestationRequest::new(Some(TLS_KEY_USER_DATA.to_vec()), None, Some(key.public_key_der().to_vec()))
                .map_err(|e| TlsError::Attest(e.to_string()))?;
        let document = self.nsm.attest(&request).map_err(|e| TlsError::Attest(e.to_string()))?;
        let now = SystemTime::now();
        let not_before = now.checked_sub(CLOCK_SKEW).unwrap_or(now);
        let certified = key.certify(&document.bytes, &self.names, not_before, certificate_lifetime(self.rotate))?;
        let cert = certified.cert.first().ok_or_else(|| TlsError::Config("certificate chain is empty".into()))?;
        let tls_key = Arc::new(TlsKey {
            public_key: key.public_key_der().to_vec(),
            certificate_sha256: Sha256::digest(cert.as_ref()).into(),
        });
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_client_cert_verifier(self.verifier.clone())
            .with_cert_resolver(Arc::new(GenerationCert(certified)));
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        Ok(Generation { config: Arc::new(config), key: tls_key })
    }

    async fn issue_off_thread(&self) -> Result<Generation, TlsError> {
        let issuer = self.clone();
        tokio::task::spawn_blocking(move || issuer.issue()).await.map_err(|e| TlsError::Task(e.to_string()))?
    }
}

/// The certificate resolver of one generation: always its certificate.
struct GenerationCert(Arc<CertifiedKey>);

impl std::fmt::Debug for GenerationCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signing key's Debug is rustls's business; show none of it.
        f.write_str("GenerationCert")
    }
}

impl ResolvesServerCert for GenerationCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Attested TLS for the listener: the current generation, rotation, and
/// the handshake of each connection.
pub struct TlsServer {
    issuer: Issuer,
    plain_http: PlainHttp,
    /// `--operator-ca` was given: a client certificate (which the verifier
    /// then checked against it) makes an operator.
    operators: bool,
    current: RwLock<Arc<Generation>>,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer")
            .field("public_key", &hex::encode(&self.current_key().public_key))
            .field("plain_http", &self.plain_http)
            .field("operators", &self.operators)
            .finish_non_exhaustive()
    }
}

impl TlsServer {
    /// Checks `config` and makes the first generation (without an NSM there
    /// is nothing to attest the key with: [`TlsError::NoNsm`]).
    pub async fn start(config: TlsConfig, nsm: Option<Arc<Nsm>>) -> Result<Arc<TlsServer>, TlsError> {
        let nsm = nsm.ok_or(TlsError::NoNsm)?;
        config.check()?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (verifier, operators) = match &config.operator_ca {
            None => (WebPkiClientVerifier::no_client_auth(), false),
            Some(ca) => {
                let verifier = WebPkiClientVerifier::builder_with_provider(ca.roots.clone(), provider.clone())
                    // Optional client auth: clients without a certificate
                    // are served, as non-operators.
                    .allow_unauthenticated()
                    .build()
                    .map_err(|e| TlsError::OperatorCaPem { path: ca.source.clone(), reason: e.to_string() })?;
                (verifier, true)
            }
        };
        let issuer = Issuer { nsm, names: config.names.into(), rotate: config.rotate, verifier, provider };
        let first = issuer.issue_off_thread().await?;
        tracing::info!(
            "TLS: attested certificate {} (rotates every {:?}; plain HTTP {}; operator CA {})",
            hex::encode(first.key.certificate_sha256),
            issuer.rotate,
            if config.plain_http == PlainHttp::Compat { "served" } else { "refused" },
            if operators { "set" } else { "none" },
        );
        Ok(Arc::new(TlsServer {
            issuer,
            plain_http: config.plain_http,
            operators,
            current: RwLock::new(Arc::new(first)),
        }))
    }

    /// `--plain-http`.
    pub fn plain_http(&self) -> PlainHttp {
        self.plain_http
    }

    fn current(&self) -> Arc<Generation> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The key new connections are served with now.
    pub fn current_key(&self) -> Arc<TlsKey> {
        self.current().key.clone()
    }

    /// Makes a new generation and swaps it in; connections already open
    /// keep theirs. On error the current one stays.
    pub async fn rotate(&self) -> Result<Arc<TlsKey>, TlsError> {
        let next = Arc::new(self.issuer.issue_off_thread().await?);
        let key = next.key.clone();
        match self.current.write() {
            Ok(mut g) => *g = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        Ok(key)
    }

    /// Rotates every `--tls-rotate`, forever. A failed rotation is logged
    /// (its error names no key material) and retried after
    /// [`ROTATE_RETRY`] (or the interval, if shorter), keeping the current
    /// certificate, which stays valid for another interval.
    pub async fn rotate_forever(self: Arc<Self>) {
        let every = self.issuer.rotate;
        let mut wait = every;
        loop {
            tokio::time::sleep(wait).await;
            wait = match self.rotate().await {
                Ok(key) => {
                    tracing::info!("TLS: rotated to certificate {}", hex::encode(key.certificate_sha256));
                    every
                }
                Err(e) => {
                    let retry = ROTATE_RETRY.min(every);
                    tracing::warn!(
                        "TLS: key rotation failed, keeping the current certificate, retrying in {retry:?}: {e}"
                    );
                    retry
                }
            };
        }
    }

    /// The server side of a TLS handshake on `io` (which must replay any
    /// bytes already read), with the current generation. The peer records
    /// that generation's key and whether the client is an operator. The
    /// caller bounds the time it takes.
    pub async fn accept<IO: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: IO,
        client_ip: Option<IpAddr>,
    ) -> std::io::Result<(TlsStream<IO>, Peer)> {
        let generation = self.current();
        let stream = tokio_rustls::TlsAcceptor::from(generation.config.clone()).accept(io).await?;
        // With --operator-ca the verifier accepted any certificate the
        // client presented (or the handshake would have failed).
        let presented = stream.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
        Ok((stream, Peer::tls(client_ip, self.operators && presented, generation.key.clone())))
    }
}

#[cfg(test)]
mod tests;
