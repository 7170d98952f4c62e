//! `EgressClient::fetch`: one request in, one streaming response out, with
//! redirects, timeouts and limits applied the same way on every route.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName};
use http::{Method, StatusCode, Version};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;
use url::Url;

use crate::body::ResponseBody;
use crate::config::EgressConfig;
use crate::connector::Connector;
use crate::error::{chain, connect_failure, ConfigError, FetchError};

/// What to do with 3xx responses that carry a `Location` (Fetch's
/// `redirect` option).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RedirectMode {
    #[default]
    Follow,
    /// Fail with [`FetchError::RedirectRefused`].
    Error,
    /// Return the 3xx response itself.
    Manual,
}

/// A request. The body is a buffer so it can be re-sent on 307/308.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub redirect: RedirectMode,
    /// A shorter deadline for this fetch (e.g. what is left of the worker
    /// invocation's wall-clock budget); the configured total timeout still
    /// caps it.
    pub timeout: Option<std::time::Duration>,
}

impl FetchRequest {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            redirect: RedirectMode::Follow,
            timeout: None,
        }
    }

    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::GET, url)
    }
}

/// A response whose head has arrived; the body streams.
#[derive(Debug)]
pub struct FetchResponse {
    pub status: StatusCode,
    pub version: Version,
    pub headers: HeaderMap,
    /// The final URL, after redirects.
    pub url: Url,
    /// Whether any redirect was followed.
    pub redirected: bool,
    pub body: ResponseBody,
}

/// The HTTP(S) client workers' `fetch()` uses. Cheap to clone (shares the
/// connection pool); must be used inside a tokio runtime.
#[derive(Clone)]
pub struct EgressClient {
    client: Client<Connector, Full<Bytes>>,
    config: Arc<EgressConfig>,
}

impl std::fmt::Debug for EgressClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EgressClient").field("route", &self.config.route).finish_non_exhaustive()
    }
}

/// Headers that only make sense with the body they describe.
const BODY_HEADERS: [HeaderName; 4] =
    [header::CONTENT_TYPE, header::CONTENT_LENGTH, header::CONTENT_ENCODING, header::CONTENT_LANGUAGE];
/// Connection-level headers: hyper manages them, and HTTP/2 forbids them.
const HOP_BY_HOP: [&str; 7] =
    ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "host"];
/// Credentials that must not follow a redirect to another origin.
const CREDENTIAL_HEADERS: [HeaderName; 3] = [header::AUTHORIZATION, header::COOKIE, header::PROXY_AUTHORIZATION];

impl EgressClient {
    pub fn new(config: EgressConfig) -> Result<Self, ConfigError> {
        let tls = crate::tls::client_config(&config)?;
        let connector = Connector::new(config.route.clone(), tls, config.connect_timeout);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .pool_idle_timeout(config.pool_idle_timeout)
            .build(connector);
        Ok(Self { client, config: Arc::new(config) })
    }

    pub fn config(&self) -> &EgressConfig {
        &self.config
    }

