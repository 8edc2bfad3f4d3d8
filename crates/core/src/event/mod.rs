//! The event model: one [`Event`] is one line of an `events.jsonl` log.
//!
//! An event is the envelope every line shares (`ts`, `run_id`, `agent_system`, `event_type`,
//! `summary`, optional `plugin`, `tags`) plus an optional `data` object whose shape depends on
//! `event_type`. Serialization reproduces the Go reference's bytes: fields in declaration
//! order, empty `plugin`/`tags` and absent `data` omitted, timestamps as `RFC3339Nano`,
//! strings escaped and numbers written as Go's `encoding/json` does ([`go_json`]).
//!
//! ```
//! use agentlog_core::Record;
//! use agentlog_core::event::{KeyInjection, InjectionAction, Timestamp};
//!
//! let injected = KeyInjection::new("OPENAI_API_KEY", "api.openai.com", InjectionAction::Injected);
//! let event = Record::new(injected)
//! .plugin("secret_injector")
//! .into_event(
//!     Timestamp::parse("2026-02-24T23:03:15.06Z").unwrap(),
//!     "vm-503ad4d1",
//!     "openclaw",
//! );
//! assert_eq!(
//!     event.to_json().unwrap(),
//!     r#"{"ts":"2026-02-24T23:03:15.06Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"key_injection","summary":"secret \"OPENAI_API_KEY\" injected for api.openai.com","plugin":"secret_injector","data":{"secret_name":"OPENAI_API_KEY","host":"api.openai.com","action":"injected"}}"#
//! );
//! ```

mod data;
mod event_type;
pub mod go_json;
mod timestamp;
mod wire;

pub use data::{
    BudgetAction, COST_FROM_PRICES, COST_FROM_PROVIDER, COST_FROM_RESERVATION, EventData,
    GateDecision, HttpRequest, HttpResponse, InjectionAction, KeyInjection, LlmRequest,
    LlmResponse, Payload, RequestTransform, ResponseTransform, RouteDecision, USAGE_PARTIAL,
    USAGE_UNKNOWN,
};
pub use event_type::{EventType, OtherType};
pub use timestamp::{Timestamp, TimestampError};

use serde::{Deserialize, Deserializer, Serialize};

use crate::emitter::Record;
use serde_json::value::RawValue;

/// One event, as written on one line of the log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// When it happened.
    pub ts: Timestamp,
    /// Run identifier.
    pub run_id: String,
    /// Agent system name.
    pub agent_system: String,
    /// Kind of event; selects the shape of `data`.
    pub event_type: EventType,
    /// One human line.
    pub summary: String,
    /// Producing component; omitted when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub plugin: String,
    /// Labels; omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Payload; omitted when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<EventData>,
}

/// Why an event cannot be written as a conformant line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// A required envelope string is empty.
    #[error("required field `{0}` is empty")]
    EmptyField(&'static str),
    /// A tag is the empty string.
    #[error("tag {0} is empty")]
    EmptyTag(usize),
    /// A required string inside `data` is empty.
    #[error("required field `data.{0}` is empty")]
    EmptyDataField(&'static str),
    /// `data` is typed for another event type than `event_type`.
    #[error("event_type `{event_type}` does not match data of type `{data_type}`")]
    DataTypeMismatch {
        /// The envelope's event type.
        event_type: String,
        /// The type the payload belongs to.
        data_type: String,
    },
    /// A budget amount is NaN or infinite.
    #[error("budget amounts must be finite numbers")]
    NonFiniteNumber,
}

impl Event {
    /// Builds an event from a typed payload; `event_type`, `summary` and the default
    /// `plugin` ([`Payload::PLUGIN`]) follow from it.
    /// Shorthand for [`Record::new`]`(data).`[`into_event`](Record::into_event)`(ts, run_id,
    /// agent_system)`: a [`Record`] is the one builder of events (plugin, tags, another
    /// summary).
    pub fn new<D: Payload>(
        ts: Timestamp,
        run_id: impl Into<String>,
        agent_system: impl Into<String>,
        data: D,
    ) -> Self {
        Record::new(data).into_event(ts, run_id, agent_system)
    }

    /// Builds an event of a type agentlog does not define (or a known type without data);
    /// shorthand for [`Record::untyped`] then [`Record::into_event`].
    pub fn untyped(
        ts: Timestamp,
        run_id: impl Into<String>,
        agent_system: impl Into<String>,
        event_type: EventType,
        summary: impl Into<String>,
        data: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Self {
        Record::untyped(event_type, summary, data).into_event(ts, run_id, agent_system)
    }

    /// Checks what the schema requires beyond what the types already guarantee: non-empty
    /// required strings and tags, `data` belonging to `event_type`, finite numbers.
    pub fn check(&self) -> Result<(), EventError> {
        for (name, value) in [
            ("run_id", &self.run_id),
            ("agent_system", &self.agent_system),
            ("summary", &self.summary),
        ] {
            if value.is_empty() {
                return Err(EventError::EmptyField(name));
            }
        }
        if self.event_type.as_str().is_empty() {
            return Err(EventError::EmptyField("event_type"));
        }
        if let Some(i) = self.tags.iter().position(String::is_empty) {
            return Err(EventError::EmptyTag(i));
        }
        if let Some(data) = &self.data {
            match data.event_type() {
                Some(t) if t != self.event_type => {
                    return Err(EventError::DataTypeMismatch {
                        event_type: self.event_type.to_string(),
                        data_type: t.to_string(),
                    });
                }
                None if self.event_type.is_known() => {
                    return Err(EventError::DataTypeMismatch {
                        event_type: self.event_type.to_string(),
                        data_type: "untyped object".into(),
                    });
                }
                _ => {}
            }
            if let Some(field) = data.empty_required() {
                return Err(EventError::EmptyDataField(field));
            }
            if data.has_non_finite() {
                return Err(EventError::NonFiniteNumber);
            }
        }
        Ok(())
    }

    /// Checks the event ([`Event::check`]) and returns the proof a [`Sink`](crate::sink::Sink)
    /// requires: an event that breaks the schema cannot reach a sink.
    pub fn checked(&self) -> Result<CheckedEvent<'_>, EventError> {
        self.check()?;
        Ok(CheckedEvent(self))
    }

    /// Appends the event as one JSON line (with the trailing `\n`) to `buf`, escaped as Go's
    /// `encoding/json` writes it.
    pub fn write_line(&self, buf: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        wire::write_event(buf, self)?;
        buf.push(b'\n');
        Ok(())
    }

    /// The event as a JSON string in the reference's byte format, without a newline.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut buf = Vec::with_capacity(256);
        self.write_line(&mut buf)?;
        buf.pop();
        // serde_json only writes UTF-8.
        String::from_utf8(buf).map_err(|e| serde::ser::Error::custom(e.to_string()))
    }
}

