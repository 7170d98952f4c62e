//! Opening verified connections: TCP, the attested handshake, and HTTP/1.1
//! over it.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use sworn_atls::{verify_fresh_document, Policy, Verified};
use sworn_attestation::limits::MAX_NONCE_LEN;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::error::Error;
use crate::target::Target;
use crate::tls::{client_config, ClientCert};

/// How long connecting, the handshake, or one HTTP exchange may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest response body read into memory (logs of a busy worker are
/// the largest legitimate answer).
pub const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// What a connection must prove and what it presents.
#[derive(Debug, Clone)]
pub struct Options {
    /// The documents and PCRs to accept ([`Policy::aws`] or [`Policy::emulator`]).
    pub policy: Policy,
    /// An operator certificate for mutual TLS, if any.
    pub client_cert: Option<ClientCert>,
    /// Bound on each of: TCP connect, handshake, one HTTP exchange.
    pub timeout: Duration,
}

impl Options {
    pub fn new(policy: Policy) -> Options {
        Options { policy, client_cert: None, timeout: DEFAULT_TIMEOUT }
    }
}

/// A runner and how to connect to it; each `open*` call is a new, fully
/// verified connection.
#[derive(Debug, Clone)]
pub struct Client {
    target: Target,
    options: Options,
}

/// A TLS stream whose handshake passed the attested-certificate check.
#[derive(Debug)]
pub struct AttestedStream {
    pub stream: TlsStream<TcpStream>,
    /// The certificate's document and what was checked.
    pub verified: Verified,
    /// Time the certificate check took (CPU, not network).
    pub check_time: Duration,
}

/// An HTTP/1.1 connection over an [`AttestedStream`].
#[derive(Debug)]
pub struct AttestedConnection {
    target: Target,
    policy: Policy,
    timeout: Duration,
    verified: Verified,
    check_time: Duration,
    tls_version: Option<String>,
    sender: SendRequest<Full<Bytes>>,
}

/// A document fetched over the connection and verified for a nonce.
#[derive(Debug, Clone)]
pub struct FreshAttestation {
    pub verified: Verified,
    /// The raw COSE_Sign1 bytes as served.
    pub document: Bytes,
    /// Time [`verify_fresh_document`] took.
    pub check_time: Duration,
}

/// A response read to the end.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub body: Bytes,
}

impl HttpResponse {
    /// The runner's `{"error": "..."}` text, or the body as text.
    pub fn error_message(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).trim().to_owned())
    }
}

impl Client {
    /// Checks the URL and the options (the client key is tried on a
    /// configuration now, so a bad one fails before any network).
    pub fn new(url: &str, options: Options) -> Result<Client, Error> {
        let target = Target::parse(url)?;
        client_config(&options.policy, options.client_cert.as_ref()).map_err(Error::TlsConfig)?;
        Ok(Client { target, options })
    }

    /// [`Client::new`] and [`Client::open`] in one.
    pub async fn connect(url: &str, options: Options) -> Result<AttestedConnection, Error> {
        Client::new(url, options)?.open().await
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// A new TCP connection and handshake; the certificate is checked
    /// inside the handshake, so no byte of application data is sent
    /// before the check passed.
    pub async fn open_stream(&self) -> Result<AttestedStream, Error> {
        let authority = self.target.authority();
        let timeout = self.options.timeout;
        let timed_out = |stage| Error::Timeout { authority: authority.clone(), seconds: timeout.as_secs(), stage };
        let tcp = tokio::time::timeout(timeout, TcpStream::connect((self.target.host.as_str(), self.target.port)))
            .await
            .map_err(|_| timed_out("TCP connect"))?
            .map_err(|error| Error::Connect { authority: authority.clone(), error })?;
        // Requests are small and interactive; do not wait for more to send.
        let _ = tcp.set_nodelay(true);
        let (config, verifier) =
            client_config(&self.options.policy, self.options.client_cert.as_ref()).map_err(Error::TlsConfig)?;
        let name = self
            .target
            .server_name()
            .map_err(|reason| Error::Target(crate::target::TargetError { url: self.target.to_string(), reason }))?;
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let stream = tokio::time::timeout(timeout, connector.connect(name, tcp))
            .await
            .map_err(|_| timed_out("TLS handshake"))?
            .map_err(|error| Error::Handshake { authority: authority.clone(), error })?;
        let outcome = verifier.take();
        // rustls completes a handshake only after verify_server_cert
        // accepted, which records the outcome; resumption (which would
        // skip it) is off. So a missing record is a bug, not an attack,
        // but it must still not pass as verified.
        let verified = outcome.verified.ok_or_else(|| Error::Handshake {
            authority: authority.clone(),
            error: std::io::Error::other("the handshake completed without a certificate check"),
        })?;
        Ok(AttestedStream { stream, verified, check_time: outcome.elapsed })
    }

    /// A verified connection ready for HTTP/1.1 requests.
    pub async fn open(&self) -> Result<AttestedConnection, Error> {
        let attested = self.open_stream().await?;
        let authority = self.target.authority();
        let tls = attested.stream.get_ref().1;
        let tls_version = tls.protocol_version().map(|v| match tls.negotiated_cipher_suite() {
            Some(suite) => format!("{v:?} {:?}", suite.suite()),
            None => format!("{v:?}"),
        });
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(attested.stream))
            .await
            .map_err(|error| Error::Http { authority, error })?;
        // The connection's I/O runs on its own task until the sender is
        // dropped; its error, if any, surfaces on the next request.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(AttestedConnection {
            target: self.target.clone(),
            policy: self.options.policy.clone(),
            timeout: self.options.timeout,
            verified: attested.verified,
            check_time: attested.check_time,
            tls_version,
            sender,
        })
    }
}

