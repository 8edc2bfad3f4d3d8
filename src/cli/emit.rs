//! `agentlog emit`: append one event to a log.

use std::path::PathBuf;
use std::sync::Arc;

use agentlog_core::config::{RunId, default_log_path};
use agentlog_core::event::{
    BudgetAction, Event, EventData, EventType, KeyInjection, LlmRequest, LlmResponse, Timestamp,
};
use agentlog_core::schema;
use agentlog_core::sink::{JsonlWriter, Sink};
use agentlog_core::{Emitter, Record};
use serde_json::Value;

use super::{EXIT_OK, fail};

/// Append one event to an events.jsonl log.
///
/// The event is stamped with the current UTC time, checked against the v0 schema and
/// appended as one line. For the four v0 types `--data` must match the type's schema and
/// `--summary` defaults to the reference summary.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log file to append to [default: <data dir>/agentlog/logs/<RUN_ID>/events.jsonl].
    #[arg(long, value_name = "PATH")]
    event_log: Option<PathBuf>,
    /// Run id: one safe path segment (no `/`, `..`, control characters; at most 128 bytes).
    #[arg(long, value_name = "ID")]
    run_id: RunId,
    /// Agent system name.
    #[arg(long, value_name = "NAME")]
    agent_system: String,
    /// Event type (llm_request, llm_response, budget_action, key_injection, or any other name).
    #[arg(long, value_name = "TYPE")]
    event_type: String,
    /// One-line summary [default for v0 types with --data: the reference summary].
    #[arg(long, value_name = "TEXT")]
    summary: Option<String>,
    /// Producing component.
    #[arg(long, value_name = "P")]
    plugin: Option<String>,
    /// A tag (repeatable).
    #[arg(long = "tag", value_name = "T")]
    tags: Vec<String>,
    /// The `data` object as JSON.
    #[arg(long, value_name = "JSON")]
    data: Option<String>,
}

fn typed<T: serde::de::DeserializeOwned + Into<EventData>>(
    value: Value,
) -> Result<EventData, String> {
    serde_json::from_value::<T>(value)
        .map(Into::into)
        .map_err(|e| format!("--data: {e}"))
}

fn build_record(args: &Args) -> Result<Record, String> {
    let event_type = EventType::from_name(&args.event_type);
    let data = match &args.data {
        None => None,
        Some(text) => {
            let value: Value =
                serde_json::from_str(text).map_err(|e| format!("--data is not JSON: {e}"))?;
            let Value::Object(map) = value else {
                return Err("--data must be a JSON object".into());
            };
            let value = Value::Object(map);
            Some(match event_type {
                EventType::LlmRequest => typed::<LlmRequest>(value)?,
                EventType::LlmResponse => typed::<LlmResponse>(value)?,
                EventType::BudgetAction => typed::<BudgetAction>(value)?,
                EventType::KeyInjection => typed::<KeyInjection>(value)?,
                EventType::Other(_) => match value {
                    Value::Object(map) => EventData::Other(map),
                    _ => return Err("--data must be a JSON object".into()),
                },
                _ => {
                    return Err(format!(
                        "--data for event type `{event_type}` is not supported by this version"
                    ));
                }
            })
        }
    };
    let summary = match (&args.summary, data.as_ref().and_then(EventData::summary)) {
        (Some(s), _) => s.clone(),
        (None, Some(s)) => s,
        (None, None) => return Err("--summary is required for this event".into()),
    };
    Ok(Record {
        event_type,
        summary,
        plugin: args.plugin.clone().unwrap_or_default(),
        tags: args.tags.clone(),
        data,
    })
}

/// Checks the whole event against the published schema, so a smoke test fails here with a
/// pointer rather than later in CI.
fn check_schema(event: &Event) -> Result<(), String> {
    let value = serde_json::to_value(event).map_err(|e| e.to_string())?;
    let validator = schema::envelope().map_err(|e| e.to_string())?;
    match validator.iter_errors(&value).next() {
        None => Ok(()),
        Some(e) => Err(format!(
            "event does not match the schema at {}: {}",
            pointer_or_root(&e.instance_path().to_string()),
            e
        )),
    }
}

fn pointer_or_root(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

pub fn run(args: Args) -> u8 {
    let record = match build_record(&args) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let path = match &args.event_log {
        Some(p) => p.clone(),
        None => match default_log_path(&args.run_id) {
            Ok(p) => p,
            Err(e) => return fail(e),
        },
    };
    let writer = match JsonlWriter::open(&path) {
        Ok(w) => Arc::new(w),
        Err(e) => return fail(e),
    };
    let emitter = match Emitter::new(
        args.run_id.as_str(),
        args.agent_system.as_str(),
        vec![writer.clone() as Arc<dyn Sink>],
    ) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let event = emitter.stamp(record, Timestamp::now());
    if let Err(e) = event
        .check()
        .map_err(|e| e.to_string())
        .and_then(|()| check_schema(&event))
    {
        return fail(e);
    }
    if let Err(e) = emitter.emit_event(&event) {
        return fail(e);
    }
    if let Err(e) = emitter.close() {
        return fail(e);
    }
    eprintln!(
        "agentlog: appended 1 {} event to {}",
        event.event_type,
        path.display()
    );
    EXIT_OK
}
