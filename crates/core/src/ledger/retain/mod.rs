//! Retention: the seed's policy applied to a ledger directory, crash-safely and idempotently.
//!
//! | age of the day (UTC, from `today`) | what the directory keeps |
//! |---|---|
//! | 0 (today) .. 7 | `events.jsonl` / `events_YYYYMMDD.jsonl`: every record |
//! | 8 .. 30 | `stats_YYYYMMDD.json` ([`DayStats`]); the records move, compressed, to `archive/` |
//! | 31 and older | nothing but `archive/events_YYYYMMDD.jsonl.gz` (the stats file is removed) |
//!
//! Retention never deletes a record: a day's records leave the directory only once a
//! synced, compressed copy is in `archive/` under its final name. A run, under the directory
//! lock (writers wait meanwhile):
//! 1. rotates `events.jsonl` if it holds a day before `today`, as a writer would;
//! 2. removes `*.tmp` files (writes a killed run never finished);
//! 3. for each day older than 7 days: moves `events_D.jsonl` into `archive/.staging/` under the
//!    name of a new archive part (a rename: the part number is fixed from then on), then for
//!    each staged file writes `archive/<part>.jsonl.gz` (temporary name, sync, rename, sync
//!    the directory) unless it is already there, and only then deletes the staged file;
//! 4. for each day 8-30 days old: (re)writes `stats_D.json` from all of the day's archive
//!    parts, when the parts it was computed from (its `sources`) are not exactly the parts
//!    there are now; for older days, removes `stats_D.json`.
//!
//! Killed after any step and run again, it picks up from the files it finds: a staged file
//! is finished, a part already written is not written twice, stats are recomputed from the
//! parts rather than added to. So the final state is the same as a run that was never
//! interrupted (the crash tests stop a run after every step through the [`StepHook`] and
//! compare). A day that receives late records after it was archived gets another part
//! (`events_D-1.jsonl.gz`), and its stats are recomputed over all parts.

mod inventory;
mod stats;
mod steps;

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

pub use stats::{DayStats, Elapsed};
pub use steps::{Step, StepHook, StepKind};

use super::clock::Day;
use super::error::LedgerError;
use super::hook::{FileEvent, FileHook};
use super::layout;
use super::lock::{DirLock, LockGuard};
use super::rotate::DayFiles;
use inventory::Inventory;
use stats::StatsBuilder;
use steps::Steps;

/// How long each form of a day is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// Days before today kept in full (7: today and the last 7 days).
    pub full_days: u32,
    /// Days before today kept as aggregates (30); older days live only in `archive/`.
    pub stats_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            full_days: 7,
            stats_days: 30,
        }
    }
}

/// How to run [`retain`].
#[derive(Default)]
#[non_exhaustive]
pub struct RetainOptions<'h> {
    /// The policy (the seed's by default).
    pub policy: RetentionPolicy,
    /// Only report what would be done.
    pub dry_run: bool,
    hook: Option<StepHook<'h>>,
    file_hook: Option<FileHook>,
}

impl fmt::Debug for RetainOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetainOptions")
            .field("policy", &self.policy)
            .field("dry_run", &self.dry_run)
            .field("hook", &self.hook.is_some())
            .field("file_hook", &self.file_hook.is_some())
            .finish()
    }
}

