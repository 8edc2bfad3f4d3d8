//! Sealing a log while it is written: a thread that seals it at an interval, and once more
//! when told the writer is done.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::keys::SecretKey;
use crate::seal::{SealError, Sealed, seal};

/// What a sealer does with each sealing: append the new checkpoints to the seal file and
/// report (the caller owns every output).
pub type OnSealed = Box<dyn FnMut(Result<Sealed, SealError>) + Send>;

/// A thread that seals one log every interval, and a last time on [`finish`](Self::finish).
/// A line the writer is in the middle of is left for the next sealing.
pub struct Sealer {
    stop: Option<Sender<()>>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").finish_non_exhaustive()
    }
}

impl Sealer {
    /// Starts sealing `log` every `every`, signing with `key`; each result goes to
    /// `on_sealed`.
    pub fn start(
        log: PathBuf,
        key: Option<SecretKey>,
        every: Duration,
        mut on_sealed: OnSealed,
    ) -> std::io::Result<Sealer> {
        let (stop, stopped) = mpsc::channel::<()>();
        let worker = std::thread::Builder::new()
            .name("agentlog-seal".into())
            .spawn(move || {
                loop {
                    let last =
                        !matches!(stopped.recv_timeout(every), Err(RecvTimeoutError::Timeout));
                    on_sealed(seal(&log, key.as_ref(), time::OffsetDateTime::now_utc()));
                    if last {
                        return;
                    }
                }
            })?;
        Ok(Sealer {
            stop: Some(stop),
            worker: Some(worker),
        })
    }

    /// Seals a last time (call it once the writer closed the log) and waits for it.
    pub fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Drop for Sealer {
    fn drop(&mut self) {
        // Dropped without `finish`: the thread seals once more and ends on its own.
        self.stop.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_log_is_sealed_as_it_grows_and_once_more_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("events.jsonl");
        std::fs::write(&log, "{\"n\":1}\n").unwrap();
        let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
        let (tx, sealed_once) = mpsc::channel();
        let record = seen.clone();
        let sealer = Sealer::start(
            log.clone(),
            None,
            Duration::from_millis(20),
            Box::new(move |result| {
                let sealed = result.unwrap();
                sealed.append().unwrap();
                record.lock().unwrap().push(sealed.lines);
                let _ = tx.send(sealed.lines);
            }),
        )
        .unwrap();
        // Waits for the first sealing that covers the first line (fails loudly after 10 s).
        while sealed_once.recv_timeout(Duration::from_secs(10)).unwrap() < 1 {}
        // A line being written is left for later; the last sealing covers it once ended.
        let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        file.write_all(b"{\"n\":2}").unwrap();
        file.write_all(b"\n").unwrap();
        drop(file);
        sealer.finish();
        assert_eq!(seen.lock().unwrap().last(), Some(&2));
        let verdict = crate::verify(&log, None, false).unwrap();
        assert!(verdict.passed(), "{:?}", verdict.findings);
    }
}
