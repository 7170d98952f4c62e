//! Bidirectional copy with half-close, an idle timeout and byte counters.
//!
//! **Idle** means too little progress, not silence: the idle clock restarts
//! each time another [`Idle::min_bytes`] bytes (both directions together,
//! counted as they are written to the other side) have moved, and a relay
//! whose clock reaches [`Idle::timeout`] is closed. A peer trickling a byte
//! every few seconds, or reading that slowly, no longer holds a connection
//! open for ever; it has to move `min_bytes` per `timeout`.
//!
//! Two ways to move bytes, chosen per direction:
//!
//! - **splice** (Linux, both sides plain sockets — TCP, unix, vsock): bytes go
//!   socket -> pipe -> socket with `splice(2)` and never enter user space.
//!   A pipe is borrowed from a per-thread pool only while it holds data and
//!   returned empty, so idle connections hold no pipe (and no descriptors
//!   beyond their two sockets).
//! - **buffered** (anything else, e.g. in-memory streams, or bytes a
//!   handshake already read into user space): a 64 KiB buffer, likewise
//!   taken from a per-thread pool only while data is in flight.
//!
//! Bytes read ahead by a handshake are passed as a `prefix`: they are
//! written first, then the direction switches to splice. If splice turns out
//! not to be supported by a socket (`EINVAL`, `EOPNOTSUPP`, `ENOSYS`), the
//! direction falls back to the buffered copy without losing bytes.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::time::Instant;

/// Copy chunk size: large enough that bulk transfers make few syscalls.
const BUF_SIZE: usize = 64 * 1024;
/// Buffers kept per thread between uses.
const POOL_MAX: usize = 16;
/// Requested pipe capacity (best effort: `F_SETPIPE_SZ` may be refused,
/// e.g. above `pipe-user-pages-soft`; the pipe then keeps its default).
const PIPE_SIZE: usize = 256 * 1024;
/// A buffered read at least this large switches the direction to splice
/// (bulk data); a splice smaller than `SPLICE_MIN` switches it back. Small
/// request/response traffic (handshakes, SOCKS5 set-up, short RPCs) is
/// cheaper through a buffer than through a pipe.
const SPLICE_AFTER: usize = BUF_SIZE / 2;
const SPLICE_MIN: usize = 4096;
/// Pipes kept per thread between uses (two descriptors each).
pub const PIPE_POOL_MAX: usize = 16;

thread_local! {
    static POOL: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
    static PIPES: RefCell<Vec<Pipe>> = const { RefCell::new(Vec::new()) };
}

fn take_buf() -> Box<[u8]> {
    POOL.with(|p| p.borrow_mut().pop()).unwrap_or_else(|| vec![0u8; BUF_SIZE].into_boxed_slice())
}

fn give_buf(b: Box<[u8]>) {
    if b.len() != BUF_SIZE {
        return;
    }
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_MAX {
            p.push(b);
        }
    });
}

/// A pipe used as the splice intermediary. Only ever pooled empty.
#[derive(Debug)]
struct Pipe {
    r: OwnedFd,
    w: OwnedFd,
    /// Capacity in bytes (what one splice into it may move).
    cap: usize,
}

fn take_pipe() -> io::Result<Pipe> {
    if let Some(p) = PIPES.with(|p| p.borrow_mut().pop()) {
        return Ok(p);
    }
    let (r, w) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
    let cap = match nix::fcntl::fcntl(&w, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as i32)) {
        Ok(n) if n > 0 => n as usize,
        _ => nix::fcntl::fcntl(&w, FcntlArg::F_GETPIPE_SZ).ok().filter(|n| *n > 0).map_or(16 * 4096, |n| n as usize),
    };
    Ok(Pipe { r, w, cap })
}

/// Returns an *empty* pipe to the pool (a pipe with data is closed instead).
fn give_pipe(p: Pipe) {
    PIPES.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < PIPE_POOL_MAX {
            pool.push(p);
        }
    });
}

/// Pipes currently pooled on this thread (for tests: idle relays hold
/// none, so every pipe not moving bytes is here or closed).
pub fn pooled_pipes() -> usize {
    PIPES.with(|p| p.borrow().len())
}

