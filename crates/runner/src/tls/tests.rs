//! The handshake of [`TlsServer::accept`] over an in-memory pipe: the Peer
//! it builds (operator or not, the key served), and what it refuses.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use sworn_atls::{AttestedServerVerifier, Policy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::peer::Transport;

/// A CA: its PEM certificate and an issuer for client certificates.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key).unwrap();
    Ca { pem: cert.pem(), issuer: Issuer::new(params, key) }
}

fn client_cert(ca: &Ca) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "operator");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (vec![cert.der().clone()], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
}

fn nsm() -> Arc<Nsm> {
    Arc::new(Nsm::development(&sworn_nsm::Measurements::default()).unwrap())
}

async fn server(operator_ca: Option<&Ca>) -> Arc<TlsServer> {
    let operator_ca = operator_ca.map(|ca| OperatorCa::from_pem(ca.pem.as_bytes(), "test CA").unwrap());
    TlsServer::start(TlsConfig { operator_ca, ..TlsConfig::new() }, Some(nsm())).await.unwrap()
}

/// One handshake: the client checks the attested certificate and presents
/// `client` if given, then sends a byte the server echoes. Returns the
/// server's Peer (or its handshake error) and the client's outcome.
async fn handshake(
    server: &TlsServer,
    client: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> (std::io::Result<Peer>, std::io::Result<()>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AttestedServerVerifier::new(Policy::emulator(None))));
    let config = match client {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    let (a, b) = tokio::io::duplex(64 << 10);
    let server_side = async {
        let (mut stream, peer) = server.accept(a, None).await?;
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await?;
        stream.write_all(&byte).await?;
        stream.flush().await?;
        Ok(peer)
    };
    let client_side = async {
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let mut c = connector.connect(ServerName::try_from("localhost").unwrap(), b).await?;
        c.write_all(b"x").await?;
        c.flush().await?;
        let mut byte = [0u8; 1];
        c.read_exact(&mut byte).await?;
        Ok(())
    };
    tokio::join!(server_side, client_side)
}

#[tokio::test]
async fn a_client_certificate_under_the_operator_ca_makes_an_operator() {
    let ops = ca("operators");
    let server = server(Some(&ops)).await;
    let (peer, client) = handshake(&server, Some(client_cert(&ops))).await;
    client.unwrap();
    let peer = peer.unwrap();
    assert_eq!(peer.transport, Transport::Tls { operator: true });
    assert!(peer.is_operator());
    assert_eq!(peer.tls_key, Some(server.current_key()), "the peer records the key it was served");
}

#[tokio::test]
async fn a_client_without_a_certificate_is_served_as_a_non_operator() {
    let ops = ca("operators");
    let server = server(Some(&ops)).await;
    let (peer, client) = handshake(&server, None).await;
    client.unwrap();
    let peer = peer.unwrap();
    assert_eq!(peer.transport, Transport::Tls { operator: false });
    assert!(peer.is_tls() && !peer.is_operator());
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_fails_the_handshake() {
    let ops = ca("operators");
    let other = ca("someone else");
    let server = server(Some(&ops)).await;
    let (peer, _client) = handshake(&server, Some(client_cert(&other))).await;
    let e = peer.unwrap_err();
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
}

#[tokio::test]
async fn without_an_operator_ca_nobody_is_an_operator() {
    let server = server(None).await;
    let (peer, client) = handshake(&server, None).await;
    client.unwrap();
    assert_eq!(peer.unwrap().transport, Transport::Tls { operator: false });
}

#[tokio::test]
async fn rotation_gives_new_handshakes_a_new_key() {
    let server = server(None).await;
    let before = server.current_key();
    let rotated = server.rotate().await.unwrap();
    assert_ne!(before.public_key, rotated.public_key);
    assert_eq!(server.current_key(), rotated);
    let (peer, client) = handshake(&server, None).await;
    client.unwrap();
    assert_eq!(peer.unwrap().tls_key, Some(rotated));
}

#[tokio::test]
async fn tls_needs_attestation() {
    let e = TlsServer::start(TlsConfig::new(), None).await.unwrap_err();
    assert!(matches!(e, TlsError::NoNsm));
    let text = e.to_string();
    assert!(text.contains("--tls") && text.contains("--nsm off"), "{text}");
}

#[test]
fn certificates_outlive_two_rotations_and_start_before_now() {
    let rotate = Duration::from_secs(3600);
    assert_eq!(certificate_lifetime(rotate), CLOCK_SKEW + 2 * rotate);
    assert_eq!(certificate_lifetime(Duration::MAX), Duration::MAX, "saturates");
}

/// The development NSM, made to fail on demand (an NSM that goes away).
struct Flaky {
    inner: sworn_nsm::DevNsm,
    fail: Arc<std::sync::atomic::AtomicBool>,
}

impl sworn_nsm::NsmDevice for Flaky {
    fn process(&self, request: &[u8]) -> std::io::Result<Vec<u8>> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(std::io::Error::other("NSM unavailable"));
        }
        self.inner.process(request)
    }
    fn kind(&self) -> sworn_nsm::DeviceKind {
        self.inner.kind()
    }
    fn describe(&self) -> String {
        "flaky development NSM".into()
    }
}

#[tokio::test]
async fn a_failed_rotation_keeps_the_current_certificate() {
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let inner = sworn_nsm::DevNsm::new(&sworn_nsm::Measurements::default()).unwrap();
    let nsm = Arc::new(Nsm::with_device(Flaky { inner, fail: fail.clone() }));
    let server = TlsServer::start(TlsConfig::new(), Some(nsm)).await.unwrap();
    let before = server.current_key();
    fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let e = server.rotate().await.unwrap_err();
    assert!(matches!(e, TlsError::Random(_)), "{e}");
    assert_eq!(server.current_key(), before, "the current certificate stays");
    let (peer, client) = handshake(&server, None).await;
    client.unwrap();
    assert_eq!(peer.unwrap().tls_key, Some(before.clone()), "and is still served");
    fail.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_ne!(server.rotate().await.unwrap(), before, "the retry succeeds");
}
