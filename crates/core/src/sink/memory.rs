//! [`MemorySink`]: keeps events in memory, for tests and for tools that post-process.

use std::sync::Mutex;

use super::{Sink, SinkError};
use crate::event::{CheckedEvent, Event};

/// Collects every event written to it, in arrival order.
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<Event>>,
    fail_with: Option<String>,
}

impl MemorySink {
    /// An empty capture sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// A sink whose every write fails with a write error mentioning `reason` (to test that
    /// one failing sink does not stop the others).
    pub fn failing(reason: impl Into<String>) -> Self {
        MemorySink {
            events: Mutex::new(Vec::new()),
            fail_with: Some(reason.into()),
        }
    }

    /// A copy of the events captured so far.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }
}

impl Sink for MemorySink {
    fn write(&self, event: CheckedEvent<'_>) -> Result<(), SinkError> {
        if let Some(reason) = &self.fail_with {
            return Err(SinkError::Write {
                path: "<memory>".into(),
                source: std::io::Error::other(reason.clone()),
            });
        }
        self.events
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(event.event().clone());
        Ok(())
    }

    fn close(&self) -> Result<(), SinkError> {
        Ok(())
    }
}
