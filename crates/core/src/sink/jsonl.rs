//! [`JsonlWriter`]: a file-backed sink, one JSON line per event.
//!
//! Each event is serialized into a per-thread buffer and handed to the kernel in one
//! `write(2)` on a file opened with `O_APPEND`. POSIX makes an append write atomic with
//! respect to the file offset, so lines from concurrent threads and processes never
//! interleave, and nothing waits in a user-space buffer if the process dies. `close` calls
//! `fsync`.
//!
//! The file never keeps a partial line: a write that stops part-way (the disk filled up) is
//! cut off again, and a partial line left by a crash is cut off by the next
//! [`JsonlWriter::open`]. See [`JsonlWriter`] for what holds across processes.

use std::cell::RefCell;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

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
///
/// # No partial lines
///
/// When a write stops after part of a line reached the file (disk full: a short write, then
/// `ENOSPC`), the writer truncates the file back to where that line started, so the file
/// still ends with `'\n'`, and returns [`SinkError::Write`]; if the truncation fails too it
/// returns [`SinkError::TornLine`]. Nothing is kept or retried by the writer: each later
/// write is simply tried again, so logging resumes by itself once space returns.
///
/// Writes of one `JsonlWriter` go through one lock, so no other thread of this process can
/// append between a failed write and its truncation. Across processes only the atomicity of
/// `O_APPEND` holds: if another process (or a second `JsonlWriter` on the same file) appends
/// between a partial write and its truncation, the truncation cuts that line too. Share one
/// writer per file within a process.
#[derive(Debug)]
pub struct JsonlWriter {
    path: PathBuf,
    // One lock for writes and `close`: a failed write's clean-up relies on no other thread of
    // this process having appended since. Each line is one syscall, so holding it is cheap.
    file: Mutex<Option<File>>,
    repaired_bytes: u64,
}

thread_local! {
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// How long `open` watches a file that ends with a partial line before cutting it off: a
/// writer in another process may be in the middle of appending that line.
const TORN_TAIL_SETTLE: Duration = Duration::from_millis(50);

/// How much of the file's end is read at a time when looking for its last `'\n'`.
const TAIL_CHUNK: u64 = 8 * 1024;

impl JsonlWriter {
    /// Opens `path` for appending, creating it (mode 0600) and its missing parent
    /// directories (mode 0700) as needed.
    ///
    /// If the file exists and ends with a partial line (a crash in the middle of a write),
    /// that line is cut off, so the next event starts on a line of its own;
    /// [`repaired_bytes`](Self::repaired_bytes) tells how many bytes were removed. This
    /// needs to read the file's end, so opening an existing non-empty file that cannot be
    /// read fails. The repair assumes no other process is writing the file at that moment:
    /// a partial line is only cut off if the file's size stays the same for a short while
    /// (50 ms), which tells a crash's leftover from a line another process is appending.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SinkError> {
        Self::open_with_settle(path.as_ref(), TORN_TAIL_SETTLE)
    }

    /// [`open`](Self::open) for a caller that holds a lock which keeps every other writer of
    /// the file out (the tool-call ledger's directory lock): a partial last line cannot be
    /// another writer's line in progress, so it is cut off at once, without watching it.
    #[cfg(feature = "ledger")]
    pub(crate) fn open_exclusive(path: &Path) -> Result<Self, SinkError> {
        Self::open_with_settle(path, Duration::ZERO)
    }

    fn open_with_settle(path: &Path, settle: Duration) -> Result<Self, SinkError> {
        let path = path.to_path_buf();
        let create = |source| SinkError::Create {
            path: path.clone(),
            source,
        };
        create_parent_dirs(&path).map_err(create)?;
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(create)?;
        let repaired_bytes = repair_torn_tail(&path, &file, settle).map_err(create)?;
        Ok(JsonlWriter {
            path,
            file: Mutex::new(Some(file)),
            repaired_bytes,
        })
    }

    /// The file this writer appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many bytes of a partial last line [`open`](Self::open) cut off the file; 0 when
    /// the file was new, empty or ended with `'\n'`. A non-zero value means an earlier writer
    /// stopped in the middle of a line (a crash or a full disk), which is worth reporting.
    pub fn repaired_bytes(&self) -> u64 {
        self.repaired_bytes
    }

    fn lock_file(&self) -> MutexGuard<'_, Option<File>> {
        // A panic while holding the lock cannot leave the `File` inconsistent.
        self.file
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Appends `line`, one whole serialized line ending with `'\n'`, with the same guarantees
    /// as an event: one `write(2)`, a partial write cut off again. For line formats other
    /// than [`Event`](crate::event::Event) (the tool-call ledger's records).
    #[cfg(feature = "ledger")]
    pub(crate) fn append_line(&self, line: &[u8]) -> Result<(), SinkError> {
        self.write_bytes(line)
    }

    fn write_bytes(&self, line: &[u8]) -> Result<(), SinkError> {
        let guard = self.lock_file();
        let Some(file) = guard.as_ref() else {
            return Err(SinkError::Closed {
                path: self.path.clone(),
            });
        };
        let (written, result) = append(file, line);
        let Err(write) = result else {
            return Ok(());
        };
        if written == 0 {
            return Err(SinkError::Write {
                path: self.path.clone(),
                source: write,
            });
        }
        match cut_partial_line(file, written) {
            Ok(()) => Err(SinkError::Write {
                path: self.path.clone(),
                source: write,
            }),
            Err(source) => Err(SinkError::TornLine {
                path: self.path.clone(),
                write,
                source,
            }),
        }
    }
}

