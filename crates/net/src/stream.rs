//! One stream type over every transport, and `connect`.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_vsock::VsockAddr;

use crate::{hybrid, Endpoint, Error, VsockStream};

/// A connected stream. `AsyncWriteExt::shutdown` closes only the write side
/// (half-close), so the peer sees EOF while we keep reading.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Vsock(VsockStream),
}

/// Who is on the other end of an accepted [`Stream`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerAddr {
    Tcp(SocketAddr),
    /// Unix peers are usually unnamed.
    Unix(Option<PathBuf>),
    Vsock {
        cid: u32,
        port: u32,
    },
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerAddr::Tcp(a) => write!(f, "tcp:{a}"),
            PeerAddr::Unix(Some(p)) => write!(f, "unix:{}", p.display()),
            PeerAddr::Unix(None) => write!(f, "unix:(unnamed)"),
            PeerAddr::Vsock { cid, port } => write!(f, "vsock:{cid}:{port}"),
        }
    }
}

impl From<TcpStream> for Stream {
    fn from(s: TcpStream) -> Self {
        Stream::Tcp(s)
    }
}
impl From<UnixStream> for Stream {
    fn from(s: UnixStream) -> Self {
        Stream::Unix(s)
    }
}
impl From<VsockStream> for Stream {
    fn from(s: VsockStream) -> Self {
        Stream::Vsock(s)
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Vsock(s) => s.as_raw_fd(),
        }
    }
}

impl Stream {
    /// The local address of this stream (for PROXY protocol headers).
    pub fn local_addr(&self) -> io::Result<PeerAddr> {
        Ok(match self {
            Stream::Tcp(s) => PeerAddr::Tcp(s.local_addr()?),
            Stream::Unix(s) => PeerAddr::Unix(s.local_addr()?.as_pathname().map(Into::into)),
            Stream::Vsock(s) => {
                let a = s.local_addr()?;
                PeerAddr::Vsock { cid: a.cid(), port: a.port() }
            }
        })
    }

    /// The remote address of this stream.
    pub fn peer_addr(&self) -> io::Result<PeerAddr> {
        Ok(match self {
            Stream::Tcp(s) => PeerAddr::Tcp(s.peer_addr()?),
            Stream::Unix(s) => PeerAddr::Unix(s.peer_addr()?.as_pathname().map(Into::into)),
            Stream::Vsock(s) => {
                let a = s.peer_addr()?;
                PeerAddr::Vsock { cid: a.cid(), port: a.port() }
            }
        })
    }
}

/// Connects to `endpoint`. TCP host names are resolved with the system
/// resolver and every address is tried in order; TCP_NODELAY is set.
/// `vhost-uds` performs the hybrid vsock `CONNECT` handshake.
pub async fn connect(endpoint: &Endpoint) -> Result<Stream, Error> {
    let err = |source| Error::Connect { endpoint: endpoint.to_string(), source };
    match endpoint {
        Endpoint::Tcp { host, port } => {
            let s = TcpStream::connect((host.as_str(), *port)).await.map_err(err)?;
            // Best effort: a proxy must not add Nagle delays.
            let _ = s.set_nodelay(true);
            Ok(Stream::Tcp(s))
        }
        Endpoint::Unix(path) => Ok(Stream::Unix(UnixStream::connect(path).await.map_err(err)?)),
        Endpoint::Vsock { cid, port } => {
            let s = tokio_vsock::VsockStream::connect(VsockAddr::new(*cid, *port)).await.map_err(err)?;
            Ok(Stream::Vsock(VsockStream::from_tokio(s).map_err(err)?))
        }
        Endpoint::VhostUds { path, port } => {
            let mut s = UnixStream::connect(path).await.map_err(err)?;
            hybrid::client_handshake(&mut s, *port).await.map_err(|e| match e {
                hybrid::HandshakeError::Io(source) => Error::Connect { endpoint: endpoint.to_string(), source },
                hybrid::HandshakeError::Refused(reason) => Error::Handshake { endpoint: endpoint.to_string(), reason },
            })?;
            Ok(Stream::Unix(s))
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Stream::Tcp($s) => $e,
            Stream::Unix($s) => $e,
            Stream::Vsock($s) => $e,
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        delegate!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.is_write_vectored(),
            Stream::Unix(s) => s.is_write_vectored(),
            Stream::Vsock(_) => false,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_flush(cx))
    }

    /// Half-close: shuts down the write direction only.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}
