//! [`LedgerError`]: every way writing or retaining a ledger can fail. Each variant says what
//! was being done and names the file; none holds a record's arguments or a key.

use std::io;
use std::path::{Path, PathBuf};

use super::pseudonym::KeyError;
use super::record::RecordError;
use crate::sink::SinkError;

/// Why a ledger operation failed. Nothing is retried or dropped silently: when this is
/// returned, the record was not written (or the retention step did not happen), except
/// [`Hook`](LedgerError::Hook) after an append: the record was written first.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The record breaks a rule of the schema; nothing was written.
    #[error("tool call record refused: {0}")]
    Record(#[from] RecordError),
    /// Appending the line failed (see [`SinkError`]: it names the file).
    #[error(transparent)]
    Write(#[from] SinkError),
    /// A file-system operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done, e.g. `rotate events.jsonl to`.
        what: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The first line of the current day file is not a ledger record, so the day it holds
    /// (and whether it must be rotated) is unknown. Nothing is written until it is fixed.
    #[error(
        "cannot tell which day {path} holds: its first line is not a tool call record with an integer `ts` ({reason})"
    )]
    UnknownDay {
        /// The current day file.
        path: PathBuf,
        /// What is wrong with the first line (never its content).
        reason: String,
    },
    /// Rotation would overwrite an existing day file, which only happens when files were
    /// moved by hand: both are kept, and nothing is written until one is moved away.
    #[error("cannot rotate {from} to {to}: {to} already exists (move one of them away)")]
    RotationConflict {
        /// The current day file.
        from: PathBuf,
        /// The day file it would become.
        to: PathBuf,
    },
    /// The pseudonymization key could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A record or an aggregate could not be serialized.
    #[error("serialize {what}: {source}")]
    Serialize {
        /// What was being serialized.
        what: &'static str,
        /// serde_json's error.
        source: serde_json::Error,
    },
    /// A [`FileHook`](super::FileHook) failed on the day file `path` (a record being written
    /// was written first; retention stopped before moving the file).
    #[error("{path}: {message}")]
    Hook {
        /// The day file.
        path: PathBuf,
        /// The hook's message.
        message: String,
    },
    /// Retention was stopped by its step hook (the crash tests' failpoint), after the step
    /// it names; nothing was cleaned up, as after a kill.
    #[error("retention interrupted after step {step}")]
    Interrupted {
        /// The number of the last step that ran (1-based).
        step: u64,
    },
}

impl LedgerError {
    /// An [`Io`](LedgerError::Io) error.
    pub(crate) fn io(what: &'static str, path: &Path, source: io::Error) -> Self {
        LedgerError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}
