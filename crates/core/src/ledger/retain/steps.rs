//! The file-system steps retention is made of, each reported to the step hook once done.
//!
//! Every change retention makes is one of these, in an order that is safe to stop after any
//! of them: a new file is written under a temporary name, synced, renamed into place and its
//! directory synced ([`Steps::write_new`]); a file is deleted only after what replaces it is
//! in place. The hook sees each finished step and may stop the run there, leaving the
//! directory exactly as a kill at that point would (nothing is cleaned up on the way out).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::ledger::error::LedgerError;
use crate::ledger::layout;
use crate::ledger::rotate::sync_dir;

/// One finished step of retention, as the hook sees it.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    /// 1-based number of the step in this run.
    pub number: u64,
    /// What was done.
    pub kind: StepKind,
    /// The file or directory it was done to (for a rename, the new name).
    pub path: &'a Path,
}

/// What a [`Step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepKind {
    /// Renamed a file (rotation, staging, or a finished temporary file into place).
    Rename,
    /// Wrote a temporary file.
    WriteTemp,
    /// Synced a file's data to disk.
    SyncFile,
    /// Synced a directory (its names) to disk.
    SyncDir,
    /// Deleted a file.
    Remove,
    /// Created a directory.
    CreateDir,
}

/// Called after every step; returning `false` stops retention at once (see
/// [`LedgerError::Interrupted`]).
pub type StepHook<'h> = &'h mut dyn FnMut(&Step<'_>) -> bool;

/// The steps of one run: counts them and asks the hook after each.
pub(super) struct Steps<'h> {
    count: u64,
    hook: Option<StepHook<'h>>,
}

impl<'h> Steps<'h> {
    pub(super) fn new(hook: Option<StepHook<'h>>) -> Self {
        Steps { count: 0, hook }
    }

    /// How many steps ran.
    pub(super) fn count(&self) -> u64 {
        self.count
    }

    /// Records a finished step and asks the hook whether to go on.
    pub(super) fn done(&mut self, kind: StepKind, path: &Path) -> Result<(), LedgerError> {
        self.count += 1;
        let step = Step {
            number: self.count,
            kind,
            path,
        };
        let go_on = match &mut self.hook {
            Some(hook) => hook(&step),
            None => true,
        };
        if go_on {
            Ok(())
        } else {
            Err(LedgerError::Interrupted { step: self.count })
        }
    }

    /// Writes `target` crash-safely: `write` fills `target.tmp`, which is synced, renamed to
    /// `target`, and the directory synced. Four steps.
    pub(super) fn write_new(
        &mut self,
        target: &Path,
        write: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<(), LedgerError> {
        let tmp = tmp_path(target);
        let file = create_file(&tmp)
            .and_then(|mut f| write(&mut f).map(|()| f))
            .and_then(|mut f| f.flush().map(|()| f))
            .map_err(|source| LedgerError::io("write", &tmp, source))?;
        self.done(StepKind::WriteTemp, &tmp)?;
        file.sync_all()
            .map_err(|source| LedgerError::io("sync", &tmp, source))?;
        drop(file);
        self.done(StepKind::SyncFile, &tmp)?;
        self.rename(&tmp, target)?;
        self.sync_dir(parent(target))
    }

    /// Renames `from` to `to` (one step).
    pub(super) fn rename(&mut self, from: &Path, to: &Path) -> Result<(), LedgerError> {
        fs::rename(from, to).map_err(|source| LedgerError::io("rename", from, source))?;
        self.done(StepKind::Rename, to)
    }

    /// Deletes `path` and syncs its directory (two steps).
    pub(super) fn remove(&mut self, path: &Path) -> Result<(), LedgerError> {
        fs::remove_file(path).map_err(|source| LedgerError::io("remove", path, source))?;
        self.done(StepKind::Remove, path)?;
        self.sync_dir(parent(path))
    }

    /// Syncs a directory (one step).
    pub(super) fn sync_dir(&mut self, dir: &Path) -> Result<(), LedgerError> {
        sync_dir(dir)?;
        self.done(StepKind::SyncDir, dir)
    }

    /// Creates `dir` (mode 0700) if it does not exist, and syncs its parent (two steps when
    /// it is created, none otherwise).
    pub(super) fn ensure_dir(&mut self, dir: &Path) -> Result<(), LedgerError> {
        if dir.is_dir() {
            return Ok(());
        }
        let mut builder = DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(LedgerError::io("create directory", dir, source)),
        }
        self.done(StepKind::CreateDir, dir)?;
        self.sync_dir(parent(dir))
    }
}

/// `path` + `.tmp`.
pub(super) fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(layout::TMP_SUFFIX);
    PathBuf::from(name)
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

fn create_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
