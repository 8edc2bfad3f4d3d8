//! [`Emitter`]: stamps run metadata and time on events and hands them to every sink.
//!
//! Producers (the interceptor, the CLI, a port's smoke test) describe *what* happened with a
//! [`Record`]; the emitter adds *when* and *in which run* and fans the event out. It is a
//! cheap handle (`Clone` shares one inner `Arc`), safe to use from any thread or task.
//!
//! Events are written one at a time, in the order they are stamped, so `ts` never goes
//! backwards in a log (as long as the system clock does not).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::event::{Event, EventData, EventError, EventType, Payload, Timestamp};
use crate::sink::{Sink, SinkError};

/// What a producer knows about an event; the emitter stamps the rest.
///
/// The one builder of events: [`Record::into_event`] is where an [`Event`] is put together
/// from its parts ([`Event::new`] and [`Emitter::stamp`] go through it), so the payload's
/// `event_type` and reference summary are derived in one place.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Kind of event.
    pub event_type: EventType,
    /// One human line.
    pub summary: String,
    /// Producing component; empty for none.
    pub plugin: String,
    /// Labels.
    pub tags: Vec<String>,
    /// Payload.
    pub data: Option<EventData>,
}

impl Record {
    /// A record for a typed payload, with the reference summary and the plugin the reference
    /// writes it with ([`Payload::PLUGIN`]: `host_filter` for a `gate_decision`, ...; none
    /// for the other types).
    ///
    /// ```
    /// use agentlog_core::emitter::Record;
    /// use agentlog_core::event::LlmRequest;
    /// let record = Record::new(LlmRequest {
    ///     method: "POST".into(), host: "api.anthropic.com".into(),
    ///     path: "/v1/messages".into(), ..Default::default()
    /// }).tag("tls");
    /// assert_eq!(record.summary, "POST api.anthropic.com/v1/messages");
    /// ```
    ///
    /// A summary that names the plugin follows [`plugin`](Self::plugin):
    ///
    /// ```
    /// use agentlog_core::emitter::Record;
    /// use agentlog_core::event::GateDecision;
    /// let gate = GateDecision { host: "openrouter.ai".into(), allowed: true, ..Default::default() };
    /// let record = Record::new(gate.clone());
    /// assert_eq!(record.plugin, "host_filter");
    /// assert_eq!(record.summary, "gate allowed openrouter.ai by host_filter");
    /// let record = Record::new(gate).plugin("budget_gate");
    /// assert_eq!(record.summary, "gate allowed openrouter.ai by budget_gate");
    /// ```
    pub fn new<D: Payload>(data: D) -> Self {
        Record {
            event_type: D::EVENT_TYPE,
            summary: data.summary_by(D::PLUGIN),
            plugin: D::PLUGIN.to_owned(),
            tags: Vec::new(),
            data: Some(data.into()),
        }
    }

    /// A record of any type, with an explicit summary and optional untyped data.
    pub fn untyped(
        event_type: EventType,
        summary: impl Into<String>,
        data: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Self {
        Record {
            event_type,
            summary: summary.into(),
            plugin: String::new(),
            tags: Vec::new(),
            data: data.map(EventData::Other),
        }
    }

    /// Replaces the summary.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = summary.into();
        self
    }

    /// Sets the plugin. When the summary is the reference summary for the previous plugin
    /// and the payload's summary names the plugin (`gate_decision`, `route_decision`,
    /// `request_transform`, `response_transform`), it becomes the one for `plugin`; a summary
    /// set with [`summary`](Self::summary) is kept.
    pub fn plugin(mut self, plugin: impl Into<String>) -> Self {
        let plugin = plugin.into();
        if let Some(data) = &self.data
            && data.summary_names_plugin()
            && data.summary_by(&self.plugin).as_deref() == Some(self.summary.as_str())
            && let Some(summary) = data.summary_by(&plugin)
        {
            self.summary = summary;
        }
        self.plugin = plugin;
        self
    }

    /// Sets the agentlog extension `data.exchange_id`, the exchange the event belongs to
    /// ([`EventData::set_exchange_id`]); a record without data is left as it is.
    ///
    /// ```
    /// use agentlog_core::emitter::Record;
    /// use agentlog_core::event::GateDecision;
    /// let gate = GateDecision { host: "openrouter.ai".into(), allowed: true, ..Default::default() };
    /// let record = Record::new(gate).exchange("187b1f0c2a4d9e00-7");
    /// assert_eq!(record.data.unwrap().exchange_id(), Some("187b1f0c2a4d9e00-7"));
    /// ```
    pub fn exchange(mut self, id: impl Into<String>) -> Self {
        if let Some(data) = &mut self.data {
            data.set_exchange_id(id);
        }
        self
    }

    /// Appends a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// The event this record becomes at `ts` in the run `run_id` of `agent_system`. The event
    /// is not checked here; [`Event::checked`] (or an [`Emitter`]) does that.
    pub fn into_event(
        self,
        ts: Timestamp,
        run_id: impl Into<String>,
        agent_system: impl Into<String>,
    ) -> Event {
        Event {
            ts,
            run_id: run_id.into(),
            agent_system: agent_system.into(),
            event_type: self.event_type,
            summary: self.summary,
            plugin: self.plugin,
            tags: self.tags,
            data: self.data,
        }
    }
}

