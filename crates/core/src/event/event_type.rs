//! The `event_type` field.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Kind of an event. Types v0 does not define are kept as [`EventType::Other`] so that logs
/// from newer writers (`gate_decision`, `route_decision`, ...) round-trip unchanged.
///
/// `Other` never holds a name another variant stands for: its [`OtherType`] is only made by
/// [`EventType::from_name`] (and so by parsing), which maps the known names to their
/// variants. Two event types are therefore equal exactly when their names are.
///
/// ```
/// use agentlog_core::event::EventType;
/// assert_eq!(EventType::from_name("llm_request"), EventType::LlmRequest);
/// let other = EventType::from_name("gate_decision");
/// assert!(matches!(&other, EventType::Other(name) if name.as_str() == "gate_decision"));
/// assert!(!other.is_v0());
/// ```
///
/// An `Other` cannot be built from a name directly:
///
/// ```compile_fail
/// use agentlog_core::event::{EventType, OtherType};
/// let wrong = EventType::Other(OtherType("llm_request".to_owned()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EventType {
    /// `llm_request`
    LlmRequest,
    /// `llm_response`
    LlmResponse,
    /// `budget_action`
    BudgetAction,
    /// `key_injection`
    KeyInjection,
    /// Any other type name, as written (never one of the names above).
    Other(OtherType),
}

/// The name of an event type v0 does not define, as written. Only [`EventType::from_name`]
/// makes one, so it is never `llm_request` or another name a variant of [`EventType`] stands
/// for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OtherType(String);

impl OtherType {
    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl EventType {
    /// The four types v0 defines, in spec order.
    pub const V0: [EventType; 4] = [
        EventType::LlmRequest,
        EventType::LlmResponse,
        EventType::BudgetAction,
        EventType::KeyInjection,
    ];

    /// Maps a wire name to a type; unknown names become [`EventType::Other`].
    pub fn from_name(name: &str) -> Self {
        match name {
            "llm_request" => EventType::LlmRequest,
            "llm_response" => EventType::LlmResponse,
            "budget_action" => EventType::BudgetAction,
            "key_injection" => EventType::KeyInjection,
            other => EventType::Other(OtherType(other.to_owned())),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            EventType::LlmRequest => "llm_request",
            EventType::LlmResponse => "llm_response",
            EventType::BudgetAction => "budget_action",
            EventType::KeyInjection => "key_injection",
            EventType::Other(name) => name.as_str(),
        }
    }

    /// Whether v0 defines this type.
    pub fn is_v0(&self) -> bool {
        !matches!(self, EventType::Other(_))
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventType {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(EventType::from_name(s))
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(EventType::from_name(&name))
    }
}
