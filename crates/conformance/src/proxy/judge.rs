//! Comparing what happened with what a scenario expects.
//!
//! The judge takes everything observed in one run ([`Observed`]) and returns every
//! difference as a readable line; an empty list is a pass. It never panics and never stops
//! at the first difference, and every line it writes has gone through the scenario's
//! [`Redactor`] ([`secrets::redact`]), so no secret value is ever shown. What is compared:
//!
//! - **responses**: each request's status, and its body when `expect_body` is given;
//! - **upstreams**: the requests the TLS upstream and the route target received: the count
//!   exactly, then in order the `path`, the `query`, the body (byte for byte what the client
//!   sent) and the headers: each one the client sent, with its value (or the one the
//!   scenario expects instead, an injected key), and none other but `host` and
//!   `content-length`;
//! - **per-exchange order**: when each response had ended, the log already held the events
//!   of that exchange and of those before it;
//! - **events**: the log must be JSON Lines of objects; the count exactly; for each event,
//!   every key of the expected event equal, `data` compared as a subset (nested objects
//!   recursively, arrays exactly), numbers by value (`200` equals `200.0`). `ts`, `run_id`,
//!   `agent_system`, `data.duration_ms` and `data.exchange_id` are never compared, even when
//!   listed. The expected events arrive with `${NAME}` and `${ROUTE_TARGET}` already
//!   expanded;
//! - **exchange ids**: when the port writes `data.exchange_id` (an agentlog extension, which
//!   a port may leave out), the events of one request share one id: the requests are sent
//!   one after another, so each id is one run of consecutive events, never seen again after
//!   another id, and there are no more ids than requests;
//! - **schema**: every event valid under the scenario profile's published schema;
//! - **secrets**: no secret value anywhere in the log, nor in the port's stdout or stderr.

use std::collections::HashSet;

use agentlog_core::schema::Profile;
use agentlog_validate::secrets::redact::Redactor;
use serde_json::{Map, Value};

use super::client::{RequestError, Response};
use crate::secrets;

/// Envelope keys never compared.
const VOLATILE_KEYS: [&str; 3] = ["ts", "run_id", "agent_system"];
/// `data` keys never compared (an exchange id is made from the port's start time).
const VOLATILE_DATA_KEYS: [&str; 2] = ["duration_ms", "exchange_id"];
/// Headers a port may add to or change in a forwarded request: they describe the hop.
const HOP_HEADERS: [&str; 2] = ["host", "content-length"];

/// A request an upstream received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Received {
    /// The path.
    pub(crate) path: String,
    /// The query string, if any.
    pub(crate) query: Option<String>,
    /// Headers, names lowercase.
    pub(crate) headers: Vec<(String, String)>,
    /// The body.
    pub(crate) body: Vec<u8>,
}

/// What an upstream must receive of one of the scenario's requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Forward {
    /// The index of the client's request.
    pub(crate) request: usize,
    /// The path, exactly, when the scenario gives it.
    pub(crate) path: Option<String>,
    /// The query string, exactly, when the scenario gives it.
    pub(crate) query: Option<String>,
    /// Every end-to-end header, names lowercase: the client's, as the scenario overrides them.
    pub(crate) headers: Vec<(String, String)>,
    /// The client's body, byte for byte.
    pub(crate) body: String,
}

/// Everything observed in one scenario run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Observed {
    /// One result per request sent.
    pub(crate) responses: Vec<Result<Response, RequestError>>,
    /// Per request sent: the complete events in the log when its response had ended
    /// (`None`: no log file yet).
    pub(crate) logged: Vec<Option<usize>>,
    /// Requests the TLS upstream received, in order.
    pub(crate) upstream: Vec<Received>,
    /// Requests the route target received, in order.
    pub(crate) route_target: Vec<Received>,
    /// The event log's bytes; `None` when the port wrote no log file.
    pub(crate) log: Option<Vec<u8>>,
    /// The port's stdout, then its stderr, as written.
    pub(crate) output: Vec<u8>,
}

/// What the scenario expects, with `${...}` expanded.
#[derive(Clone, Debug, Default)]
pub(crate) struct Expected {
    /// Per request: the status and the exact body when given.
    pub(crate) responses: Vec<(u16, Option<String>)>,
    /// What the TLS upstream must receive.
    pub(crate) upstream: Vec<Forward>,
    /// What the route target must receive.
    pub(crate) route_target: Vec<Forward>,
    /// Per request: the events the log must hold once its response has ended.
    pub(crate) events_after: Vec<usize>,
    /// The events.
    pub(crate) events: Vec<Value>,
    /// The schema the events must be valid under.
    pub(crate) profile: Profile,
}

