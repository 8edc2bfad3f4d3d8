//! Checking one line: the fast typed path, the precise schema path, and the secret scan.
//!
//! The fast path deserializes the envelope into borrowed typed structs and checks what the
//! schema asks (non-empty strings, closed envelope, typed `data` of the v0 types). It only ever
//! *accepts*: it is written so that whatever it accepts the schema accepts too. Anything it
//! does not accept goes to the precise path, which parses a `serde_json::Value` and asks the
//! compiled envelope schema (`is_valid` first, `iter_errors` only for invalid lines) for
//! JSON pointers. Both paths feed the same per-line facts (timestamp, run id, event type) to
//! the cross-line checks.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::{Finding, Rule, Severity};
use crate::event::{EventType, Timestamp};
use crate::secrets::redact::Redactor;
use crate::secrets::scan::{Encoding, SecretHit, SecretScanner, escaped_strings};

/// How many distinct run ids / event types one chunk or file remembers.
pub(crate) const DISTINCT_CAP: usize = 64;

/// What checking a run of lines produced; line numbers are relative to the run (1-based).
#[derive(Debug, Default)]
pub(crate) struct ChunkResult {
    pub lines: u64,
    pub events: u64,
    pub findings: Vec<Finding>,
    pub first_ts: Option<(u64, Timestamp)>,
    pub last_ts: Option<Timestamp>,
    pub run_ids: Vec<(u64, String)>,
    pub by_event_type: BTreeMap<String, u64>,
}

/// Shared, read-only line checker.
pub(crate) struct Checker {
    pub unknown_types: Severity,
    pub max_line_len: usize,
    pub redactor: Redactor,
    pub envelope: &'static jsonschema::Validator,
}

fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastEnvelope<'a> {
    #[serde(borrow)]
    ts: Cow<'a, str>,
    #[serde(borrow)]
    run_id: Cow<'a, str>,
    #[serde(borrow)]
    agent_system: Cow<'a, str>,
    #[serde(borrow)]
    event_type: Cow<'a, str>,
    #[serde(borrow)]
    summary: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "some")]
    plugin: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "some")]
    tags: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow, deserialize_with = "some")]
    data: Option<&'a RawValue>,
}

/// A string the schema requires to be non-empty; an empty one fails the fast path.
struct NonEmpty;

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        if s.is_empty() {
            Err(serde::de::Error::custom("empty"))
        } else {
            Ok(NonEmpty)
        }
    }
}

/// A non-negative number (`minimum: 0`).
struct NonNegative;