/// A stream the relay can move bytes on. Streams that are plain kernel
/// sockets (and have nothing buffered in user space) expose their
/// descriptor and tokio readiness so the relay can splice; the default is
/// the buffered copy through `AsyncRead`/`AsyncWrite`.
pub trait RelayStream: AsyncRead + AsyncWrite + Unpin {
    /// The socket to splice on, if this stream allows it.
    fn splice_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    /// Waits for readiness (only called when [`Self::splice_fd`] is `Some`).
    fn poll_ready(&self, _cx: &mut Context<'_>, _interest: Interest) -> Poll<io::Result<()>> {
        Poll::Ready(Err(io::ErrorKind::Unsupported.into()))
    }

    /// Runs `f` on the socket, clearing the readiness when it returns
    /// `WouldBlock` (only called when [`Self::splice_fd`] is `Some`).
    fn try_io_fd(&self, _interest: Interest, _f: &mut dyn FnMut() -> io::Result<usize>) -> io::Result<usize> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

macro_rules! splice_via_tokio {
    ($t:ty) => {
        impl RelayStream for $t {
            fn splice_fd(&self) -> Option<BorrowedFd<'_>> {
                Some(self.as_fd())
            }
            fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<()>> {
                if interest.is_readable() {
                    self.poll_read_ready(cx)
                } else {
                    self.poll_write_ready(cx)
                }
            }
            fn try_io_fd(&self, interest: Interest, f: &mut dyn FnMut() -> io::Result<usize>) -> io::Result<usize> {
                self.try_io(interest, f)
            }
        }
    };
}

splice_via_tokio!(tokio::net::TcpStream);
splice_via_tokio!(tokio::net::UnixStream);
splice_via_tokio!(sworn_net::VsockStream);

impl RelayStream for sworn_net::Stream {
    fn splice_fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            sworn_net::Stream::Tcp(s) => s.splice_fd(),
            sworn_net::Stream::Unix(s) => s.splice_fd(),
            sworn_net::Stream::Vsock(s) => s.splice_fd(),
        }
    }
    fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<()>> {
        match self {
            sworn_net::Stream::Tcp(s) => RelayStream::poll_ready(s, cx, interest),
            sworn_net::Stream::Unix(s) => RelayStream::poll_ready(s, cx, interest),
            sworn_net::Stream::Vsock(s) => RelayStream::poll_ready(s, cx, interest),
        }
    }
    fn try_io_fd(&self, interest: Interest, f: &mut dyn FnMut() -> io::Result<usize>) -> io::Result<usize> {
        match self {
            sworn_net::Stream::Tcp(s) => s.try_io_fd(interest, f),
            sworn_net::Stream::Unix(s) => s.try_io_fd(interest, f),
            sworn_net::Stream::Vsock(s) => s.try_io_fd(interest, f),
        }
    }
}

impl RelayStream for tokio::io::DuplexStream {}

/// `splice` errors meaning "this descriptor pair cannot splice" rather
/// than a broken connection.
fn splice_unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error().map(Errno::from_raw), Some(Errno::EINVAL | Errno::EOPNOTSUPP | Errno::ENOSYS))
}

fn splice(from: BorrowedFd<'_>, to: BorrowedFd<'_>, len: usize) -> io::Result<usize> {
    nix::fcntl::splice(from, None, to, None, len, SpliceFFlags::SPLICE_F_NONBLOCK | SpliceFFlags::SPLICE_F_MOVE)
        .map_err(io::Error::from)
}

/// One direction of the copy.
struct Pump<'a> {
    /// User-space bytes still to write (a prefix, or a buffered chunk).
    buf: Option<Box<[u8]>>,
    pos: usize,
    cap: usize,
    /// Both sides can splice.
    can_splice: bool,
    /// Splice (rather than copy) the next read, once `buf` is written.
    splice: bool,
    /// The borrowed pipe, only while it holds `in_pipe > 0` bytes.
    pipe: Option<Pipe>,
    in_pipe: usize,
    eof: bool,
    done: bool,
    bytes: u64,
    counter: &'a AtomicU64,
}

impl<'a> Pump<'a> {
    fn new(prefix: Vec<u8>, can_splice: bool, counter: &'a AtomicU64) -> Self {
        let cap = prefix.len();
        Pump {
            buf: (cap > 0).then(|| prefix.into_boxed_slice()),
            pos: 0,
            cap,
            can_splice,
            splice: false,
            pipe: None,
            in_pipe: 0,
            eof: false,
            done: false,
            bytes: 0,
            counter,
        }
    }

