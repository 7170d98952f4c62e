//! Test harness: a runner in this process on an ephemeral loopback port and
//! a small HTTP client.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use sworn_runner::app::{start, RunnerConfig, Running};
use sworn_runner::engine::PoolConfig;
use sworn_runner::http_client::NoNetwork;
use sworn_runner::limits::Limits;
use sworn_runner::tls::TlsConfig;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use sworn_atls::{AttestedServerVerifier, Policy};

/// The path of a WASI workload of `examples/wasi` that `make wasi-examples`
/// built (`$SWORN_WASI_DIR`, else the clone's `build/wasi`); the tests that
/// read it fail when it is missing.
pub fn wasi_example(name: &str) -> std::path::PathBuf {
    let dir = std::env::var_os("SWORN_WASI_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/wasi"));
    dir.join(format!("{name}.wasm"))
}

pub struct TestRunner {
    pub base: String,
    pub running: Option<Running>,
    client: hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    /// The credential of every worker `create` made, by id and by name.
    credentials: Mutex<HashMap<String, String>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// Checks the answer of a WPT-style fixture (tests/wpt/harness.js): a
    /// non-empty JSON array of results, every one `PASS`.
    pub fn assert_all_passed(&self, name: &str) {
        assert_eq!(self.status, 200, "{name}: {}", self.text());
        let results = self.json();
        let results = results.as_array().expect("results array");
        assert!(!results.is_empty(), "{name}: no tests ran");
        let failed: Vec<String> = results
            .iter()
            .filter(|t| t["status"] != "PASS")
            .map(|t| format!("  {}: {}", t["name"], t["message"]))
            .collect();
        assert!(failed.is_empty(), "{name}: {} of {} failed\n{}", failed.len(), results.len(), failed.join("\n"));
    }
}

pub fn test_limits() -> Limits {
    Limits {
        cpu_time: Duration::from_millis(300),
        // Generous: CPU-limit tests must hit the CPU limit, not this, even on
        // a loaded 2-core CI machine.
        request_timeout: Duration::from_secs(15),
        memory_bytes: 32 << 20,
        ..Limits::default()
    }
}

impl TestRunner {
    pub async fn start(limits: Limits) -> TestRunner {
        Self::start_with(limits, Arc::new(NoNetwork), Arc::new(Vec::new())).await
    }

    pub async fn start_with(
        limits: Limits,
        http: Arc<dyn sworn_runner::http_client::HttpClient>,
        bindings: sworn_runner::engine::bindings::Bindings,
    ) -> TestRunner {
        Self::start_full(limits, http, bindings, None).await
    }

    /// A runner journaling to (and restoring from) `state_dir` when given.
    pub async fn start_full(
        limits: Limits,
        http: Arc<dyn sworn_runner::http_client::HttpClient>,
        bindings: sworn_runner::engine::bindings::Bindings,
        state_dir: Option<std::path::PathBuf>,
    ) -> TestRunner {
        Self::start_config(limits, http, bindings, state_dir, None).await
    }

    /// A runner with `--tls` as `tls` says (and the development NSM).
    /// `base` stays `http://…`: `get` and friends speak plain HTTP to it;
    /// [`tls_connect`] speaks TLS.
    pub async fn start_tls(limits: Limits, tls: TlsConfig) -> TestRunner {
        Self::start_config(limits, Arc::new(NoNetwork), Arc::new(Vec::new()), None, Some(tls)).await
    }

    async fn start_config(
        limits: Limits,
        http: Arc<dyn sworn_runner::http_client::HttpClient>,
        bindings: sworn_runner::engine::bindings::Bindings,
        state_dir: Option<std::path::PathBuf>,
        tls: Option<TlsConfig>,
    ) -> TestRunner {
        let running = start(RunnerConfig {
            listen: "tcp:127.0.0.1:0".parse().expect("endpoint"),
            pool: PoolConfig {
                threads: 2,
                limits,
                http,
                bindings,
                nsm: Some(std::sync::Arc::new(
                    sworn_nsm::Nsm::development(&sworn_nsm::Measurements::default()).expect("development NSM"),
                )),
            },
            workers: Vec::new(),
            drain_timeout: Duration::from_secs(2),
            state_dir,
            tls,
            gas_key: None,
        })
        .await
        .expect("runner starts");
        let base = match running.local.to_string().strip_prefix("tcp:") {
            Some(addr) => format!("http://{addr}"),
            None => panic!("unexpected local endpoint {}", running.local),
        };
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        TestRunner { base, running: Some(running), client, credentials: Mutex::default() }
    }

    /// A client for a runner that is already listening at `base` (for
    /// example the real binary), without one of its own.
    pub fn connect(base: String) -> TestRunner {
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        TestRunner { base, running: None, client, credentials: Mutex::default() }
    }

