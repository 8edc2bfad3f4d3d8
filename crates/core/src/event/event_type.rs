//! The `event_type` field.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Kind of an event. Types v0 does not define are kept as [`EventType::Other`] so that logs
/// from newer writers (`gate_decision`, `route_decision`, ...) round-trip unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// `llm_request`
    LlmRequest,
    /// `llm_response`
    LlmResponse,
    /// `budget_action`
    BudgetAction,
    /// `key_injection`
    KeyInjection,
    /// Any other type name, as written.
    Other(String),
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
            other => EventType::Other(other.to_owned()),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            EventType::LlmRequest => "llm_request",
            EventType::LlmResponse => "llm_response",
            EventType::BudgetAction => "budget_action",
            EventType::KeyInjection => "key_injection",
            EventType::Other(name) => name,
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
