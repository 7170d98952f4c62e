//! `sworn connect`: a local plain-HTTP endpoint whose every connection is
//! relayed over its own verified connection to the runner, so unmodified
//! HTTP clients (curl, browsers, SDKs) talk to the enclave with the
//! client's checks.
//!
//! One local connection = one upstream TLS connection, verified in its
//! handshake before a byte of the local client's is sent. The relay is
//! byte for byte (the local client's `Host` header included), so HTTP
//! keep-alive, streaming and upgrades behave as they would directly. When
//! the check fails the local client gets `502 Bad Gateway` with a JSON body
//! naming the check, and nothing is relayed.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sworn_atls::Verified;
use sworn_net::{Endpoint, Listener, PeerAddr, Stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::connection::Client;
use crate::error::{check_name, Error};

/// How long a refused local client may take to send its request head
/// before the 502 is written anyway.
const REQUEST_HEAD_WAIT: Duration = Duration::from_secs(2);
/// The most of a refused client's request that is read (and discarded).
const REQUEST_HEAD_MAX: usize = 64 << 10;

/// The proxy could not listen.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("--listen {0}: only tcp:HOST:PORT and unix:PATH are supported")]
    Unsupported(String),
    #[error(transparent)]
    Net(#[from] sworn_net::Error),
}

/// What happened to one local connection, for the caller to log.
#[derive(Debug)]
pub enum ProxyEvent<'a> {
    /// Verified upstream; relaying starts.
    Verified { peer: &'a PeerAddr, verified: &'a Verified },
    /// The relay ended; bytes from the local client and to it.
    Closed { peer: &'a PeerAddr, sent: u64, received: u64 },
    /// The upstream connection or its check failed; the local client got a 502.
    Refused { peer: &'a PeerAddr, error: &'a Error },
    /// A relay or accept error after which the proxy carries on.
    Failed { peer: Option<&'a PeerAddr>, error: &'a std::io::Error },
}

/// Receives [`ProxyEvent`]s.
pub type EventSink = Arc<dyn Fn(ProxyEvent<'_>) + Send + Sync>;

/// A bound proxy.
pub struct Proxy {
    client: Arc<Client>,
    listener: Listener,
    events: EventSink,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("client", &self.client).field("listener", &self.listener).finish()
    }
}

impl Proxy {
    /// Listens on `listen` (`tcp:` or `unix:`) for connections to relay
    /// through `client`.
    pub async fn bind(client: Client, listen: &Endpoint, events: EventSink) -> Result<Proxy, ProxyError> {
        if !matches!(listen, Endpoint::Tcp { .. } | Endpoint::Unix(_)) {
            return Err(ProxyError::Unsupported(listen.to_string()));
        }
        let listener = Listener::bind(listen).await?;
        Ok(Proxy { client: Arc::new(client), listener, events })
    }

    /// The address actually bound (the port of `tcp:…:0` resolved).
    pub fn local_endpoint(&self) -> Result<Endpoint, ProxyError> {
        Ok(self.listener.local_endpoint()?)
    }

    /// Accepts and relays until the task is dropped.
    pub async fn run(self) {
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    let client = self.client.clone();
                    let events = self.events.clone();
                    tokio::spawn(relay(client, stream, peer, events));
                }
                Err(e) => {
                    let io = std::io::Error::other(e.to_string());
                    (self.events)(ProxyEvent::Failed { peer: None, error: &io });
                    // Out of file descriptors and the like: do not spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

async fn relay(client: Arc<Client>, mut local: Stream, peer: PeerAddr, events: EventSink) {
    let mut upstream = match client.open_stream().await {
        Ok(u) => u,
        Err(error) => {
            events(ProxyEvent::Refused { peer: &peer, error: &error });
            if let Err(e) = refuse(&mut local, &client, &error).await {
                events(ProxyEvent::Failed { peer: Some(&peer), error: &e });
            }
            return;
        }
    };
    events(ProxyEvent::Verified { peer: &peer, verified: &upstream.verified });
    match tokio::io::copy_bidirectional(&mut local, &mut upstream.stream).await {
        Ok((sent, received)) => events(ProxyEvent::Closed { peer: &peer, sent, received }),
        Err(e) => events(ProxyEvent::Failed { peer: Some(&peer), error: &e }),
    }
}

/// The 502 answer, naming the failed check.
pub fn refusal_body(client: &Client, error: &Error) -> serde_json::Value {
    json!({
        "error": error.to_string(),
        "check": error.attestation_failure().map(check_name),
        "upstream": client.target().to_string(),
    })
}

/// Reads the local client's request head (so that closing does not reset
/// a connection with unread data, which would hide the answer), then
/// answers 502 and closes.
async fn refuse(local: &mut Stream, client: &Client, error: &Error) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(REQUEST_HEAD_WAIT, async {
        while head.len() < REQUEST_HEAD_MAX && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match local.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let mut body = refusal_body(client, error).to_string();
    body.push('\n');
    let response = format!(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\
         X-Sworn-Refused: {}\r\n\r\n{body}",
        body.len(),
        error.attestation_failure().map(check_name).unwrap_or("connection"),
    );
    local.write_all(response.as_bytes()).await?;
    local.flush().await?;
    local.shutdown().await
}
