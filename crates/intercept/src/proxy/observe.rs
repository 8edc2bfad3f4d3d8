//! The response event of an exchange (`llm_response` in v0, `http_response` in v1), written
//! exactly once however the exchange ends.
//!
//! A [`Pending`] response is created before the request is forwarded. It is finished by the
//! forwarding code when the proxy answers itself, by the [`ObservedBody`] when the relayed
//! body ends, fails, stalls or is dropped, or by its own `Drop` when the exchange is abandoned
//! before a response head (client gone, or cut at shutdown): no accepted request is left
//! without its response event.
//!
//! How it ended is told by tags: none for a complete body; `incomplete` for a body that did
//! not reach its end (upstream error or stall, client gone); `incomplete` and `cut_short` for
//! an exchange ended by the shutdown's cut. A body whose last bytes carried the API's terminal
//! event (`data: [DONE]`, `message_stop`, `response.completed`) is complete even when the
//! client closes before the transport's own end: the sync `openai` SDK does exactly that.
//!
//! Under `--on-log-error block`, a response whose `llm_response` cannot be written does not
//! end normally: its last frame is withheld and the body fails, so no client receives a
//! complete answer that the log does not show.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::Sleep;
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::super::budget::Held;
use super::super::upstream::{self, BoxError};
use super::super::usage::{Usage, UsageParser};
use super::{LogUnavailable, State};
use agentlog_core::event::LlmResponse;

/// How an exchange ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    Complete,
    Incomplete,
    CutShort,
}

/// How far a request got towards the upstream: what an exchange holding a reservation is
/// charged when no response head came back depends on it (see the `budget` module).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reach {
    /// Not handed to the upstream, or provably never left it (the upstream connect or TLS
    /// handshake failed before a byte of the request was written): released.
    NotSent,
    /// Handed to the upstream and not answered (yet): it may have been processed and billed.
    Sent,
    /// The upstream answered with a response head.
    Answered,
}

/// The usage a response reported and whether it is final.
#[derive(Debug, Default)]
pub(super) struct Observed {
    pub usage: Usage,
    /// The body reached its API's last event and the exchange ended normally.
    pub complete: bool,
}

/// The `llm_response` still to be written.
pub(super) struct Pending {
    state: Arc<State>,
    meta: LlmResponse,
    tag: &'static str,
    started: Instant,
    /// Read usage from the response (LLM hosts).
    reads_usage: bool,
    parser: Option<UsageParser>,
    /// The budget reserved for this exchange, settled when the event is written.
    reservation: Option<Held>,
    reach: Reach,
    written: bool,
}

impl Pending {
    pub(super) fn new(
        state: Arc<State>,
        meta: LlmResponse,
        tag: &'static str,
        reads_usage: bool,
    ) -> Self {
        Pending {
            state,
            meta,
            tag,
            started: Instant::now(),
            reads_usage,
            parser: None,
            reservation: None,
            reach: Reach::NotSent,
            written: false,
        }
    }

    /// Settles `reservation` when this exchange ends.
    pub(super) fn hold(&mut self, reservation: Option<Held>) {
        self.reservation = reservation;
    }

    /// The request is being handed to the upstream: from now on it may have left.
    pub(super) fn sending(&mut self) {
        self.reach = Reach::Sent;
    }

    /// The upstream could not be reached (connect or TLS handshake failed): the request
    /// never left.
    pub(super) fn never_left(&mut self) {
        self.reach = Reach::NotSent;
    }

    /// Sets the status sent to the client.
    pub(super) fn status(&mut self, status: u16) {
        self.meta.status_code = u64::from(status);
    }

    /// Sets the status of the upstream's response head, which is relayed to the client.
    pub(super) fn answered(&mut self, status: u16) {
        self.reach = Reach::Answered;
        self.status(status);
    }

    /// Reads usage with `parser`, if this exchange reads usage at all.
    pub(super) fn parse_with(&mut self, parser: impl FnOnce() -> Option<UsageParser>) {
        if self.reads_usage {
            self.parser = parser();
        }
    }

    fn saw_terminal_event(&self) -> bool {
        self.parser
            .as_ref()
            .is_some_and(UsageParser::saw_terminal_event)
    }

    /// Writes the event; `Err` when it could not be written and the policy is to block.
    pub(super) fn finish(mut self, body_bytes: u64, end: End) -> Result<(), LogUnavailable> {
        self.write(body_bytes, end)
    }

