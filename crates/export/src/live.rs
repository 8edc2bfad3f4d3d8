//! Live export from a writer of events (the proxy, the demo): a [`Sink`] that hands every
//! event its file accepted to a background exporter.
//!
//! The file stays the source of truth, and export never blocks or slows the writer:
//! - [`ExportingSink`] writes to the file sink first and offers the event to the exporter
//!   only once the file has it;
//! - the offer is a `try_send` on a bounded queue ([`LiveExport::CAPACITY`] events): when the
//!   exporter falls behind (a slow or absent collector) the event is dropped from the
//!   export, never from the file, counted, and warned about;
//! - the exporter runs on a thread of its own with its own runtime, so it never takes a
//!   worker of the proxy's; it sends a batch when it is full or a second after its first
//!   event;
//! - [`LiveExport::finish`] flushes what is queued within a grace period and says what was
//!   delivered, dropped and not delivered.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentlog_core::event::CheckedEvent;
use agentlog_core::sink::{Sink, SinkError};
use opentelemetry_proto::tonic::common::v1::KeyValue;

use crate::batch::{Batch, Wire};
use crate::client::Client;
use crate::map::{Mapper, Source};

/// How often a partly filled batch is sent.
const LINGER: Duration = Duration::from_secs(1);

/// What a live export did, once finished.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveSummary {
    /// Log records the collector accepted.
    pub delivered_records: u64,
    /// Spans the collector accepted.
    pub delivered_spans: u64,
    /// Events dropped from the export because its queue was full.
    pub dropped: u64,
    /// Records and spans of batches that were not delivered, and the last reason.
    pub failed: u64,
    /// Why the last failed batch failed.
    pub last_error: Option<String>,
    /// Events still queued when the grace period ended.
    pub abandoned: bool,
}

/// A background exporter fed events.
pub struct LiveExport {
    queue: Mutex<Option<SyncSender<Offered>>>,
    /// Bytes of the events in the queue: an agent that makes huge events must not fill the
    /// proxy's memory before the count limit is reached.
    queued_bytes: Arc<AtomicUsize>,
    dropped: AtomicU64,
    worker: Mutex<Option<std::thread::JoinHandle<LiveSummary>>>,
    done: Arc<(Mutex<bool>, std::sync::Condvar)>,
}

impl std::fmt::Debug for LiveExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveExport")
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl LiveExport {
    /// Events the queue holds before the export drops them.
    pub const CAPACITY: usize = 8192;
    /// Bytes the queue holds before the export drops events.
    pub const CAPACITY_BYTES: usize = 32 << 20;

    /// Starts the exporter thread.
    pub fn start(
        client: Client,
        mapper: Mapper,
        resource: Vec<KeyValue>,
    ) -> std::io::Result<Arc<Self>> {
        let (tx, rx) = mpsc::sync_channel::<Offered>(Self::CAPACITY);
        let done = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let signal = done.clone();
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let taken = queued_bytes.clone();
        let worker = std::thread::Builder::new()
            .name("agentlog-export".into())
            .spawn(move || {
                yield_to_writer();
                let summary = run_worker(&rx, &taken, client, mapper, &resource);
                let (lock, cvar) = &*signal;
                if let Ok(mut finished) = lock.lock() {
                    *finished = true;
                }
                cvar.notify_all();
                summary
            })?;
        Ok(Arc::new(LiveExport {
            queue: Mutex::new(Some(tx)),
            queued_bytes,
            dropped: AtomicU64::new(0),
            worker: Mutex::new(Some(worker)),
            done,
        }))
    }

    /// Queues one event line; drops it (counted, warned about) when the queue is full or the
    /// export finished.
    pub fn offer(&self, line: Vec<u8>) {
        self.offer_at(line, None);
    }

    /// [`LiveExport::offer`] for a line the event log holds at byte `offset`
    /// ([`Sink::write_located`]): its record gets the uid an export of the file gives it.
    pub fn offer_at(&self, line: Vec<u8>, offset: Option<u64>) {
        let size = line.len();
        let room =
            self.queued_bytes.fetch_add(size, Ordering::AcqRel) + size <= Self::CAPACITY_BYTES;
        let sent = match self.queue.lock() {
            Ok(queue) if room => queue
                .as_ref()
                .map(|tx| tx.try_send(Offered { line, offset })),
            _ => Some(Err(TrySendError::Full(Offered::default()))),
        };
        if !matches!(sent, Some(Ok(()))) {
            self.queued_bytes.fetch_sub(size, Ordering::AcqRel);
        }
        if let Some(Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_))) = sent {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped == 1 || dropped.is_multiple_of(1000) {
                tracing::warn!(
                    dropped,
                    "OTLP export queue full (the collector is slow or unreachable): events dropped from the export, never from the event log"
                );
            }
        }
    }

    /// Events dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops taking events and sends what is queued, waiting at most `grace`; what is left
    /// then is abandoned (said in the summary). Calling it again returns an empty summary.
    pub fn finish(&self, grace: Duration) -> LiveSummary {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let deadline = Instant::now() + grace;
        let (lock, cvar) = &*self.done;
        let mut finished = match lock.lock() {
            Ok(finished) => finished,
            Err(_) => {
                return LiveSummary {
                    abandoned: true,
                    ..LiveSummary::default()
                };
            }
        };
        while !*finished {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return LiveSummary {
                    dropped: self.dropped(),
                    abandoned: true,
                    ..LiveSummary::default()
                };
            }
            finished = match cvar.wait_timeout(finished, left) {
                Ok((guard, _)) => guard,
                Err(_) => {
                    return LiveSummary {
                        abandoned: true,
                        ..LiveSummary::default()
                    };
                }
            };
        }
        drop(finished);
        let worker = self.worker.lock().ok().and_then(|mut w| w.take());
        let mut summary = worker.and_then(|w| w.join().ok()).unwrap_or_default();
        summary.dropped = self.dropped();
        summary
    }
}