    /// Counts `n` bytes written to the other side (the only progress the
    /// idle clock counts).
    fn count(&mut self, n: usize, moved: &mut u64) {
        self.bytes += n as u64;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        *moved += n as u64;
    }

    fn poll<R, W>(&mut self, cx: &mut Context<'_>, r: &mut R, w: &mut W, moved: &mut u64) -> Poll<io::Result<()>>
    where
        R: RelayStream + ?Sized,
        W: RelayStream + ?Sized,
    {
        if self.done {
            return Poll::Ready(Ok(()));
        }
        loop {
            // 1. Bytes in user space go first (prefix or buffered chunk).
            if let Some(buf) = &self.buf {
                while self.pos < self.cap {
                    let n = ready!(Pin::new(&mut *w).poll_write(cx, &buf[self.pos..self.cap]))?;
                    if n == 0 {
                        return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                    }
                    self.pos += n;
                    // Not `count`: `buf` borrows `self.buf`.
                    self.bytes += n as u64;
                    self.counter.fetch_add(n as u64, Ordering::Relaxed);
                    *moved += n as u64;
                }
                if let Some(b) = self.buf.take() {
                    give_buf(b);
                }
            }
            // 2. Then bytes in the pipe.
            if self.in_pipe > 0 {
                ready!(self.drain_pipe(cx, w, moved))?;
                continue;
            }
            // 3. EOF once everything read was written.
            if self.eof {
                // Half-close: pass the EOF on, keep the other direction open.
                match ready!(Pin::new(&mut *w).poll_shutdown(cx)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
                self.done = true;
                return Poll::Ready(Ok(()));
            }
            // 4. Read more.
            if self.splice {
                ready!(self.fill_pipe(cx, r))?;
            } else {
                ready!(self.fill_buf(cx, r))?;
            }
        }
    }

    fn fill_buf<R: RelayStream + ?Sized>(&mut self, cx: &mut Context<'_>, r: &mut R) -> Poll<io::Result<()>> {
        let mut buf = take_buf();
        let mut rb = ReadBuf::new(&mut buf);
        match Pin::new(&mut *r).poll_read(cx, &mut rb) {
            Poll::Pending => {
                // Nothing was read: the buffer goes back unused.
                give_buf(buf);
                Poll::Pending
            }
            Poll::Ready(Err(e)) => {
                give_buf(buf);
                Poll::Ready(Err(e))
            }
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                if n == 0 {
                    self.eof = true;
                    give_buf(buf);
                } else {
                    self.pos = 0;
                    self.cap = n;
                    self.buf = Some(buf);
                    // Bulk data: splice from now on.
                    self.splice = self.can_splice && n >= SPLICE_AFTER;
                }
                Poll::Ready(Ok(()))
            }
        }
    }

    /// Splices what `r` has into a (borrowed) pipe. Ready(Ok) means the
    /// state changed (bytes in the pipe, EOF, or fallback to buffered).
    fn fill_pipe<R: RelayStream + ?Sized>(&mut self, cx: &mut Context<'_>, r: &mut R) -> Poll<io::Result<()>> {
        loop {
            ready!(r.poll_ready(cx, Interest::READABLE))?;
            let Some(src) = r.splice_fd() else {
                self.splice = false;
                self.can_splice = false;
                return Poll::Ready(Ok(()));
            };
            let pipe = match self.pipe.take() {
                Some(p) => p,
                None => match take_pipe() {
                    Ok(p) => p,
                    Err(e) => {
                        // Out of descriptors for a pipe: keep going buffered.
                        tracing::debug!(error = %e, "no pipe for splice, copying through a buffer");
                        self.splice = false;
                        return Poll::Ready(Ok(()));
                    }
                },
            };
            let (pw, cap) = (pipe.w.as_fd(), pipe.cap);
            let res = r.try_io_fd(Interest::READABLE, &mut || splice(src, pw, cap));
            match res {
                Ok(0) => {
                    give_pipe(pipe);
                    self.eof = true;
                    return Poll::Ready(Ok(()));
                }
                Ok(n) => {
                    self.pipe = Some(pipe);
                    self.in_pipe = n;
                    // Trickle: the buffer is cheaper again.
                    self.splice = n >= SPLICE_MIN;
                    return Poll::Ready(Ok(()));
                }
                Err(e) => {
                    // The pipe is still empty: it goes back.
                    give_pipe(pipe);
                    match e.kind() {
                        // Readiness was cleared; poll again (registers the waker).
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => continue,
                        _ if splice_unsupported(&e) => {
                            tracing::debug!(error = %e, "splice unsupported on source, copying through a buffer");
                            self.splice = false;
                            self.can_splice = false;
                            return Poll::Ready(Ok(()));
                        }
                        _ => return Poll::Ready(Err(e)),
                    }
                }
            }
        }
    }

    /// Splices the pipe's bytes into `w`; returns the emptied pipe to the pool.
    fn drain_pipe<W: RelayStream + ?Sized>(
        &mut self,
        cx: &mut Context<'_>,
        w: &mut W,
        moved: &mut u64,
    ) -> Poll<io::Result<()>> {
        while self.in_pipe > 0 {
            let Some(pipe) = &self.pipe else {
                return Poll::Ready(Err(io::Error::other("relay: bytes accounted to a missing pipe")));
            };
            ready!(w.poll_ready(cx, Interest::WRITABLE))?;
            let Some(dst) = w.splice_fd() else {
                return Poll::Ready(self.pipe_to_buf());
            };
            let (pr, len) = (pipe.r.as_fd(), self.in_pipe);
            match w.try_io_fd(Interest::WRITABLE, &mut || splice(pr, dst, len)) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => {
                    self.in_pipe -= n.min(self.in_pipe);
                    self.count(n, moved);
                }
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => continue,
                    _ if splice_unsupported(&e) => {
                        tracing::debug!(error = %e, "splice unsupported on destination, copying through a buffer");
                        return Poll::Ready(self.pipe_to_buf());
                    }
                    _ => return Poll::Ready(Err(e)),
                },
            }
        }
        if let Some(p) = self.pipe.take() {
            give_pipe(p);
        }
        Poll::Ready(Ok(()))
    }

    /// Fallback with bytes already in the pipe: read them back into a
    /// buffer (a pipe read never blocks on bytes it holds) and go buffered.
    fn pipe_to_buf(&mut self) -> io::Result<()> {
        self.splice = false;
        self.can_splice = false;
        let Some(pipe) = self.pipe.take() else {
            return Err(io::Error::other("relay: bytes accounted to a missing pipe"));
        };
        let mut buf = if self.in_pipe <= BUF_SIZE { take_buf() } else { vec![0u8; self.in_pipe].into_boxed_slice() };
        let mut got = 0;
        while got < self.in_pipe {
            match nix::unistd::read(&pipe.r, &mut buf[got..self.in_pipe]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if got != self.in_pipe {
            return Err(io::Error::other("relay: pipe held fewer bytes than spliced"));
        }
        self.in_pipe = 0;
        give_pipe(pipe);
        self.pos = 0;
        self.cap = got;
        self.buf = Some(buf);
        Ok(())
    }
}

impl Drop for Pump<'_> {
    fn drop(&mut self) {
        if let Some(b) = self.buf.take() {
            give_buf(b);
        }
        if let Some(p) = self.pipe.take() {
            // A pipe still holding bytes is closed, never pooled.
            if self.in_pipe == 0 {
                give_pipe(p);
            }
        }
    }
}