    /// Sends `request`, following redirects per its mode, and returns once
    /// the final response head has arrived. The total timeout also covers
    /// reading the body.
    pub async fn fetch(&self, request: FetchRequest) -> Result<FetchResponse, FetchError> {
        let total = request.timeout.map_or(self.config.total_timeout, |t| t.min(self.config.total_timeout));
        let deadline = Instant::now() + total;
        let shown_url = request.url.clone();
        match tokio::time::timeout_at(deadline, self.fetch_head(request, deadline)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout { url: shown_url, after: total }),
        }
    }

    async fn fetch_head(&self, request: FetchRequest, deadline: Instant) -> Result<FetchResponse, FetchError> {
        let total = request.timeout.map_or(self.config.total_timeout, |t| t.min(self.config.total_timeout));
        let FetchRequest { mut method, url, mut headers, mut body, redirect, timeout: _ } = request;
        if matches!(method.as_str(), "CONNECT" | "TRACE" | "TRACK") {
            return Err(FetchError::InvalidRequest(format!("method {method} is forbidden")));
        }
        if body.len() as u64 > self.config.max_request_bytes {
            return Err(FetchError::RequestTooLarge { len: body.len() as u64, limit: self.config.max_request_bytes });
        }
        for h in HOP_BY_HOP {
            headers.remove(h);
        }
        let mut url =
            Url::parse(&url).map_err(|e| FetchError::InvalidUrl { url: url.clone(), reason: e.to_string() })?;
        let mut redirects = 0u32;
        loop {
            self.check_url(&url)?;
            let response = self.send_once(&method, &url, &headers, &body).await?;
            let status = response.status();
            let location = response.headers().get(header::LOCATION).cloned();
            let is_redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
            if is_redirect && redirect != RedirectMode::Manual {
                if let Some(location) = location {
                    if redirect == RedirectMode::Error {
                        return Err(FetchError::RedirectRefused { url: url.to_string() });
                    }
                    let location = location.to_str().map_err(|_| FetchError::BadRedirect {
                        url: url.to_string(),
                        reason: "Location is not ASCII".into(),
                    })?;
                    let next = url.join(location).map_err(|e| FetchError::BadRedirect {
                        url: url.to_string(),
                        reason: format!("Location {location:?}: {e}"),
                    })?;
                    redirects += 1;
                    if redirects > self.config.max_redirects {
                        return Err(FetchError::TooManyRedirects {
                            limit: self.config.max_redirects,
                            url: url.to_string(),
                        });
                    }
                    // Fetch standard, "HTTP-redirect fetch" step 12.
                    if status == StatusCode::SEE_OTHER && method != Method::HEAD
                        || matches!(status.as_u16(), 301 | 302) && method == Method::POST
                    {
                        method = Method::GET;
                        body = Bytes::new();
                        for h in &BODY_HEADERS {
                            headers.remove(h);
                        }
                    }
                    if next.origin() != url.origin() {
                        for h in &CREDENTIAL_HEADERS {
                            headers.remove(h);
                        }
                    }
                    url = next;
                    continue;
                }
            }
            if let Some(len) = content_length(response.headers()) {
                if len > self.config.max_response_bytes {
                    return Err(FetchError::ResponseTooLarge {
                        url: url.to_string(),
                        limit: self.config.max_response_bytes,
                    });
                }
            }
            let (parts, incoming) = response.into_parts();
            let body = ResponseBody::new(incoming, self.config.max_response_bytes, deadline, total, url.to_string());
            return Ok(FetchResponse {
                status: parts.status,
                version: parts.version,
                headers: parts.headers,
                url,
                redirected: redirects > 0,
                body,
            });
        }
    }

    fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.config.allow_http => Ok(()),
            "http" => Err(FetchError::HttpNotAllowed(url.host_str().unwrap_or_default().to_string())),
            other => Err(FetchError::UnsupportedScheme(other.to_string())),
        }?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(FetchError::InvalidUrl { url: url.to_string(), reason: "no host".into() });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::InvalidUrl {
                url: url.to_string(),
                reason: "credentials in URLs are not allowed".into(),
            });
        }
        // Last, on the URL exactly as it will be sent: nothing has been
        // dialled or resolved yet, and every redirect hop comes through here.
        if let Some(allow) = &self.config.allow {
            allow.check(url).map_err(|r| FetchError::NotAllowed { destination: r.destination, rules: r.rules })?;
        }
        Ok(())
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<http::Response<hyper::body::Incoming>, FetchError> {
        let mut target = url.clone();
        target.set_fragment(None);
        let uri: http::Uri = target.as_str().parse().map_err(|e: http::uri::InvalidUri| FetchError::InvalidUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let mut req = http::Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(Full::new(body.clone()))
            .map_err(|e| FetchError::InvalidRequest(e.to_string()))?;
        // Host was removed with the hop-by-hop headers: hyper sets Host
        // (HTTP/1) or :authority (HTTP/2) from the URI, so it always matches
        // the TLS server name.
        *req.headers_mut() = headers.clone();
        self.client.request(req).await.map_err(|e| {
            connect_failure(&e).unwrap_or_else(|| FetchError::Http { url: url.to_string(), reason: chain(&e) })
        })
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}