/// The exporter's loop: gather, send when full or after [`LINGER`], flush at the end.
/// How the exporter's thread is scheduled (Linux): `SCHED_IDLE`, the policy for work that
/// runs only on a core nothing else wants. Under full load the writer's threads (the proxy's
/// exchanges) get the cores, and the export falls behind and drops from its queue.
#[cfg(target_os = "linux")]
const EXPORT_POLICY: libc::c_int = libc::SCHED_IDLE;

/// Moves the calling thread to [`EXPORT_POLICY`] (Linux: a policy is per thread; threads it
/// starts inherit it), so export work yields the CPU to the exchanges it reports on: when
/// the machine is saturated the export falls behind and its queue drops events (counted and
/// warned about), instead of slowing every exchange. Returns the thread's policy after, or
/// `None` where threads have no policy of their own.
fn yield_to_writer() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 names the calling thread; `param` is a valid sched_param that
        // outlives the call; a failure leaves the policy as it was.
        unsafe {
            libc::sched_setscheduler(0, EXPORT_POLICY, &param);
            Some(libc::sched_getscheduler(0))
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

fn run_worker(
    rx: &mpsc::Receiver<Offered>,
    queued_bytes: &AtomicUsize,
    client: Client,
    mut mapper: Mapper,
    resource: &[KeyValue],
) -> LiveSummary {
    let mut summary = LiveSummary::default();
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        summary.last_error = Some("the export's runtime could not start".to_owned());
        return summary;
    };
    let mut batch = Batch::default();
    let mut wire = Wire {
        client: &client,
        resource,
        pieces: mapper.pieces(),
    };
    let (mut line, mut offset) = (0u64, 0u64);
    let mut first_at: Option<Instant> = None;
    loop {
        let wait = first_at.map_or(LINGER, |t| LINGER.saturating_sub(t.elapsed()));
        match rx.recv_timeout(wait) {
            Ok(Offered {
                line: bytes,
                offset: at,
            }) => {
                queued_bytes.fetch_sub(bytes.len(), Ordering::AcqRel);
                line += 1;
                let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
                // Where the log holds the line, when its sink said; else counted from the
                // first line offered (a uid of this run only).
                offset = at.unwrap_or(offset);
                let source = Source {
                    file_name: "live",
                    line,
                    offset,
                };
                offset += bytes.len() as u64;
                if let Ok(mapped) = mapper.map_line(text, source) {
                    batch.push(mapped.log, mapped.span, "live", line);
                    first_at.get_or_insert_with(Instant::now);
                }
                if batch.is_full() {
                    runtime.block_on(send(&mut wire, &mut batch, &mut summary));
                    first_at = None;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                runtime.block_on(send(&mut wire, &mut batch, &mut summary));
                first_at = None;
            }
            Err(RecvTimeoutError::Disconnected) => {
                runtime.block_on(send(&mut wire, &mut batch, &mut summary));
                return summary;
            }
        }
    }
}

async fn send(wire: &mut Wire<'_>, batch: &mut Batch, summary: &mut LiveSummary) {
    let delivery = wire.deliver(batch).await;
    summary.delivered_records += delivery.records;
    summary.delivered_spans += delivery.spans;
    summary.failed += delivery.failed;
    if delivery.error.is_some() {
        summary.last_error = delivery.error;
    }
}

/// A line offered to the export, and where the event log holds it, when known.
#[derive(Default)]
struct Offered {
    line: Vec<u8>,
    offset: Option<u64>,
}

/// A sink that writes to `file` and, once the file has an event, offers it to `export`.
pub struct ExportingSink {
    file: Arc<dyn Sink>,
    export: Arc<LiveExport>,
}

impl std::fmt::Debug for ExportingSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportingSink")
            .field("export", &self.export)
            .finish_non_exhaustive()
    }
}

