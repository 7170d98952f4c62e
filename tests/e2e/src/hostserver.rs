//! Servers on the host that workers in the enclave fetch from through
//! host-proxy: plain HTTP, and HTTPS under a CA made for the test run (the
//! enclave trusts it only in an image built with that CA).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::{io_err, E2eError, Result};

/// A CA and a server certificate for `localhost` and 127.0.0.1; it also
/// issues client certificates (an operator's, for `--operator-ca`).
pub struct TestCa {
    pub ca_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

/// A client certificate and its key, PEM.
pub struct ClientIdentity {
    pub cert_pem: String,
    pub key_pem: String,
}

fn tls_err(what: &str) -> impl FnOnce(rcgen::Error) -> E2eError + '_ {
    move |e| E2eError::Protocol(format!("{what}: {e}"))
}

impl TestCa {
    pub fn new() -> Result<Self> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        let ca_key = KeyPair::generate().map_err(tls_err("CA key"))?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(tls_err("CA parameters"))?;
        ca.distinguished_name.push(DnType::CommonName, "sworn e2e test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca_cert = ca.self_signed(&ca_key).map_err(tls_err("CA certificate"))?;
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().map_err(tls_err("server key"))?;
        let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .map_err(tls_err("server parameters"))?;
        let cert = leaf.signed_by(&key, &issuer).map_err(tls_err("server certificate"))?;
        Ok(Self { ca_pem: ca_cert.pem(), cert_der: cert.der().clone(), key_der: key.serialize_der(), issuer })
    }

    /// A client-authentication certificate for `common_name` under this CA.
    pub fn client_identity(&self, common_name: &str) -> Result<ClientIdentity> {
        use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
        let key = KeyPair::generate().map_err(tls_err("client key"))?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err("client parameters"))?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.issuer).map_err(tls_err("client certificate"))?;
        Ok(ClientIdentity { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

/// A server answering every request with `200 <scheme> hello from the host:
/// <path>`; it records `METHOD PATH` of each request. Stops when dropped.
pub struct HostServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl HostServer {
    pub fn http() -> Result<Self> {
        Self::start(None)
    }

    pub fn https(ca: &TestCa) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| E2eError::Protocol(format!("TLS versions: {e}")))?
            .with_no_client_auth()
            .with_single_cert(
                vec![ca.cert_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ca.key_der.clone())),
            )
            .map_err(|e| E2eError::Protocol(format!("TLS server certificate: {e}")))?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self::start(Some(Arc::new(cfg)))
    }

    fn start(tls: Option<Arc<rustls::ServerConfig>>) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(io_err("bind a test server on 127.0.0.1"))?;
        let addr = listener.local_addr().map_err(io_err("test server address"))?;
        listener.set_nonblocking(true).map_err(io_err("test server nonblocking"))?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, halt) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (log, tls) = (log.clone(), tls.clone());
                        std::thread::spawn(move || serve(conn, tls, &log));
                    }
                    Err(_) => sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(Self { addr, requests, stop })
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for HostServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(conn: TcpStream, tls: Option<Arc<rustls::ServerConfig>>, log: &Mutex<Vec<String>>) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    match tls {
        None => exchange(conn, "http", log),
        Some(cfg) => {
            let Ok(session) = rustls::ServerConnection::new(cfg) else {
                return;
            };
            exchange(rustls::StreamOwned::new(session, conn), "https", log)
        }
    }
}

fn exchange(mut stream: impl Read + Write, scheme: &str, log: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    log.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{method} {path}"));
    let body = format!("{scheme} hello from the host: {path}");
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes());
    let _ = stream.flush();
}