impl<'h> RetainOptions<'h> {
    /// Sets the policy.
    pub fn with_policy(mut self, policy: RetentionPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Only report what would be done.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Tells `hook` of `events.jsonl` rotated and, before each day file is moved toward
    /// `archive/`, of the part it goes to (not in a dry run). A hook that fails stops the
    /// run before the file is moved.
    pub fn with_file_hook(mut self, hook: FileHook) -> Self {
        self.file_hook = Some(hook);
        self
    }

    /// Calls `hook` after every file-system step; when it returns `false` the run stops
    /// there, as if killed ([`LedgerError::Interrupted`]). The crash tests' failpoint; also
    /// usable for progress.
    pub fn with_hook(mut self, hook: StepHook<'h>) -> Self {
        self.hook = Some(hook);
        self
    }
}

/// One thing a retention run did (or, in a dry run, would do). Paths are relative to the
/// ledger directory.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// `events.jsonl` held an earlier day and was rotated to its day file.
    Rotate {
        /// The day it held.
        day: Day,
        /// Its new name.
        to: PathBuf,
    },
    /// A temporary file left by an interrupted run was removed.
    RemoveTemp {
        /// The file.
        path: PathBuf,
    },
    /// A day's records were compressed into an archive part, and the uncompressed file removed.
    Archive {
        /// The day.
        day: Day,
        /// The file the records came from.
        from: PathBuf,
        /// The archive part.
        to: PathBuf,
        /// How many lines were compressed (`None` when the part was already written by an
        /// interrupted run, and in a dry run).
        lines: Option<u64>,
    },
    /// A day's aggregates were written.
    WriteStats {
        /// The day.
        day: Day,
        /// The stats file.
        path: PathBuf,
        /// How many records they count (`None` in a dry run).
        records: Option<u64>,
    },
    /// The aggregates of a day older than the stats period were removed (its records are in
    /// `archive/`).
    RemoveStats {
        /// The day.
        day: Day,
        /// The stats file.
        path: PathBuf,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Rotate { day, to } => {
                write!(f, "rotate {} ({day}) -> {}", layout::CURRENT, to.display())
            }
            Action::RemoveTemp { path } => {
                write!(f, "remove {} (unfinished write)", path.display())
            }
            Action::Archive {
                from, to, lines, ..
            } => {
                write!(f, "archive {} -> {}", from.display(), to.display())?;
                match lines {
                    Some(n) => write!(f, " ({n} line{})", plural(*n)),
                    None => Ok(()),
                }
            }
            Action::WriteStats { path, records, .. } => {
                write!(f, "write {}", path.display())?;
                match records {
                    Some(n) => write!(f, " ({n} record{})", plural(*n)),
                    None => Ok(()),
                }
            }
            Action::RemoveStats { day, path } => write!(
                f,
                "remove {} ({day} is past the stats period; its records are in {}/)",
                path.display(),
                layout::ARCHIVE
            ),
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What a retention run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetainReport {
    /// What was done (or would be, in a dry run), in order.
    pub actions: Vec<Action>,
    /// Whether this was a dry run (nothing was changed).
    pub dry_run: bool,
    /// How many file-system steps ran (0 in a dry run).
    pub steps: u64,
}

/// Applies the retention policy to the ledger directory `dir` as of the UTC day `today`.
///
/// ```
/// use agentlog_core::ledger::{Day, RetainOptions, retain};
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("events_20261101.jsonl"), "")?;
/// let today = Day::parse_compact("20261123").unwrap();
/// let report = retain(dir.path(), today, RetainOptions::default())?;
/// assert!(dir.path().join("archive/events_20261101.jsonl.gz").exists());
/// assert!(!dir.path().join("events_20261101.jsonl").exists());
/// // Idempotent: a second run has nothing to do.
/// assert!(retain(dir.path(), today, RetainOptions::default())?.actions.is_empty());
/// # let _ = report;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn retain(
    dir: &Path,
    today: Day,
    options: RetainOptions<'_>,
) -> Result<RetainReport, LedgerError> {
    let meta = std::fs::metadata(dir)
        .map_err(|source| LedgerError::io("open the ledger directory", dir, source))?;
    if !meta.is_dir() {
        let source = io::Error::new(io::ErrorKind::NotADirectory, "not a directory");
        return Err(LedgerError::io("open the ledger directory", dir, source));
    }
    let lock = DirLock::open(dir)?;
    let locked = lock.lock()?;
    let mut run = Run {
        dir,
        today,
        policy: options.policy,
        dry_run: options.dry_run,
        steps: Steps::new(options.hook),
        actions: Vec::new(),
        file_hook: options.file_hook,
    };
    let stale = run.rotate(&locked)?;
    let mut inventory = Inventory::scan(dir)?;
    if let Some((day, path)) = stale.filter(|_| run.dry_run) {
        inventory.day_files.insert(day, path);
    }
    run.remove_temps(&inventory)?;
    for day in inventory.days() {
        run.day(day, &mut inventory)?;
    }
    Ok(RetainReport {
        steps: run.steps.count(),
        actions: run.actions,
        dry_run: run.dry_run,
    })
}

