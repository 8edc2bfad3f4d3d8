//! Sandbox events: a log record each, and a CLIENT span for each response.

use std::collections::{HashMap, VecDeque};

use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind};
use serde_json::{Map, Value};

use super::attrs::{flatten_owned, kv, kv_int, kv_str, of_json, string};
use super::{SpanParts, rfc3339_nanos, severity, text};
use crate::ids;
use crate::semconv::*;
use agentlog_validate::secrets::redact::WITHHELD;

/// The request model of each open exchange, so its response's span can name it; at most
/// [`RequestModels::CAP`] are kept (the oldest go first).
#[derive(Debug, Default)]
pub(crate) struct RequestModels {
    models: HashMap<String, String>,
    order: VecDeque<String>,
}

impl RequestModels {
    const CAP: usize = 65_536;

    fn insert(&mut self, exchange: &str, model: &str) {
        if self.models.len() >= Self::CAP
            && let Some(oldest) = self.order.pop_front()
        {
            self.models.remove(&oldest);
        }
        if self
            .models
            .insert(exchange.to_owned(), model.to_owned())
            .is_none()
        {
            self.order.push_back(exchange.to_owned());
        }
    }

    fn take(&mut self, exchange: &str) -> Option<String> {
        self.models.remove(exchange)
    }
}

/// The event's exchange id; empty when it has none, or when it was withheld (withheld ids
/// are all alike, and would join unrelated exchanges).
fn exchange_of(data: &Map<String, Value>) -> &str {
    match text(data, "exchange_id") {
        WITHHELD => "",
        id => id,
    }
}

/// The log record of an event and, for a response, its span.
pub(crate) fn map(
    mut event: Map<String, Value>,
    uid: &str,
    models: &mut RequestModels,
) -> (LogRecord, Option<Span>) {
    // The data's values move into the attributes once everything else has read them.
    let data = match event.remove("data") {
        Some(Value::Object(data)) => data,
        _ => Map::new(),
    };
    let (mut log, span) = map_borrowed(&event, &data, uid, models);
    flatten_owned(AGENTLOG_DATA_PREFIX, data, &mut log.attributes);
    (log, span)
}

/// Everything of an event's record but its data attributes, and its span.
fn map_borrowed(
    event: &Map<String, Value>,
    data: &Map<String, Value>,
    uid: &str,
    models: &mut RequestModels,
) -> (LogRecord, Option<Span>) {
    let event_type = text(event, "event_type");
    let run_id = text(event, "run_id");
    let exchange = exchange_of(data);
    let time = rfc3339_nanos(text(event, "ts"));
    let mut log = LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time,
        severity_number: severity_of(event_type, data),
        body: Some(string(text(event, "summary"))),
        event_name: event_type.to_owned(),
        attributes: envelope_attributes(event),
        ..LogRecord::default()
    };
    if !exchange.is_empty() {
        log.trace_id = ids::exchange_trace(run_id, exchange).to_vec();
        log.span_id = ids::exchange_span(run_id, exchange).to_vec();
    }
    let span = match event_type {
        "llm_request" | "http_request" => {
            let model = text(data, "model");
            if !exchange.is_empty() && !model.is_empty() {
                models.insert(exchange, model);
            }
            None
        }
        "llm_response" | "http_response" => {
            let request_model = (!exchange.is_empty())
                .then(|| models.take(exchange))
                .flatten();
            let incomplete = event
                .get("tags")
                .and_then(Value::as_array)
                .is_some_and(|tags| tags.iter().any(|t| t == "incomplete"));
            let ended = Ended {
                end: time,
                incomplete,
            };
            Some(response_span(
                event_type,
                data,
                run_id,
                uid,
                ended,
                request_model,
            ))
        }
        _ => None,
    };
    (log, span)
}

fn envelope_attributes(
    event: &Map<String, Value>,
) -> Vec<opentelemetry_proto::tonic::common::v1::KeyValue> {
    let mut out = vec![
        kv_str(AGENTLOG_RUN_ID, text(event, "run_id")),
        kv_str(AGENTLOG_AGENT_SYSTEM, text(event, "agent_system")),
        kv_str(AGENTLOG_EVENT_TYPE, text(event, "event_type")),
    ];
    let plugin = text(event, "plugin");
    if !plugin.is_empty() {
        out.push(kv_str(AGENTLOG_PLUGIN, plugin));
    }
    if let Some(tags) = event.get("tags").and_then(of_json) {
        out.push(kv(AGENTLOG_TAGS, tags));
    }
    out
}

