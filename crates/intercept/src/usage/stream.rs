//! The usage of an event stream, accumulated event by event as the official SDKs accumulate
//! it (the rules, and the SDK versions they were read from, are in the module documentation).

use serde_json::Value;

use super::super::prices::ServiceTier;
use super::{ReadCounts, Usage, provider_cost, stated_geo, stated_tier};

/// `event:` names of Anthropic's stream: data without a `type` takes its event's name, as the
/// Anthropic SDK fills it in.
const ANTHROPIC_EVENTS: &[&str] = &["message_start", "message_delta", "message_stop"];
/// OpenAI Responses events whose `response.usage` is the response's final usage; each ends
/// the stream.
const RESPONSES_FINAL: &[&str] = &[
    "response.completed",
    "response.incomplete",
    "response.failed",
];

/// What a stream's events said so far.
#[derive(Debug, Default)]
pub(super) struct StreamUsage {
    /// The model the stream names; empty when unknown.
    model: String,
    /// The usage counts, merged as the SDK merges them; `None` before the first.
    counts: Option<ReadCounts>,
    /// The provider cost of the usage object that counts.
    cost: Option<f64>,
    /// The service tier the stream last stated.
    tier: Option<ServiceTier>,
    /// The `inference_geo` the stream's usage last stated.
    geo: Option<String>,
    /// A usage object that counts held a count that cannot be true: nothing counts any more.
    implausible: bool,
    /// Anthropic's `message_start` was seen: `message_delta` counts from then on.
    message_started: bool,
    /// The stream's last event was seen: nothing after it counts.
    ended: bool,
}

impl StreamUsage {
    /// One dispatched event: its `event:` name (empty when none) and its data, `None` when
    /// it had no `data:` line (then only an Anthropic `message_stop` name means something).
    pub(super) fn event(&mut self, name: &[u8], data: Option<&[u8]>) {
        if self.ended {
            return;
        }
        if let Some(data) = data {
            // The OpenAI SDK stops reading at data starting with `[DONE]`.
            if data.starts_with(b"[DONE]") {
                self.ended = true;
                return;
            }
            // Invalid UTF-8 decodes to U+FFFD, as the SSE standard reads a stream.
            let text = String::from_utf8_lossy(data);
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                self.data(std::str::from_utf8(name).unwrap_or(""), &v);
            }
        }
        self.ended |= name == b"message_stop";
    }

    /// Whether the stream's last event was seen.
    pub(super) fn ended(&self) -> bool {
        self.ended
    }

    /// What was learned.
    pub(super) fn usage(&self) -> Usage {
        let mut usage = Usage {
            model: self.model.clone(),
            implausible: self.implausible,
            service_tier: self.tier,
            inference_geo: self.geo.clone(),
            ..Usage::default()
        };
        if let Some(counts) = self.counts.as_ref().filter(|_| !self.implausible) {
            usage.take(counts, self.cost);
        }
        usage
    }

    /// One event's JSON data, by its `type` (or, without one, its Anthropic event name).
    fn data(&mut self, name: &str, v: &Value) {
        let kind = match v.get("type").and_then(Value::as_str) {
            Some(kind) => Some(kind),
            None => ANTHROPIC_EVENTS.contains(&name).then_some(name),
        };
        match kind {
            // The OpenAI SDK reads chat chunks by their data alone.
            None => self.chat_chunk(v),
            Some("message_start") => self.message_start(v),
            Some("message_delta") => {
                if self.message_started
                    && let Some(usage) = v.get("usage").filter(|u| u.is_object())
                {
                    self.take(usage, true);
                }
            }
            Some("message_stop") => self.ended = true,
            Some(kind) if kind.starts_with("response.") => self.responses_event(kind, v),
            // `ping`, `content_block_*`, `error` and types this module does not know.
            Some(_) => {}
        }
    }

    /// A chat completion chunk: its usage object, when it has one, replaces the last one
    /// (the SDK assigns each chunk's `usage` to its snapshot).
    fn chat_chunk(&mut self, v: &Value) {
        self.set_model(v);
        if let Some(usage) = v.get("usage").filter(|u| u.is_object()) {
            self.take(usage, false);
        }
    }

    /// Anthropic's first event: the message with its model and starting usage. Only the
    /// first counts (the SDK ignores another).
    fn message_start(&mut self, v: &Value) {
        if std::mem::replace(&mut self.message_started, true) {
            return;
        }
        let Some(message) = v.get("message") else {
            return;
        };
        self.set_model(message);
        if let Some(usage) = message.get("usage").filter(|u| u.is_object()) {
            self.take(usage, false);
        }
    }

    /// An OpenAI Responses event: the response's model; the usage of a final one.
    fn responses_event(&mut self, kind: &str, v: &Value) {
        let last = RESPONSES_FINAL.contains(&kind);
        if let Some(response) = v.get("response") {
            self.set_model(response);
            if last && let Some(usage) = response.get("usage").filter(|u| u.is_object()) {
                self.take(usage, false);
            }
        }
        self.ended |= last;
    }

    /// The model and the service tier `scope` (a chunk, a message, a response) names.
    fn set_model(&mut self, scope: &Value) {
        self.tier = stated_tier(scope).or(self.tier);
        if let Some(model) = scope.get("model").and_then(Value::as_str)
            && !model.is_empty()
        {
            model.clone_into(&mut self.model);
        }
    }

    /// One usage object that counts: it replaces the counts so far, or, when `merge`, each
    /// count it has overrides the one so far. A count that cannot be true drops them all
    /// for good.
    fn take(&mut self, usage: &Value, merge: bool) {
        if self.implausible {
            return;
        }
        let Some(counts) = ReadCounts::of(usage) else {
            self.implausible = true;
            self.counts = None;
            self.cost = None;
            return;
        };
        let cost = provider_cost(usage);
        self.tier = stated_tier(usage).or(self.tier);
        self.geo = stated_geo(usage).or(self.geo.take());
        match self.counts.as_mut().filter(|_| merge) {
            Some(so_far) => {
                so_far.merge(&counts);
                if cost.is_some() {
                    self.cost = cost;
                }
            }
            None => {
                self.counts = Some(counts);
                self.cost = cost;
            }
        }
    }
}