impl AttestedConnection {
    /// The certificate's document, checked in the handshake.
    pub fn verified(&self) -> &Verified {
        &self.verified
    }

    /// How long the certificate check of the handshake took.
    pub fn check_time(&self) -> Duration {
        self.check_time
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The negotiated protocol and cipher suite, e.g. `TLSv1_3 TLS13_AES_256_GCM_SHA384`.
    pub fn tls_version(&self) -> Option<&str> {
        self.tls_version.as_deref()
    }

    /// The raw hyper sender, for requests this crate has no helper for.
    /// Requests need a `Host` header ([`Target::authority`]).
    pub fn sender(&mut self) -> &mut SendRequest<Full<Bytes>> {
        &mut self.sender
    }

    /// A request to `path` (origin form, `/…`); `Host` is filled in.
    pub fn request_builder(&self, method: Method, path: &str) -> hyper::http::request::Builder {
        let host = HeaderValue::from_str(&self.target.authority()).unwrap_or(HeaderValue::from_static("localhost"));
        Request::builder().method(method).uri(path).header(HOST, host)
    }

    /// Sends `request` and reads the whole response (up to
    /// [`MAX_RESPONSE_BYTES`]).
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<HttpResponse, Error> {
        let what = format!("{} {}", request.method(), request.uri());
        let authority = self.target.authority();
        let timeout = self.timeout;
        let exchange = async {
            self.sender.ready().await?;
            let response = self.sender.send_request(request).await?;
            let status = response.status();
            let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
            Ok::<_, hyper::Error>((status, content_type, response.into_body()))
        };
        let (status, content_type, body) = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| Error::Timeout { authority: authority.clone(), seconds: timeout.as_secs(), stage: "HTTP" })?
            .map_err(|error| Error::Http { authority: authority.clone(), error })?;
        let body = tokio::time::timeout(timeout, Limited::new(body, MAX_RESPONSE_BYTES).collect())
            .await
            .map_err(|_| Error::Timeout { authority, seconds: timeout.as_secs(), stage: "HTTP body" })?
            .map_err(|e| Error::Response { request: what, reason: format!("reading the body: {e}") })?
            .to_bytes();
        Ok(HttpResponse { status, content_type, body })
    }

    /// `GET path`, answered 2xx, else [`Error::Status`].
    pub async fn get(&mut self, path: &str) -> Result<HttpResponse, Error> {
        let request = self
            .request_builder(Method::GET, path)
            .body(Full::default())
            .map_err(|e| Error::Response { request: format!("GET {path}"), reason: e.to_string() })?;
        ok_or_status(format!("GET {path}"), self.send(request).await?)
    }

    /// Asks for a document binding this connection's key with `nonce`
    /// (`GET /attestation?nonce=HEX`) and verifies it: same checks as the
    /// certificate's, plus the nonce, and its key must be the key this
    /// handshake proved. A document recorded earlier (another nonce) or
    /// made for another key is refused.
    pub async fn fresh_attestation(&mut self, nonce: &[u8]) -> Result<FreshAttestation, Error> {
        if nonce.is_empty() || nonce.len() > MAX_NONCE_LEN {
            return Err(Error::Nonce(format!("{} bytes; the NSM takes 1 to {MAX_NONCE_LEN}", nonce.len())));
        }
        let path = format!("/attestation?nonce={}", hex::encode(nonce));
        let response = self.get(&path).await?;
        let what = format!("GET {path}");
        if response.content_type.as_deref().map(|c| c.split(';').next().unwrap_or("").trim())
            != Some("application/cbor")
        {
            return Err(Error::Response {
                request: what,
                reason: format!(
                    "content type {:?}, expected application/cbor",
                    response.content_type.as_deref().unwrap_or("(none)")
                ),
            });
        }
        let start = Instant::now();
        let verified = verify_fresh_document(&response.body, &self.verified.public_key, nonce, &self.policy)
            .map_err(Error::FreshDocument)?;
        let check_time = start.elapsed();
        Ok(FreshAttestation { verified, document: response.body, check_time })
    }
}

/// `response` if 2xx, else [`Error::Status`] with the runner's message.
pub(crate) fn ok_or_status(request: String, response: HttpResponse) -> Result<HttpResponse, Error> {
    if response.status.is_success() {
        Ok(response)
    } else {
        Err(Error::Status { request, status: response.status, message: response.error_message() })
    }
}

/// A random nonce for [`AttestedConnection::fresh_attestation`].
pub fn random_nonce() -> Result<[u8; 32], Error> {
    let mut nonce = [0u8; 32];
    getrandom::fill(&mut nonce).map_err(|e| Error::Random(e.to_string()))?;
    Ok(nonce)
}
