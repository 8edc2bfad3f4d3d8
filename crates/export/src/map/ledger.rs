//! Ledger records: a log record each; a tool call is also an INTERNAL span
//! `execute_tool {tool}` in its session's trace.

use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind};
use serde_json::{Map, Value};

use super::attrs::{flatten, kv, kv_str, of_json, string};
use super::{SpanParts, rfc3339_nanos, severity, text};
use crate::ids;
use crate::semconv::*;

/// Nanoseconds of the record's `ts`: Unix seconds in the ledger, RFC 3339 in the public
/// implementation's risk events; 0 when neither.
fn time_of(record: &Map<String, Value>) -> u64 {
    match record.get("ts") {
        Some(Value::Number(n)) => n
            .as_u64()
            .map_or(0, |seconds| seconds.saturating_mul(1_000_000_000)),
        Some(Value::String(s)) => rfc3339_nanos(s),
        _ => 0,
    }
}

/// A tool call's log record and span.
pub(crate) fn map_tool_call(record: &Map<String, Value>, uid: &str) -> (LogRecord, Option<Span>) {
    let tool = text(record, "tool");
    let status = text(record, "result_status");
    let time = time_of(record);
    let session = text(record, "session_id");
    let trace_id = if session.is_empty() {
        ids::record_trace(uid)
    } else {
        ids::session_trace(session)
    };
    let span_id = ids::record_span(uid);
    let mut log = LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time,
        severity_number: if status == "success" {
            severity::INFO
        } else {
            severity::WARN
        },
        body: Some(string(format!(
            "{} called {tool}: {status}",
            text(record, "agent")
        ))),
        event_name: "tool_call".to_owned(),
        trace_id: trace_id.to_vec(),
        span_id: span_id.to_vec(),
        ..LogRecord::default()
    };
    flatten(AGENTLOG_LEDGER_PREFIX, record, &mut log.attributes);
    let elapsed = record
        .get("elapsed_ms")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let error = match record.get("error_class").and_then(Value::as_str) {
        Some(class) if !class.is_empty() => Some(class.to_owned()),
        _ => (status != "success").then(|| status.to_owned()),
    };
    let mut attributes = vec![
        kv_str(GEN_AI_OPERATION_NAME, "execute_tool"),
        kv_str(GEN_AI_TOOL_NAME, tool),
        kv_str(GEN_AI_AGENT_NAME, text(record, "agent")),
    ];
    if !session.is_empty() {
        attributes.push(kv_str(GEN_AI_CONVERSATION_ID, session));
    }
    if let Some(error) = &error {
        attributes.push(kv_str(ERROR_TYPE, error));
    }
    for field in ["result_status", "risk_flags", "args_hash", "artifacts"] {
        if let Some(value) = record.get(field).and_then(of_json) {
            attributes.push(kv(&format!("{AGENTLOG_LEDGER_PREFIX}{field}"), value));
        }
    }
    let span = SpanParts {
        trace_id: trace_id.to_vec(),
        span_id: span_id.to_vec(),
        name: format!("execute_tool {tool}"),
        kind: SpanKind::Internal,
        end: time,
        duration_ms: elapsed,
        attributes,
        failed: error.is_some(),
    }
    .build();
    (log, Some(span))
}

/// Another ledger record (the public implementation's risk events): a log record whose
/// event name is its `event_type`.
pub(crate) fn map_other(record: &Map<String, Value>) -> LogRecord {
    let time = time_of(record);
    let event_type = text(record, "event_type");
    let description = text(record, "description");
    let mut log = LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time,
        severity_number: severity::WARN,
        body: Some(string(if description.is_empty() {
            event_type
        } else {
            description
        })),
        event_name: event_type.to_owned(),
        ..LogRecord::default()
    };
    flatten(AGENTLOG_LEDGER_PREFIX, record, &mut log.attributes);
    log
}
