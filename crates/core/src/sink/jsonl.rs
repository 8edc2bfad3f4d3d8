//! [`JsonlWriter`]: a file-backed sink, one JSON line per event.
//!
//! Each event is serialized into a per-thread buffer and handed to the kernel in one
//! `write(2)` on a file opened with `O_APPEND`. POSIX makes an append write atomic with
//! respect to the file offset, so lines from concurrent threads and processes never
//! interleave, and nothing waits in a user-space buffer if the process dies. `close` calls
//! `fsync`.

use std::cell::RefCell;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use super::{Sink, SinkError};
use crate::event::CheckedEvent;

/// Appends events to a JSON Lines file.
///
/// ```
/// use agentlog_core::event::{Event, LlmRequest, Timestamp};
/// use agentlog_core::sink::{JsonlWriter, Sink};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("run-1/events.jsonl");
/// let writer = JsonlWriter::open(&path).unwrap();
/// let event = Event::new(Timestamp::now(), "run-1", "demo", LlmRequest {
///     method: "POST".into(), host: "api.openai.com".into(), path: "/v1/responses".into(),
///     ..Default::default()
/// });
/// writer.write(event.checked().unwrap()).unwrap();
/// writer.close().unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
/// ```
#[derive(Debug)]
pub struct JsonlWriter {
    path: PathBuf,
    // Writers take the read lock (they only need `&File`), `close` takes the write lock.
    file: RwLock<Option<File>>,
}

thread_local! {
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl JsonlWriter {
    /// Opens `path` for appending, creating it (mode 0600) and its missing parent
    /// directories (mode 0700) as needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SinkError> {
        let path = path.as_ref().to_path_buf();
        let create = |source| SinkError::Create {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let mut dirs = DirBuilder::new();
            dirs.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut dirs, 0o700);
            dirs.create(parent).map_err(create)?;
        }
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(create)?;
        Ok(JsonlWriter {
            path,
            file: RwLock::new(Some(file)),
        })
    }

    /// The file this writer appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_bytes(&self, line: &[u8]) -> Result<(), SinkError> {
        let guard = self
            .file
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        let Some(file) = guard.as_ref() else {
            return Err(SinkError::Closed {
                path: self.path.clone(),
            });
        };
        // One call for the whole line; `write_all` only loops on a short write, which a
        // regular file gives only when the disk fills up (the next call then reports it).
        (&*file).write_all(line).map_err(|source| SinkError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

impl Sink for JsonlWriter {
    fn write(&self, event: CheckedEvent<'_>) -> Result<(), SinkError> {
        LINE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => {
                buf.clear();
                event.write_line(&mut buf).map_err(SinkError::Serialize)?;
                self.write_bytes(&buf)
            }
            // Re-entered from inside serialization on this thread: use a fresh buffer.
            Err(_) => {
                let mut buf = Vec::with_capacity(512);
                event.write_line(&mut buf).map_err(SinkError::Serialize)?;
                self.write_bytes(&buf)
            }
        })
    }

    fn close(&self) -> Result<(), SinkError> {
        let mut guard = self
            .file
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        match guard.take() {
            None => Ok(()),
            Some(file) => file.sync_all().map_err(|source| SinkError::Close {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

impl Drop for JsonlWriter {
    fn drop(&mut self) {
        // Best effort: an error here has nobody to report to; callers who care call close.
        let _ = self.close();
    }
}