    fn write(&mut self, body_bytes: u64, end: End) -> Result<(), LogUnavailable> {
        if std::mem::replace(&mut self.written, true) {
            return Ok(());
        }
        let mut meta = std::mem::take(&mut self.meta);
        meta.duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        meta.body_bytes = body_bytes;
        let usage = self.reads_usage.then(|| self.observed_usage(end));
        if end == End::CutShort {
            self.state.lifecycle.count_cut();
        }
        let reservation = self.reservation.take();
        self.state
            .write_response(meta, usage, reservation, self.reach, self.tag, end)
    }

    /// What the response said about its usage, and whether that is its final word: the
    /// exchange ended normally and the body carried its API's last event.
    fn observed_usage(&mut self, end: End) -> Observed {
        match self.parser.take() {
            Some(parser) => {
                let complete = end == End::Complete && parser.saw_terminal_event();
                Observed {
                    usage: parser.finish(),
                    complete,
                }
            }
            None => Observed::default(),
        }
    }

    /// How an exchange abandoned now ends: cut by shutdown, or given up by a peer.
    fn abandoned_end(&self) -> End {
        if self.state.lifecycle.cut().is_cancelled() {
            End::CutShort
        } else {
            End::Incomplete
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.written {
            let end = self.abandoned_end();
            // Nobody is left to refuse: the failure is reported and counted by `emit`.
            let _ = self.write(0, end);
        }
    }
}

/// Relays an upstream body frame by frame: counts bytes, feeds the usage parser, enforces
/// the idle limit and the shutdown cut, and finishes the [`Pending`] response (if any) once.
pub(super) struct ObservedBody {
    inner: Incoming,
    bytes: u64,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    cut: Pin<Box<WaitForCancellationFutureOwned>>,
    pending: Option<Pending>,
}

impl ObservedBody {
    pub(super) fn new(state: &State, inner: Incoming, pending: Option<Pending>) -> Self {
        let idle = state.timeouts.body_idle;
        ObservedBody {
            inner,
            bytes: 0,
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
            cut: Box::pin(state.lifecycle.cut().clone().cancelled_owned()),
            pending,
        }
    }

    fn finish(&mut self, end: End) -> Result<(), LogUnavailable> {
        match self.pending.take() {
            Some(pending) => pending.finish(self.bytes, end),
            None => Ok(()),
        }
    }

    fn observe(&mut self, frame: &Frame<Bytes>) {
        if let Some(data) = frame.data_ref() {
            self.bytes += data.len() as u64;
            if let Some(parser) = self.pending.as_mut().and_then(|p| p.parser.as_mut()) {
                parser.feed(data);
            }
        }
        let deadline = tokio::time::Instant::now() + self.idle;
        self.sleep.as_mut().reset(deadline);
    }
}

impl Body for ObservedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.cut.as_mut().poll(cx).is_ready() {
            let _ = this.finish(End::CutShort);
            return Poll::Ready(Some(Err("agentlog proxy shutting down".into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.observe(&frame);
                if this.inner.is_end_stream() && this.finish(End::Complete).is_err() {
                    return Poll::Ready(Some(Err(withheld())));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                tracing::warn!(error = %error, "upstream body failed");
                let _ = this.finish(End::Incomplete);
                Poll::Ready(Some(Err(error.into())))
            }
            Poll::Ready(None) => match this.finish(End::Complete) {
                Ok(()) => Poll::Ready(None),
                Err(LogUnavailable) => Poll::Ready(Some(Err(withheld()))),
            },
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    tracing::warn!(idle = ?this.idle, "upstream body stalled");
                    let _ = this.finish(End::Incomplete);
                    return Poll::Ready(Some(Err(upstream::UpstreamTimeout.into())));
                }
                Poll::Pending
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

impl Drop for ObservedBody {
    fn drop(&mut self) {
        let Some(pending) = &self.pending else {
            return;
        };
        let end = if self.inner.is_end_stream() || pending.saw_terminal_event() {
            End::Complete
        } else {
            pending.abandoned_end()
        };
        let _ = self.finish(end);
    }
}

/// The error that ends a response whose `llm_response` could not be written: its end is
/// withheld, so the client sees a failed response rather than an unlogged complete one.
fn withheld() -> BoxError {
    "agentlog proxy: the event log cannot be written (--on-log-error block)".into()
}
