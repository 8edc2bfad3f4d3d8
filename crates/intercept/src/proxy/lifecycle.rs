//! In-flight tracking and shutdown.
//!
//! Every task the proxy starts for a client (the connection, the tunnel behind a `CONNECT`,
//! each h2 stream) runs on one [`TaskTracker`], so shutdown can wait for all of them. Two
//! tokens order the end: `draining` asks connections to finish what they have in flight and
//! take nothing new; `cut` ends what is still running after the grace period. Everything that
//! waits on a peer (a body frame, a response head, a request body) also waits on `cut`, so a
//! cut exchange ends at once and writes its `llm_response` on the way out.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long tasks get to end after the cut before shutdown gives up on them.
const AFTER_CUT: Duration = Duration::from_secs(5);

/// What [`RunningProxy::shutdown_with_grace`](super::RunningProxy::shutdown_with_grace) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Every exchange finished within the grace period.
    pub drained: bool,
    /// Exchanges cut at the end of the grace period (each wrote its `llm_response`).
    pub cut_short: u64,
    /// Tasks still running when shutdown gave up waiting (0 unless something is stuck).
    pub abandoned: usize,
    /// Time the shutdown took.
    pub elapsed: Duration,
}

/// In-flight tasks and the two shutdown signals.
#[derive(Debug)]
pub(super) struct Lifecycle {
    tracker: TaskTracker,
    draining: CancellationToken,
    cut: CancellationToken,
    cut_short: AtomicU64,
}

/// Drives a hyper server connection until it ends: when shutdown begins it is asked to
/// finish its exchanges in flight (`graceful_shutdown`), and at the cut it is dropped, which
/// ends them. Evaluates to `Some(result)`, or `None` when cut. A macro rather than a generic
/// function: rustc cannot prove the futures of a function generic over hyper's connection
/// types `Send` (its higher-ranked error-conversion bounds), the concrete types it can.
macro_rules! serve_draining {
    ($lifecycle:expr, $conn:expr) => {{
        let lifecycle = &$lifecycle;
        let mut conn = std::pin::pin!($conn);
        let mut out = None;
        tokio::select! {
            res = conn.as_mut() => out = Some(Some(res)),
            () = lifecycle.draining().cancelled() => conn.as_mut().graceful_shutdown(),
        }
        match out {
            Some(done) => done,
            None => tokio::select! {
                res = conn.as_mut() => Some(res),
                () = lifecycle.cut().cancelled() => None,
            },
        }
    }};
}
pub(super) use serve_draining;

/// Spawns hyper's h2 stream tasks on the tracker, so shutdown waits for them too.
#[derive(Clone, Debug)]
pub(super) struct TrackedExecutor(TaskTracker);

impl<F> hyper::rt::Executor<F> for TrackedExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        self.0.spawn(fut);
    }
}

impl Lifecycle {
    pub(super) fn new() -> Self {
        Lifecycle {
            tracker: TaskTracker::new(),
            draining: CancellationToken::new(),
            cut: CancellationToken::new(),
            cut_short: AtomicU64::new(0),
        }
    }

    /// Runs `task` as part of the proxy's in-flight work.
    pub(super) fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task);
    }

    /// An executor for hyper connections whose tasks shutdown waits for.
    pub(super) fn executor(&self) -> TrackedExecutor {
        TrackedExecutor(self.tracker.clone())
    }

    /// Tasks running now.
    pub(super) fn in_flight(&self) -> usize {
        self.tracker.len()
    }

    /// Resolves when in-flight exchanges must end now.
    pub(super) fn cut(&self) -> &CancellationToken {
        &self.cut
    }

    /// Counts one exchange ended by the cut.
    pub(super) fn count_cut(&self) {
        self.cut_short.fetch_add(1, Ordering::Relaxed);
    }

    /// Resolves when shutdown begins.
    pub(super) fn draining(&self) -> &CancellationToken {
        &self.draining
    }

    /// Drains for up to `grace`, then cuts, and waits for every task to end.
    pub(super) async fn shut_down(&self, grace: Duration) -> ShutdownReport {
        let started = Instant::now();
        self.tracker.close();
        self.draining.cancel();
        let drained = tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok();
        self.cut.cancel();
        let ended = tokio::time::timeout(AFTER_CUT, self.tracker.wait())
            .await
            .is_ok();
        ShutdownReport {
            drained,
            cut_short: self.cut_short.load(Ordering::Relaxed),
            abandoned: if ended { 0 } else { self.tracker.len() },
            elapsed: started.elapsed(),
        }
    }
}
