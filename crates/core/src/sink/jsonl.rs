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
///
/// # One locked writer per file
///
/// [`open_locked`](Self::open_locked) also takes an exclusive advisory lock (`flock(2)`, through
/// the `fs4` crate) on the file, held while the writer has the file open: a second
/// `open_locked` of the same file, by this process or another, fails with
/// [`SinkError::Locked`]. Advisory: writers opened with [`open`](Self::open) are not kept out.
/// The kernel drops the lock with the descriptor, so a crashed writer leaves no stale lock.
///
/// # Reopening (log rotation)
///
/// [`reopen`](Self::reopen) opens the file now at the writer's path (after `logrotate` renamed
/// the old one) and swaps it in under the write lock: each event goes whole to the old file
/// or to the new one, never to both and never to neither. A locked writer locks the new file.
#[derive(Debug)]
pub struct JsonlWriter {
    path: PathBuf,
    // One lock for writes, `reopen` and `close`: a failed write's clean-up relies on no other
    // thread of this process having appended since. Each line is one syscall, so holding it
    // is cheap.
    file: Mutex<Option<File>>,
    repaired_bytes: u64,
    /// The file is held with an exclusive advisory lock (and so is the one `reopen` opens).
    locked: bool,
}

/// What [`JsonlWriter::reopen`] did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Reopened {
    /// The path still names the file the writer has open (it was not rotated, or was
    /// truncated in place): nothing changed.
    Unchanged,
    /// A file was opened at the path and events now go to it; the previous file was synced
    /// and closed.
    Opened {
        /// Bytes of a partial last line cut off the file found at the path (see
        /// [`JsonlWriter::repaired_bytes`]); 0 for a new or empty file.
        repaired_bytes: u64,
        /// How syncing the previous file went (its events were written either way).
        previous_sync: io::Result<()>,
    },
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
        Self::open_with(path.as_ref(), TORN_TAIL_SETTLE, false)
    }

    /// [`open`](Self::open) for a caller that holds a lock which keeps every other writer of
    /// the file out (the tool-call ledger's directory lock): a partial last line cannot be
    /// another writer's line in progress, so it is cut off at once, without watching it.
    #[cfg(feature = "ledger")]
    pub(crate) fn open_exclusive(path: &Path) -> Result<Self, SinkError> {
        Self::open_with(path, Duration::ZERO, false)
    }

    /// [`open`](Self::open), holding an exclusive advisory lock on the file for as long as
    /// the writer has it open (see [One locked writer per file](Self#one-locked-writer-per-file)):
    /// fails with [`SinkError::Locked`] when another writer holds it. The lock is taken
    /// before the torn-tail repair, so a locked writer never cuts a line another locked
    /// writer is appending.
    pub fn open_locked(path: impl AsRef<Path>) -> Result<Self, SinkError> {
        Self::open_with(path.as_ref(), TORN_TAIL_SETTLE, true)
    }

    fn open_with(path: &Path, settle: Duration, locked: bool) -> Result<Self, SinkError> {
        let (file, repaired_bytes) = open_file(path, settle, locked)?;
        Ok(JsonlWriter {
            path: path.to_path_buf(),
            file: Mutex::new(Some(file)),
            repaired_bytes,
            locked,
        })
    }

    /// Opens the file the writer's path names now, if that is not the file it has open
    /// (`logrotate` renamed it away), and writes every later event there; the previous file
    /// is synced and closed. An event being written meanwhile goes whole to one of the two
    /// files. A locked writer ([`open_locked`](Self::open_locked)) locks the new file first.
    ///
    /// On error nothing changed: events still go to the file open before.
    pub fn reopen(&self) -> Result<Reopened, SinkError> {
        if self.path_names_open_file()? {
            return Ok(Reopened::Unchanged);
        }
        let (file, repaired_bytes) = open_file(&self.path, TORN_TAIL_SETTLE, self.locked)?;
        let previous = {
            let mut guard = self.lock_file();
            let Some(current) = guard.as_mut() else {
                return Err(SinkError::Closed {
                    path: self.path.clone(),
                });
            };
            std::mem::replace(current, file)
        };
        // No event goes to `previous` any more: sync it without holding up writers.
        let previous_sync = previous.sync_all();
        Ok(Reopened::Opened {
            repaired_bytes,
            previous_sync,
        })
    }

    /// Whether the path still names the file the writer has open (same device and inode).
    fn path_names_open_file(&self) -> Result<bool, SinkError> {
        let at_path = match std::fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(source) => {
                return Err(SinkError::Create {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let guard = self.lock_file();
        let Some(file) = guard.as_ref() else {
            return Err(SinkError::Closed {
                path: self.path.clone(),
            });
        };
        let open = file.metadata().map_err(|source| SinkError::Create {
            path: self.path.clone(),
            source,
        })?;
        Ok(same_file(&open, &at_path))
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
        self.write_bytes(line, false).map(|_| ())
    }

    /// Serializes `event` and appends its line ([`JsonlWriter::write_bytes`]).
    fn write_event(&self, event: CheckedEvent<'_>, locate: bool) -> Result<Option<u64>, SinkError> {
        // Serialize before taking the file lock, so threads only wait for each other's
        // syscalls.
        LINE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => {
                buf.clear();
                event.write_line(&mut buf).map_err(SinkError::Serialize)?;
                self.write_bytes(&buf, locate)
            }
            // Re-entered from inside serialization on this thread: use a fresh buffer.
            Err(_) => {
                let mut buf = Vec::with_capacity(512);
                event.write_line(&mut buf).map_err(SinkError::Serialize)?;
                self.write_bytes(&buf, locate)
            }
        })
    }

    /// Appends `line`; with `locate`, returns the offset it starts at, when the file says
    /// (one more system call, so only when asked: see [`Sink::write_located`]).
    fn write_bytes(&self, line: &[u8], locate: bool) -> Result<Option<u64>, SinkError> {
        let guard = self.lock_file();
        let Some(file) = guard.as_ref() else {
            return Err(SinkError::Closed {
                path: self.path.clone(),
            });
        };
        let (written, result) = append(file, line);
        let Err(write) = result else {
            return Ok(locate.then(|| line_start(file, line.len())).flatten());
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

/// Opens `path` for appending (creating it, mode 0600, and its parent directories), takes its
/// lock when `locked`, and cuts off a torn last line (see [`repair_torn_tail`]); the file and
/// the bytes cut.
fn open_file(path: &Path, settle: Duration, locked: bool) -> Result<(File, u64), SinkError> {
    let create = |source| SinkError::Create {
        path: path.to_path_buf(),
        source,
    };
    create_parent_dirs(path).map_err(create)?;
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(create)?;
    if locked {
        lock(&file, path)?;
    }
    let repaired_bytes = repair_torn_tail(path, &file, settle).map_err(create)?;
    Ok((file, repaired_bytes))
}

/// Takes the exclusive advisory lock of the log `file` (at `path`) without waiting.
fn lock(file: &File, path: &Path) -> Result<(), SinkError> {
    match fs4::FileExt::try_lock(file) {
        Ok(()) => Ok(()),
        Err(fs4::TryLockError::WouldBlock) => Err(SinkError::Locked {
            path: path.to_path_buf(),
        }),
        Err(fs4::TryLockError::Error(source)) => Err(SinkError::Lock {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Without inode numbers every reopen opens the path again.
#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
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
    while let Some(rest) = line.get(written..).filter(|rest| !rest.is_empty()) {
        match file.write(rest) {
            Ok(0) => return (written, Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (written, Err(e)),
        }
    }
    (written, Ok(()))
}

/// Where the `len` bytes this writer just appended start: on an `O_APPEND` descriptor the
/// offset is left at their end (the caller's lock rules out other threads). `None` when the
/// file cannot say.
fn line_start(mut file: &File, len: usize) -> Option<u64> {
    file.stream_position().ok()?.checked_sub(len as u64)
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
        // `end - start` is TAIL_CHUNK but for the last (smaller) piece: the buffer only shrinks.
        buf.truncate((end - start) as usize);
        let chunk = buf.as_mut_slice();
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
        self.write_event(event, false).map(|_| ())
    }

    fn write_located(&self, event: CheckedEvent<'_>) -> Result<Option<u64>, SinkError> {
        self.write_event(event, true)
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

    #[test]
    fn each_line_is_located_where_a_reader_of_the_file_finds_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, "{}\n").unwrap();
        let writer = JsonlWriter::open(&path).unwrap();
        // Another writer appends between ours: offsets are the file's, not counted.
        let first = writer.write_located(event().checked().unwrap()).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"other\":1}\n")
            .unwrap();
        let second = writer.write_located(event().checked().unwrap()).unwrap();
        writer.close().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let starts: Vec<u64> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i as u64 + 1))
            .collect();
        assert_eq!(first, Some(starts[1]), "{text}");
        assert_eq!(second, Some(starts[3]), "{text}");
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

    /// An event whose path is `/n`, to tell events apart.
    fn numbered(n: usize) -> Event {
        let mut e = event();
        if let Some(crate::event::EventData::LlmRequest(r)) = &mut e.data {
            r.path = format!("/{n}");
        }
        e
    }

    fn paths(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("a whole JSON line");
                v["data"]["path"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    #[test]
    fn a_locked_log_keeps_a_second_locked_writer_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let first = JsonlWriter::open_locked(&path).unwrap();
        let err = JsonlWriter::open_locked(&path).unwrap_err();
        assert!(
            matches!(&err, SinkError::Locked { path: p } if *p == path),
            "{err}"
        );
        assert!(err.to_string().contains("events.jsonl"), "{err}");
        // Advisory: a plain writer still appends.
        let plain = JsonlWriter::open(&path).unwrap();
        plain.write(numbered(1).checked().unwrap()).unwrap();
        first.write(numbered(2).checked().unwrap()).unwrap();
        first.close().unwrap();
        drop(first);
        JsonlWriter::open_locked(&path).expect("the lock goes with the closed writer");
        assert_eq!(paths(&path), ["/1", "/2"]);
    }

    #[test]
    fn reopen_follows_a_rename_and_moves_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let rotated = dir.path().join("events.jsonl.1");
        let writer = JsonlWriter::open_locked(&path).unwrap();
        writer.write(numbered(1).checked().unwrap()).unwrap();
        assert!(matches!(writer.reopen().unwrap(), Reopened::Unchanged));
        std::fs::rename(&path, &rotated).unwrap();
        match writer.reopen().unwrap() {
            Reopened::Opened {
                repaired_bytes,
                previous_sync,
            } => {
                assert_eq!(repaired_bytes, 0);
                previous_sync.unwrap();
            }
            other => panic!("{other:?}"),
        }
        writer.write(numbered(2).checked().unwrap()).unwrap();
        assert!(matches!(
            JsonlWriter::open_locked(&path),
            Err(SinkError::Locked { .. })
        ));
        JsonlWriter::open_locked(&rotated).expect("the rotated file is no longer locked");
        writer.close().unwrap();
        assert!(matches!(writer.reopen(), Err(SinkError::Closed { .. })));
        assert_eq!(paths(&rotated), ["/1"]);
        assert_eq!(paths(&path), ["/2"]);
    }

    #[test]
    fn reopen_while_threads_write_puts_each_event_in_one_file() {
        const THREADS: usize = 4;
        const EACH: usize = 300;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let rotated = dir.path().join("events.jsonl.1");
        let writer = JsonlWriter::open_locked(&path).unwrap();
        let (started, wait_started) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let (writer, started) = (&writer, started.clone());
                scope.spawn(move || {
                    for i in 0..EACH {
                        writer
                            .write(numbered(t * EACH + i).checked().unwrap())
                            .unwrap();
                        if i == EACH / 3 {
                            let _ = started.send(());
                        }
                    }
                });
            }
            for _ in 0..THREADS {
                wait_started
                    .recv_timeout(Duration::from_secs(30))
                    .expect("the writers started");
            }
            std::fs::rename(&path, &rotated).unwrap();
            assert!(matches!(writer.reopen().unwrap(), Reopened::Opened { .. }));
        });
        writer.close().unwrap();
        let (old, new) = (paths(&rotated), paths(&path));
        assert!(!old.is_empty(), "the writers started before the rename");
        let mut all: Vec<String> = old.into_iter().chain(new).collect();
        all.sort();
        let mut expected: Vec<String> = (0..THREADS * EACH).map(|n| format!("/{n}")).collect();
        expected.sort();
        assert_eq!(all, expected, "every event in exactly one of the two files");
    }
}
