//! Daily rotation: [`DayFiles`] appends each line to the file of its record's UTC day.
//!
//! `events.jsonl` holds one day, the day of its first record (an empty file holds none yet).
//! Under the directory lock, an append for day `D` looks at that day and:
//! - same day, or the file is new or empty: appends to `events.jsonl`;
//! - an earlier day `C`: renames `events.jsonl` to `events_C.jsonl` (the rotation, at the first
//!   write of a new day), then starts a new `events.jsonl` with the line;
//! - a later day (this writer's clock is behind another's, or it took its time before writing
//!   across midnight): appends to `events_D.jsonl`, creating it if needed.
//!
//! So every line lands in the file of its own day, whatever order writers with different
//! clocks arrive in, and the rename is the only step of a rotation: a writer that dies at any
//! point leaves either the old name or the new one, never a half-rotated file. Lines are
//! appended by [`JsonlWriter`] (one `write(2)`, partial lines cut off), so every line is
//! whole.
//!
//! Finding the day costs one `stat` per append: the open `events.jsonl` is remembered with its
//! file identity and day, and read again only when another process has rotated it.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::clock::Day;
use super::error::LedgerError;
use super::hook::{FileEvent, FileHook};
use super::layout;
use super::lock::LockGuard;
use crate::sink::JsonlWriter;

/// The longest first line read to learn the current file's day.
const MAX_FIRST_LINE: u64 = 16 << 20;

/// The day files of one ledger directory, for one writer. Not shared between threads: the
/// [`Ledger`](super::Ledger) keeps it behind a mutex. Every method that looks at or changes
/// the files takes the directory lock's guard, as proof that the caller holds it.
#[derive(Debug)]
pub(crate) struct DayFiles {
    dir: PathBuf,
    current: Option<Current>,
    /// Told of each file rotated or late-appended, under the lock.
    hook: Option<FileHook>,
}

/// The open `events.jsonl`.
#[derive(Debug)]
struct Current {
    writer: JsonlWriter,
    id: FileId,
    /// The day of its first record; `None` while it is empty.
    day: Option<Day>,
}

