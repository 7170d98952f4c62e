//! Test fixtures: a CA made per test run, an HTTPS (and HTTP) server with a
//! few routes, and a minimal SOCKS5 server with an allow/deny rule and a
//! recording of what it relayed. Everything listens on loopback only.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener};

pub struct TestCa {
    pub ca_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key_der: Vec<u8>,
    pub dir: tempfile::TempDir,
}

impl TestCa {
    /// A CA and a server certificate for `localhost` and 127.0.0.1.
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name.push(DnType::CommonName, "sworn egress test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        Self {
            ca_pem: ca_cert.pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn ca_file(&self) -> PathBuf {
        let path = self.dir.path().join("ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }
}

/// What the HTTPS server saw.
#[derive(Default)]
pub struct ServerLog {
    pub requests: Mutex<Vec<(String, http::Version, Option<String>)>>,
    pub connections: AtomicUsize,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub log: Arc<ServerLog>,
}

/// Starts a server; `tls` with the given ALPN list, or plain HTTP.
pub async fn start_server(ca: Option<&TestCa>, alpn: &[&[u8]]) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(ServerLog::default());
    let acceptor = ca.map(|ca| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![ca.cert_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ca.key_der.clone())),
            )
            .unwrap();
        cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
    });
    let log2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let _ = tcp.set_nodelay(true);
            log2.connections.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let log = log2.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| handle(req, addr, log.clone()));
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                match acceptor {
                    Some(acceptor) => {
                        let Ok(tls) = acceptor.accept(tcp).await else { return };
                        let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(tcp), svc).await;
                    }
                }
            });
        }
    });
    TestServer { addr, log }
}

/// A body of `remaining` bytes in chunks, optionally slowly, with no
/// Content-Length.
pub struct SlowBody {
    remaining: usize,
    chunk: usize,
    delay: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body for SlowBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        if !self.delay.is_zero() {
            let delay = self.delay;
            let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        let n = self.remaining.min(self.chunk);
        self.remaining -= n;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; n])))))
    }
}

use std::future::Future as _;

type BoxBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

fn full(s: impl Into<Bytes>) -> BoxBody {
    use http_body_util::BodyExt;
    http_body_util::Full::new(s.into()).boxed()
}

fn redirect(status: u16, to: String) -> Response<BoxBody> {
    Response::builder().status(status).header("location", to).body(full("")).unwrap()
}

async fn handle(
    req: Request<Incoming>,
    addr: SocketAddr,
    log: Arc<ServerLog>,
) -> Result<Response<BoxBody>, Infallible> {
    use http_body_util::BodyExt;
    let path = req.uri().path().to_string();
    let auth = req.headers().get("authorization").map(|v| v.to_str().unwrap_or("").to_string());
    log.requests.lock().unwrap().push((path.clone(), req.version(), auth.clone()));
    let method = req.method().clone();
    let version = format!("{:?}", req.version());
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let resp = match parts.as_slice() {
        ["hello"] => Response::builder().header("x-seen-version", version).body(full("hello")).unwrap(),
        ["secret"] => Response::builder().body(full("TOP-SECRET-RESPONSE-BODY")).unwrap(),
        ["echo"] => {
            let ct = req.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_string());
            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let text = format!(
                "{method} {} auth={} ct={}",
                String::from_utf8_lossy(&body),
                auth.unwrap_or_else(|| "-".into()),
                ct.unwrap_or_else(|| "-".into())
            );
            Response::builder().body(full(text)).unwrap()
        }
        ["redirect", n] => {
            let n: u32 = n.parse().unwrap_or(0);
            if n == 0 {
                Response::builder().body(full("done")).unwrap()
            } else {
                redirect(302, format!("/redirect/{}", n - 1))
            }
        }
        ["loop"] => redirect(302, "/loop".into()),
        ["status", code, rest @ ..] => redirect(code.parse().unwrap_or(302), format!("/{}", rest.join("/"))),
        ["cross"] => redirect(307, format!("https://127.0.0.1:{}/echo", addr.port())),
        ["big", n] => Response::builder()
            .body(BoxBody::new(SlowBody {
                remaining: n.parse().unwrap_or(0),
                chunk: 1000,
                delay: Duration::ZERO,
                sleep: None,
            }))
            .unwrap(),
        ["big-cl", n] => Response::builder().body(full(vec![b'y'; n.parse().unwrap_or(0)])).unwrap(),
        ["slow-head"] => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Response::builder().body(full("late")).unwrap()
        }
        ["slow-body"] => Response::builder()
            .body(BoxBody::new(SlowBody { remaining: 10, chunk: 1, delay: Duration::from_millis(200), sleep: None }))
            .unwrap(),
        _ => Response::builder().status(StatusCode::NOT_FOUND).body(full("not found")).unwrap(),
    };
    Ok(resp)
}