/// Every difference between `observed` and `expected`, redacted; empty when they agree.
pub(crate) fn judge(expected: &Expected, observed: &Observed, redactor: &Redactor) -> Vec<String> {
    let mut diffs = Vec::new();
    responses(expected, observed, &mut diffs);
    received(
        "upstream",
        &expected.upstream,
        &observed.upstream,
        &mut diffs,
    );
    received(
        "route target",
        &expected.route_target,
        &observed.route_target,
        &mut diffs,
    );
    match parse_log(observed.log.as_deref(), &mut diffs) {
        Some(events) => {
            events_match(&expected.events, &events, &mut diffs);
            logged_in_time(expected, observed, events.len(), &mut diffs);
            exchange_ids(&events, expected.responses.len(), &mut diffs);
            schema_valid(expected.profile, &events, &mut diffs);
        }
        None if !expected.events.is_empty() => diffs.push(format!(
            "events: no event log written, {} expected",
            expected.events.len()
        )),
        None => {}
    }
    for name in secrets::leaked(redactor, observed.log.as_deref().unwrap_or_default()) {
        diffs.push(format!(
            "secrets: the event log contains the value of secret {name}"
        ));
    }
    for name in secrets::leaked(redactor, &observed.output) {
        diffs.push(format!(
            "secrets: the port's output contains the value of secret {name}"
        ));
    }
    diffs
        .iter()
        .map(|d| clip(&secrets::redact(redactor, d), MAX_SHOWN))
        .collect()
}

fn responses(expected: &Expected, observed: &Observed, diffs: &mut Vec<String>) {
    for (i, (status, body)) in expected.responses.iter().enumerate() {
        match observed.responses.get(i) {
            None => diffs.push(format!("request {i}: not sent")),
            Some(Err(e)) => diffs.push(format!("request {i}: failed: {e}")),
            Some(Ok(got)) => {
                if got.status != *status {
                    diffs.push(format!(
                        "request {i}: status {} (expected {status})",
                        got.status
                    ));
                }
                if let Some(body) = body
                    && got.body != *body
                {
                    diffs.push(format!(
                        "request {i}: body {:?} (expected {body:?})",
                        &got.body
                    ));
                }
            }
        }
    }
}

fn received(label: &str, expected: &[Forward], got: &[Received], diffs: &mut Vec<String>) {
    if expected.len() != got.len() {
        let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
        diffs.push(format!(
            "{label}: received {} request(s) (expected {}): [{}]",
            got.len(),
            expected.len(),
            paths.join(", ")
        ));
    }
    for (i, (exp, got)) in expected.iter().zip(got).enumerate() {
        let label = format!("{label} request {i} (request {})", exp.request);
        if let Some(path) = &exp.path
            && *path != got.path
        {
            diffs.push(format!("{label}: path {} (expected {path})", got.path));
        }
        if let Some(query) = &exp.query
            && Some(query) != got.query.as_ref()
        {
            let shown = got
                .query
                .as_ref()
                .map_or("none".to_owned(), |q| format!("{q:?}"));
            diffs.push(format!("{label}: query {shown} (expected {query:?})"));
        }
        headers(&label, &exp.headers, &got.headers, diffs);
        if got.body != exp.body.as_bytes() {
            diffs.push(format!(
                "{label}: body {:?} (expected the client's, unchanged: {:?})",
                String::from_utf8_lossy(&got.body),
                exp.body
            ));
        }
    }
}

/// Each expected header arrives once with its value; no other arrives but [`HOP_HEADERS`].
fn headers(
    label: &str,
    want: &[(String, String)],
    got: &[(String, String)],
    diffs: &mut Vec<String>,
) {
    for (name, value) in want {
        let found: Vec<&String> = got
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect();
        if found != [value] {
            let shown = match found.as_slice() {
                [] => "missing".to_owned(),
                [one] => format!("{one:?}"),
                many => format!("{many:?}"),
            };
            diffs.push(format!(
                "{label}: header {name}: {shown} (expected {value:?})"
            ));
        }
    }
    let mut added: Vec<&str> = got
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !HOP_HEADERS.contains(n) && !want.iter().any(|(w, _)| w == n))
        .collect();
    added.dedup();
    for name in added {
        let values: Vec<&String> = got
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect();
        diffs.push(format!(
            "{label}: header {name}: {values:?} added (the client sent no such header)"
        ));
    }
}

/// When each response had ended, the log held at least the events of the exchanges so far.
/// Judged only for events the port wrote in the end (`written` in all; missing ones are
/// differences of their own) and for requests that got a response.
fn logged_in_time(
    expected: &Expected,
    observed: &Observed,
    written: usize,
    diffs: &mut Vec<String>,
) {
    let pairs = expected.events_after.iter().zip(&observed.logged);
    for (i, (want, got)) in pairs.enumerate() {
        let failed = observed.responses.get(i).is_none_or(Result::is_err);
        let have = got.unwrap_or(0);
        if !failed && have < *want && written >= *want {
            diffs.push(format!(
                "request {i}: when its response ended the log held {have} event(s) (expected \
                 {want}): an exchange's events must be written before its response's last byte"
            ));
        }
    }
}

