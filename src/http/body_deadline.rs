//! A request body that must keep coming: it may take `EdgeLimits::body_timeout` plus one second
//! per `body_min_rate` bytes received, counted from the handler's first read. A body that
//! stalls or trickles past that ends in `BodyTimedOut` (answered 408 `request_timeout`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::limits::EdgeLimits;

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

/// Whether `err`, or an error under it, is a `BodyTimedOut`.
pub fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// For a body read as a stream of I/O errors (which loses their type): notes whether one of them
/// was a `BodyTimedOut`, so that the answer can still be 408.
#[derive(Clone, Default)]
pub struct TimeoutSeen(Arc<AtomicBool>);

impl TimeoutSeen {
    /// `e` as an I/O error, noted if it is a body timeout.
    pub fn io_error<E>(&self, e: E) -> std::io::Error
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        if is_body_timeout(&e) {
            self.0.store(true, Ordering::Relaxed);
        }
        std::io::Error::other(e)
    }

    pub fn seen(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

pub struct DeadlineBody<B> {
    inner: B,
    /// Set once the body has been read to its end.
    read: Arc<AtomicBool>,
    limits: EdgeLimits,
    /// Set at the first read.
    started: Option<Instant>,
    received: u64,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<B: Body> DeadlineBody<B> {
    /// The body, and a flag that turns true once it has been read to its end.
    pub fn new(inner: B, limits: EdgeLimits) -> (Self, Arc<AtomicBool>) {
        let read = Arc::new(AtomicBool::new(inner.is_end_stream()));
        let body = Self {
            inner,
            read: read.clone(),
            limits,
            started: None,
            received: 0,
            sleep: None,
        };
        (body, read)
    }
}

impl<B> DeadlineBody<B> {
    fn deadline(&self) -> Instant {
        self.started.unwrap_or_else(Instant::now) + self.limits.body_allowance(self.received)
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.started.is_none() {
            this.started = Some(Instant::now());
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let deadline = this.deadline();
                    if let Some(sleep) = this.sleep.as_mut() {
                        sleep.as_mut().reset(deadline);
                    }
                }
                if this.inner.is_end_stream() {
                    this.read.store(true, Ordering::Relaxed);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => {
                this.read.store(true, Ordering::Relaxed);
                Poll::Ready(None)
            }
            Poll::Pending => {
                let deadline = this.deadline();
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
