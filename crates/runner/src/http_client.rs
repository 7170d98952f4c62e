//! Outbound HTTP for the worker `fetch` API. Workers never see sockets: they
//! reach the network only through an [`HttpClient`]: [`EgressHttpClient`]
//! (sworn-egress: SOCKS5 to the host proxy with in-enclave TLS, or direct in
//! local mode) or [`NoNetwork`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;

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
    /// Refused by `--egress-allow` before any connection was made.
    #[error("{destination} is not allowed by --egress-allow (allowed: {})", rules.join(", "))]
    NotAllowed { destination: String, rules: Vec<String> },
}

pub type FetchFuture = Pin<Box<dyn Future<Output = Result<OutboundResponse, FetchError>> + Send>>;

/// What `fetch` goes through. `send` resolves once the response head is in
/// (within `timeout`); redirects are the caller's business.
pub trait HttpClient: Send + Sync + 'static {
    fn send(&self, req: OutboundRequest, timeout: Duration) -> FetchFuture;

    /// The `--egress-allow` patterns this client enforces, as given; empty
    /// when every destination is allowed (or, for [`NoNetwork`], none is).
    /// Shown by `GET /attestation?format=json`, read from the client itself
    /// so what is shown is what is enforced.
    fn egress_allow(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Refuses every request: for runners that must have no network at all.
pub struct NoNetwork;

impl HttpClient for NoNetwork {
    fn send(&self, _: OutboundRequest, _: Duration) -> FetchFuture {
        Box::pin(async { Err(FetchError::Disabled) })
    }
}

/// `fetch` through `sworn-egress`: in an enclave, SOCKS5 to the host proxy
/// with TLS terminated here; in local mode, direct connections. The runner
/// follows redirects itself (Fetch semantics in JavaScript), so the client
/// is used in manual redirect mode.
pub struct EgressHttpClient {
    client: sworn_egress::EgressClient,
}

impl EgressHttpClient {
    pub fn new(config: sworn_egress::EgressConfig) -> Result<Self, sworn_egress::ConfigError> {
        Ok(Self { client: sworn_egress::EgressClient::new(config)? })
    }

    pub fn config(&self) -> &sworn_egress::EgressConfig {
        self.client.config()
    }
}

fn egress_request(req: OutboundRequest, timeout: Duration) -> Result<sworn_egress::FetchRequest, FetchError> {
    let method = http::Method::from_bytes(req.method.as_bytes())
        .map_err(|_| FetchError::Invalid(format!("method {:?}", req.method)))?;
    let mut headers = http::HeaderMap::with_capacity(req.headers.len());
    for (k, v) in &req.headers {
        let name = http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| FetchError::Invalid(format!("header name {k:?}")))?;
        let value =
            http::HeaderValue::from_str(v).map_err(|_| FetchError::Invalid(format!("value of header {k:?}")))?;
        headers.append(name, value);
    }
    let mut out = sworn_egress::FetchRequest::new(method, req.url);
    out.headers = headers;
    out.body = req.body;
    out.redirect = sworn_egress::RedirectMode::Manual;
    out.timeout = Some(timeout);
    Ok(out)
}

fn fetch_error(e: sworn_egress::FetchError) -> FetchError {
    match e {
        sworn_egress::FetchError::InvalidUrl { .. }
        | sworn_egress::FetchError::UnsupportedScheme(_)
        | sworn_egress::FetchError::InvalidRequest(_) => FetchError::Invalid(e.to_string()),
        sworn_egress::FetchError::ResponseTooLarge { limit, .. } => {
            FetchError::TooLarge(usize::try_from(limit).unwrap_or(usize::MAX))
        }
        sworn_egress::FetchError::NotAllowed { destination, rules } => FetchError::NotAllowed { destination, rules },
        other => FetchError::Network(other.to_string()),
    }
}

impl HttpClient for EgressHttpClient {
    fn send(&self, req: OutboundRequest, timeout: Duration) -> FetchFuture {
        let client = self.client.clone();
        Box::pin(async move {
            let request = egress_request(req, timeout)?;
            let resp = client.fetch(request).await.map_err(fetch_error)?;
            let headers = resp
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            Ok(OutboundResponse {
                status: resp.status.as_u16(),
                status_text: resp.status.canonical_reason().unwrap_or("").to_string(),
                headers,
                body: resp.body.map_err(fetch_error).boxed(),
            })
        })
    }

    fn egress_allow(&self) -> Vec<String> {
        self.client.config().allow.as_ref().map(|a| a.patterns()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_checked_and_redirects_left_to_the_runner() {
        let ok = egress_request(
            OutboundRequest {
                method: "POST".into(),
                url: "https://example.com/x".into(),
                headers: vec![("x-a".into(), "1".into()), ("x-a".into(), "2".into())],
                body: Bytes::from_static(b"hi"),
            },
            Duration::from_secs(3),
        )
        .unwrap();
        assert_eq!(ok.redirect, sworn_egress::RedirectMode::Manual);
        assert_eq!(ok.timeout, Some(Duration::from_secs(3)));
        assert_eq!(ok.headers.get_all("x-a").iter().count(), 2);
        let bad = |headers: Vec<(String, String)>| {
            egress_request(
                OutboundRequest {
                    method: "GET".into(),
                    url: "https://example.com/".into(),
                    headers,
                    body: Bytes::new(),
                },
                Duration::from_secs(1),
            )
            .unwrap_err()
            .to_string()
        };
        assert!(bad(vec![("bad name".into(), "v".into())]).contains("header name"));
        assert!(bad(vec![("x".into(), "a\nb".into())]).contains("value of header"));
    }
}