/// The log's events; a line that is not a JSON object is a difference (and skipped).
fn parse_log(log: Option<&[u8]>, diffs: &mut Vec<String>) -> Option<Vec<Value>> {
    let text = String::from_utf8_lossy(log?);
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(value @ Value::Object(_)) => events.push(value),
            Ok(_) => diffs.push(format!("log line {}: not a JSON object", i + 1)),
            Err(e) => diffs.push(format!("log line {}: not JSON: {e}", i + 1)),
        }
    }
    Some(events)
}

fn event_type(event: &Value) -> &str {
    event["event_type"].as_str().unwrap_or("?")
}

fn events_match(expected: &[Value], got: &[Value], diffs: &mut Vec<String>) {
    if expected.len() != got.len() {
        let types = |events: &[Value]| events.iter().map(event_type).collect::<Vec<_>>().join(", ");
        diffs.push(format!(
            "events: {} written (expected {}): [{}] (expected [{}])",
            got.len(),
            expected.len(),
            types(got),
            types(expected)
        ));
    }
    for (i, (exp, got)) in expected.iter().zip(got).enumerate() {
        let Value::Object(exp) = exp else {
            diffs.push(format!(
                "event {i}: the scenario's expected event is not an object"
            ));
            continue;
        };
        let label = format!("event {i} ({})", event_type(got));
        for (key, want) in exp
            .iter()
            .filter(|(k, _)| !VOLATILE_KEYS.contains(&k.as_str()))
        {
            let have = got.get(key);
            if key == "data" {
                data_subset(&label, want, have, diffs);
            } else if !have.is_some_and(|h| equal(want, h)) {
                diffs.push(format!("{label}: {key}: {} (expected {want})", shown(have)));
            }
        }
    }
}

/// When the port writes `data.exchange_id`, the events of one request share one id: each id
/// is one run of consecutive events (the requests are sent one after another), and there are
/// at most `requests` ids. Events without an id are not judged here.
fn exchange_ids(events: &[Value], requests: usize, diffs: &mut Vec<String>) {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut current: Option<&str> = None;
    for (i, event) in events.iter().enumerate() {
        let id = event.get("data").and_then(|d| d.get("exchange_id"));
        let Some(id) = id.and_then(Value::as_str) else {
            continue;
        };
        if current == Some(id) {
            continue;
        }
        current = Some(id);
        if !seen.insert(id) {
            diffs.push(format!(
                "event {i} ({}): exchange_id {id:?} comes back after another exchange's \
                 events (the events of one request share one id and come together)",
                event_type(event)
            ));
        }
    }
    if seen.len() > requests {
        diffs.push(format!(
            "events: {} distinct exchange_id values for {requests} request(s) (the events of \
             one request share one id)",
            seen.len()
        ));
    }
}

fn data_subset(label: &str, want: &Value, have: Option<&Value>, diffs: &mut Vec<String>) {
    let (Value::Object(want), Some(Value::Object(have))) = (want, have) else {
        if !have.is_some_and(|h| equal(want, h)) {
            diffs.push(format!("{label}: data: {} (expected {want})", shown(have)));
        }
        return;
    };
    let want: Map<String, Value> = want
        .iter()
        .filter(|(k, _)| !VOLATILE_DATA_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, w) in &want {
        let h = have.get(key);
        if !h.is_some_and(|h| subset(w, h)) {
            diffs.push(format!("{label}: data.{key}: {} (expected {w})", shown(h)));
        }
    }
}

/// Every key of `want` is in `have` with a matching value (objects recursively).
fn subset(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| subset(v, hv))),
        _ => equal(want, have),
    }
}

/// JSON equality with numbers compared by value.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "missing".to_owned(), Value::to_string)
}

/// Longest difference shown, in characters. Cut only after redaction: a cut through a
/// secret value would leave a part of it that redaction no longer recognises.
const MAX_SHOWN: usize = 600;

/// At most `max` characters of `text`.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

fn schema_valid(schema: Profile, events: &[Value], diffs: &mut Vec<String>) {
    let validator = match schema.envelope() {
        Ok(v) => v,
        Err(e) => {
            diffs.push(format!("schema {}: {e}", schema.name()));
            return;
        }
    };
    for (i, event) in events.iter().enumerate() {
        if let Some(error) = validator.iter_errors(event).next() {
            diffs.push(format!(
                "event {i} ({}): invalid under schema {}: {} at {}",
                event_type(event),
                schema.name(),
                error,
                error.instance_path()
            ));
        }
    }
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
