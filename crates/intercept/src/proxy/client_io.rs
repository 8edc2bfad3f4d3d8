//! The client's socket with an idle limit that never cuts an exchange in flight.
//!
//! A client connection that moves no byte for `idle` while no request is in flight is
//! closed: that is what frees the slots of silent clients, half-open connections and
//! `CONNECT`s never followed by a TLS handshake. Requests in flight (an LLM may think for
//! minutes before its first byte) hold an [`ActiveGuard`] and suspend the limit; their own
//! limits are the upstream ones.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Requests in flight on one client connection (its tunnel included).
#[derive(Clone, Debug, Default)]
pub(super) struct Activity(Arc<AtomicUsize>);

impl Activity {
    /// Marks one exchange in flight until the guard is dropped.
    pub(super) fn begin(&self) -> ActiveGuard {
        self.0.fetch_add(1, Ordering::Relaxed);
        ActiveGuard(self.0.clone())
    }

    fn busy(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 0
    }
}

/// One exchange in flight; see [`Activity::begin`].
#[derive(Debug)]
pub(super) struct ActiveGuard(Arc<AtomicUsize>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its exchange marked in flight until hyper is done with it.
pub(super) struct Guarded<B> {
    inner: B,
    _guard: ActiveGuard,
}

impl<B> Guarded<B> {
    pub(super) fn new(inner: B, guard: ActiveGuard) -> Self {
        Guarded {
            inner,
            _guard: guard,
        }
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for Guarded<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The client socket: closed with `TimedOut` after `idle` without a byte while no exchange
/// is in flight.
pub(super) struct ClientIo<T> {
    inner: T,
    idle: Duration,
    last: Instant,
    sleep: Pin<Box<Sleep>>,
    activity: Activity,
}

impl<T> ClientIo<T> {
    pub(super) fn new(inner: T, idle: Duration, activity: Activity) -> Self {
        let last = Instant::now();
        ClientIo {
            inner,
            idle,
            last,
            sleep: Box::pin(tokio::time::sleep_until(last + idle)),
            activity,
        }
    }

    /// Whether the connection has been idle too long; re-arms the timer otherwise.
    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.sleep.as_mut().poll(cx).is_pending() {
                return false;
            }
            let now = Instant::now();
            if self.activity.busy() {
                self.last = now;
            }
            if now.duration_since(self.last) >= self.idle {
                return true;
            }
            let deadline = self.last + self.idle;
            self.sleep.as_mut().reset(deadline);
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "client connection idle")
}

impl<T: AsyncRead + Unpin> AsyncRead for ClientIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(out) => {
                if buf.filled().len() > before {
                    self.last = Instant::now();
                }
                Poll::Ready(out)
            }
            Poll::Pending if self.idle_expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ClientIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let out = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = out
            && n > 0
        {
            self.last = Instant::now();
        }
        out
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
