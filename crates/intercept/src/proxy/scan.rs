//! A request body relayed upstream while it is scanned for placeholders that must not leave.
//!
//! The body is how a prompt-injected agent exfiltrates, so a placeholder bound for a host its
//! secret is not allowed for is a leak there too (the reference only looks at headers and the
//! request target). The body is never buffered whole:
//!
//! 1. [`ScanBody::prefetch`] reads up to [`PREFETCH_BYTES`] (for at most [`PREFETCH_WAIT`]).
//!    A body that ends within that, which is nearly every API call, is decided before the
//!    upstream is contacted at all: a leak is refused and the upstream receives nothing.
//! 2. The rest is relayed as it arrives, always holding back the last bytes that could be
//!    the start of a placeholder. A leak found there fails the body, so the upstream
//!    receives a request that never completes (hyper aborts it), and the proxy answers 403.
//!
//! Either way each leaking secret gets one `leak_blocked` event of the request's exchange,
//! written by the scanner.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::super::inject::BodyScanner;
use super::super::upstream::BoxError;
use super::State;
use agentlog_core::event::KeyInjection;

/// Bytes read before the upstream is contacted.
pub(super) const PREFETCH_BYTES: usize = 64 << 10;
/// Longest wait for those bytes: a client that streams slowly is relayed as it goes.
pub(super) const PREFETCH_WAIT: Duration = Duration::from_millis(250);

/// The body failed because it carried a placeholder that must not leave.
#[derive(Debug, thiserror::Error)]
#[error("request body carries a secret placeholder not allowed for this host")]
pub(super) struct BodyLeak;

/// A request body under scan; see the module documentation.
pub(super) struct ScanBody {
    state: Arc<State>,
    tag: &'static str,
    /// The exchange id the leak events carry.
    exchange: String,
    inner: Incoming,
    scanner: BodyScanner,
    /// Scanned bytes not released yet.
    held: BytesMut,
    /// A trailers frame waiting behind `held`.
    queued: Option<Frame<Bytes>>,
    ended: bool,
    /// The client's body failed while read ahead; relayed as the body's error.
    failed: Option<hyper::Error>,
    leaked: Arc<AtomicBool>,
}

impl ScanBody {
    /// The body `inner` of a request of the exchange `exchange`, tagged `tag`.
    pub(super) fn new(
        state: Arc<State>,
        (tag, exchange): (&'static str, &str),
        inner: Incoming,
        scanner: BodyScanner,
    ) -> Self {
        ScanBody {
            state,
            tag,
            exchange: exchange.to_owned(),
            inner,
            scanner,
            held: BytesMut::new(),
            queued: None,
            ended: false,
            failed: None,
            leaked: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Set once a leak was found (the events are written by then).
    pub(super) fn leak_flag(&self) -> Arc<AtomicBool> {
        self.leaked.clone()
    }

    /// Reads ahead (see the module documentation); `Err` when a leak was found, with its
    /// events, which the caller writes.
    pub(super) async fn prefetch(&mut self) -> Result<(), Vec<KeyInjection>> {
        let read = async {
            while !self.ended
                && self.failed.is_none()
                && self.queued.is_none()
                && self.held.len() < PREFETCH_BYTES
            {
                let next = self.inner.frame().await;
                self.absorb(next)?;
            }
            Ok(())
        };
        tokio::time::timeout(PREFETCH_WAIT, read)
            .await
            .unwrap_or(Ok(()))
    }

    /// Takes what the client's body gave: data is scanned and held, trailers queued, the end
    /// or a failure recorded. `Err` with the leak events when the data carries a placeholder
    /// that must not go to this host.
    fn absorb(
        &mut self,
        next: Option<Result<Frame<Bytes>, hyper::Error>>,
    ) -> Result<(), Vec<KeyInjection>> {
        match next {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    let leaks = self.scanner.feed(&self.state.injector, &data);
                    if !leaks.is_empty() {
                        return Err(leaks);
                    }
                    self.held.extend_from_slice(&data);
                }
                Err(frame) => self.queued = Some(frame),
            },
            Some(Err(error)) => self.failed = Some(error),
            None => self.ended = true,
        }
        Ok(())
    }

    fn leak(&mut self, leaks: Vec<KeyInjection>) -> BoxError {
        self.leaked.store(true, Ordering::Release);
        for event in &leaks {
            tracing::warn!(secret = %event.secret_name, host = %event.host, "placeholder in request body blocked");
        }
        self.state.write_leaks(leaks, self.tag, &self.exchange);
        BodyLeak.into()
    }

    /// What may be released now: everything when the body ended, else all but the bytes that
    /// could start a placeholder.
    fn releasable(&mut self) -> Option<Bytes> {
        let keep = if self.ended || self.queued.is_some() {
            0
        } else {
            self.scanner.hold_back()
        };
        let n = self.held.len().saturating_sub(keep);
        (n > 0).then(|| self.held.split_to(n).freeze())
    }
}

impl Body for ScanBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            // A failed client body fails the upstream request: it must not look complete.
            if let Some(error) = this.failed.take() {
                return Poll::Ready(Some(Err(error.into())));
            }
            if let Some(bytes) = this.releasable() {
                return Poll::Ready(Some(Ok(Frame::data(bytes))));
            }
            if let Some(frame) = this.queued.take() {
                return Poll::Ready(Some(Ok(frame)));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            let next = match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(next) => next,
                Poll::Pending => return Poll::Pending,
            };
            if let Err(leaks) = this.absorb(next) {
                return Poll::Ready(Some(Err(this.leak(leaks))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.held.is_empty() && self.queued.is_none()
    }
}
