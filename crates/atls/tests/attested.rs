//! The attested certificate end to end: a key, a development-NSM document
//! binding it, the certificate, and what clients accept and refuse —
//! including over a real rustls handshake.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sworn_atls::{verify_certificate, verify_fresh_document, AttestedServerVerifier, EnclaveKey, Policy, VerifyError};
use sworn_attestation::binding::TLS_KEY_USER_DATA;
use sworn_attestation::Measurements;
use sworn_nsm::{AttestationRequest, Nsm};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DAY: Duration = Duration::from_secs(86_400);

fn now() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn pcrs(fill: u8) -> Measurements {
    let p = hex::encode([fill; 48]);
    let json = format!(r#"{{"PCR0":"{p}","PCR1":"{p}","PCR2":"{p}"}}"#);
    Measurements::from_json(json.as_bytes(), "test").unwrap()
}

fn document(nsm: &Nsm, public_key: &[u8], user_data: &[u8], nonce: Option<&[u8]>) -> Vec<u8> {
    let req = AttestationRequest::new(Some(user_data.to_vec()), nonce.map(<[u8]>::to_vec), Some(public_key.to_vec()))
        .unwrap();
    nsm.attest(&req).unwrap().bytes
}

struct Fixture {
    nsm: Nsm,
    key: EnclaveKey,
    doc: Vec<u8>,
}

fn fixture() -> Fixture {
    let nsm = Nsm::development(&pcrs(7)).unwrap();
    let key = EnclaveKey::generate(&nsm.get_random().unwrap()).unwrap();
    let doc = document(&nsm, key.public_key_der(), TLS_KEY_USER_DATA, None);
    Fixture { nsm, key, doc }
}

fn cert_der(key: &EnclaveKey, doc: &[u8]) -> Vec<u8> {
    key.certify(doc, &["localhost".into()], SystemTime::now(), DAY).unwrap().cert[0].to_vec()
}

#[test]
fn a_bound_certificate_verifies_with_the_right_pcrs_and_says_it_is_unauthenticated() {
    let f = fixture();
    let v = verify_certificate(&cert_der(&f.key, &f.doc), &Policy::emulator(Some(pcrs(7))), now()).unwrap();
    assert_eq!(v.public_key, f.key.public_key_der());
    assert!(!v.authenticated(), "development documents authenticate nothing");
    assert_eq!(v.to_json()["kind"], "development");
}

#[test]
fn development_documents_need_the_emulator_policy() {
    let f = fixture();
    let e = verify_certificate(&cert_der(&f.key, &f.doc), &Policy::aws(None), now()).unwrap_err();
    assert!(matches!(e, VerifyError::Development), "{e}");
}

#[test]
fn other_pcrs_are_refused_naming_the_pcr() {
    let f = fixture();
    let e = verify_certificate(&cert_der(&f.key, &f.doc), &Policy::emulator(Some(pcrs(8))), now()).unwrap_err();
    assert!(matches!(e, VerifyError::Claims(_)), "{e}");
    assert!(e.to_string().contains("PCR0"), "{e}");
}

#[test]
fn a_genuine_document_in_another_keys_certificate_is_refused() {
    let f = fixture();
    let mitm = EnclaveKey::generate(&[9; 32]).unwrap();
    let e = verify_certificate(&cert_der(&mitm, &f.doc), &Policy::emulator(None), now()).unwrap_err();
    assert!(matches!(e, VerifyError::KeyMismatch { .. }), "{e}");
}

#[test]
fn a_document_made_for_other_user_data_is_not_a_binding() {
    let f = fixture();
    let doc = document(&f.nsm, f.key.public_key_der(), b"worker data", None);
    let e = verify_certificate(&cert_der(&f.key, &doc), &Policy::emulator(None), now()).unwrap_err();
    assert!(matches!(e, VerifyError::NotTlsBinding(_)), "{e}");
}

#[test]
fn expired_certificates_and_plain_certificates_are_refused() {
    let f = fixture();
    let old = f.key.certify(&f.doc, &[], SystemTime::now() - 3 * DAY, DAY).unwrap().cert[0].to_vec();
    assert!(matches!(verify_certificate(&old, &Policy::emulator(None), now()), Err(VerifyError::Validity { .. })));
    let plain = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap().cert.der().to_vec();
    assert!(matches!(verify_certificate(&plain, &Policy::emulator(None), now()), Err(VerifyError::NoExtension)));
    assert!(matches!(
        verify_certificate(b"\x30\x03junk", &Policy::emulator(None), now()),
        Err(VerifyError::Certificate(_))
    ));
}

#[test]
fn a_fresh_document_must_carry_the_nonce_and_the_connection_key() {
    let f = fixture();
    let nonce = [0xab; 32];
    let fresh = document(&f.nsm, f.key.public_key_der(), TLS_KEY_USER_DATA, Some(&nonce));
    let policy = Policy::emulator(Some(pcrs(7)));
    verify_fresh_document(&fresh, f.key.public_key_der(), &nonce, &policy).unwrap();
    let e = verify_fresh_document(&fresh, f.key.public_key_der(), &[0xcd; 32], &policy).unwrap_err();
    assert!(e.to_string().contains("nonce"), "a stale nonce: {e}");
    let other = EnclaveKey::generate(&[3; 32]).unwrap();
    let e = verify_fresh_document(&fresh, other.public_key_der(), &nonce, &policy).unwrap_err();
    assert!(matches!(e, VerifyError::KeyMismatch { .. }), "{e}");
}

#[test]
fn the_certificate_and_the_fresh_document_share_one_remembered_chain() {
    let f = fixture();
    let policy = Policy::emulator(Some(pcrs(7)));
    assert!(policy.chains.is_empty());
    // The verifier and the connection hold clones of the client's policy.
    let (in_handshake, on_connection) = (policy.clone(), policy.clone());
    verify_certificate(&cert_der(&f.key, &f.doc), &in_handshake, now()).unwrap();
    assert_eq!(policy.chains.len(), 1, "the certificate's chain is remembered");
    let nonce = [0x11; 32];
    let fresh = document(&f.nsm, f.key.public_key_der(), TLS_KEY_USER_DATA, Some(&nonce));
    verify_fresh_document(&fresh, f.key.public_key_der(), &nonce, &on_connection).unwrap();
    assert_eq!(policy.chains.len(), 1, "the fresh document carries the same chain");
    // Claims are still checked on a remembered chain.
    let e = verify_fresh_document(&fresh, f.key.public_key_der(), &[0x22; 32], &on_connection).unwrap_err();
    assert!(e.to_string().contains("nonce"), "{e}");
}

#[tokio::test]
async fn a_handshake_succeeds_only_with_the_attested_key() {
    let f = fixture();
    let genuine = f.key.certify(&f.doc, &["localhost".into()], SystemTime::now(), DAY).unwrap();
    let echoed = serve_once(genuine, Policy::emulator(Some(pcrs(7)))).await.unwrap();
    assert_eq!(echoed, b"ping");
    // A man in the middle with its own key and the genuine document.
    let mitm = EnclaveKey::generate(&[5; 32]).unwrap();
    let forged = mitm.certify(&f.doc, &["localhost".into()], SystemTime::now(), DAY).unwrap();
    let e = serve_once(forged, Policy::emulator(None)).await.unwrap_err();
    let why = sworn_atls::handshake_failure(&e).expect("the handshake failed on the attestation");
    assert!(matches!(why, VerifyError::KeyMismatch { .. }), "{why}");
}

/// Runs one TLS connection over an in-memory pipe: the server presents
/// `key`, the client verifies with `policy`, sends "ping" and reads it back.
async fn serve_once(key: Arc<rustls::sign::CertifiedKey>, policy: Policy) -> Result<Vec<u8>, std::io::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(key)));
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AttestedServerVerifier::new(policy)))
        .with_no_client_auth();
    let (a, b) = tokio::io::duplex(64 << 10);
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let server_task = tokio::spawn(async move {
        let mut s = acceptor.accept(a).await?;
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await?;
        s.write_all(&buf).await?;
        s.flush().await?;
        Ok::<_, std::io::Error>(())
    });
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut c = connector.connect(name, b).await?;
    c.write_all(b"ping").await?;
    let mut out = vec![0u8; 4];
    c.read_exact(&mut out).await?;
    let _ = server_task.await;
    Ok(out)
}
