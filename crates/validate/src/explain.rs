//! How the validator words an error of an event-log envelope schema: the one explainer of
//! schema errors, shared by the line checker and by every other place that checks an event
//! against the schema (`agentlog emit`).
//!
//! The model: the compiled envelope schema (v0 or v1; it applies the `data` schema of the
//! event's type) yields `jsonschema` errors; [`explain_schema_error`] turns each into the
//! problems the validator reports, a [`Rule`], a JSON pointer and a message. Where an error
//! lies decides its rule: under `/data` a `data.*` rule, else an `envelope.*` one. A message
//! never quotes the value that failed (`jsonschema`'s masked messages, or the validator's own
//! wording); a name read from the input (an unexpected key) is quoted through the
//! [`Redactor`]. Pointers are built from the input's keys: pass them through
//! [`Redactor::pointer`] before showing them, as [`crate::Validator`] does.

use crate::Rule;
use crate::check::escape_pointer_token;
use crate::secrets::redact::Redactor;

/// One way an event fails its schema, as the validator reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaProblem {
    /// The rule (`envelope.*` or `data.*`).
    pub rule: Rule,
    /// JSON pointer into the event, built from the input's keys: pass it through
    /// [`Redactor::pointer`] before showing it.
    pub pointer: String,
    /// What is wrong; never the value that failed.
    pub message: String,
}

/// The problems `error`, an error of an event-log envelope schema (v0 or v1, `data` schemas
/// included), is reported as by the validator: none for the two it judges by other rules (a
/// `ts` format, `ts.format`; an empty `agent_system`, judged by profile), one per unexpected
/// key for a closed object, else one. Under `/data` the rule is a `data.*` one, else an
/// `envelope.*` one. A message never quotes the value that failed; `redactor` quotes the
/// names read from the input.
///
/// ```
/// use agentlog_validate::secrets::redact::Redactor;
/// use agentlog_validate::{Rule, explain_schema_error};
///
/// let envelope = agentlog_core::schema::envelope().unwrap();
/// let event = serde_json::json!({
///     "ts": "2026-02-24T23:02:34Z", "run_id": "r", "agent_system": "a",
///     "event_type": "key_injection", "summary": "s",
///     "data": {"secret_name": "K", "host": "h", "action": "stolen"},
/// });
/// let error = envelope.iter_errors(&event).next().unwrap();
/// let problems = explain_schema_error(&error, &Redactor::none());
/// assert_eq!(problems[0].rule, Rule::DataInvalid);
/// assert_eq!(problems[0].pointer, "/data/action");
/// assert!(!problems[0].message.contains("stolen"));
/// ```
pub fn explain_schema_error(
    error: &jsonschema::ValidationError<'_>,
    redactor: &Redactor,
) -> Vec<SchemaProblem> {
    use jsonschema::error::ValidationErrorKind as K;
    let at = error.instance_path().as_str().to_owned();
    let in_data =
        at.starts_with("/data/") || (at == "/data" && matches!(error.kind(), K::Required { .. }));
    let problem = |rule, pointer, message| {
        vec![SchemaProblem {
            rule,
            pointer,
            message,
        }]
    };
    match error.kind() {
        K::Format { .. } if at == "/ts" => Vec::new(),
        // An empty agent_system is judged by profile, in one place: `agent_system_empty`.
        K::MinLength { .. } if at == "/agent_system" => Vec::new(),
        K::Required { property } => {
            let name = property.as_str().unwrap_or("?");
            let rule = if in_data {
                Rule::DataRequired
            } else {
                Rule::EnvelopeMissing
            };
            let pointer = format!("{at}/{}", escape_pointer_token(name));
            problem(rule, pointer, format!("required field `{name}` is missing"))
        }
        K::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|key| SchemaProblem {
                rule: Rule::EnvelopeUnknownField,
                pointer: format!("{at}/{}", escape_pointer_token(key)),
                message: format!(
                    "field {} is not an envelope field (the envelope is closed; extensions go \
                     in data)",
                    redactor.quote(key)
                ),
            })
            .collect(),
        K::Type { .. } => {
            let rule = if in_data {
                Rule::DataType
            } else {
                Rule::EnvelopeType
            };
            problem(rule, at, error.masked().to_string())
        }
        K::MinLength { .. } if !in_data => problem(
            Rule::EnvelopeEmpty,
            at,
            "must not be empty (omit optional fields instead)".into(),
        ),
        _ if in_data => problem(Rule::DataInvalid, at, error.masked().to_string()),
        _ => problem(Rule::EnvelopeType, at, error.masked().to_string()),
    }
}