impl DayFiles {
    /// The day files of the directory `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        DayFiles {
            dir: dir.to_path_buf(),
            current: None,
            hook: None,
        }
    }

    /// Tells `hook` of each file rotated or late-appended.
    pub(crate) fn with_hook(mut self, hook: Option<FileHook>) -> Self {
        self.hook = hook;
        self
    }

    /// Tells the hook, if any, of `event`.
    fn tell(&self, event: &FileEvent<'_>) -> Result<(), LedgerError> {
        self.hook.as_ref().map_or(Ok(()), |hook| hook.call(event))
    }

    /// Appends `line` (one whole line of a record of `day`) to that day's file. A file it
    /// rotates or late-appends to is told to the hook once the line is written (a hook that
    /// fails leaves the line written).
    pub(crate) fn append(
        &mut self,
        day: Day,
        line: &[u8],
        _locked: &LockGuard<'_>,
    ) -> Result<(), LedgerError> {
        let mut rotated = None;
        match self.current_mut()?.day {
            Some(held) if held > day => return self.append_late(day, line),
            Some(held) if held < day => {
                rotated = Some((held, self.rotate(held)?));
                self.current_mut()?;
            }
            _ => {}
        }
        // `current_mut` has just put the file in place: no second `stat`.
        let current = self.current.as_mut().ok_or_else(|| {
            let source = io::Error::other("the current day file was not opened");
            LedgerError::io("append to", &self.dir.join(layout::CURRENT), source)
        })?;
        current.writer.append_line(line)?;
        current.day = Some(day);
        match rotated {
            Some((day, path)) => self.tell(&FileEvent::Rotated { day, path: &path }),
            None => Ok(()),
        }
    }

    /// A late record (another writer has already started a later day): appended to its
    /// day's file, wherever rotation has put it, created if needed.
    fn append_late(&self, day: Day, line: &[u8]) -> Result<(), LedgerError> {
        let path = self.dir.join(layout::day_file(day));
        let writer = JsonlWriter::open_exclusive(&path)?;
        writer.append_line(line)?;
        close(writer)?;
        self.tell(&FileEvent::LateAppended { day, path: &path })
    }

    /// If `events.jsonl` holds a day before `today`, rotates it to its day file (telling the
    /// hook) and returns that day and the new name.
    pub(crate) fn rotate_stale(
        &mut self,
        today: Day,
        _locked: &LockGuard<'_>,
    ) -> Result<Option<(Day, PathBuf)>, LedgerError> {
        match self.held_day(_locked)? {
            Some(held) if held < today => {
                let to = self.rotate(held)?;
                self.tell(&FileEvent::Rotated {
                    day: held,
                    path: &to,
                })?;
                Ok(Some((held, to)))
            }
            _ => Ok(None),
        }
    }

    /// The day `events.jsonl` holds, without creating it: `None` when it is absent or empty.
    pub(crate) fn held_day(&mut self, _locked: &LockGuard<'_>) -> Result<Option<Day>, LedgerError> {
        match fs::metadata(self.current_path()) {
            Ok(_) => Ok(self.current_mut()?.day),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(LedgerError::io("inspect", &self.current_path(), source)),
        }
    }

    fn current_path(&self) -> PathBuf {
        self.dir.join(layout::CURRENT)
    }

    /// Renames `events.jsonl`, which holds `day`, to `events_<day>.jsonl` (syncing it first,
    /// and the directory after), and forgets it.
    fn rotate(&mut self, day: Day) -> Result<PathBuf, LedgerError> {
        let from = self.current_path();
        let to = self.dir.join(layout::day_file(day));
        if let Some(current) = self.current.take() {
            close(current.writer)?;
        }
        match fs::symlink_metadata(&to) {
            Ok(_) => return Err(LedgerError::RotationConflict { from, to }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(LedgerError::io("inspect", &to, source)),
        }
        fs::rename(&from, &to).map_err(|source| LedgerError::io("rotate", &from, source))?;
        sync_dir(&self.dir)?;
        Ok(to)
    }

    /// The open `events.jsonl`, opened (created if absent) again when the name now points at
    /// another file than the one held, and its day read again while it is unknown.
    fn current_mut(&mut self) -> Result<&mut Current, LedgerError> {
        let path = self.current_path();
        let seen = match fs::metadata(&path) {
            Ok(meta) => Some((FileId::of(&meta), meta.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(LedgerError::io("inspect", &path, source)),
        };
        let held = self
            .current
            .take()
            .filter(|held| seen.is_some_and(|(id, _)| id.is_some() && id == Some(held.id)));
        let mut current = match held {
            Some(held) => held,
            None => open_current(&path)?,
        };
        if current.day.is_none() {
            current.day = first_line_day(&path)?;
        }
        Ok(self.current.insert(current))
    }
}

/// Opens `events.jsonl` for appending (creating it), repairing a torn last line.
fn open_current(path: &Path) -> Result<Current, LedgerError> {
    let writer = JsonlWriter::open_exclusive(path)?;
    let meta = fs::metadata(path).map_err(|source| LedgerError::io("inspect", path, source))?;
    let id = FileId::of(&meta).unwrap_or(FileId::UNKNOWN);
    Ok(Current {
        writer,
        id,
        day: None,
    })
}

/// Syncs and closes a writer, so a rotated or late file's lines are durable.
fn close(writer: JsonlWriter) -> Result<(), crate::sink::SinkError> {
    crate::sink::Sink::close(&writer)
}

/// The day of the first record of the file at `path`; `None` when it is empty.
fn first_line_day(path: &Path) -> Result<Option<Day>, LedgerError> {
    let file = File::open(path).map_err(|source| LedgerError::io("read", path, source))?;
    let mut line = Vec::new();
    BufReader::new(file)
        .take(MAX_FIRST_LINE)
        .read_until(b'\n', &mut line)
        .map_err(|source| LedgerError::io("read", path, source))?;
    if line.is_empty() {
        return Ok(None);
    }
    let unknown = |reason: String| LedgerError::UnknownDay {
        path: path.to_path_buf(),
        reason,
    };
    if line.last() != Some(&b'\n') {
        return Err(unknown("it does not end within 16 MiB".into()));
    }
    #[derive(serde::Deserialize)]
    struct Ts {
        ts: i64,
    }
    let ts = serde_json::from_slice::<Ts>(&line)
        .map_err(|e| unknown(format!("{:?} at column {}", e.classify(), e.column())))?
        .ts;
    Day::of_ts(ts)
        .map(Some)
        .ok_or_else(|| unknown("`ts` is outside 1970..=9999".into()))
}

/// Syncs a directory, so a rename or a new name in it survives a crash of the machine.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| LedgerError::io("sync directory", dir, source))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Which file a name points at: device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId(u64, u64);

impl FileId {
    /// Never equal to a real file's identity: forces a reopen at the next append.
    const UNKNOWN: FileId = FileId(u64::MAX, u64::MAX);

    #[cfg(unix)]
    fn of(meta: &fs::Metadata) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        Some(FileId(meta.dev(), meta.ino()))
    }

    #[cfg(not(unix))]
    fn of(_meta: &fs::Metadata) -> Option<FileId> {
        None
    }
}