/// One retention run's state.
struct Run<'a, 'h> {
    dir: &'a Path,
    today: Day,
    policy: RetentionPolicy,
    dry_run: bool,
    steps: Steps<'h>,
    actions: Vec<Action>,
    file_hook: Option<FileHook>,
}

impl Run<'_, '_> {
    /// `path` relative to the ledger directory, for reports and stats sources.
    fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(self.dir).unwrap_or(path).to_path_buf()
    }

    fn archive_dir(&self) -> PathBuf {
        self.dir.join(layout::ARCHIVE)
    }

    fn staging_dir(&self) -> PathBuf {
        self.archive_dir().join(layout::STAGING)
    }

    /// Step 1: rotates a stale `events.jsonl` (in a dry run, returns the day and the name it
    /// would get instead).
    fn rotate(&mut self, locked: &LockGuard<'_>) -> Result<Option<(Day, PathBuf)>, LedgerError> {
        let mut files = DayFiles::new(self.dir).with_hook(self.file_hook.clone());
        let rotated = if self.dry_run {
            files
                .held_day(locked)?
                .filter(|&day| day < self.today)
                .map(|day| (day, self.dir.join(layout::day_file(day))))
        } else {
            files.rotate_stale(self.today, locked)?
        };
        if let Some((day, to)) = &rotated {
            if !self.dry_run {
                self.steps.done(StepKind::Rename, to)?;
            }
            let to = self.relative(to);
            self.actions.push(Action::Rotate { day: *day, to });
        }
        Ok(rotated)
    }

    /// Step 2: removes unfinished writes.
    fn remove_temps(&mut self, inventory: &Inventory) -> Result<(), LedgerError> {
        for path in &inventory.temps {
            if !self.dry_run {
                self.steps.remove(path)?;
            }
            let path = self.relative(path);
            self.actions.push(Action::RemoveTemp { path });
        }
        Ok(())
    }

    /// Steps 3 and 4 for one day.
    fn day(&mut self, day: Day, inventory: &mut Inventory) -> Result<(), LedgerError> {
        let age = day.days_until(self.today);
        if age <= i64::from(self.policy.full_days) {
            return Ok(());
        }
        let staged = inventory.staged.remove(&day).unwrap_or_default();
        for (part, path) in staged {
            self.archive(day, part, &path, &path, inventory)?;
        }
        if let Some(source) = inventory.day_files.remove(&day) {
            let part = inventory.next_part(day);
            self.tell_archiving(day, part, &source)?;
            let staged = self.stage(day, part, &source)?;
            self.archive(day, part, &source, &staged, inventory)?;
        }
        if age <= i64::from(self.policy.stats_days) {
            self.write_stats(day, inventory)
        } else {
            self.remove_stats(day, inventory)
        }
    }

    /// Tells the file hook that `source`, the file of `day`, is about to become archive part
    /// `part` (not in a dry run).
    fn tell_archiving(&self, day: Day, part: u32, source: &Path) -> Result<(), LedgerError> {
        let Some(hook) = self.file_hook.as_ref().filter(|_| !self.dry_run) else {
            return Ok(());
        };
        let to =
            Path::new(layout::ARCHIVE).join(format!("{}.jsonl.gz", layout::part_stem(day, part)));
        hook.call(&FileEvent::Archiving {
            day,
            path: source,
            to: &to,
        })
    }

    /// Moves a day file into the staging directory under the name of archive part `part`
    /// (fixing the part number before anything is written); returns the staged path.
    fn stage(&mut self, day: Day, part: u32, source: &Path) -> Result<PathBuf, LedgerError> {
        let staged = self
            .staging_dir()
            .join(format!("{}.jsonl", layout::part_stem(day, part)));
        if !self.dry_run {
            self.steps.ensure_dir(&self.archive_dir())?;
            self.steps.ensure_dir(&self.staging_dir())?;
            self.steps.rename(source, &staged)?;
            self.steps.sync_dir(&self.staging_dir())?;
            self.steps.sync_dir(self.dir)?;
        }
        Ok(staged)
    }

    /// Compresses `staged` into archive part `part` of `day` unless that part exists, then
    /// deletes `staged`. `shown` is the name reported as the source.
    fn archive(
        &mut self,
        day: Day,
        part: u32,
        shown: &Path,
        staged: &Path,
        inventory: &mut Inventory,
    ) -> Result<(), LedgerError> {
        let to = self
            .archive_dir()
            .join(format!("{}.jsonl.gz", layout::part_stem(day, part)));
        let mut lines = None;
        if !self.dry_run {
            if !to.exists() {
                let mut count = 0;
                self.steps
                    .write_new(&to, |out| gzip(staged, out, &mut count))?;
                lines = Some(count);
            }
            self.steps.remove(staged)?;
        }
        inventory
            .parts
            .entry(day)
            .or_default()
            .insert(part, to.clone());
        let (from, to) = (self.relative(shown), self.relative(&to));
        self.actions.push(Action::Archive {
            day,
            from,
            to,
            lines,
        });
        Ok(())
    }

    /// Step 4 for a day within the stats period: writes its stats unless they are up to date
    /// with its archive parts (a day with no parts keeps whatever stats it has).
    fn write_stats(&mut self, day: Day, inventory: &Inventory) -> Result<(), LedgerError> {
        let Some(parts) = inventory.parts.get(&day).filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        let sources: Vec<String> = parts
            .values()
            .map(|p| self.relative(p).to_string_lossy().into_owned())
            .collect();
        let path = self.dir.join(layout::stats_file(day));
        if read_stats(&path).is_some_and(|s| s.sources == sources) {
            return Ok(());
        }
        let mut records = None;
        if !self.dry_run {
            let mut builder = StatsBuilder::new(day, sources);
            for part in parts.values() {
                let file = File::open(part).map_err(|e| LedgerError::io("read", part, e))?;
                builder
                    .read(BufReader::new(MultiGzDecoder::new(BufReader::new(file))))
                    .map_err(|e| LedgerError::io("read", part, e))?;
            }
            let stats = builder.finish();
            let text =
                serde_json::to_vec_pretty(&stats).map_err(|source| LedgerError::Serialize {
                    what: "day stats",
                    source,
                })?;
            self.steps.write_new(&path, |f| {
                f.write_all(&text).and_then(|()| f.write_all(b"\n"))
            })?;
            records = Some(stats.records);
        }
        let path = self.relative(&path);
        self.actions.push(Action::WriteStats { day, path, records });
        Ok(())
    }

    /// Step 4 for a day past the stats period: removes its stats file.
    fn remove_stats(&mut self, day: Day, inventory: &Inventory) -> Result<(), LedgerError> {
        let Some(path) = inventory.stats.get(&day) else {
            return Ok(());
        };
        if !self.dry_run {
            self.steps.remove(path)?;
        }
        let path = self.relative(path);
        self.actions.push(Action::RemoveStats { day, path });
        Ok(())
    }
}

/// The stats file at `path`, if it is one.
fn read_stats(path: &Path) -> Option<DayStats> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Compresses the file at `source` into `out` (gzip), counting its lines into `lines`.
fn gzip(source: &Path, out: &mut File, lines: &mut u64) -> io::Result<()> {
    let mut input = File::open(source)?;
    let mut counter = LineCounter {
        inner: GzEncoder::new(out, Compression::default()),
        lines,
    };
    io::copy(&mut input, &mut counter)?;
    counter.inner.finish()?.flush()
}

/// A writer that counts the `'\n'`s written through it.
struct LineCounter<'a, W> {
    inner: W,
    lines: &'a mut u64,
}

impl<W: Write> Write for LineCounter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or(buf);
        *self.lines += memchr::memchr_iter(b'\n', written).count() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
