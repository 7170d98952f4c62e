//! A runner stand-in for the client's tests: a real rustls server whose
//! certificate is an attested one (an `EnclaveKey` certified with a
//! development-NSM document, as the runner makes it), serving the runner's
//! routes with hyper: `/health`, `/attestation?nonce=`, and the management
//! API with owner credentials and operator mutual TLS.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::server::WebPkiClientVerifier;
use serde_json::{json, Value};
use sworn_atls::EnclaveKey;
use sworn_attestation::binding::TLS_KEY_USER_DATA;
use sworn_attestation::Measurements;
use sworn_nsm::{AttestationRequest, Nsm};

/// The fill byte of the test image's PCRs.
pub const GOOD: u8 = 7;

/// How the server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The enclave: its own key, bound by its document.
    Genuine,
    /// A man in the middle: its own key in a certificate carrying the
    /// genuine enclave's document.
    Mitm,
    /// Genuine certificate, but `/attestation` replays a document made
    /// earlier for another nonce.
    StaleNonce,
}

pub fn pcrs(fill: u8) -> Measurements {
    let p = hex::encode([fill; 48]);
    Measurements::from_json(format!(r#"{{"PCR0":"{p}","PCR1":"{p}","PCR2":"{p}"}}"#).as_bytes(), "test").unwrap()
}

/// Writes a measurements file with every PCR0..2 = `fill`.
pub fn pcrs_file(dir: &Path, fill: u8) -> PathBuf {
    let p = hex::encode([fill; 48]);
    let path = dir.join(format!("pcrs-{fill}.json"));
    let json =
        format!(r#"{{"Measurements":{{"HashAlgorithm":"Sha384 {{ ... }}","PCR0":"{p}","PCR1":"{p}","PCR2":"{p}"}}}}"#);
    std::fs::write(&path, json).unwrap();
    path
}

fn document(nsm: &Nsm, key: &[u8], nonce: Option<&[u8]>) -> Vec<u8> {
    let req = AttestationRequest::new(Some(TLS_KEY_USER_DATA.to_vec()), nonce.map(<[u8]>::to_vec), Some(key.to_vec()))
        .unwrap();
    nsm.attest(&req).unwrap().bytes
}

/// A worker as the test server keeps it.
#[derive(Debug, Clone)]
pub struct Worker {
    pub id: String,
    pub name: String,
    pub credential: String,
    pub code: String,
    pub body: Value,
}

/// What the server saw, for assertions.
#[derive(Debug, Default)]
pub struct Seen {
    pub workers: BTreeMap<String, Worker>,
    /// `Authorization` headers of management requests, in order.
    pub authorizations: Vec<Option<String>>,
    /// Whether each management request came with an operator certificate.
    pub operator: Vec<bool>,
}

/// An operator CA and a client certificate under it, as PEM files.
pub struct Operator {
    pub ca_der: rustls_pki_types::CertificateDer<'static>,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Operator {
    pub fn new(dir: &Path) -> Operator {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "test operator CA");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "operator");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        let cert_path = dir.join("operator.pem");
        let key_path = dir.join("operator.key");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        Operator { ca_der: ca.der().clone(), cert: cert_path, key: key_path }
    }
}

/// A running test server; stops when dropped.
pub struct Server {
    pub url: String,
    pub port: u16,
    /// HTTP requests served (any route).
    pub requests: Arc<AtomicUsize>,
    /// TLS handshakes the server completed.
    pub handshakes: Arc<AtomicUsize>,
    pub seen: Arc<Mutex<Seen>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

struct State {
    nsm: Nsm,
    /// The key `/attestation` documents bind (the enclave's, also in MITM mode).
    enclave_spki: Vec<u8>,
    mode: Mode,
    stale: Vec<u8>,
    requests: Arc<AtomicUsize>,
    seen: Arc<Mutex<Seen>>,
    next_id: AtomicUsize,
}

impl Server {
    pub fn start(mode: Mode) -> Server {
        Server::start_with(mode, None)
    }

    /// With `operator`, client certificates under its CA are accepted (optional).
    pub fn start_with(mode: Mode, operator: Option<&Operator>) -> Server {
        let nsm = Nsm::development(&pcrs(GOOD)).unwrap();
        let key = EnclaveKey::generate(&nsm.get_random().unwrap()).unwrap();
        let doc = document(&nsm, key.public_key_der(), None);
        let names = ["localhost".to_owned()];
        let certified = match mode {
            Mode::Mitm => {
                let mitm = EnclaveKey::generate(&[9; 32]).unwrap();
                mitm.certify(&doc, &names, SystemTime::now(), Duration::from_secs(86_400)).unwrap()
            }
            _ => key.certify(&doc, &names, SystemTime::now(), Duration::from_secs(86_400)).unwrap(),
        };
        let stale = document(&nsm, key.public_key_der(), Some(&[0x5a; 32]));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match operator {
            Some(op) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(op.ca_der.clone()).unwrap();
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .allow_unauthenticated()
                    .build()
                    .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let requests = Arc::new(AtomicUsize::new(0));
        let handshakes = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let state = Arc::new(State {
            nsm,
            enclave_spki: key.public_key_der().to_vec(),
            mode,
            stale,
            requests: requests.clone(),
            seen: seen.clone(),
            next_id: AtomicUsize::new(1),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let hs = handshakes.clone();
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let acceptor = acceptor.clone();
                let state = state.clone();
                let hs = hs.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    hs.fetch_add(1, Ordering::SeqCst);
                    let operator = tls.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(route(&state, operator, req).await) }
                    });
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
        Server { url: format!("https://127.0.0.1:{port}"), port, requests, handshakes, seen, runtime: Some(runtime) }
    }
}

fn json_response(status: StatusCode, v: Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", "application/json".parse().unwrap());
    r
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json_response(status, json!({ "error": message }))
}

async fn route(state: &State, operator: bool, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (&method, segments.as_slice()) {
        (&Method::GET, ["health"]) => json_response(StatusCode::OK, json!({ "ok": true })),
        (&Method::GET, ["attestation"]) => {
            let Some(nonce) = query.strip_prefix("nonce=").and_then(|h| hex::decode(h).ok()) else {
                return error(StatusCode::BAD_REQUEST, "nonce: not hex");
            };
            let doc = match state.mode {
                Mode::StaleNonce => state.stale.clone(),
                _ => document(&state.nsm, &state.enclave_spki, Some(&nonce)),
            };
            let mut r = Response::new(Full::new(Bytes::from(doc)));
            r.headers_mut().insert("content-type", "application/cbor".parse().unwrap());
            r
        }
        (&Method::POST, ["workers"]) => {
            let Ok(v) = serde_json::from_slice::<Value>(&body) else {
                return error(StatusCode::BAD_REQUEST, "the request body could not be parsed as JSON");
            };
            let (Some(name), Some(code)) = (v["name"].as_str(), v["code"].as_str()) else {
                return error(StatusCode::BAD_REQUEST, "field \"name\" is required");
            };
            let mut seen = state.seen.lock().unwrap();
            if seen.workers.values().any(|w| w.name == name) {
                return error(StatusCode::CONFLICT, &format!("a worker named {name:?} exists"));
            }
            let id = format!("{:016x}", state.next_id.fetch_add(1, Ordering::SeqCst));
            let mut cred = [0u8; 16];
            getrandom::fill(&mut cred).unwrap();
            let w = Worker {
                id: id.clone(),
                name: name.to_owned(),
                credential: hex::encode(cred),
                code: code.to_owned(),
                body: v.clone(),
            };
            seen.workers.insert(id.clone(), w.clone());
            json_response(
                StatusCode::CREATED,
                json!({ "id": id, "name": name, "measurement": "ab".repeat(32), "credential": w.credential }),
            )
        }
        (&Method::GET, ["workers"]) => {
            let seen = state.seen.lock().unwrap();
            let list: Vec<Value> = seen
                .workers
                .values()
                .map(|w| json!({ "id": w.id, "name": w.name, "measurement": "ab".repeat(32) }))
                .collect();
            json_response(StatusCode::OK, json!({ "workers": list }))
        }
        (_, ["workers", key, rest @ ..]) => {
            let mut seen = state.seen.lock().unwrap();
            seen.authorizations.push(auth.clone());
            seen.operator.push(operator);
            let Some(w) = seen.workers.values().find(|w| w.id == *key || w.name == *key).cloned() else {
                return error(StatusCode::NOT_FOUND, &format!("no worker with id or name {key:?}"));
            };
            let owner = auth.as_deref() == Some(&format!("Bearer {}", w.credential));
            if !owner && !operator {
                return error(StatusCode::UNAUTHORIZED, "this needs the worker's owner credential");
            }
            match (&method, rest) {
                (&Method::GET, []) => json_response(StatusCode::OK, json!({ "id": w.id, "name": w.name })),
                (&Method::GET, ["logs"]) => json_response(
                    StatusCode::OK,
                    json!({ "lines": [{ "time": 1_700_000_000_000u64, "level": "log", "message": format!("hello from {}", w.name) }], "dropped": 2 }),
                ),
                (&Method::DELETE, []) => {
                    seen.workers.remove(&w.id);
                    let mut r = Response::new(Full::default());
                    *r.status_mut() = StatusCode::NO_CONTENT;
                    r
                }
                _ => error(StatusCode::NOT_FOUND, "no route"),
            }
        }
        _ => error(StatusCode::NOT_FOUND, &format!("no route for {method} {path}")),
    }
}

/// Runs the built `sworn` with `args`.
pub fn sworn(args: &[&str]) -> std::process::Output {
    sworn_env(args, &[])
}

pub fn sworn_env(args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sworn"));
    cmd.args(args).env_remove("XDG_CONFIG_HOME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
