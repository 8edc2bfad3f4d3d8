//! The `event_type` field.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Kind of an event: the four types v0 defines, the six the reference's Go writer adds (v1:
/// `http_request`, `http_response`, `gate_decision`, `route_decision`, `request_transform`,
/// `response_transform`), or any other name. Types agentlog does not define are kept as
/// [`EventType::Other`] so that logs from newer writers round-trip unchanged.
///
/// `Other` never holds a name another variant stands for: its [`OtherType`] is only made by
/// [`EventType::from_name`] (and so by parsing), which maps the known names to their
/// variants. Two event types are therefore equal exactly when their names are.
///
/// ```
/// use agentlog_core::event::EventType;
/// assert_eq!(EventType::from_name("llm_request"), EventType::LlmRequest);
/// let gate = EventType::from_name("gate_decision");
/// assert_eq!(gate, EventType::GateDecision);
/// assert!(gate.is_v1() && !gate.is_v0());
/// let other = EventType::from_name("tool_call");
/// assert!(matches!(&other, EventType::Other(name) if name.as_str() == "tool_call"));
/// assert!(!other.is_v0() && !other.is_v1());
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
    /// `key_injection` (v0; deprecated in v1, where `request_transform` replaces it)
    KeyInjection,
    /// `http_request` (v1)
    HttpRequest,
    /// `http_response` (v1)
    HttpResponse,
    /// `gate_decision` (v1)
    GateDecision,
    /// `route_decision` (v1)
    RouteDecision,
    /// `request_transform` (v1)
    RequestTransform,
    /// `response_transform` (v1)
    ResponseTransform,
    /// Any other type name, as written (never one of the names above).
    Other(OtherType),
}

/// The name of an event type agentlog does not define, as written. Only
/// [`EventType::from_name`] makes one, so it is never `llm_request` or another name a variant
/// of [`EventType`] stands for.
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

    /// The types of the v1 profile, the ones `schema/v1/` defines: those the reference's Go
    /// writer defines, in its order (`http_request`, `http_response`, `key_injection`
    /// (deprecated there), `gate_decision`, `route_decision`, `request_transform`,
    /// `response_transform`), and `budget_action`, which the reference dropped after its first
    /// commit but agentlog's budget gate writes under either profile.
    pub const V1: [EventType; 8] = [
        EventType::HttpRequest,
        EventType::HttpResponse,
        EventType::KeyInjection,
        EventType::GateDecision,
        EventType::RouteDecision,
        EventType::RequestTransform,
        EventType::ResponseTransform,
        EventType::BudgetAction,
    ];

    /// Maps a wire name to a type; unknown names become [`EventType::Other`].
    pub fn from_name(name: &str) -> Self {
        EventType::known(name).unwrap_or_else(|| EventType::Other(OtherType(name.to_owned())))
    }

    /// The type agentlog defines (v0 or v1) under the wire name `name`, `None` for any other
    /// name; it allocates nothing, so a reader can classify a line by it.
    ///
    /// ```
    /// use agentlog_core::event::EventType;
    /// assert_eq!(EventType::known("http_request"), Some(EventType::HttpRequest));
    /// assert_eq!(EventType::known("tool_call"), None);
    /// ```
    pub fn known(name: &str) -> Option<Self> {
        Some(match name {
            "llm_request" => EventType::LlmRequest,
            "llm_response" => EventType::LlmResponse,
            "budget_action" => EventType::BudgetAction,
            "key_injection" => EventType::KeyInjection,
            "http_request" => EventType::HttpRequest,
            "http_response" => EventType::HttpResponse,
            "gate_decision" => EventType::GateDecision,
            "route_decision" => EventType::RouteDecision,
            "request_transform" => EventType::RequestTransform,
            "response_transform" => EventType::ResponseTransform,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            EventType::LlmRequest => "llm_request",
            EventType::LlmResponse => "llm_response",
            EventType::BudgetAction => "budget_action",
            EventType::KeyInjection => "key_injection",
            EventType::HttpRequest => "http_request",
            EventType::HttpResponse => "http_response",
            EventType::GateDecision => "gate_decision",
            EventType::RouteDecision => "route_decision",
            EventType::RequestTransform => "request_transform",
            EventType::ResponseTransform => "response_transform",
            EventType::Other(name) => name.as_str(),
        }
    }

    /// Whether v0 defines this type (one of [`EventType::V0`]).
    pub fn is_v0(&self) -> bool {
        matches!(
            self,
            EventType::LlmRequest
                | EventType::LlmResponse
                | EventType::BudgetAction
                | EventType::KeyInjection
        )
    }

    /// Whether the v1 profile defines this type (one of [`EventType::V1`]).
    pub fn is_v1(&self) -> bool {
        matches!(
            self,
            EventType::BudgetAction
                | EventType::HttpRequest
                | EventType::HttpResponse
                | EventType::KeyInjection
                | EventType::GateDecision
                | EventType::RouteDecision
                | EventType::RequestTransform
                | EventType::ResponseTransform
        )
    }

    /// Whether agentlog defines this type (v0 or v1), so that its `data` is typed: not
    /// [`EventType::Other`].
    pub fn is_known(&self) -> bool {
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
