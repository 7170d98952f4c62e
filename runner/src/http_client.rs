//! Outbound HTTP for the worker `fetch` API. Workers never see sockets: they
//! reach the network only through an [`HttpClient`], so the enclave can swap
//! the direct client below for the egress connector (SOCKS5 + in-enclave TLS).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

/// A request as the worker built it.
#[derive(Debug)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// A response body, read as the worker consumes it. The runner enforces the
/// response size limit and a per-read timeout on it.
pub type ResponseBody = http_body_util::combinators::BoxBody<Bytes, FetchError>;

/// A response head with its body still to be read.
pub struct OutboundResponse {
    pub status: u16,
    pub status_text: String,
    pub headers: Vec<(String, String)>,
    pub body: ResponseBody,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("network error: {0}")]
    Network(String),
    #[error("response body exceeds the limit of {0} bytes")]
    TooLarge(usize),
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    #[error("fetch is disabled in this runner")]
    Disabled,
}

pub type FetchFuture = Pin<Box<dyn Future<Output = Result<OutboundResponse, FetchError>> + Send>>;

/// What `fetch` goes through. `send` resolves once the response head is in
/// (within `timeout`); redirects are the caller's business.
pub trait HttpClient: Send + Sync + 'static {
    fn send(&self, req: OutboundRequest, timeout: Duration) -> FetchFuture;
}

/// Refuses every request: for runners that must have no network at all.
pub struct NoNetwork;

impl HttpClient for NoNetwork {
    fn send(&self, _: OutboundRequest, _: Duration) -> FetchFuture {
        Box::pin(async { Err(FetchError::Disabled) })
    }
}

type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// Direct connections with hyper, rustls and the webpki root store; used
/// outside the enclave.
pub struct DirectClient {
    client: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
}

impl DirectClient {
    pub fn new() -> Result<DirectClient, FetchError> {
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Network(e.to_string()))?
        .with_root_certificates(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        Ok(DirectClient { client })
    }
}

impl HttpClient for DirectClient {
    fn send(&self, req: OutboundRequest, timeout: Duration) -> FetchFuture {
        let client = self.client.clone();
        Box::pin(async move {
            let uri: http::Uri = req
                .url
                .parse()
                .map_err(|e| FetchError::Invalid(format!("url: {e}")))?;
            match uri.scheme_str() {
                Some("http") | Some("https") => {}
                other => return Err(FetchError::Invalid(format!("unsupported scheme {other:?}"))),
            }
            let method = http::Method::from_bytes(req.method.as_bytes())
                .map_err(|_| FetchError::Invalid(format!("method {:?}", req.method)))?;
            let mut builder = http::Request::builder().method(method).uri(uri);
            for (k, v) in &req.headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
            let request = builder
                .body(Full::new(req.body))
                .map_err(|e| FetchError::Invalid(e.to_string()))?;
            let work = async {
                let resp = client
                    .request(request)
                    .await
                    .map_err(|e| FetchError::Network(error_chain(&e)))?;
                let status = resp.status();
                let headers = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                let body = resp
                    .into_body()
                    .map_err(|e| FetchError::Network(error_chain(&e)))
                    .boxed();
                Ok(OutboundResponse {
                    status: status.as_u16(),
                    status_text: status.canonical_reason().unwrap_or("").to_string(),
                    headers,
                    body,
                })
            };
            tokio::time::timeout(timeout, work)
                .await
                .map_err(|_| FetchError::Timeout(timeout))?
        })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}
