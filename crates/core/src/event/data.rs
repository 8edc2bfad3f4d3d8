//! Typed `data` payloads of the four v0 event types.
//!
//! Field order and omission rules match the Go reference's struct tags exactly: a string that
//! is `omitempty` there is a `String` skipped when empty here, so the bytes agree.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use super::EventType;

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

/// serde_json writes a NaN or an infinity as `null`, which the schema refuses: make it an
/// error at serialization time instead of a silently invalid line.
fn finite_f64<S: Serializer>(v: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        serializer.serialize_f64(*v)
    } else {
        Err(serde::ser::Error::custom(
            "budget amounts must be finite numbers",
        ))
    }
}

/// `data` of an `llm_request` event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Host the request was addressed to.
    pub host: String,
    /// Request path without the query string.
    pub path: String,
    /// Model named in the request body; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    /// Whether the request was routed elsewhere; always written.
    pub routed: bool,
    /// `host:port` it was routed to; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub routed_to: String,
}

impl LlmRequest {
    /// The reference summary: `<METHOD> <host><path>`.
    pub fn summary(&self) -> String {
        format!("{} {}{}", self.method, self.host, self.path)
    }
}

/// `data` of an `llm_response` event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmResponse {
    /// HTTP method of the request.
    pub method: String,
    /// Host the request was addressed to.
    pub host: String,
    /// Request path without the query string.
    pub path: String,
    /// Status sent to the client.
    pub status_code: u64,
    /// Milliseconds from forwarding to the end of the body.
    pub duration_ms: u64,
    /// Response body bytes relayed.
    pub body_bytes: u64,
    /// Model named in the response; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    /// agentlog extension: input tokens the upstream reported; omitted when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// agentlog extension: output tokens the upstream reported; omitted when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
}

impl LlmResponse {
    /// The reference summary: `<METHOD> <host><path> -> <status> (<ms>ms)`.
    pub fn summary(&self) -> String {
        format!(
            "{} {}{} -> {} ({}ms)",
            self.method, self.host, self.path, self.status_code, self.duration_ms
        )
    }
}

/// `data` of a `budget_action` event (no emitter in v0; the shape is fixed for ports).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BudgetAction {
    /// What the budget tracker did; always written.
    pub action: String,
    /// Tokens counted; omitted when zero.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub tokens_used: u64,
    /// Cost so far in US dollars; omitted when zero.
    #[serde(
        default,
        skip_serializing_if = "is_zero_f64",
        serialize_with = "finite_f64"
    )]
    pub cost_usd: f64,
    /// Budget remaining; omitted when zero.
    #[serde(
        default,
        skip_serializing_if = "is_zero_f64",
        serialize_with = "finite_f64"
    )]
    pub remaining: f64,
}

impl BudgetAction {
    /// A one-line summary: `budget <action>`.
    pub fn summary(&self) -> String {
        format!("budget {}", self.action)
    }
}

/// What the secret injector did with one secret on one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InjectionAction {
    /// The placeholder was replaced by the secret value.
    Injected,
    /// The secret is not allowed for this host and its placeholder was absent.
    Skipped,
    /// The placeholder was sent to a host it is not allowed for; the request was refused.
    LeakBlocked,
}

impl InjectionAction {
    /// The wire name (`injected`, `skipped`, `leak_blocked`).
    pub fn as_str(self) -> &'static str {
        match self {
            InjectionAction::Injected => "injected",
            InjectionAction::Skipped => "skipped",
            InjectionAction::LeakBlocked => "leak_blocked",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            InjectionAction::Injected => "injected",
            InjectionAction::Skipped => "skipped",
            InjectionAction::LeakBlocked => "leak blocked",
        }
    }
}

impl fmt::Display for InjectionAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `data` of a `key_injection` event: names the secret, never its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInjection {
    /// Name of the secret.
    pub secret_name: String,
    /// Host of the request, without the port.
    pub host: String,
    /// What happened.
    pub action: InjectionAction,
}

impl KeyInjection {
    /// The reference summary: `secret "<NAME>" injected for <host>` (or `skipped for`,
    /// `leak blocked for`).
    pub fn summary(&self) -> String {
        format!(
            "secret \"{}\" {} for {}",
            self.secret_name,
            self.action.verb(),
            self.host
        )
    }
}

/// The `data` of an event: typed for the v0 types, a JSON object for any other type.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum EventData {
    /// `llm_request`.
    LlmRequest(LlmRequest),
    /// `llm_response`.
    LlmResponse(LlmResponse),
    /// `budget_action`.
    BudgetAction(BudgetAction),
    /// `key_injection`.
    KeyInjection(KeyInjection),
    /// Data of an event type v0 does not define, kept as written.
    Other(serde_json::Map<String, serde_json::Value>),
}

impl EventData {
    /// The event type this payload belongs to, `None` for [`EventData::Other`].
    pub fn event_type(&self) -> Option<EventType> {
        match self {
            EventData::LlmRequest(_) => Some(EventType::LlmRequest),
            EventData::LlmResponse(_) => Some(EventType::LlmResponse),
            EventData::BudgetAction(_) => Some(EventType::BudgetAction),
            EventData::KeyInjection(_) => Some(EventType::KeyInjection),
            EventData::Other(_) => None,
        }
    }

    /// The reference summary for a typed payload, `None` for [`EventData::Other`].
    pub fn summary(&self) -> Option<String> {
        match self {
            EventData::LlmRequest(d) => Some(d.summary()),
            EventData::LlmResponse(d) => Some(d.summary()),
            EventData::BudgetAction(d) => Some(d.summary()),
            EventData::KeyInjection(d) => Some(d.summary()),
            EventData::Other(_) => None,
        }
    }

    /// Names of required string fields that are empty (the schema requires non-empty).
    pub(crate) fn empty_required(&self) -> Option<&'static str> {
        let fields: &[(&'static str, &str)] = match self {
            EventData::LlmRequest(d) => {
                &[("method", &d.method), ("host", &d.host), ("path", &d.path)]
            }
            EventData::LlmResponse(d) => {
                &[("method", &d.method), ("host", &d.host), ("path", &d.path)]
            }
            EventData::BudgetAction(d) => &[("action", &d.action)],
            EventData::KeyInjection(d) => &[("secret_name", &d.secret_name), ("host", &d.host)],
            EventData::Other(_) => &[],
        };
        fields.iter().find(|(_, v)| v.is_empty()).map(|(k, _)| *k)
    }

    /// Whether a budget amount is NaN or infinite (it could not be written as JSON).
    pub(crate) fn has_non_finite(&self) -> bool {
        matches!(self, EventData::BudgetAction(b) if !b.cost_usd.is_finite() || !b.remaining.is_finite())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A typed v0 payload: knows its event type and its reference summary.
pub trait Payload: Into<EventData> + sealed::Sealed {
    /// The event type this payload is the `data` of.
    const EVENT_TYPE: EventType;
    /// The reference summary line.
    fn summary(&self) -> String;
}

macro_rules! from_payload {
    ($($ty:ident),*) => {$(
        impl From<$ty> for EventData {
            fn from(d: $ty) -> Self {
                EventData::$ty(d)
            }
        }
        impl sealed::Sealed for $ty {}
        impl Payload for $ty {
            const EVENT_TYPE: EventType = EventType::$ty;
            fn summary(&self) -> String {
                $ty::summary(self)
            }
        }
    )*};
}
from_payload!(LlmRequest, LlmResponse, BudgetAction, KeyInjection);
