//! `agentlog emit`: append one event to a log.

use crate::cli::output::{self, errln};
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
use agentlog_validate::{Rule, explain_schema_error};
use serde_json::error::Category;
use serde_json::{Map, Value};

use super::{EXIT_OK, fail};

/// Append one event to an events.jsonl log.
///
/// The event is stamped with the current UTC time, checked against the v0 schema and
/// appended as one line. For the four v0 types `--data` must match the type's schema and
/// `--summary` defaults to the reference summary.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
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
// is wrong is told as the validator explains a schema error (`explain_schema_error`, whose
// messages never quote a value), else with serde_json's category and position.

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
/// (`error`): every problem the validator's explainer finds in it, else serde_json's
/// position.
fn shape_error(
    error: &serde_json::Error,
    object: &Map<String, Value>,
    event_type: &EventType,
) -> String {
    let problems = data_problems(object, event_type);
    let detail = if problems.is_empty() {
        let what = match error.classify() {
            Category::Data => {
                "a value has the wrong type or is not one of the allowed values, or a field is given twice"
            }
            Category::Syntax | Category::Eof | Category::Io => "not valid JSON",
        };
        format!(" (at {}: {what})", position(error))
    } else {
        format!(": {}", problems.join("; "))
    };
    let event_type = output::shown(&event_type.to_string());
    format!("--data does not fit the {event_type} data shape{detail}")
}

/// What the validator reports of `object` as the `data` of an `event_type` event: its
/// `data.*` problems (the schema checked as `agentlog validate` checks a line of the log), as
/// `POINTER: MESSAGE`, each once. The messages never quote a value, and a pointer is cut
/// back before a key that carries a secret.
fn data_problems(object: &Map<String, Value>, event_type: &EventType) -> Vec<String> {
    let Ok(envelope) = schema::envelope() else {
        return Vec::new();
    };
    let event = serde_json::json!({"event_type": event_type.to_string(), "data": object});
    let gate = output::gate();
    let redactor = gate.redactor();
    let mut problems: Vec<String> = Vec::new();
    for problem in envelope
        .iter_errors(&event)
        .flat_map(|e| explain_schema_error(&e, redactor))
        .filter(|p| {
            matches!(
                p.rule,
                Rule::DataRequired | Rule::DataType | Rule::DataInvalid
            )
        })
    {
        let shown = format!(
            "{}: {}",
            redactor.pointer(&problem.pointer),
            problem.message
        );
        if !problems.contains(&shown) {
            problems.push(shown);
        }
    }
    problems
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
                        "--data for event type `{}` is not supported by this version",
                        output::shown(&event_type.to_string())
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
/// pointer rather than later in CI. The first problem is told as the validator explains it
/// ([`explain_schema_error`]): its messages never quote the value, which may be a secret
/// given in `--data` or `--summary`, and the pointer is cut back before a key that carries
/// one.
fn check_schema(event: &Event) -> Result<(), String> {
    let value = serde_json::to_value(event).map_err(|e| e.to_string())?;
    let validator = schema::envelope().map_err(|e| e.to_string())?;
    let errors: Vec<_> = validator.iter_errors(&value).collect();
    let Some(first) = errors.first() else {
        return Ok(());
    };
    let gate = output::gate();
    let redactor = gate.redactor();
    // The two errors the validator judges by other rules (a `ts` format, an empty
    // `agent_system`) have no explanation here: the pointer alone tells them.
    let (pointer, detail) = match errors
        .iter()
        .flat_map(|e| explain_schema_error(e, redactor))
        .next()
    {
        Some(problem) => (problem.pointer, format!(": {}", problem.message)),
        None => (first.instance_path().to_string(), String::new()),
    };
    Err(format!(
        "event does not match the schema at {}{detail}",
        pointer_or_root(&redactor.pointer(&pointer))
    ))
}

fn pointer_or_root(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

pub(super) fn run(args: Args) -> u8 {
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
        output::shown(event.event_type.as_str()),
        output::shown(&path.display().to_string())
    );
    EXIT_OK
}
