//! A request body that fails when the client sends nothing for a while.
//!
//! Like tower-http's `TimeoutBody` (the timer restarts after every frame),
//! plus a flag the connection reads after the handler has answered: a
//! handler that saw its body fail answers "could not read the body", and the
//! connection turns that into `408 timeout` — a retryable answer — when the
//! cause was the client's silence.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use tokio::time::{sleep, Sleep};

/// The error of a body that stayed silent past its timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body sent nothing for {0:?}")]
pub struct BodyIdle(Duration);

/// `inner`, failing after `timeout` without a frame.
pub struct IdleBody<B> {
    inner: B,
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    fired: Arc<AtomicBool>,
}

impl<B> IdleBody<B> {
    /// Wraps `inner`; `fired` turns true if the timeout ends the body.
    pub fn new(inner: B, timeout: Duration, fired: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            timeout,
            sleep: None,
            fired,
        }
    }
}

impl<B> Body for IdleBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let timeout = this.timeout;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(sleep(timeout)));
        if sleep.as_mut().poll(cx).is_ready() {
            this.fired.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(Box::new(BodyIdle(timeout)))));
        }
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        this.sleep = None;
        Poll::Ready(frame.map(|f| f.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
