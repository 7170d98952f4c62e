//! Response bodies: complete, or streamed from a worker.

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::engine::instance::{ChunkReceiver, StreamGauge};
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

pub enum OutBody {
    Full(Option<Bytes>),
    Stream(ChunkReceiver, std::sync::Arc<StreamGauge>),
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
            OutBody::Stream(rx, gauge) => match rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(b))) => {
                    gauge.taken(b.len());
                    Poll::Ready(Some(Ok(Frame::data(b))))
                }
                // Cuts the connection: the client must not take a truncated
                // body for a complete one.
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(std::io::Error::other(e)))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, OutBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            OutBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            OutBody::Full(None) => SizeHint::with_exact(0),
            OutBody::Stream(..) => SizeHint::default(),
        }
    }
}
