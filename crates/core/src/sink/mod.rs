//! Where events go: the [`Sink`] trait and its implementations.
//!
//! A sink receives whole events and owns how they are stored. [`JsonlWriter`] appends one
//! line per event to a file; [`MemorySink`] keeps them in memory for tests. Sinks take
//! `&self` so one sink can be shared by many threads and tasks through an
//! [`Emitter`](crate::emitter::Emitter).
//!
//! A sink only ever receives a [`CheckedEvent`]: the event passed [`Event::check`](crate::event::Event::check) before it
//! got here (the emitter checks once for all its sinks), so no sink can store a line that
//! breaks the schema, and no sink needs to check again.

mod jsonl;
mod memory;

use std::io;
use std::path::PathBuf;

pub use jsonl::{JsonlWriter, Reopened};
pub use memory::MemorySink;

use crate::event::CheckedEvent;

/// A consumer of events.
pub trait Sink: Send + Sync {
    /// Stores one event. Called once per event, possibly from many threads at once; an error
    /// means this event was not (completely) stored by this sink. The event has been checked
    /// ([`Event::checked`](crate::event::Event::checked)).
    fn write(&self, event: CheckedEvent<'_>) -> Result<(), SinkError>;

    /// Stores one event like [`Sink::write`], and says where its line starts in the log
    /// when the sink writes a file whose offsets it knows ([`JsonlWriter`]): the same offset
    /// a reader of the file finds it at, so what is derived from a line and its offset (an
    /// export's record uid) is the same whether it was taken live or from the file.
    fn write_located(&self, event: CheckedEvent<'_>) -> Result<Option<u64>, SinkError> {
        self.write(event).map(|()| None)
    }

    /// Flushes what the sink holds to durable storage and stops accepting events. Calling it
    /// again is a no-op that returns `Ok(())`.
    fn close(&self) -> Result<(), SinkError>;
}

/// Why a sink failed. Each variant names the file, never an event's contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The log file or its directory could not be created or opened.
    #[error("create event log {path}: {source}")]
    Create {
        /// The log file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Writing an event failed (disk full, read-only file, ...).
    #[error("write event to {path}: {source}")]
    Write {
        /// The log file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Writing an event failed after part of its line was written, and cutting that partial
    /// line off again failed too: the file now ends with a torn line. The next
    /// [`JsonlWriter::open`] of the file repairs it.
    #[error(
        "write event to {path}: {write}; cutting off the partial line failed, so the log ends with a torn line: {source}"
    )]
    TornLine {
        /// The log file.
        path: PathBuf,
        /// Why the write stopped part-way (disk full, ...).
        write: io::Error,
        /// Why the partial line could not be cut off.
        source: io::Error,
    },
    /// The event could not be serialized.
    #[error("serialize event: {0}")]
    Serialize(#[source] serde_json::Error),
    /// Syncing or closing the file failed.
    #[error("close event log {path}: {source}")]
    Close {
        /// The log file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Another writer holds the log's lock ([`JsonlWriter::open_locked`]): another process
    /// (or another writer of this one) is writing the file as its only writer.
    #[error("event log {path} is locked by another writer (another agentlog proxy?)")]
    Locked {
        /// The log file.
        path: PathBuf,
    },
    /// Taking the log's lock failed for another reason than another writer holding it.
    #[error("lock event log {path}: {source}")]
    Lock {
        /// The log file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The sink was already closed.
    #[error("event log {path} is closed")]
    Closed {
        /// The log file.
        path: PathBuf,
    },
}