impl ExportingSink {
    /// `file` first, then the export.
    pub fn new(file: Arc<dyn Sink>, export: Arc<LiveExport>) -> Self {
        ExportingSink { file, export }
    }
}

impl Sink for ExportingSink {
    fn write(&self, event: CheckedEvent<'_>) -> Result<(), SinkError> {
        self.write_located(event).map(|_| ())
    }

    fn write_located(&self, event: CheckedEvent<'_>) -> Result<Option<u64>, SinkError> {
        let at = self.file.write_located(event)?;
        let mut line = Vec::with_capacity(512);
        if event.event().write_line(&mut line).is_ok() {
            self.export.offer_at(line, at);
        }
        Ok(at)
    }

    fn close(&self) -> Result<(), SinkError> {
        self.file.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_exporter_thread_alone_yields_the_cpu() {
        // SAFETY: pid 0 names the calling thread.
        let own = || unsafe { libc::sched_getscheduler(0) };
        let before = own();
        let policy = std::thread::spawn(yield_to_writer).join().unwrap();
        assert_eq!(policy, Some(EXPORT_POLICY));
        assert_ne!(before, EXPORT_POLICY);
        assert_eq!(own(), before, "the calling thread keeps its policy");
    }
    use crate::client::Retry;
    use agentlog_validate::secrets::redact::Redactor;

    fn line(n: usize) -> Vec<u8> {
        format!(
            r#"{{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"key_injection","summary":"s{n}","data":{{"secret_name":"K","host":"h","action":"injected"}}}}"#
        )
        .into_bytes()
    }

    /// An export to a port nothing listens on: every send fails after its tries.
    fn export_to_nobody(retry: Retry) -> Arc<LiveExport> {
        let client = crate::client::client_to_nobody(retry);
        LiveExport::start(client, Mapper::new(Redactor::none()), Vec::new()).unwrap()
    }

    #[test]
    fn huge_events_are_dropped_before_they_fill_the_memory() {
        let export = export_to_nobody(Retry::default());
        // Events of 1 MiB, far fewer than the count limit: the byte limit stops them once
        // the exporter is busy sending (to nobody) the first full batch.
        let summary = "s".repeat(1 << 20);
        let huge = String::from_utf8(line(0))
            .unwrap()
            .replace("\"s0\"", &format!("\"{summary}\""));
        for _ in 0..100 {
            export.offer(huge.clone().into_bytes());
        }
        let queued_at_most = (LiveExport::CAPACITY_BYTES >> 20) as u64;
        assert!(
            export.dropped() >= 100 - queued_at_most - 8,
            "{} dropped",
            export.dropped()
        );
        let _ = export.finish(Duration::ZERO);
    }

    #[test]
    fn a_collector_that_does_not_answer_never_blocks_the_writer_and_drops_are_counted() {
        // Nothing listens on this port: every send fails after its tries and backoffs, so the
        // queue fills and the rest must be dropped, never waited for.
        let export = export_to_nobody(Retry {
            attempts: 3,
            ..Retry::default()
        });
        let offered = LiveExport::CAPACITY * 3;
        let (done_tx, done_rx) = mpsc::channel();
        let writer = export.clone();
        std::thread::spawn(move || {
            for n in 0..offered {
                writer.offer(line(n));
            }
            let _ = done_tx.send(());
        });
        done_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("offering events blocked on a collector that does not answer");
        assert!(
            export.dropped() > 0,
            "nothing was dropped from a full queue"
        );
        assert!(export.dropped() < offered as u64);
        let summary = export.finish(Duration::ZERO);
        assert!(summary.abandoned, "{summary:?}");
        assert_eq!(summary.delivered_records, 0);
        assert!(summary.dropped > 0);
    }
}
