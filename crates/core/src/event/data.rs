//! Typed `data` payloads: the four v0 event types, and the v1 types the reference's Go
//! writer emits (`http_request`, `http_response`, `gate_decision`, `route_decision`,
//! `request_transform`, `response_transform`).
//!
//! Field order and omission rules match the Go reference's struct tags exactly: a string that
//! is `omitempty` there is a `String` skipped when empty here, so the bytes agree. Summaries
//! are the reference's `fmt.Sprintf` formats; four v1 summaries name the plugin that wrote
//! the event, so those types have [`summary_by`](GateDecision::summary_by) and a
//! [`Payload::PLUGIN`], the plugin the reference writes them with.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use super::EventType;

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn finite_opt_f64<S: Serializer>(v: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => finite_f64(v, serializer),
        None => serializer.serialize_none(),
    }
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
    /// agentlog extension: the id of the exchange, the same on every event of it (the
    /// decisions and transforms before it, its response, the budget's events); omitted when
    /// empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exchange_id: String,
    /// agentlog extension: the worst case the budget reserved for the request before it
    /// was forwarded, in US dollars; omitted without a reservation. A request with no
    /// response in the log is charged this when spend is restored.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "finite_opt_f64"
    )]
    pub reserved_usd: Option<f64>,
}

impl LlmRequest {
    /// The reference summary: `<METHOD> <host><path>`.
    pub fn summary(&self) -> String {
        format!("{} {}{}", self.method, self.host, self.path)
    }
}

/// The fields of the two response types, [`LlmResponse`] (v0's `llm_response`) and
/// [`HttpResponse`] (v1's `http_response`), in the order they are written: their one
/// definition, from which both structs, their conversions and the validator's fast path are
/// built. The schemas' `llm_response.json` and `http_response.json` list the same properties
/// (this crate's tests hold them to it).
///
/// `response_fields!(callback! { args })` expands to `callback! { args required { .. }
/// optional { .. } }`: first the fields every response has, then the ones it may leave out,
/// each written `docs attributes name: RustType => Kind,`. The docs and attributes (serde's
/// omission rules) are this crate's; `Kind` is what the schemas ask of the value, one word a
/// reader of logs maps to its own check:
///
/// | kind | JSON value |
/// |---|---|
/// | `Text` | a non-empty string |
/// | `Path` | a string, non-empty in v0 (`llm_response`), possibly empty in v1 (`http_response`) |
/// | `Count` | an integer >= 0 |
/// | `Usd` | a number >= 0 |
/// | `CostSource` | [`COST_FROM_PROVIDER`], [`COST_FROM_PRICES`] or [`COST_FROM_RESERVATION`] |
/// | `ServiceTier` | `standard`, `priority`, `flex` or `batch` |
/// | `Usage` | [`USAGE_UNKNOWN`] or [`USAGE_PARTIAL`] |
/// | `Id` | a non-empty string that names an exchange (`exchange_id`), which a reader of logs may keep to pair a request with its response |
///
/// `cost_usd` and `cost_source` come together or not at all (the schemas'
/// `dependentRequired`).
#[doc(hidden)]
#[macro_export]
macro_rules! response_fields {
    ($callback:ident! { $($args:tt)* }) => {
        $callback! {
            $($args)*
            required {
                /// HTTP method of the request.
                method: String => Text,
                /// Host the request was addressed to.
                host: String => Text,
                /// Request path without the query string; in v1 it may be empty, as
                /// [`HttpRequest::path`] is for an absolute-form request line.
                path: String => Path,
                /// Status sent to the client.
                status_code: u64 => Count,
                /// Milliseconds from forwarding to the end of the body.
                duration_ms: u64 => Count,
                /// Response body bytes relayed.
                body_bytes: u64 => Count,
            }
            optional {
                /// Model named in the response; omitted when empty.
                #[serde(default, skip_serializing_if = "String::is_empty")]
                model: String => Text,
                /// agentlog extension: input tokens the upstream reported; omitted when
                /// unknown.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                input_tokens: Option<u64> => Count,
                /// agentlog extension: output tokens the upstream reported; omitted when
                /// unknown.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                output_tokens: Option<u64> => Count,
                /// agentlog extension: input tokens read from the provider's prompt cache (a
                /// part of `input_tokens`); omitted when not reported.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                cached_input_tokens: Option<u64> => Count,
                /// agentlog extension: input tokens written to the provider's prompt cache (a
                /// part of `input_tokens`, Anthropic); omitted when not reported.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                cache_creation_input_tokens: Option<u64> => Count,
                /// agentlog extension: reasoning tokens (a part of `output_tokens`); omitted
                /// when not reported.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                reasoning_tokens: Option<u64> => Count,
                /// agentlog extension: what the exchange cost in US dollars; omitted when
                /// unknown.
                #[serde(
                    default,
                    skip_serializing_if = "Option::is_none",
                    serialize_with = "finite_opt_f64"
                )]
                cost_usd: Option<f64> => Usd,
                /// agentlog extension: where `cost_usd` comes from, [`COST_FROM_PROVIDER`],
                /// [`COST_FROM_PRICES`] or [`COST_FROM_RESERVATION`]; omitted with it.
                #[serde(default, skip_serializing_if = "String::is_empty")]
                cost_source: String => CostSource,
                /// agentlog extension: the service tier whose prices `cost_usd` used
                /// (`standard`, `priority`, `flex` or `batch`: the tier the response states,
                /// else the one the request asked for); present when `cost_source` is
                /// [`COST_FROM_PRICES`] or [`COST_FROM_RESERVATION`], omitted otherwise.
                #[serde(default, skip_serializing_if = "String::is_empty")]
                service_tier: String => ServiceTier,
                /// agentlog extension: [`USAGE_UNKNOWN`] when the response reported no usage,
                /// [`USAGE_PARTIAL`] when it ended before its final usage; omitted when the
                /// usage is complete (or the exchange is not one that reports usage).
                #[serde(default, skip_serializing_if = "String::is_empty")]
                usage: String => Usage,
                /// agentlog extension: the id of the exchange, as on its request event
                /// and every other event of it; omitted when empty.
                #[serde(default, skip_serializing_if = "String::is_empty")]
                exchange_id: String => Id,
            }
        }
    };
}