/// Bytes moved by a finished relay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transferred {
    /// From `a` to `b`.
    pub a_to_b: u64,
    /// From `b` to `a`.
    pub b_to_a: u64,
}

/// Bytes that must move per idle timeout when no figure is given
/// (`--idle-min-bytes`): a few request/response exchanges, far more than a
/// keep-alive trickle.
pub const DEFAULT_IDLE_MIN_BYTES: u64 = 1024;

/// When a relay counts as idle: fewer than `min_bytes` bytes (both
/// directions together) moved within `timeout` since the idle clock last
/// restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Idle {
    pub timeout: Duration,
    /// At least 1 (0 is taken as 1: any byte is progress).
    pub min_bytes: u64,
}

impl From<Duration> for Idle {
    /// `timeout` with [`DEFAULT_IDLE_MIN_BYTES`].
    fn from(timeout: Duration) -> Self {
        Idle { timeout, min_bytes: DEFAULT_IDLE_MIN_BYTES }
    }
}

/// Why a relay ended early.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("idle: too little progress within {0:?}")]
    Idle(Duration),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Copies both ways until both sides have sent EOF, an error occurs, or
/// the relay is [`Idle`]. Counters are updated as bytes move, so
/// metrics see long transfers progress.
pub async fn relay<A, B>(
    a: &mut A,
    b: &mut B,
    idle: impl Into<Idle>,
    a_to_b: &AtomicU64,
    b_to_a: &AtomicU64,
) -> Result<Transferred, RelayError>
where
    A: RelayStream + ?Sized,
    B: RelayStream + ?Sized,
{
    relay_with_prefix(a, b, Vec::new(), idle, a_to_b, b_to_a).await
}