    pub async fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Reply {
        let mut b = http::Request::builder().method(method).uri(format!("{}{}", self.base, path));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(body.into())).expect("request");
        let resp = tokio::time::timeout(Duration::from_secs(60), self.client.request(req))
            .await
            .expect("response within 60s")
            .expect("HTTP exchange");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], Bytes::new()).await
    }

    /// `POST /workers` with a JSON body; remembers the credential of a
    /// worker it made (see [`TestRunner::owner_get`]).
    pub async fn create(&self, body: impl ToString) -> Reply {
        let r = self.request("POST", "/workers", &[("content-type", "application/json")], body.to_string()).await;
        if r.status == 201 {
            let v = r.json();
            if let (Some(id), Some(name), Some(c)) = (v["id"].as_str(), v["name"].as_str(), v["credential"].as_str()) {
                let mut map = self.credentials.lock().expect("credentials");
                map.insert(id.to_string(), c.to_string());
                map.insert(name.to_string(), c.to_string());
            }
        }
        r
    }

    /// Makes `owner_request` use `credential` for `key` (for a client of a
    /// restarted runner, which did not see the create).
    pub fn remember(&self, key: &str, credential: &str) {
        self.credentials.lock().expect("credentials").insert(key.to_string(), credential.to_string());
    }

    /// The credential `create` got for the worker with this id or name.
    pub fn credential(&self, key: &str) -> Option<String> {
        self.credentials.lock().expect("credentials").get(key).cloned()
    }

    /// A request to `/workers/{key}…` with the owner's credential of `key`
    /// (which `create` must have made).
    pub async fn owner_request(&self, method: &str, path: &str, body: impl Into<Bytes>) -> Reply {
        let key = path.strip_prefix("/workers/").and_then(|p| p.split('/').next()).expect("a /workers/{key} path");
        let credential = self.credential(key).unwrap_or_else(|| panic!("no credential for worker {key:?}"));
        let bearer = format!("Bearer {credential}");
        self.request(method, path, &[("authorization", bearer.as_str())], body).await
    }

    /// `GET` of a worker's details or logs, as its owner.
    pub async fn owner_get(&self, path: &str) -> Reply {
        self.owner_request("GET", path, Bytes::new()).await
    }

    /// Deploys `code` through `POST /workers` and returns its id.
    pub async fn deploy(&self, name: &str, kind: &str, code: &str) -> String {
        let r = self.create(serde_json::json!({ "code": code, "type": kind, "name": name })).await;
        assert_eq!(r.status, 201, "deploy {name}: {}", r.text());
        r.json()["id"].as_str().expect("id").to_string()
    }

    pub async fn fetch(&self, worker: &str, path: &str) -> Reply {
        self.get(&format!("/workers/{worker}/fetch/{path}")).await
    }

    /// host:port of the listener.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

/// Now, as the certificate checks take it.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A client certificate chain and its key.
pub type ClientIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// A CA made for a test: its PEM certificate and an issuer of client certificates.
pub struct TestCa {
    pub pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = rcgen::KeyPair::generate().expect("CA key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::DigitalSignature];
        let cert = params.self_signed(&key).expect("CA certificate");
        TestCa { pem: cert.pem(), issuer: rcgen::Issuer::new(params, key) }
    }

    /// A client certificate (clientAuth) under this CA.
    pub fn client(&self, name: &str) -> ClientIdentity {
        let key = rcgen::KeyPair::generate().expect("client key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("client params");
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.issuer).expect("client certificate");
        (vec![cert.der().clone()], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
    }
}

/// The client configuration of an attested-TLS client of the development
/// NSM's documents (`sworn_atls::Policy::emulator`): it accepts only a
/// certificate whose document binds its key.
pub fn attested_client_config(identity: Option<ClientIdentity>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AttestedServerVerifier::new(Policy::emulator(None))));
    let mut config = match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).expect("client certificate"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// The bytes of a real ClientHello, as an attested client would send them.
pub fn client_hello() -> Vec<u8> {
    let name = ServerName::try_from("localhost").expect("name");
    let mut conn = rustls::ClientConnection::new(Arc::new(attested_client_config(None)), name).expect("client");
    let mut out = Vec::new();
    conn.write_tls(&mut out).expect("ClientHello");
    out
}

/// An HTTP/1.1 connection over attested TLS to the runner.
pub struct TlsClient {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    /// The server's certificate (DER).
    pub certificate: Vec<u8>,
    /// What `sworn_atls::verify_certificate` established about it when the
    /// handshake completed (the handshake's own verifier checked the same).
    pub verified: sworn_atls::Verified,
}

impl TlsClient {
    /// The connection's TLS key (DER SubjectPublicKeyInfo).
    pub fn public_key(&self) -> &[u8] {
        &self.verified.public_key
    }

    pub async fn get(&mut self, path: &str) -> Result<Reply, hyper::Error> {
        self.request("GET", path, &[], Bytes::new()).await
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Reply, hyper::Error> {
        let mut req = http::Request::builder().method(method).uri(path).header("host", "localhost");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(body.into())).expect("request");
        self.sender.ready().await?;
        let resp = tokio::time::timeout(Duration::from_secs(60), self.sender.send_request(req))
            .await
            .expect("response within 60s")?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Reply { status, headers, body })
    }
}

/// Connects to `addr` over attested TLS (presenting `identity` if given)
/// and starts HTTP/1.1 on it.
pub async fn tls_connect(addr: &str, identity: Option<ClientIdentity>) -> std::io::Result<TlsClient> {
    tls_handshake(tokio::net::TcpStream::connect(addr).await?, identity).await
}

/// The same on a connection already open (after a PROXY header, say).
pub async fn tls_handshake(tcp: tokio::net::TcpStream, identity: Option<ClientIdentity>) -> std::io::Result<TlsClient> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(attested_client_config(identity)));
    let name = ServerName::try_from("localhost").expect("name");
    let stream = tokio::time::timeout(Duration::from_secs(60), connector.connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake took over 60s"))??;
    let certificate = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .ok_or_else(|| std::io::Error::other("server sent no certificate"))?;
    let verified = sworn_atls::verify_certificate(&certificate, &Policy::emulator(None), unix_now())
        .map_err(std::io::Error::other)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    Ok(TlsClient { sender, certificate, verified })
}