/// An [`Event`] that passed [`Event::check`]: the only form a [`Sink`](crate::sink::Sink)
/// accepts, made only by [`Event::checked`]. It borrows the event, which therefore cannot
/// change while the proof exists, and is `Copy`: an emitter checks an event once and hands
/// the same proof to every sink.
///
/// ```
/// use agentlog_core::event::{Event, EventError, LlmRequest, Timestamp};
/// let event = Event::new(Timestamp::now(), "run-1", "", LlmRequest::default());
/// assert_eq!(event.checked().err(), Some(EventError::EmptyField("agent_system")));
/// ```
///
/// A sink cannot be handed an event that was not checked:
///
/// ```compile_fail
/// use agentlog_core::event::{Event, LlmRequest, Timestamp};
/// use agentlog_core::sink::{MemorySink, Sink};
/// let event = Event::new(Timestamp::now(), "run-1", "", LlmRequest::default());
/// MemorySink::new().write(&event).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckedEvent<'a>(&'a Event);

impl<'a> CheckedEvent<'a> {
    /// The checked event.
    pub fn event(self) -> &'a Event {
        self.0
    }
}

impl std::ops::Deref for CheckedEvent<'_> {
    type Target = Event;

    fn deref(&self) -> &Event {
        self.0
    }
}

/// The wire shape, with `data` kept raw until `event_type` is known.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEvent<'a> {
    ts: Timestamp,
    run_id: String,
    agent_system: String,
    event_type: EventType,
    summary: String,
    #[serde(default)]
    plugin: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default, borrow, deserialize_with = "present_raw")]
    data: Option<&'a RawValue>,
}

/// `data` when the key is present: a `null` is kept (and refused later), unlike serde's
/// default for `Option`, which would read it as absent.
fn present_raw<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(deserializer).map(Some)
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let wire = WireEvent::deserialize(deserializer)?;
        let data = match wire.data {
            None => None,
            Some(raw) => {
                let text = raw.get();
                if !text.starts_with('{') {
                    return Err(D::Error::custom("data: expected a JSON object"));
                }
                let data = match wire.event_type {
                    EventType::LlmRequest => serde_json::from_str(text).map(EventData::LlmRequest),
                    EventType::LlmResponse => {
                        serde_json::from_str(text).map(EventData::LlmResponse)
                    }
                    EventType::BudgetAction => {
                        serde_json::from_str(text).map(EventData::BudgetAction)
                    }
                    EventType::KeyInjection => {
                        serde_json::from_str(text).map(EventData::KeyInjection)
                    }
                    EventType::HttpRequest => {
                        serde_json::from_str(text).map(EventData::HttpRequest)
                    }
                    EventType::HttpResponse => {
                        serde_json::from_str(text).map(EventData::HttpResponse)
                    }
                    EventType::GateDecision => {
                        serde_json::from_str(text).map(EventData::GateDecision)
                    }
                    EventType::RouteDecision => {
                        serde_json::from_str(text).map(EventData::RouteDecision)
                    }
                    EventType::RequestTransform => {
                        serde_json::from_str(text).map(EventData::RequestTransform)
                    }
                    EventType::ResponseTransform => {
                        serde_json::from_str(text).map(EventData::ResponseTransform)
                    }
                    EventType::Other(_) => serde_json::from_str(text).map(EventData::Other),
                };
                Some(data.map_err(|e| D::Error::custom(format!("data: {e}")))?)
            }
        };
        Ok(Event {
            ts: wire.ts,
            run_id: wire.run_id,
            agent_system: wire.agent_system,
            event_type: wire.event_type,
            summary: wire.summary,
            plugin: wire.plugin,
            tags: wire.tags,
            data,
        })
    }
}