impl<'de> Deserialize<'de> for NonNegative {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if f64::deserialize(d)? >= 0.0 {
            Ok(NonNegative)
        } else {
            Err(serde::de::Error::custom("negative"))
        }
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FastLlmRequest {
    method: NonEmpty,
    host: NonEmpty,
    path: NonEmpty,
    #[serde(default, deserialize_with = "some")]
    model: Option<NonEmpty>,
    routed: bool,
    #[serde(default, deserialize_with = "some")]
    routed_to: Option<NonEmpty>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FastLlmResponse {
    method: NonEmpty,
    host: NonEmpty,
    path: NonEmpty,
    status_code: u64,
    duration_ms: u64,
    body_bytes: u64,
    #[serde(default, deserialize_with = "some")]
    model: Option<NonEmpty>,
    #[serde(default, deserialize_with = "some")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "some")]
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FastBudgetAction {
    action: NonEmpty,
    #[serde(default, deserialize_with = "some")]
    tokens_used: Option<u64>,
    #[serde(default, deserialize_with = "some")]
    cost_usd: Option<NonNegative>,
    #[serde(default, deserialize_with = "some")]
    remaining: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FastAction {
    Injected,
    Skipped,
    LeakBlocked,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FastKeyInjection {
    secret_name: NonEmpty,
    host: NonEmpty,
    action: FastAction,
}

/// Facts about one event for the cross-line checks.
struct Facts {
    ts: Option<Timestamp>,
    run_id: Option<String>,
    event_type: Option<String>,
}

/// The fast path: `Some(facts)` when the line is certainly conformant to the envelope and
/// data schemas (event type known or not), `None` when the precise path must decide.
fn fast(text: &str) -> Option<Facts> {
    let env: FastEnvelope<'_> = serde_json::from_str(text).ok()?;
    let strings = [
        &env.run_id,
        &env.agent_system,
        &env.event_type,
        &env.summary,
    ];
    if strings.iter().any(|s| s.is_empty())
        || env.plugin.as_ref().is_some_and(|p| p.is_empty())
        || env
            .tags
            .as_ref()
            .is_some_and(|t| t.iter().any(|s| s.is_empty()))
    {
        return None;
    }
    let ts = Timestamp::parse(&env.ts).ok()?;
    if let Some(data) = env.data {
        let raw = data.get();
        let ok = raw.starts_with('{')
            && match EventType::from_name(&env.event_type) {
                EventType::LlmRequest => serde_json::from_str::<FastLlmRequest>(raw).is_ok(),
                EventType::LlmResponse => serde_json::from_str::<FastLlmResponse>(raw).is_ok(),
                EventType::BudgetAction => serde_json::from_str::<FastBudgetAction>(raw).is_ok(),
                EventType::KeyInjection => serde_json::from_str::<FastKeyInjection>(raw).is_ok(),
                EventType::Other(_) => true,
            };
        if !ok {
            return None;
        }
    }
    Some(Facts {
        ts: Some(ts),
        run_id: Some(env.run_id.into_owned()),
        event_type: Some(env.event_type.into_owned()),
    })
}

/// [`Timestamp::parse`] plus the `T` separator RFC 3339's grammar requires (a space is only a
/// "by agreement" relaxation, which the v0 spec does not make).
fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Whether `s` may be quoted in a message: short, plain characters.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

impl Checker {
    fn finding(&self, line: u64, rule: Rule, pointer: Option<String>, message: String) -> Finding {
        let severity = if rule == Rule::EventTypeUnknown {
            self.unknown_types
        } else {
            rule.info().severity
        };
        Finding {
            line,
            rule,
            severity,
            pointer,
            message,
        }
    }

    /// `s` if it is safe to quote in a message (plain and no secret in it), else a stand-in.
    fn quote<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let mut kinds = Vec::new();
        if let Some(d) = self.redactor.detector() {
            d.find(s.as_bytes(), &mut kinds);
        }
        if plain(s) && kinds.is_empty() && !self.redactor.scanner().is_match(s.as_bytes()) {
            Cow::Borrowed(s)
        } else {
            Cow::Borrowed("<not shown>")
        }
    }

    /// Checks every line of `chunk` (whole lines, `\n`-terminated except a torn last one).
    pub fn check_chunk(&self, chunk: &[u8], torn: bool) -> ChunkResult {
        let mut out = ChunkResult::default();
        let mut start = 0;
        let mut rel = 0u64;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            rel += 1;
            self.check_line(rel, chunk.get(start..nl).unwrap_or_default(), &mut out);
            start = nl + 1;
        }
        if start < chunk.len() {
            rel += 1;
            self.check_line(rel, chunk.get(start..).unwrap_or_default(), &mut out);
            if torn {
                out.findings.push(self.finding(
                    rel,
                    Rule::LineTorn,
                    None,
                    "last line has no terminating newline".into(),
                ));
            }
        }
        out.lines = rel;
        out.findings.sort_by_key(|f| (f.line, f.rule));
        out
    }

    fn check_line(&self, line: u64, bytes: &[u8], out: &mut ChunkResult) {
        if bytes.len() > self.max_line_len {
            let message = format!("line is longer than {} bytes; skipped", self.max_line_len);
            out.findings
                .push(self.finding(line, Rule::LineTooLong, None, message));
            return;
        }
        let mut body = bytes;
        if let Some(rest) = body.strip_suffix(b"\r") {
            let msg = "line ends with CR LF; use a bare LF".into();
            out.findings
                .push(self.finding(line, Rule::LineCrlf, None, msg));
            body = rest;
        }
        if let Some(rest) = body.strip_prefix(b"\xEF\xBB\xBF") {
            let msg = "line starts with a UTF-8 byte order mark".into();
            out.findings
                .push(self.finding(line, Rule::LineBom, None, msg));
            body = rest;
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            let msg = "blank line; every line must be one event".into();
            out.findings
                .push(self.finding(line, Rule::LineBlank, None, msg));
            return;
        }
        let first = out.findings.len();
        let value = match std::str::from_utf8(body) {
            Err(e) => {
                let msg = format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1);
                out.findings
                    .push(self.finding(line, Rule::LineUtf8, None, msg));
                None
            }
            Ok(text) => self.check_json(line, text, out),
        };
        self.scan(line, body, value, out);
        self.sanitize(out.findings.get_mut(first..).unwrap_or_default());
    }

    /// The last guard of the no-secret-values rule: a finding whose message or pointer
    /// contains a secret (supplied or well-known format) loses it.
    fn sanitize(&self, findings: &mut [Finding]) {
        let leaks = |s: &str| {
            let mut kinds = Vec::new();
            if let Some(d) = self.redactor.detector() {
                d.find(s.as_bytes(), &mut kinds);
            }
            !kinds.is_empty() || self.redactor.scanner().is_match(s.as_bytes())
        };
        for f in findings {
            if f.pointer.as_deref().is_some_and(leaks) {
                f.pointer = None;
            }
            if leaks(&f.message) {
                f.message = format!(
                    "{} (details withheld: they contain a secret)",
                    f.rule.info().description
                );
            }
        }
    }

    /// Validates one UTF-8 line. Returns the parsed value when the precise path ran.
    fn check_json(&self, line: u64, text: &str, out: &mut ChunkResult) -> Option<Value> {
        if let Some(facts) = fast(text) {
            out.events += 1;
            self.cross_line(line, facts, out);
            return None;
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let msg = format!(
                    "not valid JSON: {} at column {}",
                    syntax_reason(&e),
                    e.column()
                );
                out.findings
                    .push(self.finding(line, Rule::JsonSyntax, None, msg));
                return None;
            }
        };
        let Value::Object(map) = &value else {
            let msg = format!("expected a JSON object, found {}", json_kind(&value));
            out.findings
                .push(self.finding(line, Rule::JsonNotObject, Some(String::new()), msg));
            return Some(value);
        };
        out.events += 1;
        if !self.envelope.is_valid(&value) {
            for e in self.envelope.iter_errors(&value) {
                self.schema_error(line, &e, out);
            }
        }
        let ts = match map.get("ts") {
            Some(Value::String(s)) if !s.is_empty() => match Timestamp::parse(s) {
                Ok(ts) => Some(ts),
                Err(e) => {
                    let msg = format!("ts is {e}");
                    out.findings
                        .push(self.finding(line, Rule::TsFormat, Some("/ts".into()), msg));
                    None
                }
            },
            _ => None,
        };
        let string = |k: &str| match map.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let facts = Facts {
            ts,
            run_id: string("run_id"),
            event_type: string("event_type"),
        };
        self.cross_line(line, facts, out);
        Some(value)
    }

    fn schema_error(&self, line: u64, e: &jsonschema::ValidationError<'_>, out: &mut ChunkResult) {
        use jsonschema::error::ValidationErrorKind as K;
        let at = e.instance_path().as_str().to_owned();
        let in_data =
            at.starts_with("/data/") || (at == "/data" && matches!(e.kind(), K::Required { .. }));
        let (rule, pointer, message) = match e.kind() {
            K::Format { .. } if at == "/ts" => return,
            K::Required { property } => {
                let name = property.as_str().unwrap_or("?");
                let rule = if in_data {
                    Rule::DataRequired
                } else {
                    Rule::EnvelopeMissing
                };
                let pointer = format!("{at}/{}", escape_pointer_token(name));
                (rule, pointer, format!("required field `{name}` is missing"))
            }
            K::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    let pointer = format!("{at}/{}", escape_pointer_token(key));
                    let msg = format!(
                        "field `{}` is not part of the v0 envelope (extensions go in data)",
                        self.quote(key)
                    );
                    let pointer = if self.quote(key) == key.as_str() {
                        pointer
                    } else {
                        at.clone()
                    };
                    out.findings.push(self.finding(
                        line,
                        Rule::EnvelopeUnknownField,
                        Some(pointer),
                        msg,
                    ));
                }
                return;
            }
            K::Type { .. } => {
                let rule = if in_data {
                    Rule::DataType
                } else {
                    Rule::EnvelopeType
                };
                (rule, at, e.masked().to_string())
            }
            K::MinLength { .. } if !in_data => (
                Rule::EnvelopeEmpty,
                at,
                "must not be empty (omit optional fields instead)".into(),
            ),
            _ if in_data => (Rule::DataInvalid, at, e.masked().to_string()),
            _ => (Rule::EnvelopeType, at, e.masked().to_string()),
        };
        out.findings
            .push(self.finding(line, rule, Some(pointer), message));
    }

    fn cross_line(&self, line: u64, facts: Facts, out: &mut ChunkResult) {
        if let Some(ts) = facts.ts {
            if out.first_ts.is_none() {
                out.first_ts = Some((line, ts));
            }
            if let Some(prev) = out.last_ts
                && ts < prev
            {
                out.findings.push(self.finding(
                    line,
                    Rule::TsBackwards,
                    Some("/ts".into()),
                    format!("ts {ts} is earlier than the previous event's {prev}"),
                ));
            }
            out.last_ts = Some(ts);
        }
        if let Some(id) = facts.run_id
            && out.run_ids.len() < DISTINCT_CAP
            && !out.run_ids.iter().any(|(_, r)| *r == id)
        {
            out.run_ids.push((line, id));
        }
        if let Some(t) = facts.event_type {
            let known = EventType::from_name(&t);
            if !known.is_v0() {
                let msg = format!(
                    "event_type `{}` is not defined by profile v0",
                    self.quote(&t)
                );
                out.findings.push(self.finding(
                    line,
                    Rule::EventTypeUnknown,
                    Some("/event_type".into()),
                    msg,
                ));
            }
            let key = if plain(&t) && self.quote(&t) == t.as_str() {
                t
            } else {
                "(invalid)".into()
            };
            if out.by_event_type.len() < DISTINCT_CAP || out.by_event_type.contains_key(&key) {
                *out.by_event_type.entry(key).or_default() += 1;
            } else {
                *out.by_event_type.entry("(other)".into()).or_default() += 1;
            }
        }
    }

    /// The no-secret-values rule and the built-in detector, on the raw bytes and on every
    /// JSON string that contains escapes (decoded).
    fn scan(&self, line: u64, body: &[u8], value: Option<Value>, out: &mut ChunkResult) {
        if self.redactor.scanner().is_empty() && self.redactor.detector().is_none() {
            return;
        }
        let mut hits: Vec<SecretHit> = Vec::new();
        let mut kinds = Vec::new();
        self.redactor.scanner().find(body, &mut hits);
        if let Some(d) = self.redactor.detector() {
            d.find(body, &mut kinds);
        }
        for s in escaped_strings(body) {
            let mut decoded = Vec::new();
            self.redactor.scanner().find(s.as_bytes(), &mut decoded);
            for mut h in decoded {
                if h.encoding == Encoding::Raw {
                    h.encoding = Encoding::JsonEscaped;
                }
                if !hits.iter().any(|x| x.secret == h.secret) {
                    hits.push(h);
                }
            }
            if let Some(d) = self.redactor.detector() {
                d.find(s.as_bytes(), &mut kinds);
            }
        }
        if hits.is_empty() && kinds.is_empty() {
            return;
        }
        let value = value.or_else(|| serde_json::from_slice(body).ok());
        for hit in hits {
            let pointer = value.as_ref().and_then(|v| {
                locate(v, &mut String::new(), &|s: &str| {
                    let mut found = Vec::new();
                    self.redactor.scanner().find(s.as_bytes(), &mut found);
                    found.iter().any(|h| h.secret == hit.secret)
                })
            });
            let name = self.redactor.scanner().name(hit.secret);
            let msg = format!(
                "value of secret {name} found ({}); value redacted",
                hit.encoding.as_str()
            );
            out.findings
                .push(self.finding(line, Rule::SecretValue, pointer, msg));
        }
        if let Some(d) = self.redactor.detector() {
            for kind in kinds {
                let pointer = value.as_ref().and_then(|v| {
                    locate(v, &mut String::new(), &|s: &str| {
                        let mut found = Vec::new();
                        d.find(s.as_bytes(), &mut found);
                        found.contains(&kind)
                    })
                });
                let msg = format!("{} found; value redacted", kind.label());
                out.findings
                    .push(self.finding(line, Rule::SecretPattern, pointer, msg));
            }
        }
    }
}

/// The JSON pointer of the first object key or string value satisfying `hit`.
fn locate(value: &Value, path: &mut String, hit: &dyn Fn(&str) -> bool) -> Option<String> {
    match value {
        Value::String(s) => hit(s).then(|| path.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("/{i}"));
            let found = locate(item, path, hit);
            path.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let len = path.len();
            path.push('/');
            path.push_str(&escape_pointer_token(k));
            let found = if hit(k) {
                // The key itself holds the secret: point at the object, never at the key.
                Some(path.get(..len).unwrap_or_default().to_owned())
            } else {
                locate(item, path, hit)
            };
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The syntax error's reason without the position suffix serde_json adds (and never any
/// input text: serde_json's syntax messages do not quote input).
fn syntax_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(i) => text.get(..i).unwrap_or_default().to_owned(),
        None => text,
    }
}
