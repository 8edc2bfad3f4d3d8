//! The directory lock: one exclusive OS file lock (`flock(2)` through the `fs4` crate) on
//! `DIR/.lock`, taken by every writer for each append and by retention for its whole run, in
//! every process. It is what makes "check which day `events.jsonl` holds, rotate it, append"
//! one step for all processes sharing the directory.
//!
//! A `flock` lock belongs to an open file description, so threads sharing one [`DirLock`]
//! do not exclude each other through it: callers serialize their own threads first (the
//! [`Ledger`](super::Ledger) holds a mutex around it). Two `DirLock`s in one process exclude
//! each other like two processes do. The lock is released when the guard is dropped, and by
//! the kernel when the process dies, so a crashed writer never leaves the directory locked.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::error::LedgerError;
use super::layout;

/// An open lock file.
#[derive(Debug)]
pub(crate) struct DirLock {
    file: File,
    path: PathBuf,
}

/// Holds the directory lock until dropped.
#[derive(Debug)]
pub(crate) struct LockGuard<'a>(&'a DirLock);

impl DirLock {
    /// Opens (creating, mode 0600) the lock file of the ledger directory `dir`, which must
    /// exist.
    pub(crate) fn open(dir: &Path) -> Result<Self, LedgerError> {
        let path = dir.join(layout::LOCK);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|source| LedgerError::io("open the lock file", &path, source))?;
        Ok(DirLock { file, path })
    }

    /// Blocks until this process holds the directory lock.
    pub(crate) fn lock(&self) -> Result<LockGuard<'_>, LedgerError> {
        fs4::FileExt::lock(&self.file)
            .map_err(|source| LedgerError::io("lock the ledger directory", &self.path, source))?;
        Ok(LockGuard(self))
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Unlocking a held flock does not fail on a valid descriptor; if it ever did, the
        // lock would still go with the descriptor when the ledger is dropped.
        let _ = fs4::FileExt::unlock(&self.0.file);
    }
}
