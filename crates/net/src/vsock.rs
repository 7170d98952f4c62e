//! A connected AF_VSOCK stream whose tokio readiness is reachable.
//!
//! `tokio_vsock::VsockStream` keeps its `AsyncFd` private, so a caller
//! cannot wait for readiness and run its own syscall on the socket (the
//! host proxy splices between sockets). Connecting and accepting still go
//! through tokio-vsock; the connected socket is then re-registered here.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio_vsock::VsockAddr;

/// A connected vsock stream (non-blocking, registered with tokio).
#[derive(Debug)]
pub struct VsockStream {
    inner: AsyncFd<vsock::VsockStream>,
}

impl VsockStream {
    /// Takes over a connected tokio-vsock stream.
    pub fn from_tokio(s: tokio_vsock::VsockStream) -> io::Result<Self> {
        // Deregisters from tokio-vsock's AsyncFd; the socket stays non-blocking.
        Self::from_connected_fd(OwnedFd::from(s))
    }

    /// Registers a connected, non-blocking stream socket.
    pub(crate) fn from_connected_fd(fd: OwnedFd) -> io::Result<Self> {
        let s = vsock::VsockStream::from(fd);
        // SAFETY: the `vsock::VsockStream` owns the descriptor and is owned
        // by the AsyncFd, so the descriptor stays open and the same until
        // the AsyncFd is dropped.
        let inner = unsafe { AsyncFd::register_with_interest(s, Interest::READABLE | Interest::WRITABLE)? };
        Ok(VsockStream { inner })
    }

    pub fn local_addr(&self) -> io::Result<VsockAddr> {
        self.inner.get_ref().local_addr()
    }

    pub fn peer_addr(&self) -> io::Result<VsockAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Like `TcpStream::poll_read_ready`: the readiness stays set until an
    /// operation run through [`Self::try_io`] returns `WouldBlock`.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_read_ready(cx).map_ok(|_| ())
    }

    /// Like `TcpStream::poll_write_ready`.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_write_ready(cx).map_ok(|_| ())
    }

    /// Like `TcpStream::try_io`: runs `f` if the socket is ready for
    /// `interest` and clears that readiness if `f` returns `WouldBlock`.
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.inner.try_io(interest, |_| f())
    }
}

impl AsFd for VsockStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

impl AsRawFd for VsockStream {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.get_ref().as_raw_fd()
    }
}

impl AsyncRead for VsockStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.inner.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard.try_io(|s| s.get_ref().read(unfilled)) {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for VsockStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.inner.poll_write_ready(cx))?;
            match guard.try_io(|s| s.get_ref().write(buf)) {
                Ok(Ok(n)) => return Poll::Ready(Ok(n)),
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Half-close: shuts down the write direction only.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.get_ref().shutdown(Shutdown::Write))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// No vsock on the build machines: the wrapper's read/write/shutdown
    /// and readiness are plain socket calls, exercised on a unix pair.
    #[tokio::test]
    async fn reads_writes_half_closes_and_exposes_readiness() {
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut a = VsockStream::from_connected_fd(OwnedFd::from(a)).unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let expect = data.clone();
        let peer = std::thread::spawn(move || {
            let mut got = vec![0u8; expect.len()];
            b.read_exact(&mut got).unwrap();
            assert!(got == expect);
            b.write_all(b"reply").unwrap();
            b.shutdown(Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            b.read_to_end(&mut rest).unwrap();
            rest
        });
        a.write_all(&data).await.unwrap();
        let mut back = Vec::new();
        a.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"reply");
        // Readiness + try_io, as a splicing caller uses them.
        std::future::poll_fn(|cx| a.poll_write_ready(cx)).await.unwrap();
        let n = a.try_io(Interest::WRITABLE, || a.inner.get_ref().write(b"end")).unwrap();
        assert_eq!(n, 3);
        a.shutdown().await.unwrap();
        assert_eq!(peer.join().unwrap(), b"end");
    }
}