/// What the SOCKS5 server saw and relayed.
#[derive(Default)]
pub struct SocksLog {
    /// (ATYP, host, port) of each CONNECT.
    pub connects: Mutex<Vec<(u8, String, u16)>>,
    /// Every byte relayed client -> target and target -> client.
    pub upstream: Mutex<Vec<u8>>,
    pub downstream: Mutex<Vec<u8>>,
    pub sessions: AtomicUsize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SocksBehaviour {
    /// Relay, refusing host names in `deny` with reply 0x02.
    Relay,
    /// Accept the TCP connection and never answer.
    Silent,
}

pub struct SocksServer {
    pub endpoint: sworn_net::Endpoint,
    pub log: Arc<SocksLog>,
}

/// A minimal RFC 1928 server: no auth, CONNECT only, loopback targets only.
pub async fn start_socks(deny: &[&str], behaviour: SocksBehaviour, unix: Option<&Path>) -> SocksServer {
    let log = Arc::new(SocksLog::default());
    let deny: Arc<Vec<String>> = Arc::new(deny.iter().map(|s| s.to_string()).collect());
    let endpoint;
    match unix {
        Some(path) => {
            let listener = UnixListener::bind(path).unwrap();
            endpoint = sworn_net::Endpoint::Unix(path.to_path_buf());
            let log = log.clone();
            tokio::spawn(async move {
                while let Ok((s, _)) = listener.accept().await {
                    tokio::spawn(socks_session(s, deny.clone(), behaviour, log.clone()));
                }
            });
        }
        None => {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            endpoint = sworn_net::Endpoint::Tcp { host: "127.0.0.1".into(), port: addr.port() };
            let log = log.clone();
            tokio::spawn(async move {
                while let Ok((s, _)) = listener.accept().await {
                    let _ = s.set_nodelay(true);
                    tokio::spawn(socks_session(s, deny.clone(), behaviour, log.clone()));
                }
            });
        }
    }
    SocksServer { endpoint, log }
}

async fn socks_session<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    deny: Arc<Vec<String>>,
    behaviour: SocksBehaviour,
    log: Arc<SocksLog>,
) {
    log.sessions.fetch_add(1, Ordering::SeqCst);
    if behaviour == SocksBehaviour::Silent {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return;
    }
    let mut hello = [0u8; 2];
    if s.read_exact(&mut hello).await.is_err() || hello[0] != 5 {
        return;
    }
    let mut methods = vec![0u8; hello[1] as usize];
    if s.read_exact(&mut methods).await.is_err() || !methods.contains(&0) {
        let _ = s.write_all(&[5, 0xFF]).await;
        return;
    }
    let _ = s.write_all(&[5, 0]).await;
    let mut head = [0u8; 4];
    if s.read_exact(&mut head).await.is_err() {
        return;
    }
    let host = match head[3] {
        1 => {
            let mut a = [0u8; 4];
            let _ = s.read_exact(&mut a).await;
            std::net::Ipv4Addr::from(a).to_string()
        }
        4 => {
            let mut a = [0u8; 16];
            let _ = s.read_exact(&mut a).await;
            std::net::Ipv6Addr::from(a).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            let _ = s.read_exact(&mut len).await;
            let mut name = vec![0u8; len[0] as usize];
            let _ = s.read_exact(&mut name).await;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return,
    };
    let mut port = [0u8; 2];
    let _ = s.read_exact(&mut port).await;
    let port = u16::from_be_bytes(port);
    log.connects.lock().unwrap().push((head[3], host.clone(), port));
    let reply = |code: u8| [5, code, 0, 1, 0, 0, 0, 0, 0, 0];
    if deny.contains(&host) {
        let _ = s.write_all(&reply(2)).await;
        return;
    }
    // Loopback only: this test server never reaches any other address.
    let target = match host.as_str() {
        "localhost" | "127.0.0.1" => format!("127.0.0.1:{port}"),
        _ => {
            let _ = s.write_all(&reply(4)).await;
            return;
        }
    };
    let Ok(mut upstream) = TcpStream::connect(&target).await else {
        let _ = s.write_all(&reply(5)).await;
        return;
    };
    let _ = upstream.set_nodelay(true);
    let _ = s.write_all(&reply(0)).await;
    let (mut cr, mut cw) = tokio::io::split(s);
    let (mut ur, mut uw) = upstream.split();
    let up = async {
        let mut buf = [0u8; 8192];
        while let Ok(n) = cr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            log.upstream.lock().unwrap().extend_from_slice(&buf[..n]);
            if uw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = uw.shutdown().await;
    };
    let down = async {
        let mut buf = [0u8; 8192];
        while let Ok(n) = ur.read(&mut buf).await {
            if n == 0 {
                break;
            }
            log.downstream.lock().unwrap().extend_from_slice(&buf[..n]);
            if cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = cw.shutdown().await;
    };
    tokio::join!(up, down);
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
