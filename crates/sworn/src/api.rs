//! The runner's management API over a verified connection: deploy, list,
//! details, logs, delete. The owner's credential goes in
//! `Authorization: Bearer …`; with an operator certificate (mutual TLS) it
//! may be left out.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::connection::{ok_or_status, AttestedConnection, HttpResponse};
use crate::error::Error;

/// The body of `POST /workers`.
#[derive(Debug, Clone, Serialize)]
pub struct DeployRequest {
    pub code: String,
    pub name: String,
    /// `module` (ES module, `export default {fetch}`), `sw` (service worker)
    /// or `wasi` (a WASI command module, `code` in base64).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A cron expression for `scheduled` handlers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// The worker's `env` configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    /// A `wasi` worker's command-line arguments (a JSON array of strings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<serde_json::Value>,
}

/// The answer to `POST /workers`.
#[derive(Debug, Clone, Deserialize)]
pub struct Deployed {
    pub id: String,
    pub name: String,
    pub measurement: String,
    /// The owner credential; `None` from a runner without owner rules.
    #[serde(default)]
    pub credential: Option<String>,
}

/// One entry of `GET /workers`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerSummary {
    pub id: String,
    pub name: String,
    pub measurement: String,
}

/// `GET /workers/{key}/logs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Logs {
    pub lines: Vec<LogLine>,
    /// Lines the runner dropped to stay within its buffer.
    #[serde(default)]
    pub dropped: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch.
    pub time: u64,
    pub level: String,
    pub message: String,
}

/// `key` as one path segment: every byte but RFC 3986's unreserved ones
/// percent-encoded, so a name can never add a path segment or a query.
pub fn path_segment(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parse_json<T: serde::de::DeserializeOwned>(request: &str, response: &HttpResponse) -> Result<T, Error> {
    serde_json::from_slice(&response.body)
        .map_err(|e| Error::Response { request: request.to_owned(), reason: format!("not the expected JSON: {e}") })
}

impl AttestedConnection {
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        json: Option<Vec<u8>>,
    ) -> Result<HttpResponse, Error> {
        let what = format!("{method} {path}");
        let mut builder = self.request_builder(method, path);
        if let Some(token) = bearer {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| Error::Response {
                request: what.clone(),
                reason: "the stored credential is not a valid header value".into(),
            })?;
            builder = builder.header(AUTHORIZATION, value);
        }
        let body = match json {
            Some(bytes) => {
                builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Full::new(Bytes::from(bytes))
            }
            None => Full::default(),
        };
        let request =
            builder.body(body).map_err(|e| Error::Response { request: what.clone(), reason: e.to_string() })?;
        ok_or_status(what, self.send(request).await?)
    }

    /// `POST /workers`: deploys a worker; the answer holds its credential.
    pub async fn deploy(&mut self, request: &DeployRequest) -> Result<Deployed, Error> {
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::Response { request: "POST /workers".into(), reason: e.to_string() })?;
        let response = self.call(Method::POST, "/workers", None, Some(body)).await?;
        if response.status != StatusCode::CREATED {
            return Err(Error::Response {
                request: "POST /workers".into(),
                reason: format!("HTTP {}, expected 201 Created", response.status),
            });
        }
        parse_json("POST /workers", &response)
    }

    /// `GET /workers`.
    pub async fn workers(&mut self) -> Result<Vec<WorkerSummary>, Error> {
        #[derive(Deserialize)]
        struct List {
            workers: Vec<WorkerSummary>,
        }
        let response = self.call(Method::GET, "/workers", None, None).await?;
        Ok(parse_json::<List>("GET /workers", &response)?.workers)
    }

    /// `GET /workers/{key}`: the details the runner shows the owner.
    pub async fn worker(&mut self, key: &str, bearer: Option<&str>) -> Result<serde_json::Value, Error> {
        let path = format!("/workers/{}", path_segment(key));
        let response = self.call(Method::GET, &path, bearer, None).await?;
        parse_json(&format!("GET {path}"), &response)
    }

    /// `GET /workers/{key}/logs`.
    pub async fn logs(&mut self, key: &str, bearer: Option<&str>) -> Result<Logs, Error> {
        let path = format!("/workers/{}/logs", path_segment(key));
        let response = self.call(Method::GET, &path, bearer, None).await?;
        parse_json(&format!("GET {path}"), &response)
    }

    /// `DELETE /workers/{key}`.
    pub async fn delete(&mut self, key: &str, bearer: Option<&str>) -> Result<(), Error> {
        let path = format!("/workers/{}", path_segment(key));
        self.call(Method::DELETE, &path, bearer, None).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_one_path_segment() {
        assert_eq!(path_segment("hello-1.x_~"), "hello-1.x_~");
        assert_eq!(path_segment("../a b?c"), "..%2Fa%20b%3Fc");
        assert_eq!(path_segment("é"), "%C3%A9");
    }
}
