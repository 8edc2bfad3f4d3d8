//! [`FileHook`]: what a ledger tells its caller about the day files it closes or moves, so
//! that something built on top (the `agentlog` CLI seals with it, through `agentlog-seal`)
//! can act on each file exactly once. It is called under the directory lock, after the file
//! is complete and before anything else in any process can write or move it; this crate
//! does nothing with it but call it.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use super::clock::Day;
use super::error::LedgerError;

/// What happened to a day file, as a [`FileHook`] is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileEvent<'a> {
    /// `events.jsonl` was rotated to `path`, the file of `day` (by a writer at the first
    /// record of a later day, or by retention): it is complete.
    Rotated {
        /// The day it holds.
        day: Day,
        /// Its new name.
        path: &'a Path,
    },
    /// A late record (of a day already rotated) was appended to `path`.
    LateAppended {
        /// The day it holds.
        day: Day,
        /// The day file.
        path: &'a Path,
    },
    /// Retention is about to move the day file `path` into the archive part `to` (relative
    /// to the ledger directory, `archive/events_YYYYMMDD[-N].jsonl.gz`). Not told in a dry
    /// run; told again if a run is killed before the move and run again.
    Archiving {
        /// The day it holds.
        day: Day,
        /// The day file, still in place.
        path: &'a Path,
        /// The archive part its records go to.
        to: &'a Path,
    },
}

impl FileEvent<'_> {
    /// The day file it is about.
    pub fn path(&self) -> &Path {
        match self {
            FileEvent::Rotated { path, .. }
            | FileEvent::LateAppended { path, .. }
            | FileEvent::Archiving { path, .. } => path,
        }
    }
}

/// The signature of a hook: `Err` with a message (naming no secret) stops what the ledger
/// was doing, as [`LedgerError::Hook`].
type HookFn = dyn Fn(&FileEvent<'_>) -> Result<(), String> + Send + Sync;

/// A callback the ledger calls, under its directory lock, for each [`FileEvent`]
/// ([`LedgerConfig::with_file_hook`](super::LedgerConfig::with_file_hook),
/// [`RetainOptions::with_file_hook`](super::RetainOptions::with_file_hook)).
///
/// ```
/// use agentlog_core::ledger::{FileEvent, FileHook};
/// let hook = FileHook::new(|event: &FileEvent<'_>| {
///     let _closed = event.path();
///     Ok(())
/// });
/// # let _ = hook;
/// ```
#[derive(Clone)]
pub struct FileHook(Arc<HookFn>);

impl FileHook {
    /// A hook calling `f`.
    pub fn new(f: impl Fn(&FileEvent<'_>) -> Result<(), String> + Send + Sync + 'static) -> Self {
        FileHook(Arc::new(f))
    }

    /// Calls it; its error names the file.
    pub(crate) fn call(&self, event: &FileEvent<'_>) -> Result<(), LedgerError> {
        (self.0)(event).map_err(|message| LedgerError::Hook {
            path: event.path().to_path_buf(),
            message,
        })
    }
}

impl fmt::Debug for FileHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileHook(..)")
    }
}