fn create_parent_dirs(path: &Path) -> io::Result<()> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    let mut dirs = DirBuilder::new();
    dirs.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut dirs, 0o700);
    dirs.create(parent)
}

/// Writes `line` at the end of `file`: one `write(2)`, unless the kernel takes only part of
/// it, which a regular file does only when the disk fills up (the next call then reports
/// why). Returns how many bytes reached the file and what stopped the write, if anything.
fn append(mut file: &File, line: &[u8]) -> (usize, io::Result<()>) {
    let mut written = 0;
    while written < line.len() {
        match file.write(&line[written..]) {
            Ok(0) => return (written, Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (written, Err(e)),
        }
    }
    (written, Ok(()))
}

/// Truncates away the last `written` bytes this writer appended: the start of a line whose
/// write failed part-way.
fn cut_partial_line(mut file: &File, written: usize) -> io::Result<()> {
    // On an `O_APPEND` descriptor the offset is left at the end of our last write, wherever
    // other processes have appended since; the caller's lock rules out other threads.
    let end = file.stream_position()?;
    let start = end
        .checked_sub(written as u64)
        .ok_or_else(|| io::Error::other("the file offset is before the partial line"))?;
    file.set_len(start)
}

/// Cuts off a partial last line (one not ending with `'\n'`) of the log at `path`, opened as
/// `file`, if the file's size stays the same for `settle`; returns how many bytes were
/// removed.
fn repair_torn_tail(path: &Path, file: &File, settle: Duration) -> io::Result<u64> {
    let len = file.metadata()?.len();
    // Only a regular file has a tail to repair (`/dev/null` and the like do not).
    if len == 0 || !file.metadata()?.is_file() {
        return Ok(0);
    }
    // The log is opened write-only (the writer never reads), so look with a second handle.
    let mut reader = File::open(path)?;
    let keep = complete_lines_len(&mut reader, len)?;
    if keep == len {
        return Ok(0);
    }
    std::thread::sleep(settle);
    if file.metadata()?.len() != len {
        // Someone is appending: the partial line is theirs, still being written.
        return Ok(0);
    }
    file.set_len(keep)?;
    Ok(len - keep)
}

/// The length of the first `len` bytes of `reader` up to and including the last `'\n'`
/// (0 if there is none). Reads backwards from the end, one chunk at a time, since a log line
/// can be long but usually the very last byte decides.
fn complete_lines_len(reader: &mut File, len: u64) -> io::Result<u64> {
    let mut buf = vec![0u8; TAIL_CHUNK as usize];
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(TAIL_CHUNK);
        // `end - start` is at most TAIL_CHUNK, the buffer's length.
        let chunk = &mut buf[..(end - start) as usize];
        reader.seek(SeekFrom::Start(start))?;
        reader.read_exact(chunk)?;
        if let Some(i) = memchr::memrchr(b'\n', chunk) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

impl Sink for JsonlWriter {
    fn write(&self, event: CheckedEvent<'_>) -> Result<(), SinkError> {
        // Serialize before taking the file lock, so threads only wait for each other's
        // syscalls.
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
        match self.lock_file().take() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, LlmRequest, Timestamp};

    fn event() -> Event {
        Event::new(
            Timestamp::now(),
            "run-1",
            "test",
            LlmRequest {
                method: "POST".into(),
                host: "api.openai.com".into(),
                path: "/v1/responses".into(),
                ..Default::default()
            },
        )
    }

    /// Opens a log that starts as `before`, writes one event and returns the repair count
    /// and the file's text.
    fn open_and_write(before: &[u8]) -> (u64, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, before).unwrap();
        let writer = JsonlWriter::open(&path).unwrap();
        let repaired = writer.repaired_bytes();
        writer.write(event().checked().unwrap()).unwrap();
        writer.close().unwrap();
        (repaired, std::fs::read_to_string(&path).unwrap())
    }

    fn assert_whole_events(text: &str, count: usize) {
        assert!(text.ends_with('\n'), "{text:?}");
        assert_eq!(text.lines().count(), count, "{text:?}");
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("a whole JSON line");
        }
    }

    #[test]
    fn open_cuts_off_a_partial_last_line() {
        let (repaired, text) = open_and_write(b"{\"a\":1}\n{\"b\":");
        assert_eq!(repaired, 5);
        assert!(text.starts_with("{\"a\":1}\n{\""), "{text:?}");
        assert_whole_events(&text, 2);
    }

    #[test]
    fn open_cuts_off_a_partial_line_longer_than_a_chunk() {
        let mut before = b"{\"a\":1}\n".to_vec();
        before.extend(std::iter::repeat_n(b'x', 3 * TAIL_CHUNK as usize + 17));
        let (repaired, text) = open_and_write(&before);
        assert_eq!(repaired, 3 * TAIL_CHUNK + 17);
        assert_whole_events(&text, 2);
    }

    #[test]
    fn open_empties_a_file_that_is_one_partial_line() {
        let (repaired, text) = open_and_write(b"{\"torn\":");
        assert_eq!(repaired, 8);
        assert_whole_events(&text, 1);
    }

    #[test]
    fn open_keeps_whole_lines() {
        assert_eq!(open_and_write(b"").0, 0);
        let (repaired, text) = open_and_write(b"{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(repaired, 0);
        assert!(text.starts_with("{\"a\":1}\n{\"b\":2}\n"));
        assert_whole_events(&text, 3);
    }

    #[test]
    fn repair_leaves_a_line_being_appended_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, b"{\"a\":1}\n{\"b\":").unwrap();
        let file = OpenOptions::new().append(true).open(&path).unwrap();
        let rest = format!("\"{}\"}}\n", "y".repeat(100));
        std::thread::scope(|scope| {
            // Another process appending the line slowly, a few bytes at a time.
            scope.spawn(|| {
                let mut other = OpenOptions::new().append(true).open(&path).unwrap();
                for piece in rest.as_bytes().chunks(2) {
                    other.write_all(piece).unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
            let settle = Duration::from_millis(500);
            assert_eq!(repair_torn_tail(&path, &file, settle).unwrap(), 0);
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert_whole_events(&text, 2);
    }

    #[test]
    fn torn_line_error_names_the_file_not_the_event() {
        let err = SinkError::TornLine {
            path: "/logs/events.jsonl".into(),
            write: io::ErrorKind::StorageFull.into(),
            source: io::Error::other("read-only file system"),
        };
        let message = err.to_string();
        assert!(message.contains("/logs/events.jsonl"), "{message}");
        assert!(message.contains("torn line"), "{message}");
        assert!(message.contains("read-only file system"), "{message}");
    }
}
