//! `agentlog emit`: append one event to a log.

use crate::cli::output::errln;
use std::path::PathBuf;
use std::sync::Arc;

use agentlog_core::config::{RunId, default_log_path};
use agentlog_core::event::{
    BudgetAction, Event, EventData, EventType, GateDecision, HttpRequest, HttpResponse,
    KeyInjection, LlmRequest, LlmResponse, RequestTransform, ResponseTransform, RouteDecision,
    Timestamp,
};
use agentlog_core::schema;
use agentlog_core::sink::{JsonlWriter, Sink};
use agentlog_core::{Emitter, Record};
use serde_json::error::Category;
use serde_json::{Map, Value};

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
    /// One-line summary [default for a known type with --data: the reference summary].
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

// serde_json's messages are never shown for `--data`, which may hold a secret: they quote
// the offending text ("unknown variant `sk-...`", "invalid type: string \"sk-...\""). What
// is wrong is told with serde_json's category and position, and with names taken from the
// embedded schema, never from `--data`.

/// Where serde_json stopped in `--data`: `column N`, or `line L, column N` for a multi-line
/// value.
fn position(error: &serde_json::Error) -> String {
    match error.line() {
        0 | 1 => format!("column {}", error.column()),
        line => format!("line {line}, column {}", error.column()),
    }
}

/// `--data` that does not parse as JSON.
fn not_json(error: &serde_json::Error) -> String {
    let what = match error.classify() {
        Category::Eof => "unexpected end",
        Category::Syntax | Category::Data | Category::Io => "syntax error",
    };
    format!("--data is not JSON ({what} at {})", position(error))
}

/// `--data` as the typed data of `T`; `object` is the same text, already parsed.
fn typed<T: serde::de::DeserializeOwned + Into<EventData>>(
    text: &str,
    object: &Map<String, Value>,
    event_type: &EventType,
) -> Result<EventData, String> {
    // From the text, not from `object`: the error then has a line and a column.
    serde_json::from_str::<T>(text)
        .map(Into::into)
        .map_err(|e| shape_error(&e, object, event_type))
}

/// Why `object` (`--data`) does not fit `event_type`'s data shape, as serde_json found
/// (`error`). Names fields only by the schema's names: a missing required field, else the
/// first property the schema refuses, else serde_json's position.
fn shape_error(
    error: &serde_json::Error,
    object: &Map<String, Value>,
    event_type: &EventType,
) -> String {
    let schema = schema::for_event_type(event_type).map_or(Value::Null, |file| file.json());
    let missing: Vec<String> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|field| !object.contains_key(*field))
        .map(|field| format!("`{field}`"))
        .collect();
    let detail = if !missing.is_empty() {
        let s = if missing.len() == 1 { "" } else { "s" };
        format!(": missing field{s} {}", missing.join(", "))
    } else if let Some(problem) = property_problem(&schema, object, event_type) {
        format!(": {problem}")
    } else {
        let what = match error.classify() {
            Category::Data => {
                "a value has the wrong type or is not one of the allowed values, or a field is given twice"
            }
            Category::Syntax | Category::Eof | Category::Io => "not valid JSON",
        };
        format!(" (at {}: {what})", position(error))
    };
    format!("--data does not fit the {event_type} data shape{detail}")
}

/// The first property of `object` that the data schema of `event_type` refuses, described
/// with the schema's own texts (the property's name, its type, its allowed values).
fn property_problem(
    schema: &Value,
    object: &Map<String, Value>,
    event_type: &EventType,
) -> Option<String> {
    let validator = schema::data_validator(event_type)?.ok()?;
    let instance = Value::Object(object.clone());
    let error = validator.iter_errors(&instance).next()?;
    let pointer = error.instance_path().to_string();
    let segment = pointer.split('/').nth(1)?;
    // The schema's own spelling of the name: the pointer is built from `--data`.
    let (name, property) = schema["properties"]
        .as_object()?
        .iter()
        .find(|(name, _)| name.as_str() == segment)?;
    let listed = |values: &Value| {
        values
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .map(|v| format!("`{}`", v.as_str().unwrap_or("?")))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    Some(match error.kind().keyword() {
        "enum" => format!(
            "`{name}` is not one of the allowed values ({})",
            listed(&property["enum"])
        ),
        "type" => match property["type"].as_str() {
            Some(expected) => format!("`{name}` has the wrong type (expected {expected})"),
            None => format!("`{name}` has the wrong type"),
        },
        keyword => format!("`{name}` fails the schema's `{keyword}` check"),
    })
}

fn build_record(args: &Args) -> Result<Record, String> {
    let event_type = EventType::from_name(&args.event_type);
    let data = match &args.data {
        None => None,
        Some(text) => {
            let value: Value = serde_json::from_str(text).map_err(|e| not_json(&e))?;
            let Value::Object(map) = value else {
                return Err("--data must be a JSON object".into());
            };
            Some(match event_type {
                EventType::LlmRequest => typed::<LlmRequest>(text, &map, &event_type)?,
                EventType::LlmResponse => typed::<LlmResponse>(text, &map, &event_type)?,
                EventType::BudgetAction => typed::<BudgetAction>(text, &map, &event_type)?,
                EventType::KeyInjection => typed::<KeyInjection>(text, &map, &event_type)?,
                EventType::HttpRequest => typed::<HttpRequest>(text, &map, &event_type)?,
                EventType::HttpResponse => typed::<HttpResponse>(text, &map, &event_type)?,
                EventType::GateDecision => typed::<GateDecision>(text, &map, &event_type)?,
                EventType::RouteDecision => typed::<RouteDecision>(text, &map, &event_type)?,
                EventType::RequestTransform => typed::<RequestTransform>(text, &map, &event_type)?,
                EventType::ResponseTransform => {
                    typed::<ResponseTransform>(text, &map, &event_type)?
                }
                EventType::Other(_) => EventData::Other(map),
                _ => {
                    return Err(format!(
                        "--data for event type `{event_type}` is not supported by this version"
                    ));
                }
            })
        }
    };
    // A v1 decision or transform summary names the plugin: the reference's by default.
    let plugin = match (&args.plugin, &data) {
        (Some(plugin), _) => plugin.clone(),
        (None, Some(data)) => data.default_plugin().to_owned(),
        (None, None) => String::new(),
    };
    let summary = match (
        &args.summary,
        data.as_ref().and_then(|d| d.summary_by(&plugin)),
    ) {
        (Some(s), _) => s.clone(),
        (None, Some(s)) => s,
        (None, None) => return Err("--summary is required for this event".into()),
    };
    Ok(Record {
        event_type,
        summary,
        plugin,
        tags: args.tags.clone(),
        data,
    })
}

/// Checks the whole event against the published schema, so a smoke test fails here with a
/// pointer rather than later in CI. The validator's message is not shown: it quotes the
/// value, which may be a secret given in `--data` or `--summary`. The pointer only holds
/// names the schema defines (envelope fields, v0 data properties) and array indices.
fn check_schema(event: &Event) -> Result<(), String> {
    let value = serde_json::to_value(event).map_err(|e| e.to_string())?;
    let validator = schema::envelope().map_err(|e| e.to_string())?;
    match validator.iter_errors(&value).next() {
        None => Ok(()),
        Some(e) => Err(format!(
            "event does not match the schema at {}: it fails the schema's `{}` check",
            pointer_or_root(&e.instance_path().to_string()),
            e.kind().keyword()
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
    errln!(
        "agentlog: appended 1 {} event to {}",
        event.event_type,
        crate::cli::output::shown(&path.display().to_string())
    );
    EXIT_OK
}