fn severity_of(event_type: &str, data: &Map<String, Value>) -> i32 {
    let blocked = match event_type {
        "key_injection" | "request_transform" => text(data, "action") == "leak_blocked",
        "budget_action" => text(data, "action") == "blocked",
        "gate_decision" => data.get("allowed") == Some(&Value::Bool(false)),
        "llm_response" | "http_response" => data
            .get("status_code")
            .and_then(Value::as_u64)
            .is_some_and(|s| s >= 400),
        _ => false,
    };
    if blocked {
        severity::WARN
    } else {
        severity::INFO
    }
}

/// When and how an exchange ended: its response's `ts`, and whether it is tagged
/// `incomplete`.
struct Ended {
    end: u64,
    incomplete: bool,
}

/// The span of a response: `{operation} {model}` for an LLM provider's host (GenAI
/// conventions), `{method}` for any other (HTTP client conventions). It ends at the
/// response's `ts` and lasts its `duration_ms`.
fn response_span(
    event_type: &str,
    data: &Map<String, Value>,
    run_id: &str,
    uid: &str,
    ended: Ended,
    request_model: Option<String>,
) -> Span {
    let end = ended.end;
    let exchange = exchange_of(data);
    let (trace_id, span_id) = if exchange.is_empty() {
        (
            ids::record_trace(uid).to_vec(),
            ids::record_span(uid).to_vec(),
        )
    } else {
        (
            ids::exchange_trace(run_id, exchange).to_vec(),
            ids::exchange_span(run_id, exchange).to_vec(),
        )
    };
    let host = text(data, "host");
    let method = text(data, "method");
    let duration = data.get("duration_ms").and_then(Value::as_u64).unwrap_or(0);
    let mut attributes = vec![
        kv_str(SERVER_ADDRESS, host),
        kv_str(HTTP_REQUEST_METHOD, method),
    ];
    let status = data.get("status_code").and_then(Value::as_i64).unwrap_or(0);
    attributes.push(kv_int(HTTP_RESPONSE_STATUS_CODE, status));
    let provider = provider_of(host);
    let llm = event_type == "llm_response" || provider.is_some();
    let name = if llm {
        genai_attributes(data, provider, request_model.as_deref(), &mut attributes)
    } else {
        method.to_owned()
    };
    let error = error_type(status, ended.incomplete);
    if let Some(error) = &error {
        attributes.push(kv_str(ERROR_TYPE, error));
    }
    if !exchange.is_empty() {
        attributes.push(kv_str(AGENTLOG_EXCHANGE_ID, exchange));
    }
    SpanParts {
        trace_id,
        span_id,
        name,
        kind: SpanKind::Client,
        end,
        duration_ms: duration,
        attributes,
        failed: error.is_some(),
    }
    .build()
}

/// The GenAI attributes of an LLM response; returns the span's name.
fn genai_attributes(
    data: &Map<String, Value>,
    provider: Option<&str>,
    request_model: Option<&str>,
    out: &mut Vec<opentelemetry_proto::tonic::common::v1::KeyValue>,
) -> String {
    let operation = operation_of(text(data, "path"));
    out.push(kv_str(GEN_AI_OPERATION_NAME, operation));
    if let Some(provider) = provider {
        out.push(kv_str(GEN_AI_PROVIDER_NAME, provider));
    }
    let response_model = text(data, "model");
    if let Some(model) = request_model {
        out.push(kv_str(GEN_AI_REQUEST_MODEL, model));
    }
    if !response_model.is_empty() {
        out.push(kv_str(GEN_AI_RESPONSE_MODEL, response_model));
    }
    for (field, name) in [
        ("input_tokens", GEN_AI_USAGE_INPUT_TOKENS),
        ("output_tokens", GEN_AI_USAGE_OUTPUT_TOKENS),
        ("cached_input_tokens", GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
        (
            "cache_creation_input_tokens",
            GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        ),
        ("reasoning_tokens", GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    ] {
        if let Some(count) = data.get(field).and_then(Value::as_i64) {
            out.push(kv_int(name, count));
        }
    }
    if let Some(cost) = data.get("cost_usd").and_then(of_json) {
        out.push(kv(AGENTLOG_COST_USD, cost));
    }
    let source = text(data, "cost_source");
    if !source.is_empty() {
        out.push(kv_str(AGENTLOG_COST_SOURCE, source));
    }
    let model = request_model.unwrap_or(response_model);
    if model.is_empty() {
        operation.to_owned()
    } else {
        format!("{operation} {model}")
    }
}

/// `error.type` of a response: its status when 400 or more, `incomplete` for an exchange
/// that did not end normally (tagged so, or with no response head).
fn error_type(status: i64, incomplete: bool) -> Option<String> {
    if status >= 400 {
        return Some(status.to_string());
    }
    (incomplete || status == 0).then(|| "incomplete".to_owned())
}
