//! Bidirectional copy with half-close, an idle timeout and byte counters.
//!
//! Buffers are taken from a per-thread pool only while data is in flight
//! and returned as soon as it is written, so idle connections hold no
//! buffer at all: 5,000 idle connections cost their sockets and a small
//! task each, not 5,000 x 2 buffers.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Copy chunk size: large enough that bulk transfers make few syscalls.
const BUF_SIZE: usize = 64 * 1024;
/// Buffers kept per thread between uses.
const POOL_MAX: usize = 16;

thread_local! {
    static POOL: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

fn take_buf() -> Box<[u8]> {
    POOL.with(|p| p.borrow_mut().pop())
        .unwrap_or_else(|| vec![0u8; BUF_SIZE].into_boxed_slice())
}

fn give_buf(b: Box<[u8]>) {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_MAX {
            p.push(b);
        }
    });
}

/// One direction of the copy.
struct Pump<'a> {
    buf: Option<Box<[u8]>>,
    pos: usize,
    cap: usize,
    eof: bool,
    done: bool,
    bytes: u64,
    counter: &'a AtomicU64,
}

impl Pump<'_> {
    fn poll<R, W>(&mut self, cx: &mut Context<'_>, mut r: Pin<&mut R>, mut w: Pin<&mut W>, progress: &mut bool) -> Poll<io::Result<()>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        if self.done {
            return Poll::Ready(Ok(()));
        }
        loop {
            if self.buf.is_none() && !self.eof {
                let mut buf = take_buf();
                let mut rb = ReadBuf::new(&mut buf);
                match r.as_mut().poll_read(cx, &mut rb) {
                    Poll::Pending => {
                        // Nothing was read: the buffer goes back unused.
                        give_buf(buf);
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(e)) => {
                        give_buf(buf);
                        return Poll::Ready(Err(e));
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
                            *progress = true;
                        }
                    }
                }
            }
            if let Some(buf) = &self.buf {
                while self.pos < self.cap {
                    let n = ready!(w.as_mut().poll_write(cx, &buf[self.pos..self.cap]))?;
                    if n == 0 {
                        return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                    }
                    self.pos += n;
                    self.bytes += n as u64;
                    self.counter.fetch_add(n as u64, Ordering::Relaxed);
                    *progress = true;
                }
                if let Some(b) = self.buf.take() {
                    give_buf(b);
                }
            }
            if self.eof {
                // Half-close: pass the EOF on, keep the other direction open.
                match ready!(w.as_mut().poll_shutdown(cx)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
                self.done = true;
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl Drop for Pump<'_> {
    fn drop(&mut self) {
        if let Some(b) = self.buf.take() {
            give_buf(b);
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

/// Why a relay ended early.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("idle for {0:?}")]
    Idle(Duration),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Copies both ways until both sides have sent EOF, an error occurs, or
/// nothing moved for `idle`. Counters are updated as bytes move, so
/// metrics see long transfers progress.
pub async fn relay<A, B>(
    a: &mut A,
    b: &mut B,
    idle: Duration,
    a_to_b: &AtomicU64,
    b_to_a: &AtomicU64,
) -> Result<Transferred, RelayError>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut up = Pump { buf: None, pos: 0, cap: 0, eof: false, done: false, bytes: 0, counter: a_to_b };
    let mut down = Pump { buf: None, pos: 0, cap: 0, eof: false, done: false, bytes: 0, counter: b_to_a };
    let mut last = Instant::now();
    let sleep = tokio::time::sleep(idle);
    tokio::pin!(sleep);
    poll_fn(|cx| {
        let mut progress = false;
        let r1 = up.poll(cx, Pin::new(&mut *a), Pin::new(&mut *b), &mut progress)?;
        let r2 = down.poll(cx, Pin::new(&mut *b), Pin::new(&mut *a), &mut progress)?;
        if r1.is_ready() && r2.is_ready() {
            return Poll::Ready(Ok(()));
        }
        if progress {
            last = Instant::now();
        }
        // Re-arm lazily: the timer is only moved when it fires early.
        while sleep.as_mut().poll(cx).is_ready() {
            let deadline = last + idle;
            if deadline <= Instant::now() {
                return Poll::Ready(Err(RelayError::Idle(idle)));
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
}