/// [`relay`], with `prefix` — bytes already read from `a` (e.g. past a
/// handshake) — written to `b` before anything else from `a`.
pub async fn relay_with_prefix<A, B>(
    a: &mut A,
    b: &mut B,
    prefix: Vec<u8>,
    idle: impl Into<Idle>,
    a_to_b: &AtomicU64,
    b_to_a: &AtomicU64,
) -> Result<Transferred, RelayError>
where
    A: RelayStream + ?Sized,
    B: RelayStream + ?Sized,
{
    let splice = cfg!(target_os = "linux") && a.splice_fd().is_some() && b.splice_fd().is_some();
    let mut up = Pump::new(prefix, splice, a_to_b);
    let mut down = Pump::new(Vec::new(), splice, b_to_a);
    let Idle { timeout, min_bytes } = idle.into();
    let min_bytes = min_bytes.max(1);
    // When the idle clock last restarted, and bytes moved since.
    let mut last = Instant::now();
    let mut since_last = 0u64;
    let sleep = tokio::time::sleep(timeout);
    tokio::pin!(sleep);
    poll_fn(|cx| {
        let mut moved = 0u64;
        let r1 = up.poll(cx, &mut *a, &mut *b, &mut moved)?;
        let r2 = down.poll(cx, &mut *b, &mut *a, &mut moved)?;
        if r1.is_ready() && r2.is_ready() {
            return Poll::Ready(Ok(()));
        }
        since_last = since_last.saturating_add(moved);
        if since_last >= min_bytes {
            last = Instant::now();
            since_last = 0;
        }
        // Re-arm lazily: the timer is only moved when it fires early.
        while sleep.as_mut().poll(cx).is_ready() {
            let deadline = last + timeout;
            if deadline <= Instant::now() {
                return Poll::Ready(Err(RelayError::Idle(timeout)));
            }
            sleep.as_mut().reset(deadline);
        }
        Poll::Pending
    })
    .await?;
    Ok(Transferred { a_to_b: up.bytes, b_to_a: down.bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream, UnixStream};

    #[tokio::test]
    async fn copies_both_ways_with_half_close() {
        let (mut client, mut a) = tokio::io::duplex(1024);
        let (mut b, mut server) = tokio::io::duplex(1024);
        let (c1, c2) = (AtomicU64::new(0), AtomicU64::new(0));
        let srv = tokio::spawn(async move {
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            server.write_all(&got).await.unwrap();
            server.write_all(b"!").await.unwrap();
            server.shutdown().await.unwrap();
        });
        let cli = tokio::spawn(async move {
            let data = vec![7u8; 300_000];
            client.write_all(&data).await.unwrap();
            client.shutdown().await.unwrap();
            let mut back = Vec::new();
            client.read_to_end(&mut back).await.unwrap();
            back.len()
        });
        let t = relay(&mut a, &mut b, Duration::from_secs(5), &c1, &c2).await.unwrap();
        assert_eq!(t, Transferred { a_to_b: 300_000, b_to_a: 300_001 });
        assert_eq!(c1.load(Ordering::Relaxed), 300_000);
        assert_eq!(cli.await.unwrap(), 300_001);
        srv.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn idle_timeout_ends_a_silent_relay() {
        let (_client, mut a) = tokio::io::duplex(64);
        let (mut b, _server) = tokio::io::duplex(64);
        let (c1, c2) = (AtomicU64::new(0), AtomicU64::new(0));
        let r = relay(&mut a, &mut b, Duration::from_secs(30), &c1, &c2).await;
        assert!(matches!(r, Err(RelayError::Idle(_))));
    }

    /// A client writing `chunk` bytes every `every`, `times` times, then
    /// half-closing, through a relay with `idle`; the server drains.
    async fn paced(chunk: usize, every: Duration, times: usize, idle: Idle) -> Result<Transferred, RelayError> {
        let (mut client, mut a) = tokio::io::duplex(1 << 20);
        let (mut b, mut server) = tokio::io::duplex(1 << 20);
        tokio::spawn(async move {
            for _ in 0..times {
                if client.write_all(&vec![b'x'; chunk]).await.is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
            let _ = client.shutdown().await;
            let mut sink = Vec::new();
            let _ = client.read_to_end(&mut sink).await;
        });
        tokio::spawn(async move {
            let mut sink = Vec::new();
            let _ = server.read_to_end(&mut sink).await;
            let _ = server.shutdown().await;
        });
        let (c1, c2) = (AtomicU64::new(0), AtomicU64::new(0));
        relay(&mut a, &mut b, idle, &c1, &c2).await
    }

    #[tokio::test(start_paused = true)]
    async fn trickle_below_min_bytes_is_idle() {
        let idle = Idle { timeout: Duration::from_secs(3), min_bytes: 1024 };
        // 30 bytes over 30 s: each byte used to restart the idle clock.
        let r = paced(1, Duration::from_secs(1), 30, idle).await;
        assert!(matches!(r, Err(RelayError::Idle(_))), "{r:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn steady_stream_above_min_bytes_is_not_idle() {
        let idle = Idle { timeout: Duration::from_secs(3), min_bytes: 1024 };
        let r = paced(4096, Duration::from_secs(1), 30, idle).await;
        assert_eq!(r.map(|t| t.a_to_b).ok(), Some(30 * 4096));
    }

    #[tokio::test(start_paused = true)]
    async fn min_bytes_of_one_counts_single_bytes() {
        let idle = Idle { timeout: Duration::from_secs(3), min_bytes: 1 };
        let r = paced(1, Duration::from_secs(1), 30, idle).await;
        assert_eq!(r.map(|t| t.a_to_b).ok(), Some(30));
    }

    /// Deterministic pseudo-random bytes (xorshift), different per seed.
    fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    async fn tcp_pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (c, s) = tokio::join!(TcpStream::connect(addr), l.accept());
        (c.unwrap(), s.unwrap().0)
    }

    /// Writes `data` then half-closes, while reading the peer to EOF;
    /// returns what was read.
    async fn send_and_drain<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, data: Vec<u8>) -> Vec<u8> {
        let (mut rd, mut wr) = tokio::io::split(&mut stream);
        let w = async {
            wr.write_all(&data).await.unwrap();
            wr.shutdown().await.unwrap();
        };
        let r = async {
            let mut got = Vec::new();
            rd.read_to_end(&mut got).await.unwrap();
            got
        };
        tokio::join!(w, r).1
    }

    /// Sends `up` from the client and `down` from the server through a
    /// relay of `a` (client side) and `b` (server side), each end
    /// half-closing after writing and reading to EOF. Returns what each end
    /// received and what the relay counted.
    async fn exchange<A, B, C, S>(
        client: C,
        mut a: A,
        mut b: B,
        server: S,
        prefix: Vec<u8>,
        up: Vec<u8>,
        down: Vec<u8>,
    ) -> (Vec<u8>, Vec<u8>, Transferred)
    where
        A: RelayStream + Send + 'static,
        B: RelayStream + Send + 'static,
        C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let cli = tokio::spawn(send_and_drain(client, up));
        let srv = tokio::spawn(send_and_drain(server, down));
        let relay = tokio::spawn(async move {
            let (c1, c2) = (AtomicU64::new(0), AtomicU64::new(0));
            let t = relay_with_prefix(&mut a, &mut b, prefix, Duration::from_secs(20), &c1, &c2).await.unwrap();
            assert_eq!((c1.load(Ordering::Relaxed), c2.load(Ordering::Relaxed)), (t.a_to_b, t.b_to_a));
            t
        });
        let t = relay.await.unwrap();
        (cli.await.unwrap(), srv.await.unwrap(), t)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn splice_tcp_bulk_integrity_both_ways() {
        // Sizes around and far beyond the pipe capacity.
        for (i, (n_up, n_down)) in
            [(1, 0), (65_535, 65_537), (PIPE_SIZE + 1, 3 * PIPE_SIZE - 7), (8 << 20, 5 << 20)].into_iter().enumerate()
        {
            let (client, a) = tcp_pair().await;
            let (b, server) = tcp_pair().await;
            let (up, down) = (random_bytes(n_up, i as u64 + 1), random_bytes(n_down, i as u64 + 100));
            let (at_client, at_server, t) = exchange(client, a, b, server, Vec::new(), up.clone(), down.clone()).await;
            assert!(at_server == up, "up: {} bytes, {} arrived", up.len(), at_server.len());
            assert!(at_client == down, "down: {} bytes, {} arrived", down.len(), at_client.len());
            assert_eq!(t, Transferred { a_to_b: n_up as u64, b_to_a: n_down as u64 });
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn splice_tcp_to_unix_and_prefix_goes_first() {
        let (client, a) = tcp_pair().await;
        let (b, server) = UnixStream::pair().unwrap();
        let prefix = b"read past the handshake|".to_vec();
        let (up, down) = (random_bytes(1 << 20, 7), random_bytes(300_000, 8));
        let (at_client, at_server, t) = exchange(client, a, b, server, prefix.clone(), up.clone(), down.clone()).await;
        let mut want = prefix.clone();
        want.extend_from_slice(&up);
        assert!(at_server == want, "prefix then stream, {} bytes arrived", at_server.len());
        assert!(at_client == down);
        assert_eq!(t.a_to_b, want.len() as u64);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn prefix_alone_then_eof() {
        let (client, a) = UnixStream::pair().unwrap();
        let (b, server) = UnixStream::pair().unwrap();
        let (at_client, at_server, t) = exchange(client, a, b, server, b"early".to_vec(), Vec::new(), Vec::new()).await;
        assert_eq!(at_server, b"early");
        assert!(at_client.is_empty());
        assert_eq!(t, Transferred { a_to_b: 5, b_to_a: 0 });
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fallback_mixed_socket_and_memory_stream() {
        // One side is not a socket: both directions copy through buffers.
        let (client, a) = tcp_pair().await;
        let (b, server) = tokio::io::duplex(4096);
        let (up, down) = (random_bytes(700_000, 3), random_bytes(123_457, 4));
        let (at_client, at_server, t) = exchange(client, a, b, server, b"p".to_vec(), up.clone(), down.clone()).await;
        assert_eq!(at_server.len(), up.len() + 1);
        assert!(at_server[1..] == up[..] && at_server[0] == b'p');
        assert!(at_client == down);
        assert_eq!(t, Transferred { a_to_b: up.len() as u64 + 1, b_to_a: down.len() as u64 });
    }

    /// Half-close from one side only: the other direction keeps flowing
    /// after the first one ended, through splice.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn splice_half_close_each_direction() {
        for client_closes_first in [true, false] {
            let (mut client, mut a) = tcp_pair().await;
            let (mut b, mut server) = tcp_pair().await;
            let relay = tokio::spawn(async move {
                let (c1, c2) = (AtomicU64::new(0), AtomicU64::new(0));
                relay(&mut a, &mut b, Duration::from_secs(20), &c1, &c2).await.unwrap()
            });
            let (first, second) =
                if client_closes_first { (&mut client, &mut server) } else { (&mut server, &mut client) };
            first.write_all(b"request").await.unwrap();
            first.shutdown().await.unwrap();
            let mut got = Vec::new();
            second.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"request", "EOF arrives after the bytes");
            // The other direction still works after the half-close.
            let big = random_bytes(2 * PIPE_SIZE + 11, 9);
            second.write_all(&big).await.unwrap();
            second.shutdown().await.unwrap();
            let mut back = Vec::new();
            first.read_to_end(&mut back).await.unwrap();
            assert!(back == big);
            let t = relay.await.unwrap();
            let (f, s) = if client_closes_first { (t.a_to_b, t.b_to_a) } else { (t.b_to_a, t.a_to_b) };
            assert_eq!((f, s), (7, big.len() as u64));
        }
    }
}
