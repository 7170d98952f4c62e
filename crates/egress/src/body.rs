//! The streaming response body, with the size limit and the fetch's
//! deadline enforced as bytes arrive.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use crate::error::FetchError;

/// A response body. Implements [`http_body::Body`]; [`ResponseBody::chunk`]
/// and [`ResponseBody::bytes`] are the simple ways to read it.
pub struct ResponseBody {
    inner: Option<Incoming>,
    read: u64,
    limit: u64,
    deadline: Pin<Box<Sleep>>,
    total_timeout: Duration,
    url: String,
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody").field("url", &self.url).field("read", &self.read).finish_non_exhaustive()
    }
}

impl ResponseBody {
    pub(crate) fn new(inner: Incoming, limit: u64, deadline: Instant, total_timeout: Duration, url: String) -> Self {
        Self {
            inner: Some(inner),
            read: 0,
            limit,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            total_timeout,
            url,
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The next chunk of data, `None` at the end (trailers are skipped).
    pub async fn chunk(&mut self) -> Option<Result<Bytes, FetchError>> {
        loop {
            match self.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => return Some(Ok(data)),
                    Err(_trailers) => continue,
                },
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// The whole body (still bounded by the limit and the deadline).
    pub async fn bytes(self) -> Result<Bytes, FetchError> {
        Ok(self.collect().await?.to_bytes())
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = FetchError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, FetchError>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else { return Poll::Ready(None) };
        if this.deadline.as_mut().poll(cx).is_ready() {
            // Dropping the hyper body aborts the transfer.
            this.inner = None;
            return Poll::Ready(Some(Err(FetchError::Timeout { url: this.url.clone(), after: this.total_timeout })));
        }
        match Pin::new(inner).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.inner = None;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.inner = None;
                Poll::Ready(Some(Err(FetchError::Http { url: this.url.clone(), reason: crate::error::chain(&e) })))
            }
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.read = this.read.saturating_add(data.len() as u64);
                    if this.read > this.limit {
                        this.inner = None;
                        return Poll::Ready(Some(Err(FetchError::ResponseTooLarge {
                            url: this.url.clone(),
                            limit: this.limit,
                        })));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

use std::future::Future as _;
