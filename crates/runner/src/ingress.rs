//! What happens on an ingress connection before and around HTTP: the PROXY
//! protocol preamble (required with `--proxy-protocol`, refused without it),
//! with `--tls` the first byte that tells a TLS handshake from plain HTTP,
//! and the connection's idle clock — the request-head and keep-alive
//! timeouts — which hyper alone cannot give: its header-read timer starts as
//! soon as it waits for a head, so it cannot tell a slow head from an idle
//! keep-alive connection.

use std::cell::Cell;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::body::OutBody;
use sworn_proxy_protocol::{self as proxy_protocol, Parsed, ProxyHeaderError};

/// Why a connection was refused before HTTP.
#[derive(Debug, thiserror::Error)]
pub enum PreambleError {
    #[error("invalid PROXY protocol header: {0}")]
    Header(#[from] ProxyHeaderError),
    #[error("connection starts with a PROXY protocol header, but this runner was not started with --proxy-protocol")]
    NotEnabled,
    #[error("no complete PROXY header or request within the header timeout of {0:?} (--header-timeout)")]
    Timeout(Duration),
    #[error("connection closed before a PROXY header or request")]
    Closed,
    #[error("reading the connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("this port speaks TLS only (--plain-http off): connect with https://")]
    TlsOnly,
}

impl PreambleError {
    /// Whether the peer deserves an HTTP 400 before the close (not when it
    /// has gone or stayed silent).
    fn answerable(&self) -> bool {
        matches!(self, PreambleError::Header(_) | PreambleError::NotEnabled | PreambleError::TlsOnly)
    }
}

/// What the preamble learned: bytes read past it (the start of HTTP) and the
/// client address a PROXY header named.
#[derive(Debug, Default)]
pub struct Preamble {
    pub rest: Vec<u8>,
    pub client_ip: Option<IpAddr>,
}

/// Reads the start of a connection: with `proxy_protocol`, a whole PROXY v1
/// or v2 header, which must be there; without it, just enough bytes to be
/// sure the connection does not start with one (a PROXY header handed to
/// hyper would be misread as a request line). Takes at most `timeout`.
pub async fn read_preamble<T: AsyncRead + Unpin>(
    io: &mut T,
    proxy_protocol: bool,
    timeout: Duration,
) -> Result<Preamble, PreambleError> {
    let read = async {
        let mut buf = Vec::with_capacity(256);
        let mut chunk = [0u8; 1024];
        loop {
            if proxy_protocol {
                if let Parsed::Complete { header, consumed } = proxy_protocol::parse(&buf)? {
                    return Ok(Preamble { rest: buf.split_off(consumed), client_ip: header.client_ip() });
                }
            } else {
                match proxy_protocol::detect_signature(&buf) {
                    Some(true) => return Err(PreambleError::NotEnabled),
                    Some(false) => return Ok(Preamble { rest: buf, client_ip: None }),
                    None => {}
                }
            }
            // Bounded: parse() refuses anything longer than a v1 line or a
            // v2 header with V2_MAX_PAYLOAD bytes, and a signature is 12.
            let n = io.read(&mut chunk).await?;
            if n == 0 {
                return Err(PreambleError::Closed);
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(timeout, read).await.unwrap_or(Err(PreambleError::Timeout(timeout)))
}

/// The first byte after the preamble (the first of TLS or HTTP), reading
/// it into `preamble.rest` when the preamble ended exactly at a PROXY
/// header's end. Gives up at `deadline` (the header timeout, `timeout`,
/// counted from accept).
pub async fn first_byte<T: AsyncRead + Unpin>(
    io: &mut T,
    preamble: &mut Preamble,
    deadline: Instant,
    timeout: Duration,
) -> Result<u8, PreambleError> {
    if let Some(&b) = preamble.rest.first() {
        return Ok(b);
    }
    let mut chunk = [0u8; 1024];
    let n = match tokio::time::timeout_at(deadline, io.read(&mut chunk)).await {
        Err(_) => return Err(PreambleError::Timeout(timeout)),
        Ok(r) => r?,
    };
    if n == 0 {
        return Err(PreambleError::Closed);
    }
    preamble.rest.extend_from_slice(&chunk[..n]);
    Ok(chunk[0])
}

/// A connection that first replays bytes already read from it (the
/// preamble's rest: the start of a TLS handshake), then reads on.
pub struct Replay<T> {
    inner: T,
    rest: Bytes,
}

impl<T> Replay<T> {
    pub fn new(inner: T, rest: Vec<u8>) -> Self {
        Replay { inner, rest: Bytes::from(rest) }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Replay<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if !this.rest.is_empty() {
            let n = this.rest.len().min(buf.remaining());
            buf.put_slice(&this.rest.split_to(n));
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Replay<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Answers a refused preamble with a 400 when the peer can use one, then
/// closes.
pub async fn refuse<T: AsyncWrite + Unpin>(io: &mut T, error: &PreambleError) {
    if error.answerable() {
        let body = serde_json::json!({ "error": error.to_string() }).to_string();
        let head = format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let _ = io.write_all(head.as_bytes()).await;
        let _ = io.write_all(body.as_bytes()).await;
    }
    let _ = io.shutdown().await;
}

/// The idle clock of one connection. It runs only while no request is in
/// flight on it (a request's own time is bounded by the body-idle, request
/// and stream timeouts):
/// - before the first request, and from the first byte of every later head,
///   the head must be complete within the header timeout;
/// - between requests (no byte of the next head yet), the connection may sit
///   idle for the keep-alive timeout.
pub struct ConnClock {
    header_timeout: Duration,
    keepalive_timeout: Duration,
    opened: Instant,
    busy: Cell<u32>,
    served: Cell<u64>,
    idle_since: Cell<Instant>,
    head_started: Cell<Option<Instant>>,
    changed: Notify,
}

impl ConnClock {
    /// A clock for a connection accepted at `opened`.
    pub fn new(opened: Instant, header_timeout: Duration, keepalive_timeout: Duration) -> Rc<ConnClock> {
        Rc::new(ConnClock {
            header_timeout,
            keepalive_timeout,
            opened,
            busy: Cell::new(0),
            served: Cell::new(0),
            idle_since: Cell::new(opened),
            head_started: Cell::new(None),
            changed: Notify::new(),
        })
    }

    /// When the connection is to be closed if nothing changes; `None` while
    /// a request is in flight.
    pub fn deadline(&self) -> Option<Instant> {
        if self.busy.get() > 0 {
            None
        } else if let Some(t) = self.head_started.get() {
            Some(t + self.header_timeout)
        } else if self.served.get() == 0 {
            Some(self.opened + self.header_timeout)
        } else {
            Some(self.idle_since.get() + self.keepalive_timeout)
        }
    }

    /// Resolves when the deadline may have moved.
    pub async fn changed(&self) {
        self.changed.notified().await
    }

    /// Bytes arrived: between requests, they are the start of a head.
    fn bytes_arrived(&self) {
        if self.busy.get() == 0 && self.served.get() > 0 && self.head_started.get().is_none() {
            self.head_started.set(Some(Instant::now()));
            self.changed.notify_one();
        }
    }

    /// A request head was parsed: the request is in flight until the
    /// returned guard (carried by its response body) is dropped.
    pub fn request_started(self: &Rc<Self>) -> InFlight {
        self.busy.set(self.busy.get() + 1);
        self.head_started.set(None);
        self.changed.notify_one();
        InFlight(self.clone())
    }
}

/// A request in flight on its connection; dropping it ends the request and
/// starts the keep-alive clock.
pub struct InFlight(Rc<ConnClock>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let c = &self.0;
        c.busy.set(c.busy.get().saturating_sub(1));
        c.served.set(c.served.get() + 1);
        c.idle_since.set(Instant::now());
        c.changed.notify_one();
    }
}

/// The connection's I/O: replays the bytes the preamble read past, then
/// reads from the socket, telling the clock when bytes arrive.
pub struct ClockedIo<T> {
    inner: T,
    rest: Bytes,
    clock: Rc<ConnClock>,
}

impl<T> ClockedIo<T> {
    pub fn new(inner: T, rest: Vec<u8>, clock: Rc<ConnClock>) -> Self {
        ClockedIo { inner, rest: Bytes::from(rest), clock }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ClockedIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if !this.rest.is_empty() {
            let n = this.rest.len().min(buf.remaining());
            buf.put_slice(&this.rest.split_to(n));
            this.clock.bytes_arrived();
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.clock.bytes_arrived();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ClockedIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A response body that keeps values alive (the request's [`InFlight`], the
/// runner's in-flight count) until it has been sent in full or dropped, so a
/// streamed response counts as in flight for as long as it streams.
pub struct HeldBody {
    inner: OutBody,
    hold: Option<Box<dyn std::any::Any>>,
}

impl HeldBody {
    pub fn new(inner: OutBody, hold: Box<dyn std::any::Any>) -> Self {
        HeldBody { inner, hold: Some(hold) }
    }
}

impl Body for HeldBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(r, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            this.hold = None;
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_the_flag_http_passes_through_untouched() {
        let mut io: &[u8] = b"GET / HTTP/1.1\r\n\r\n";
        let p = read_preamble(&mut io, false, Duration::from_secs(5)).await.expect("plain HTTP");
        let mut all = p.rest.clone();
        all.extend_from_slice(io);
        assert_eq!((all.as_slice(), p.client_ip), (&b"GET / HTTP/1.1\r\n\r\n"[..], None));
    }

    #[tokio::test]
    async fn without_the_flag_a_proxy_header_is_refused() {
        for start in [&b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"[..], &proxy_protocol::V2_SIGNATURE[..]] {
            let mut io = start;
            let r = read_preamble(&mut io, false, Duration::from_secs(5)).await;
            assert!(matches!(r, Err(PreambleError::NotEnabled)), "{r:?}");
        }
    }

    #[tokio::test]
    async fn with_the_flag_the_header_is_consumed_and_http_kept() {
        let mut io: &[u8] = b"PROXY TCP4 192.0.2.1 10.0.0.1 5 6\r\nGET /";
        let p = read_preamble(&mut io, true, Duration::from_secs(5)).await.expect("header");
        assert_eq!((p.rest.as_slice(), p.client_ip), (&b"GET /"[..], Some("192.0.2.1".parse().unwrap())));
        let mut io: &[u8] = b"GET / HTTP/1.1\r\n\r\n";
        let r = read_preamble(&mut io, true, Duration::from_secs(5)).await;
        assert!(matches!(r, Err(PreambleError::Header(ProxyHeaderError::BadSignature))), "{r:?}");
    }

    #[tokio::test]
    async fn a_header_cut_short_by_close_is_not_a_request() {
        let mut io: &[u8] = b"PROXY TCP4 192.0.2.1";
        let r = read_preamble(&mut io, true, Duration::from_secs(5)).await;
        assert!(matches!(r, Err(PreambleError::Closed)), "{r:?}");
    }

    #[tokio::test]
    async fn the_first_byte_is_read_after_a_proxy_header_and_replayed() {
        // Two reads: the header alone, then the TLS record.
        let mut io = (&b"PROXY UNKNOWN\r\n"[..]).chain(&b"\x16\x03\x01"[..]);
        let mut p = read_preamble(&mut io, true, Duration::from_secs(5)).await.expect("header");
        assert!(p.rest.is_empty());
        let deadline = Instant::now() + Duration::from_secs(5);
        let b = first_byte(&mut io, &mut p, deadline, Duration::from_secs(5)).await.expect("byte");
        assert_eq!(b, 0x16);
        let mut replayed = Vec::new();
        Replay::new(io, p.rest).read_to_end(&mut replayed).await.expect("read");
        assert_eq!(replayed, b"\x16\x03\x01");
        let mut closed: &[u8] = b"";
        let r = first_byte(&mut closed, &mut Preamble::default(), deadline, Duration::from_secs(5)).await;
        assert!(matches!(r, Err(PreambleError::Closed)), "{r:?}");
    }

    #[test]
    fn the_clock_runs_for_heads_and_idle_keepalive_but_not_in_flight() {
        let (head, idle) = (Duration::from_secs(10), Duration::from_secs(60));
        let t0 = Instant::now();
        let clock = ConnClock::new(t0, head, idle);
        assert_eq!(clock.deadline(), Some(t0 + head), "first head: from accept");
        clock.bytes_arrived();
        assert_eq!(clock.deadline(), Some(t0 + head), "bytes of the first head do not restart it");
        let req = clock.request_started();
        assert_eq!(clock.deadline(), None, "no idle clock while a request is in flight");
        drop(req);
        let after = clock.deadline().expect("idle");
        assert!(after >= t0 + idle, "between requests: the keep-alive timeout");
        let before_bytes = Instant::now();
        clock.bytes_arrived();
        let d = clock.deadline().expect("head");
        assert!(d >= before_bytes + head && d < before_bytes + idle, "a later head: the header timeout");
    }
}
