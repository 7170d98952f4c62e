//! Response bodies: complete, or streamed from a worker.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::engine::instance::{ChunkReceiver, StreamGauge};
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

pub enum OutBody {
    Full(Option<Bytes>),
    Stream(Box<StreamOut>),
}

/// A response a worker streams, and the budget it streams within: the
/// stream ends (the connection is cut) at `deadline` even if the worker's
/// `ReadableStream` never closes, so an open stream cannot hold a
/// connection, a concurrency slot and the worker's pending state forever.
pub struct StreamOut {
    rx: ChunkReceiver,
    gauge: std::sync::Arc<StreamGauge>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    budget: std::time::Duration,
    /// Tells the worker side its response is over (frees its pending
    /// state): called at the deadline, or when the client goes away first.
    on_abandon: Option<Box<dyn FnOnce()>>,
    /// Kept until the stream ends: e.g. the worker's concurrency slot.
    hold: Option<Box<dyn std::any::Any>>,
    /// The length its source declared (sent as Content-Length), and the
    /// bytes still owed: a chunk past it cuts the connection, where hyper
    /// would quietly cut the body to the declared length.
    length: Option<u64>,
    owed: u64,
}

impl StreamOut {
    pub fn new(
        rx: ChunkReceiver,
        gauge: std::sync::Arc<StreamGauge>,
        deadline: tokio::time::Instant,
        budget: std::time::Duration,
        on_abandon: Box<dyn FnOnce()>,
        hold: Box<dyn std::any::Any>,
    ) -> Self {
        StreamOut {
            rx,
            gauge,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            budget,
            on_abandon: Some(on_abandon),
            hold: Some(hold),
            length: None,
            owed: 0,
        }
    }

    /// Declares the body's length, when its source knew it.
    pub fn with_length(mut self, length: Option<u64>) -> Self {
        self.length = length;
        self.owed = length.unwrap_or(0);
        self
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.abandon();
            let e = format!("response stream did not end within its budget of {:?}", self.budget);
            return Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::TimedOut, e))));
        }
        let r = match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => {
                self.gauge.taken(b.len());
                if self.length.is_some() {
                    let Some(owed) = self.owed.checked_sub(b.len() as u64) else {
                        self.abandon();
                        let e =
                            format!("response stream is longer than its declared {} bytes", self.length.unwrap_or(0));
                        return Poll::Ready(Some(Err(std::io::Error::other(e))));
                    };
                    self.owed = owed;
                }
                return Poll::Ready(Some(Ok(Frame::data(b))));
            }
            // Cuts the connection: the client must not take a truncated
            // body for a complete one.
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(std::io::Error::other(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        self.on_abandon = None;
        self.hold = None;
        r
    }

    fn abandon(&mut self) {
        if let Some(f) = self.on_abandon.take() {
            f();
        }
        self.hold = None;
    }
}

impl Drop for StreamOut {
    fn drop(&mut self) {
        self.abandon();
    }
}

impl OutBody {
    pub fn empty() -> OutBody {
        OutBody::Full(None)
    }
}

impl From<Bytes> for OutBody {
    fn from(b: Bytes) -> Self {
        if b.is_empty() {
            OutBody::Full(None)
        } else {
            OutBody::Full(Some(b))
        }
    }
}

impl Body for OutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            OutBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            OutBody::Stream(s) => s.poll_chunk(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, OutBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            OutBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            OutBody::Full(None) => SizeHint::with_exact(0),
            OutBody::Stream(s) => s.length.map_or_else(SizeHint::default, SizeHint::with_exact),
        }
    }
}