/// The response types from [`response_fields!`](crate::response_fields): the v0 one, the v1
/// one (each with its docs), the same fields in both, and a conversion each way.
macro_rules! response_types {
    (
        $(#[$v0_doc:meta])* $v0:ident,
        $(#[$v1_doc:meta])* $v1:ident;
        required { $($(#[$rm:meta])* $rf:ident: $rt:ty => $rk:ident,)* }
        optional { $($(#[$om:meta])* $of:ident: $ot:ty => $ok:ident,)* }
    ) => {
        $(#[$v0_doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $v0 {
            $($(#[$rm])* pub $rf: $rt,)*
            $($(#[$om])* pub $of: $ot,)*
        }

        $(#[$v1_doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $v1 {
            $($(#[$rm])* pub $rf: $rt,)*
            $($(#[$om])* pub $of: $ot,)*
        }

        impl From<$v0> for $v1 {
            fn from(d: $v0) -> Self {
                $v1 { $($rf: d.$rf,)* $($of: d.$of,)* }
            }
        }

        impl From<$v1> for $v0 {
            fn from(d: $v1) -> Self {
                $v0 { $($rf: d.$rf,)* $($of: d.$of,)* }
            }
        }

        /// Every response field, in order: its name, its kind, and whether it is required.
        #[cfg(test)]
        pub(crate) const RESPONSE_FIELDS: &[(&str, &str, bool)] = &[
            $((stringify!($rf), stringify!($rk), true),)*
            $((stringify!($of), stringify!($ok), false),)*
        ];
    };
}

crate::response_fields!(response_types! {
    /// `data` of an `llm_response` event.
    LlmResponse,
    /// `data` of an `http_response` event (v1): the shape of [`LlmResponse`], agentlog's usage
    /// and cost extension included (the reference writes none of it), but `path` may be
    /// empty.
    ///
    /// ```
    /// use agentlog_core::event::HttpResponse;
    /// let response = HttpResponse {
    ///     method: "DELETE".into(), host: "example.com".into(), path: "/x".into(),
    ///     status_code: 204, ..Default::default()
    /// };
    /// assert_eq!(response.summary(), "DELETE example.com/x -> 204 (0ms)");
    /// ```
    HttpResponse;
});

/// `cost_source` of a cost the provider reported (OpenRouter's `usage.cost`).
pub const COST_FROM_PROVIDER: &str = "provider";
/// `cost_source` of a cost computed from the tokens and a price table.
pub const COST_FROM_PRICES: &str = "price_table";
/// `cost_source` of an exchange charged its reserved worst case, since its real cost is not
/// known (no usage reported, a stream cut short, or a model without a price).
pub const COST_FROM_RESERVATION: &str = "reservation";
/// `usage` of a response that reported no usage at all: its tokens are unknown, not zero.
pub const USAGE_UNKNOWN: &str = "unknown";
/// `usage` of a response that ended (cancelled, truncated, cut) before its final usage: the
/// counts given are lower bounds.
pub const USAGE_PARTIAL: &str = "partial";

impl LlmResponse {
    /// The reference summary: `<METHOD> <host><path> -> <status> (<ms>ms)`.
    pub fn summary(&self) -> String {
        format!(
            "{} {}{} -> {} ({}ms)",
            self.method, self.host, self.path, self.status_code, self.duration_ms
        )
    }
}

/// `data` of a `budget_action` event (no emitter in v0; the shape is fixed for ports). The
/// written line has Go's number text for the amounts (`2`, `10000000000000000`, `1e-7`;
/// see [`go_json`](super::go_json)), as the reference's `float64` fields.
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
    /// agentlog extension: the id of the exchange this event belongs to, as on its request
    /// and response events; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exchange_id: String,
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
    /// agentlog extension: the id of the exchange this event belongs to, as on its request
    /// and response events; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exchange_id: String,
}

impl KeyInjection {
    /// What the injector did with `secret_name` on a request to `host`, with no exchange id.
    ///
    /// ```
    /// use agentlog_core::event::{InjectionAction, KeyInjection};
    /// let event = KeyInjection::new("OPENAI_API_KEY", "api.openai.com", InjectionAction::Injected);
    /// assert_eq!(event.summary(), r#"secret "OPENAI_API_KEY" injected for api.openai.com"#);
    /// ```
    pub fn new(
        secret_name: impl Into<String>,
        host: impl Into<String>,
        action: InjectionAction,
    ) -> Self {
        KeyInjection {
            secret_name: secret_name.into(),
            host: host.into(),
            action,
            exchange_id: String::new(),
        }
    }

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

/// `data` of an `http_request` event (v1): one request the proxy intercepted, on any host.
/// The same shape as [`LlmRequest`], the v0 name.
///
/// ```
/// use agentlog_core::event::HttpRequest;
/// let request = HttpRequest {
///     method: "POST".into(), host: "openrouter.ai".into(), path: "/v1/chat/completions".into(),
///     routed: true, routed_to: "192.168.86.246:11434".into(), ..Default::default()
/// };
/// assert_eq!(request.summary(), "POST openrouter.ai/v1/chat/completions");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Host the request was addressed to.
    pub host: String,
    /// Request path without the query string, percent-decoded; empty for an absolute-form
    /// request line (`GET http://host HTTP/1.1`), as the reference writes it.
    pub path: String,
    /// Model named in the request body; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    /// Whether the request was routed elsewhere; always written.
    pub routed: bool,
    /// `host:port` it was routed to; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub routed_to: String,
    /// agentlog extension, as in [`LlmRequest::exchange_id`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exchange_id: String,
    /// agentlog extension, as in [`LlmRequest::reserved_usd`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "finite_opt_f64"
    )]
    pub reserved_usd: Option<f64>,
}

impl HttpRequest {
    /// The reference summary: `<METHOD> <host><path>` (Go: `%s %s%s`).
    pub fn summary(&self) -> String {
        format!("{} {}{}", self.method, self.host, self.path)
    }
}

impl From<LlmRequest> for HttpRequest {
    fn from(d: LlmRequest) -> Self {
        HttpRequest {
            method: d.method,
            host: d.host,
            path: d.path,
            model: d.model,
            routed: d.routed,
            routed_to: d.routed_to,
            exchange_id: d.exchange_id,
            reserved_usd: d.reserved_usd,
        }
    }
}

impl From<HttpRequest> for LlmRequest {
    fn from(d: HttpRequest) -> Self {
        LlmRequest {
            method: d.method,
            host: d.host,
            path: d.path,
            model: d.model,
            routed: d.routed,
            routed_to: d.routed_to,
            exchange_id: d.exchange_id,
            reserved_usd: d.reserved_usd,
        }
    }
}

impl HttpResponse {
    /// The reference summary: `<METHOD> <host><path> -> <status> (<ms>ms)` (Go:
    /// `%s %s%s -> %d (%dms)`).
    pub fn summary(&self) -> String {
        format!(
            "{} {}{} -> {} ({}ms)",
            self.method, self.host, self.path, self.status_code, self.duration_ms
        )
    }
}

/// `data` of a `gate_decision` event (v1): a gate plugin allowed or blocked a host. The
/// reference writes it with the plugin `host_filter` (or `budget_gate`).
///
/// ```
/// use agentlog_core::event::GateDecision;
/// let blocked = GateDecision {
///     host: "evil.example".into(), allowed: false,
///     reason: "host not in allowlist".into(), ..Default::default()
/// };
/// assert_eq!(
///     blocked.summary_by("host_filter"),
///     "gate blocked evil.example by host_filter: host not in allowlist"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateDecision {
    /// Host the request was addressed to.
    pub host: String,
    /// Whether the gate let the request through; always written.
    pub allowed: bool,
    /// Why it was blocked; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The allowlist pattern that matched; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pattern: String,
    /// agentlog extension: the id of the exchange this event belongs to, as on its request
    /// and response events; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exchange_id: String,
}

impl GateDecision {
    /// The reference summary as the gate plugin `plugin` writes it: `gate allowed <host> by
    /// <plugin>`, or `gate blocked <host> by <plugin>: <reason>`.
    pub fn summary_by(&self, plugin: &str) -> String {
        if self.allowed {
            format!("gate allowed {} by {plugin}", self.host)
        } else {
            format!("gate blocked {} by {plugin}: {}", self.host, self.reason)
        }
    }
}

/// `data` of a `route_decision` event (v1): a route plugin sent a request to its host
/// (`passthrough`) or elsewhere (`redirected`, with `routed_to`). The reference writes it
/// with the plugin `local_model_router`.
///
/// ```
/// use agentlog_core::event::RouteDecision;
/// let route = RouteDecision {
///     host: "openrouter.ai".into(), action: RouteDecision::REDIRECTED.into(),
///     routed_to: "192.168.86.246:11434".into(), ..Default::default()
/// };
/// assert_eq!(
///     route.summary_by("local_model_router"),
///     "route redirected openrouter.ai -> 192.168.86.246:11434 by local_model_router"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteDecision {
    /// Host the request was addressed to.
    pub host: String,
    /// What the router did: [`RouteDecision::PASSTHROUGH`] or [`RouteDecision::REDIRECTED`]
    /// in the reference (a string there, kept as one here).
    pub action: String,
    /// `host:port` the request was sent to; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub routed_to: String,
    /// Why; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// agentlog extension: the id of the exchange this event belongs to, as on its request
    /// and response events; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exchange_id: String,
}

impl RouteDecision {
    /// The `action` of a request sent to its own host.
    pub const PASSTHROUGH: &'static str = "passthrough";
    /// The `action` of a request sent to `routed_to`.
    pub const REDIRECTED: &'static str = "redirected";

    /// The reference summary as the route plugin `plugin` writes it: `route <action> <host>
    /// by <plugin>`, or `route <action> <host> -> <routed_to> by <plugin>` when `routed_to`
    /// is set.
    pub fn summary_by(&self, plugin: &str) -> String {
        if self.routed_to.is_empty() {
            format!("route {} {} by {plugin}", self.action, self.host)
        } else {
            format!(
                "route {} {} -> {} by {plugin}",
                self.action, self.host, self.routed_to
            )
        }
    }
}

/// `data` of a `request_transform` event (v1): what one request plugin did to a request
/// (`injected`, `skipped`, `no_op`, ...). The reference's secret injector writes it in place
/// of `key_injection`, with the plugin `secret_injector`.
///
/// ```
/// use agentlog_core::event::RequestTransform;
/// let transform = RequestTransform {
///     host: "api.openai.com".into(), action: "injected".into(),
///     reason: "1 secret(s) injected for api.openai.com".into(), ..Default::default()
/// };
/// assert_eq!(
///     transform.summary_by("secret_injector"),
///     "secret_injector: injected for api.openai.com"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestTransform {
    /// Host the request was addressed to.
    pub host: String,
    /// What the plugin did.
    pub action: String,
    /// Why, or what exactly; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// agentlog extension: the id of the exchange this event belongs to, as on its request
    /// and response events; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exchange_id: String,
}

impl RequestTransform {
    /// The reference summary as `plugin` writes it: `<plugin>: <action> for <host>`.
    pub fn summary_by(&self, plugin: &str) -> String {
        format!("{plugin}: {} for {}", self.action, self.host)
    }
}

/// `data` of a `response_transform` event (v1): what one response plugin did
/// (`logged_usage`, `no_op`, ...). The reference writes it with the plugin `usage_logger`.
///
/// ```
/// use agentlog_core::event::ResponseTransform;
/// let transform = ResponseTransform {
///     host: "openrouter.ai".into(), action: "logged_usage".into(), ..Default::default()
/// };
/// assert_eq!(transform.summary_by("usage_logger"), "usage_logger: logged_usage for openrouter.ai");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseTransform {
    /// Host the request was addressed to.
    pub host: String,
    /// What the plugin did.
    pub action: String,
    /// Why, or what exactly; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// agentlog extension: the id of the exchange this event belongs to, as on its request
    /// and response events; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exchange_id: String,
}

impl ResponseTransform {
    /// The reference summary as `plugin` writes it: `<plugin>: <action> for <host>`.
    pub fn summary_by(&self, plugin: &str) -> String {
        format!("{plugin}: {} for {}", self.action, self.host)
    }
}

/// The `data` of an event: typed for the types agentlog defines (v0 and v1), a JSON object
/// for any other type.
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
    /// `http_request` (v1).
    HttpRequest(HttpRequest),
    /// `http_response` (v1).
    HttpResponse(HttpResponse),
    /// `gate_decision` (v1).
    GateDecision(GateDecision),
    /// `route_decision` (v1).
    RouteDecision(RouteDecision),
    /// `request_transform` (v1).
    RequestTransform(RequestTransform),
    /// `response_transform` (v1).
    ResponseTransform(ResponseTransform),
    /// Data of an event type agentlog does not define, kept as written.
    Other(serde_json::Map<String, serde_json::Value>),
}

impl EventData {
    /// The event type this payload belongs to, `None` for [`EventData::Other`].
    pub fn event_type(&self) -> Option<EventType> {
        Some(match self {
            EventData::LlmRequest(_) => EventType::LlmRequest,
            EventData::LlmResponse(_) => EventType::LlmResponse,
            EventData::BudgetAction(_) => EventType::BudgetAction,
            EventData::KeyInjection(_) => EventType::KeyInjection,
            EventData::HttpRequest(_) => EventType::HttpRequest,
            EventData::HttpResponse(_) => EventType::HttpResponse,
            EventData::GateDecision(_) => EventType::GateDecision,
            EventData::RouteDecision(_) => EventType::RouteDecision,
            EventData::RequestTransform(_) => EventType::RequestTransform,
            EventData::ResponseTransform(_) => EventType::ResponseTransform,
            EventData::Other(_) => return None,
        })
    }

    /// The agentlog extension `exchange_id`: the exchange this event belongs to; `None` when
    /// empty or absent (an untyped payload's `exchange_id` when it is a string).
    ///
    /// ```
    /// use agentlog_core::event::{BudgetAction, EventData};
    /// let mut data = EventData::from(BudgetAction { action: "warn".into(), ..Default::default() });
    /// assert_eq!(data.exchange_id(), None);
    /// data.set_exchange_id("187b1f0c2a4d9e00-7");
    /// assert_eq!(data.exchange_id(), Some("187b1f0c2a4d9e00-7"));
    /// ```
    pub fn exchange_id(&self) -> Option<&str> {
        let id = match self {
            EventData::LlmRequest(d) => &d.exchange_id,
            EventData::LlmResponse(d) => &d.exchange_id,
            EventData::BudgetAction(d) => &d.exchange_id,
            EventData::KeyInjection(d) => &d.exchange_id,
            EventData::HttpRequest(d) => &d.exchange_id,
            EventData::HttpResponse(d) => &d.exchange_id,
            EventData::GateDecision(d) => &d.exchange_id,
            EventData::RouteDecision(d) => &d.exchange_id,
            EventData::RequestTransform(d) => &d.exchange_id,
            EventData::ResponseTransform(d) => &d.exchange_id,
            EventData::Other(map) => match map.get("exchange_id") {
                Some(serde_json::Value::String(id)) => id,
                _ => return None,
            },
        };
        (!id.is_empty()).then_some(id.as_str())
    }

    /// Sets the agentlog extension `exchange_id` (an empty `id` removes it: it is omitted when
    /// empty); on an untyped payload, its `exchange_id` key.
    pub fn set_exchange_id(&mut self, id: impl Into<String>) {
        let id = id.into();
        let field = match self {
            EventData::LlmRequest(d) => &mut d.exchange_id,
            EventData::LlmResponse(d) => &mut d.exchange_id,
            EventData::BudgetAction(d) => &mut d.exchange_id,
            EventData::KeyInjection(d) => &mut d.exchange_id,
            EventData::HttpRequest(d) => &mut d.exchange_id,
            EventData::HttpResponse(d) => &mut d.exchange_id,
            EventData::GateDecision(d) => &mut d.exchange_id,
            EventData::RouteDecision(d) => &mut d.exchange_id,
            EventData::RequestTransform(d) => &mut d.exchange_id,
            EventData::ResponseTransform(d) => &mut d.exchange_id,
            EventData::Other(map) => {
                if id.is_empty() {
                    map.remove("exchange_id");
                } else {
                    map.insert("exchange_id".to_owned(), serde_json::Value::String(id));
                }
                return;
            }
        };
        *field = id;
    }

    /// The plugin the reference writes this payload with, for the types whose summary names
    /// it (`host_filter`, `local_model_router`, `secret_injector`, `usage_logger`); empty for
    /// the others. [`Record::new`](crate::Record::new) starts from it.
    pub fn default_plugin(&self) -> &'static str {
        match self {
            EventData::GateDecision(_) => GateDecision::PLUGIN,
            EventData::RouteDecision(_) => RouteDecision::PLUGIN,
            EventData::RequestTransform(_) => RequestTransform::PLUGIN,
            EventData::ResponseTransform(_) => ResponseTransform::PLUGIN,
            _ => "",
        }
    }

    /// Whether the reference summary of this payload names the plugin that wrote it.
    pub(crate) fn summary_names_plugin(&self) -> bool {
        !self.default_plugin().is_empty()
    }

    /// The reference summary for a typed payload written by its
    /// [`default_plugin`](Self::default_plugin), `None` for [`EventData::Other`].
    pub fn summary(&self) -> Option<String> {
        self.summary_by(self.default_plugin())
    }

    /// The reference summary for a typed payload written by `plugin` (which only the
    /// `gate_decision`, `route_decision`, `request_transform` and `response_transform`
    /// summaries name), `None` for [`EventData::Other`].
    pub fn summary_by(&self, plugin: &str) -> Option<String> {
        Some(match self {
            EventData::LlmRequest(d) => d.summary(),
            EventData::LlmResponse(d) => d.summary(),
            EventData::BudgetAction(d) => d.summary(),
            EventData::KeyInjection(d) => d.summary(),
            EventData::HttpRequest(d) => d.summary(),
            EventData::HttpResponse(d) => d.summary(),
            EventData::GateDecision(d) => d.summary_by(plugin),
            EventData::RouteDecision(d) => d.summary_by(plugin),
            EventData::RequestTransform(d) => d.summary_by(plugin),
            EventData::ResponseTransform(d) => d.summary_by(plugin),
            EventData::Other(_) => return None,
        })
    }

    /// Names of required string fields that are empty (the schema requires non-empty).
    /// `path` of the v1 `http_*` types may be empty: the reference writes `"path":""` for an
    /// absolute-form request line.
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
            EventData::HttpRequest(d) => &[("method", &d.method), ("host", &d.host)],
            EventData::HttpResponse(d) => &[("method", &d.method), ("host", &d.host)],
            EventData::GateDecision(d) => &[("host", &d.host)],
            EventData::RouteDecision(d) => &[("host", &d.host), ("action", &d.action)],
            EventData::RequestTransform(d) => &[("host", &d.host), ("action", &d.action)],
            EventData::ResponseTransform(d) => &[("host", &d.host), ("action", &d.action)],
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

/// A typed payload: knows its event type, the plugin the reference writes it with, and its
/// reference summary.
pub trait Payload: Into<EventData> + sealed::Sealed {
    /// The event type this payload is the `data` of.
    const EVENT_TYPE: EventType;
    /// The plugin the reference writes this payload with when its summary names the plugin
    /// (`gate_decision`: `host_filter`, `route_decision`: `local_model_router`,
    /// `request_transform`: `secret_injector`, `response_transform`: `usage_logger`); empty
    /// for the other types.
    const PLUGIN: &'static str;
    /// The reference summary line, as [`PLUGIN`](Self::PLUGIN) writes it.
    fn summary(&self) -> String {
        self.summary_by(Self::PLUGIN)
    }
    /// The reference summary line as `plugin` writes it (the same for every plugin when
    /// [`PLUGIN`](Self::PLUGIN) is empty: the summary does not name one).
    fn summary_by(&self, plugin: &str) -> String;
}

macro_rules! from_payload {
    ($($ty:ident),* ; $($by:ident => $plugin:literal),*) => {
        $(
            impl From<$ty> for EventData {
                fn from(d: $ty) -> Self {
                    EventData::$ty(d)
                }
            }
            impl sealed::Sealed for $ty {}
            impl Payload for $ty {
                const EVENT_TYPE: EventType = EventType::$ty;
                const PLUGIN: &'static str = "";
                fn summary_by(&self, _plugin: &str) -> String {
                    $ty::summary(self)
                }
            }
        )*
        $(
            impl From<$by> for EventData {
                fn from(d: $by) -> Self {
                    EventData::$by(d)
                }
            }
            impl sealed::Sealed for $by {}
            impl Payload for $by {
                const EVENT_TYPE: EventType = EventType::$by;
                const PLUGIN: &'static str = $plugin;
                fn summary_by(&self, plugin: &str) -> String {
                    $by::summary_by(self, plugin)
                }
            }
        )*
    };
}
from_payload!(
    LlmRequest, LlmResponse, BudgetAction, KeyInjection, HttpRequest, HttpResponse;
    GateDecision => "host_filter",
    RouteDecision => "local_model_router",
    RequestTransform => "secret_injector",
    ResponseTransform => "usage_logger"
);

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{
        COST_FROM_PRICES, COST_FROM_PROVIDER, COST_FROM_RESERVATION, RESPONSE_FIELDS,
        USAGE_PARTIAL, USAGE_UNKNOWN,
    };
    use crate::schema::Profile;

    /// What the schema says of a property of `kind` (see `response_fields!`), in `profile`.
    fn expected(kind: &str, profile: Profile) -> Value {
        let text = json!({"type": "string", "minLength": 1});
        let enumerated = |values: &[&str]| json!({"type": "string", "enum": values});
        match kind {
            "Text" | "Id" => text,
            "Path" if profile == Profile::V0 => text,
            "Path" => json!({"type": "string"}),
            "Count" => json!({"type": "integer", "minimum": 0}),
            "Usd" => json!({"type": "number", "minimum": 0}),
            "CostSource" => {
                enumerated(&[COST_FROM_PROVIDER, COST_FROM_PRICES, COST_FROM_RESERVATION])
            }
            "ServiceTier" => enumerated(&["standard", "priority", "flex", "batch"]),
            "Usage" => enumerated(&[USAGE_UNKNOWN, USAGE_PARTIAL]),
            other => panic!("unknown kind {other}"),
        }
    }

    /// Every payload carries an exchange id: set, read back, cleared (an empty id is none),
    /// and on an untyped payload its `exchange_id` key.
    #[test]
    fn every_payload_carries_an_exchange_id() {
        use super::*;
        let payloads: Vec<EventData> = vec![
            LlmRequest::default().into(),
            LlmResponse::default().into(),
            BudgetAction::default().into(),
            KeyInjection::new("K", "h", InjectionAction::Injected).into(),
            HttpRequest::default().into(),
            HttpResponse::default().into(),
            GateDecision::default().into(),
            RouteDecision::default().into(),
            RequestTransform::default().into(),
            ResponseTransform::default().into(),
            EventData::Other(serde_json::Map::new()),
        ];
        for mut data in payloads {
            assert_eq!(data.exchange_id(), None, "{data:?}");
            data.set_exchange_id("a-1");
            assert_eq!(data.exchange_id(), Some("a-1"), "{data:?}");
            let written = serde_json::to_value(&data).unwrap();
            assert_eq!(written["exchange_id"], "a-1", "{data:?}");
            data.set_exchange_id("");
            assert_eq!(data.exchange_id(), None, "{data:?}");
            let written = serde_json::to_value(&data).unwrap();
            assert!(written.get("exchange_id").is_none(), "{data:?}");
        }
    }

    /// The one list of response fields is what both schemas define: the same properties in
    /// the same order, the same required ones, and each as its kind says.
    #[test]
    fn response_fields_are_the_schemas() {
        for (profile, name) in [
            (Profile::V0, "llm_response"),
            (Profile::V1, "http_response"),
        ] {
            let schema = profile.find(name).map(|f| f.json()).unwrap_or_default();
            let properties = schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let names: Vec<&str> = RESPONSE_FIELDS.iter().map(|f| f.0).collect();
            let listed: Vec<&str> = properties.keys().map(String::as_str).collect();
            assert_eq!(names, listed, "{name}");
            let required: Vec<&str> = RESPONSE_FIELDS
                .iter()
                .filter(|f| f.2)
                .map(|f| f.0)
                .collect();
            assert_eq!(json!(required), schema["required"], "{name}");
            for (field, kind, _) in RESPONSE_FIELDS {
                let mut property = properties[*field].clone();
                if let Value::Object(map) = &mut property {
                    map.retain(|k, _| {
                        ["type", "minLength", "minimum", "enum"].contains(&k.as_str())
                    });
                }
                assert_eq!(property, expected(kind, profile), "{name}.{field}");
            }
            assert_eq!(
                schema["dependentRequired"],
                json!({"cost_usd": ["cost_source"], "cost_source": ["cost_usd"]}),
                "{name}"
            );
        }
    }
}