/// Why an event was not (completely) emitted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The event breaks a schema rule; no sink received it.
    #[error("invalid event: {0}")]
    Invalid(#[from] EventError),
    /// A sink failed; the other sinks still received the event. The first failure is kept.
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// Error for an emitter built with empty metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} must not be empty")]
pub struct EmptyMetadata(pub &'static str);

struct Inner {
    run_id: String,
    agent_system: String,
    sinks: Vec<Arc<dyn Sink>>,
    // Held from stamping `ts` until every sink has the event, so events reach the sinks in
    // the order of their timestamps (otherwise a thread preempted between the two could write
    // an earlier `ts` after a later one).
    writing: Mutex<()>,
    write_failures: AtomicU64,
}

impl Inner {
    fn lock_writing(&self) -> MutexGuard<'_, ()> {
        // The lock guards no data, so a panic while holding it leaves nothing inconsistent.
        self.writing
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Stamps `ts`, `run_id` and `agent_system` and dispatches to all sinks.
///
/// One event is written at a time: [`emit`](Self::emit) stamps `ts` and writes to the sinks
/// under one lock, so the events of a log appear in the order of their `ts`. A sink must
/// therefore not emit through the same emitter from inside [`Sink::write`].
///
/// ```
/// use std::sync::Arc;
/// use agentlog_core::emitter::{Emitter, Record};
/// use agentlog_core::event::{KeyInjection, InjectionAction};
/// use agentlog_core::sink::MemorySink;
///
/// let capture = Arc::new(MemorySink::new());
/// let emitter = Emitter::new("vm-503ad4d1", "openclaw", vec![capture.clone()]).unwrap();
/// let injected = KeyInjection::new("OPENAI_API_KEY", "api.openai.com", InjectionAction::Injected);
/// emitter.emit(Record::new(injected).plugin("secret_injector")).unwrap();
/// assert_eq!(capture.events()[0].run_id, "vm-503ad4d1");
/// ```
#[derive(Clone)]
pub struct Emitter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("run_id", &self.inner.run_id)
            .field("agent_system", &self.inner.agent_system)
            .field("sinks", &self.inner.sinks.len())
            .field("write_failures", &self.write_failures())
            .finish()
    }
}

impl Emitter {
    /// An emitter for one run; `run_id` and `agent_system` must be non-empty.
    pub fn new(
        run_id: impl Into<String>,
        agent_system: impl Into<String>,
        sinks: Vec<Arc<dyn Sink>>,
    ) -> Result<Self, EmptyMetadata> {
        let run_id = run_id.into();
        let agent_system = agent_system.into();
        if run_id.is_empty() {
            return Err(EmptyMetadata("run_id"));
        }
        if agent_system.is_empty() {
            return Err(EmptyMetadata("agent_system"));
        }
        Ok(Emitter {
            inner: Arc::new(Inner {
                run_id,
                agent_system,
                sinks,
                writing: Mutex::new(()),
                write_failures: AtomicU64::new(0),
            }),
        })
    }

    /// The run this emitter stamps.
    pub fn run_id(&self) -> &str {
        &self.inner.run_id
    }

    /// The agent system this emitter stamps.
    pub fn agent_system(&self) -> &str {
        &self.inner.agent_system
    }

    /// Builds the event for `record` stamped now, checks it, and writes it to every sink.
    /// Every sink is tried; the first sink error is returned. No other event of this emitter
    /// is written between the stamping and the writing, so `ts` follows the order of writing.
    pub fn emit(&self, record: Record) -> Result<(), EmitError> {
        let _writing = self.inner.lock_writing();
        let event = self.stamp(record, Timestamp::now());
        self.write_to_sinks(&event)
    }

    /// How many sink writes have failed so far, over all sinks and all events (an event that
    /// two sinks failed to store counts twice). Events refused as invalid are not counted:
    /// they reach no sink. A count that grows means events are being lost, e.g. to a full
    /// disk, even when the caller ignores the errors of [`emit`](Self::emit).
    pub fn write_failures(&self) -> u64 {
        self.inner.write_failures.load(Ordering::Relaxed)
    }

    /// The event `record` becomes when stamped at `ts`.
    pub fn stamp(&self, record: Record, ts: Timestamp) -> Event {
        record.into_event(
            ts,
            self.inner.run_id.as_str(),
            self.inner.agent_system.as_str(),
        )
    }

    /// Checks a complete event (once, whatever the number of sinks) and writes it to every
    /// sink, under the same lock as [`emit`](Self::emit). Its `ts` is the caller's, so it may
    /// be earlier than that of an event already written.
    pub fn emit_event(&self, event: &Event) -> Result<(), EmitError> {
        let _writing = self.inner.lock_writing();
        self.write_to_sinks(event)
    }

    /// Checks `event` and writes it to every sink; the caller holds the writing lock.
    fn write_to_sinks(&self, event: &Event) -> Result<(), EmitError> {
        let event = event.checked()?;
        let mut first = None;
        for sink in &self.inner.sinks {
            if let Err(e) = sink.write(event) {
                self.inner.write_failures.fetch_add(1, Ordering::Relaxed);
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), |e| Err(e.into()))
    }

    /// Closes every sink (each one even if another fails); returns the first error.
    pub fn close(&self) -> Result<(), SinkError> {
        let mut first = None;
        for sink in &self.inner.sinks {
            if let Err(e) = sink.close() {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}
