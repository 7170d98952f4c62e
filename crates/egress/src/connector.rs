//! Opens connections for hyper-util's pooled client: dial (directly or to
//! the proxy), SOCKS5 CONNECT, then TLS inside this process.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use sworn_socks5::Destination;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::config::Route;
use crate::error::{chain, ConnectFailure, FetchError};
use crate::socks5::{self, SocksError};
use crate::tls::ALPN_H2;

/// Any byte stream we can run TLS or HTTP over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

pub(crate) enum Conn {
    Plain(Box<dyn Io>),
    Tls(Box<TlsStream<Box<dyn Io>>>),
}

/// A connection handed to hyper; remembers whether ALPN chose HTTP/2.
pub struct EgressIo {
    io: TokioIo<Conn>,
    h2: bool,
}

#[derive(Clone)]
pub(crate) struct Connector {
    inner: Arc<Inner>,
}

struct Inner {
    route: Route,
    tls: Arc<ClientConfig>,
    connect_timeout: Duration,
}

impl Connector {
    pub(crate) fn new(route: Route, tls: Arc<ClientConfig>, connect_timeout: Duration) -> Self {
        Self { inner: Arc::new(Inner { route, tls, connect_timeout }) }
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = EgressIo;
    type Error = ConnectFailure;
    type Future = Pin<Box<dyn Future<Output = Result<EgressIo, ConnectFailure>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { inner.connect(uri).await.map_err(ConnectFailure) })
    }
}

/// Host and port of a request URI, split for SOCKS and SNI.
struct Target {
    /// What the proxy is asked to CONNECT to: IP literals as addresses,
    /// host names as names.
    dest: Destination,
    /// Host without IPv6 brackets, for DNS and SNI.
    bare: String,
    port: u16,
    tls: bool,
}

impl Target {
    fn from_uri(uri: &Uri) -> Result<Self, FetchError> {
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            other => return Err(FetchError::UnsupportedScheme(other.unwrap_or("").to_string())),
        };
        let raw =
            uri.host().ok_or_else(|| FetchError::InvalidUrl { url: uri.to_string(), reason: "no host".into() })?;
        let bare = raw.trim_start_matches('[').trim_end_matches(']').to_string();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let dest = match bare.parse::<IpAddr>() {
            Ok(ip) => Destination::Addr(SocketAddr::new(ip, port)),
            Err(_) => Destination::Domain(bare.clone(), port),
        };
        Ok(Self { dest, bare, port, tls })
    }

    fn display(&self) -> String {
        self.dest.to_string()
    }
}

impl Inner {
    async fn connect(&self, uri: Uri) -> Result<EgressIo, FetchError> {
        let target = Target::from_uri(&uri)?;
        match tokio::time::timeout(self.connect_timeout, self.connect_target(&target)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::ConnectTimeout { target: target.display(), after: self.connect_timeout }),
        }
    }

    async fn connect_target(&self, target: &Target) -> Result<EgressIo, FetchError> {
        let stream: Box<dyn Io> = match &self.route {
            Route::Direct => {
                let tcp = tokio::net::TcpStream::connect((target.bare.as_str(), target.port))
                    .await
                    .map_err(|e| FetchError::Connect { target: target.display(), reason: e.to_string() })?;
                // Small requests and HTTP/2 frames must not wait for Nagle.
                let _ = tcp.set_nodelay(true);
                Box::new(tcp)
            }
            Route::Socks5 { proxy } => {
                let mut stream = sworn_net::connect(proxy)
                    .await
                    .map_err(|e| FetchError::ProxyUnreachable { proxy: proxy.to_string(), reason: chain(&e) })?;
                socks5::connect(&mut stream, &target.dest).await.map_err(|e| match e {
                    SocksError::Refused { target, code } => FetchError::ProxyRefused { target, code },
                    other => FetchError::ProxyProtocol { proxy: proxy.to_string(), reason: other.to_string() },
                })?;
                Box::new(stream)
            }
        };
        if !target.tls {
            return Ok(EgressIo { io: TokioIo::new(Conn::Plain(stream)), h2: false });
        }
        let name = ServerName::try_from(target.bare.clone())
            .map_err(|e| FetchError::Tls { host: target.bare.clone(), reason: e.to_string() })?;
        let tls = TlsConnector::from(self.tls.clone())
            .connect(name, stream)
            .await
            .map_err(|e| FetchError::Tls { host: target.bare.clone(), reason: tls_reason(&e) })?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(ALPN_H2);
        Ok(EgressIo { io: TokioIo::new(Conn::Tls(Box::new(tls))), h2 })
    }
}

fn tls_reason(e: &io::Error) -> String {
    match e.get_ref() {
        Some(inner) => inner.to_string(),
        None => e.to_string(),
    }
}

impl Connection for EgressIo {
    fn connected(&self) -> Connected {
        let c = Connected::new();
        if self.h2 {
            c.negotiated_h2()
        } else {
            c
        }
    }
}

impl hyper::rt::Read for EgressIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for EgressIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(uri: &str) -> Result<Target, FetchError> {
        Target::from_uri(&uri.parse::<Uri>().unwrap())
    }

    #[test]
    fn targets_keep_names_and_split_ip_literals() {
        let t = target("https://example.com/x").unwrap();
        assert_eq!((t.dest.clone(), t.port, t.tls), (Destination::Domain("example.com".into(), 443), 443, true));
        assert_eq!(t.display(), "example.com:443");
        let t = target("http://10.0.0.1:8080/").unwrap();
        assert_eq!((t.dest.clone(), t.port, t.tls), (Destination::Addr("10.0.0.1:8080".parse().unwrap()), 8080, false));
        let t = target("https://[::1]:8443/").unwrap();
        assert_eq!(t.dest, Destination::Addr((std::net::Ipv6Addr::LOCALHOST, 8443).into()));
        assert_eq!(t.bare, "::1");
        assert_eq!(t.display(), "[::1]:8443");
        assert!(matches!(target("ftp://example.com/"), Err(FetchError::UnsupportedScheme(s)) if s == "ftp"));
    }
}
