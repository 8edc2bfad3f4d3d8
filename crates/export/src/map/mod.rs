//! The mapping: one line of a log in, one OTLP log record (and maybe a span) out.
//!
//! | line | log record | span |
//! |---|---|---|
//! | sandbox event | body: the summary; event name: the `event_type`; the envelope and every `data` field as `agentlog.*` attributes; the exchange's trace and span ids when `data.exchange_id` is present | for a response (`llm_response`, `http_response`): a CLIENT span `{operation} {model}` with the GenAI and HTTP attributes (module `event`) |
//! | ledger tool call | body: `{agent} called {tool}: {result_status}`; event name `tool_call`; every field as `agentlog.ledger.*` | an INTERNAL span `execute_tool {tool}` in its session's trace (module `ledger`) |
//! | other ledger record (a risk event) | its fields, event name its `event_type` | none |
//!
//! Every value is judged by the redactor before it is mapped (a string or number that carries
//! a secret becomes `[withheld]`; also with its visible separators taken out, and a key with
//! its value), and each record and span again as it will be sent ([`Mapper::map_line`]); one
//! that still shows a value is replaced by a record that says so. A secret cut into pieces
//! over neighbouring fields is judged last, as each batch is sent ([`Pieces`]).

mod attrs;
mod decisions;
mod event;
mod ledger;
mod pieces;

use agentlog_validate::secrets::redact::{Redactor, WITHHELD, drives_a_terminal, joined_readings};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::Value;

use crate::ids;
use crate::semconv::{
    AGENTLOG_DATA_PREFIX, AGENTLOG_LEDGER_PREFIX, AGENTLOG_LINE, LOG_FILE_NAME, LOG_RECORD_UID,
};
use decisions::Decisions;

pub(crate) use attrs::{kv_int, kv_str};
pub use pieces::Pieces;

/// The `log.file.name` of a file whose name carries a secret.
pub const WITHHELD_FILE_NAME: &str = "(file name withheld: it contains a secret)";

/// Where a line came from.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// The file's name (shown; withheld by the caller when it carries a secret).
    pub file_name: &'a str,
    /// The line's number, from 1.
    pub line: u64,
    /// The byte offset of the line's first byte in its file.
    pub offset: u64,
}

/// What one line became.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapped {
    /// Its log record.
    pub log: LogRecord,
    /// Its span, for a response or a tool call.
    pub span: Option<Span>,
    /// The record or span showed a secret value as mapped and was replaced.
    pub withheld: bool,
}

/// Why a line was not mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Empty or only white space.
    Blank,
    /// Not a JSON object.
    NotJson,
    /// A JSON object of neither family.
    Unrecognised,
}

/// OTLP severities the mapping uses.
pub(crate) mod severity {
    /// Normal operation.
    pub(crate) const INFO: i32 = 9;
    /// A refusal, a block, an error status.
    pub(crate) const WARN: i32 = 13;
}

/// Maps lines to records; it remembers each open exchange's request model (bounded) to name
/// the response's span.
pub struct Mapper {
    redactor: Redactor,
    request_models: event::RequestModels,
    /// The redactor's decision on short strings already judged: hosts, models, names and
    /// methods repeat on every line, and judging a text is the costliest step.
    decided: Decisions,
    /// The decisions on an attribute's key and value read together ([`Mapper::leaks_with_name`]):
    /// a ledger's agent, tool and status repeat on every line under the same keys.
    decided_named: Decisions,
    /// The record as judged, written out for its uid (kept to save an allocation a line).
    scratch: Vec<u8>,
    /// An attribute's key and value read together (kept like `scratch`).
    joined: String,
    /// The last file name judged, and whether it shows a secret.
    last_name: Option<(String, bool)>,
}

/// Strings up to this long have their decision remembered.
const REMEMBERED_LEN: usize = 256;

impl Mapper {
    /// A mapper that withholds what `redactor` says carries a secret.
    pub fn new(redactor: Redactor) -> Self {
        Mapper {
            redactor,
            request_models: event::RequestModels::default(),
            decided: Decisions::default(),
            decided_named: Decisions::default(),
            scratch: Vec::new(),
            joined: String::new(),
            last_name: None,
        }
    }

    /// Maps one line (without its newline). A file name that carries a secret is sent as
    /// [`WITHHELD_FILE_NAME`].
    pub fn map_line(&mut self, line: &[u8], source: Source<'_>) -> Result<Mapped, Skip> {
        let source = Source {
            file_name: if self.name_shows_value(source.file_name) {
                WITHHELD_FILE_NAME
            } else {
                source.file_name
            },
            ..source
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            return Err(Skip::Blank);
        }
        let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(line) else {
            return Err(Skip::NotJson);
        };
        let mut value = Value::Object(std::mem::take(&mut object));
        self.redact(&mut value);
        // The uid hashes the record as read and judged, never the raw line: a hash of a
        // withheld value, or of one the parse dropped (the first of two equal keys), would
        // let anyone who guesses it confirm the guess offline.
        self.scratch.clear();
        if serde_json::to_writer(&mut self.scratch, &value).is_err() {
            return Err(Skip::NotJson);
        }
        let uid = ids::record_uid(source.offset, &self.scratch);
        let Value::Object(object) = value else {
            return Err(Skip::NotJson);
        };
        let (mut log, span) = if object.contains_key("run_id") && object.contains_key("event_type")
        {
            event::map(object, &uid, &mut self.request_models)
        } else if object.contains_key("tool") && object.contains_key("result_status") {
            ledger::map_tool_call(&object, &uid)
        } else if object.contains_key("event_type") {
            (ledger::map_other(&object), None)
        } else {
            return Err(Skip::Unrecognised);
        };
        log.attributes.push(kv_str(LOG_RECORD_UID, &uid));
        log.attributes.push(kv_str(LOG_FILE_NAME, source.file_name));
        log.attributes.push(kv_int(
            AGENTLOG_LINE,
            i64::try_from(source.line).unwrap_or(i64::MAX),
        ));
        Ok(self.judged(log, span))
    }

    /// Whether a name shown whole (a file's name, a path) shows a secret, also with its
    /// visible separators taken out ([`Redactor::shows_value`]): `AKIAZQ7V·K2PX9MW4NR8T.jsonl`
    /// is the key to whoever reads it. The last name's decision is kept: a file's lines come
    /// one after the other.
    pub fn name_shows_value(&mut self, name: &str) -> bool {
        if let Some((last, decision)) = &self.last_name
            && last == name
        {
            return *decision;
        }
        let decision = drives_a_terminal(name) || self.redactor.shows_value(name);
        self.last_name = Some((name.to_owned(), decision));
        decision
    }

    /// The judge of pieces ([`Pieces`]) that every batch of this mapper's records passes
    /// as it is sent.
    pub fn pieces(&self) -> Pieces {
        Pieces::new(self.redactor.clone())
    }

    /// Whether `text` carries a secret (the redactor's decision, remembered for short texts).
    fn leaks(&mut self, text: &str) -> bool {
        remembered(&mut self.decided, &self.redactor, text)
    }

    /// Whether the strings of the JSON `text` show a value run together: object keys and
    /// strings in order, and the strings alone (`{"x":"AKIAZQ7V","y":"K2PX..."}`).
    fn strings_leak(&mut self, text: &str) -> bool {
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return false;
        };
        self.leaks(&attrs::joined_strings(&value, true))
            || self.leaks(&attrs::joined_strings(&value, false))
    }

    /// Whether the line's key in the attribute name `name` (its last part, after the
    /// `agentlog.*.` prefix) and `value`, read as one text, carry a secret. Each was judged
    /// in full on its own, so only a value that runs from one into the other is new: the key
    /// and the head of the value are judged as they are, and joined.
    fn leaks_with_name(&mut self, name: &str, value: &str) -> bool {
        /// Bytes of the value read after the key: longer than any key format.
        const HEAD: usize = 256;
        let key = name
            .strip_prefix(AGENTLOG_DATA_PREFIX)
            .or_else(|| name.strip_prefix(AGENTLOG_LEDGER_PREFIX))
            .unwrap_or(name);
        let mut end = value.len().min(HEAD);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        let mut text = std::mem::take(&mut self.joined);
        text.clear();
        text.push_str(key);
        text.push_str(value.get(..end).unwrap_or_default());
        let redactor = &self.redactor;
        let leaks = remembered_by(&mut self.decided_named, redactor, &text, |text| {
            redactor.leaks_joined(text)
        });
        self.joined = text;
        leaks
    }

    /// [`Redactor::redact_json`], with the decisions on short strings remembered.
    fn redact(&mut self, value: &mut Value) -> usize {
        let (decided, redactor) = (&mut self.decided, &self.redactor);
        redactor.redact_json_with(value, &mut |text| remembered(decided, redactor, text))
    }

    /// The record and span as they will be sent, or, when a text the mapping composed still
    /// shows a secret value (a value split over fields and joined in a name), a record that
    /// says it was withheld and no span.
    fn judged(&mut self, mut log: LogRecord, mut span: Option<Span>) -> Mapped {
        // Every value was judged on its own above; what the mapping composes from several
        // (a ledger record's body, a span's name, the JSON text of a nested object or array,
        // an array a viewer shows as a list) is judged as it will be sent.
        let body = match log.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => {
                s.as_str()
            }
            _ => "",
        };
        let shows = remembered(&mut self.decided, &self.redactor, body)
            || span.as_ref().is_some_and(|s| self.leaks(&s.name));
        self.withhold_times(&mut log, span.as_mut());
        if !shows {
            // Like a value withheld on its own, an attribute withheld here leaves the record.
            self.withhold_composed(&mut log.attributes);
            if let Some(span) = &mut span {
                self.withhold_composed(&mut span.attributes);
            }
            return Mapped {
                log,
                span,
                withheld: false,
            };
        }
        Mapped {
            log: withheld_record(&log),
            span: None,
            withheld: true,
        }
    }
}

impl Mapper {
    /// Times are computed from the line (a `ts`, less a duration): as decimal text, each is
    /// judged like a value; one that shows a secret is sent as unknown (0), withheld record
    /// or not.
    fn withhold_times(&self, log: &mut LogRecord, span: Option<&mut Span>) {
        let mut times = vec![&mut log.time_unix_nano, &mut log.observed_time_unix_nano];
        if let Some(span) = span {
            times.extend([&mut span.start_time_unix_nano, &mut span.end_time_unix_nano]);
        }
        for time in times {
            if *time != 0 && self.redactor.leaks_digits(&time.to_string()) {
                *time = 0;
            }
        }
    }

    /// Withholds each attribute whose value the mapping composed and that shows a secret as
    /// a whole: the JSON text of a nested object or array, and an array (judged as the JSON
    /// list a viewer shows, `[90,113,...]` being bytes to a reader).
    fn withhold_composed(
        &mut self,
        attributes: &mut [opentelemetry_proto::tonic::common::v1::KeyValue],
    ) {
        use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
        for (index, attribute) in attributes.iter_mut().enumerate() {
            // A name the mapping composed (a prefix and a key of the line) is judged whole.
            let composed = attribute.key.starts_with(AGENTLOG_DATA_PREFIX)
                || attribute.key.starts_with(AGENTLOG_LEDGER_PREFIX);
            if composed && self.leaks(&attribute.key) {
                attribute.key = format!("agentlog.withheld_name.{index}");
            }
            // Whole, and as its strings run together (`["g","h","p","_",...]` reads as one).
            let shows = match attribute.value.as_ref().and_then(|v| v.value.as_ref()) {
                // A name and its value read together (`agentlog.data.AKIAZQ7V = K2PX...`):
                // the line's key, then the value, judged as one text.
                Some(Any::StringValue(text))
                    if composed && self.leaks_with_name(attribute.key.as_str(), text) =>
                {
                    true
                }
                Some(Any::StringValue(text)) if text.starts_with(['{', '[']) => {
                    self.leaks(text) || self.strings_leak(text)
                }
                Some(Any::ArrayValue(array)) => {
                    let text = attrs::array_text(array);
                    self.leaks(&text)
                        || self.strings_leak(&text)
                        || (composed && self.leaks_with_name(attribute.key.as_str(), &text))
                }
                _ => false,
            };
            if shows {
                attribute.value = Some(attrs::string(WITHHELD));
            }
        }
    }
}

/// The record sent in place of `log` when it shows a secret: its times (as judged), its
/// uid, file name and line, and a body that says so.
pub(crate) fn withheld_record(log: &LogRecord) -> LogRecord {
    let own = |key: &str| matches!(key, LOG_RECORD_UID | LOG_FILE_NAME | AGENTLOG_LINE);
    LogRecord {
        time_unix_nano: log.time_unix_nano,
        observed_time_unix_nano: log.observed_time_unix_nano,
        severity_number: severity::WARN,
        body: Some(attrs::string(
            "(withheld: the record carries the value of a secret)",
        )),
        attributes: log
            .attributes
            .iter()
            .filter(|kv| own(&kv.key))
            .cloned()
            .collect(),
        ..LogRecord::default()
    }
}

/// What a span is made of; [`SpanParts::build`] makes it.
pub(crate) struct SpanParts {
    pub(crate) trace_id: Vec<u8>,
    pub(crate) span_id: Vec<u8>,
    pub(crate) name: String,
    pub(crate) kind: opentelemetry_proto::tonic::trace::v1::span::SpanKind,
    /// When it ended (ns since the epoch) and how long it took (ms).
    pub(crate) end: u64,
    pub(crate) duration_ms: u64,
    pub(crate) attributes: Vec<opentelemetry_proto::tonic::common::v1::KeyValue>,
    /// It failed: the span's status is ERROR.
    pub(crate) failed: bool,
}

impl SpanParts {
    /// The span: it starts `duration_ms` before its end.
    pub(crate) fn build(self) -> Span {
        use opentelemetry_proto::tonic::trace::v1::{Status, status::StatusCode};
        let code = if self.failed {
            StatusCode::Error
        } else {
            StatusCode::Unset
        };
        Span {
            trace_id: self.trace_id,
            span_id: self.span_id,
            name: self.name,
            kind: self.kind as i32,
            start_time_unix_nano: self
                .end
                .saturating_sub(self.duration_ms.saturating_mul(1_000_000)),
            end_time_unix_nano: self.end,
            attributes: self.attributes,
            status: Some(Status {
                code: code as i32,
                message: String::new(),
            }),
            ..Span::default()
        }
    }
}

/// `redactor`'s decision on `text` ([`shows`]), remembered in `decided` when the text is
/// short.
fn remembered(decided: &mut Decisions, redactor: &Redactor, text: &str) -> bool {
    remembered_by(decided, redactor, text, |text| shows(redactor, text))
}

/// The decision of `judge` (a judgement by `redactor` no wider than [`shows`]) on `text`,
/// remembered in `decided` when the text is short.
fn remembered_by(
    decided: &mut Decisions,
    redactor: &Redactor,
    text: &str,
    judge: impl Fn(&str) -> bool,
) -> bool {
    // Shorter than any secret, and the same in every form `shows` judges: nothing to look up.
    if text.len() < redactor.shortest() && text.bytes().all(escapes_to_itself) {
        return false;
    }
    // An RFC 3339 time (`2026-11-23T16:52:00.123Z`, unique on every line): no key format,
    // nor a decoded view of one, is made of its digits and fixed punctuation, so without
    // supplied secrets there is nothing to find.
    if redactor.scanner().is_empty() && is_time(text) {
        return false;
    }
    if text.len() > REMEMBERED_LEN {
        return judge(text);
    }
    if let Some(decision) = decided.get(text) {
        return decision;
    }
    let decision = judge(text);
    decided.insert(text, decision);
    decision
}

/// Whether `text` shows a secret as sent ([`shows_as_sent`]), or once its visible
/// separators are taken out ([`joined_readings`]): `AKIAZQ7V K2PX9MW4NR8T`,
/// `s,3,c,...` and a value split by `/` read as the value.
fn shows(redactor: &Redactor, text: &str) -> bool {
    // A collector stores text raw for terminals to draw: one that drives a terminal is not
    // sent, whatever the model of terminals finds in it.
    drives_a_terminal(text)
        // The joined views are judged as they are: the text itself had every other view.
        || shows_as_sent(redactor, text)
        || (text.len() > redactor.shortest()
            && joined_readings(text)
                .iter()
                .any(|joined| redactor.leaks_as_is(joined)))
}

/// Whether `text` shows a secret as sent: as it is, or JSON-escaped (OTLP/JSON on the wire,
/// and the JSON most backends store): a tab becomes `\t`, and a secret with a backslash
/// in it may be exactly that.
fn shows_as_sent(redactor: &Redactor, text: &str) -> bool {
    // Past the redactor's own memory: the mapper's is its alone, without a lock.
    redactor.leaks_bytes(text.as_bytes())
        || (text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
            && serde_json::to_string(text).is_ok_and(|escaped| {
                let inner = escaped
                    .strip_prefix('"')
                    .and_then(|e| e.strip_suffix('"'))
                    .unwrap_or(&escaped);
                redactor.leaks_escaped(text, inner)
            }))
        || ascii_escaped(text).is_some_and(|escaped| redactor.leaks_escaped(text, &escaped))
}

/// Whether `text` is an RFC 3339 time, as the envelope's `ts` is written.
fn is_time(text: &str) -> bool {
    (20..=40).contains(&text.len())
        && text.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && agentlog_core::event::Timestamp::parse(text).is_ok()
}

/// A byte that every form [`shows`] judges writes as itself: printable ASCII other than
/// what JSON escapes (`"`, `\\`) or an ASCII-only encoder does (`<`, `>`, `&`).
fn escapes_to_itself(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b'\\' | b'<' | b'>' | b'&')
}

/// `text` as the JSON encoders that write ASCII only show it (Python's `json.dumps`, Go's
/// `encoding/json` for `<`, `>` and `&`): each such character as `\uXXXX` (a UTF-16 pair
/// beyond the BMP), lowercase hex. `None` when that changes nothing.
fn ascii_escaped(text: &str) -> Option<String> {
    if text
        .bytes()
        .all(|b| b.is_ascii() && !matches!(b, b'<' | b'>' | b'&'))
    {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_ascii() && !matches!(c, '<' | '>' | '&') {
            out.push(c);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            out.push_str(&format!("\\u{unit:04x}"));
        }
    }
    Some(out)
}

/// The string `object[key]`; empty when absent or not a string.
pub(crate) fn text<'a>(object: &'a serde_json::Map<String, Value>, key: &str) -> &'a str {
    object.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Nanoseconds since the Unix epoch of an RFC 3339 time; 0 (unknown, in OTLP) when it does
/// not parse or lies before 1970.
pub(crate) fn rfc3339_nanos(text: &str) -> u64 {
    agentlog_core::event::Timestamp::parse(text)
        .ok()
        .and_then(|ts| u64::try_from(ts.as_offset_date_time().unix_timestamp_nanos()).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentlog_validate::secrets::{Secret, SecretValue};

    fn mapper(secret: &str) -> Mapper {
        let options = agentlog_validate::Options::default().with_secrets(vec![Secret::new(
            "S",
            SecretValue::new(secret),
            vec![],
        )]);
        Mapper::new(options.redactor().unwrap())
    }

    const SOURCE: Source<'static> = Source {
        file_name: "events.jsonl",
        line: 1,
        offset: 0,
    };

    #[test]
    fn a_secret_the_mapping_would_compose_from_parts_is_withheld() {
        // Neither part is the secret; the span name "chat {model}" would be.
        let mut mapper = mapper("chat Zq7vK2pX9mW4");
        let line = br#"{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"llm_response","summary":"s","data":{"method":"POST","host":"api.openai.com","path":"/v1/chat/completions","status_code":200,"duration_ms":5,"body_bytes":1,"model":"Zq7vK2pX9mW4"}}"#;
        let mapped = mapper.map_line(line, SOURCE).unwrap();
        assert!(mapped.withheld);
        assert!(mapped.span.is_none());
        assert!(
            !serde_json::to_string(&mapped.log)
                .unwrap()
                .contains("Zq7vK2pX9mW4")
        );
    }

    fn sent(mapped: &Mapped) -> String {
        serde_json::to_string(&(&mapped.log, &mapped.span)).unwrap()
    }

    /// `line` mapped, then judged for pieces as it is sent.
    fn sent_judged(mapper: &mut Mapper, line: &[u8]) -> String {
        let mut mapped = mapper.map_line(line, SOURCE).unwrap();
        mapper.pieces().judge(&mut mapped.log, &mut mapped.span);
        sent(&mapped)
    }

    #[test]
    fn a_nested_list_of_a_secret_s_bytes_is_withheld_as_a_whole() {
        // Each number alone is far too short to be the secret; the list is its bytes.
        let secret = "Zq7vK2pX9mW4nR8t";
        let bytes: Vec<String> = secret.bytes().map(|b| b.to_string()).collect();
        let list = bytes.join(",");
        let line = format!(
            r#"{{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"llm_response","summary":"ok","data":{{"method":"POST","host":"h","status_code":200,"buf":{{"type":"Buffer","data":[{list}]}},"arr":[{list}]}}}}"#
        );
        for mut mapper in [mapper(secret), detector_only()] {
            let mapped = mapper.map_line(line.as_bytes(), SOURCE).unwrap();
            let text = sent(&mapped);
            if mapper.redactor.scanner().is_empty() {
                // Not a key format: nothing to withhold without the secret.
                assert!(text.contains(&list), "{text}");
                continue;
            }
            assert!(!text.contains(&list), "{text}");
            assert!(!text.contains(&bytes.join("")), "{text}");
            assert!(
                text.contains("agentlog.data.host"),
                "the rest is kept: {text}"
            );
        }
        // A key format in a nested list, with the detector alone.
        let key = "AKIAZQ7VK2PX9MW4NR8T";
        let list: Vec<String> = key.bytes().map(|b| b.to_string()).collect();
        let line = format!(
            r#"{{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"llm_response","summary":"ok","data":{{"tok":[[{}]]}}}}"#,
            list.join(",")
        );
        let mapped = detector_only().map_line(line.as_bytes(), SOURCE).unwrap();
        assert!(
            !sent(&mapped).contains(&list.join(",")),
            "{}",
            sent(&mapped)
        );
    }

    #[test]
    fn a_value_that_is_a_secret_once_json_escaped_is_withheld() {
        // The secret holds a backslash and a `t`; the value a tab, which JSON writes `\t`.
        let mut mapper = mapper(r"Zq7v\tK2pX9mW4nR");
        let line = br#"{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"Zq7v\tK2pX9mW4nR","data":{"note":"Zq7v\tK2pX9mW4nR"}}"#;
        let mapped = mapper.map_line(line, SOURCE).unwrap();
        let text = sent(&mapped);
        assert!(!text.contains("K2pX9mW4nR"), "{text}");
    }

    #[test]
    fn an_integer_past_i64_is_sent_as_its_digits() {
        let mut mapper = mapper("Zq7vK2pX9mW4nR8t");
        let line = br#"{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{"n":12345678901234569216}}"#;
        let text = sent(&mapper.map_line(line, SOURCE).unwrap());
        assert!(text.contains("12345678901234569216"), "{text}");
        assert!(!text.contains("e19") && !text.contains("E19"), "{text}");
    }

    #[test]
    fn the_uid_hashes_the_record_as_judged_not_a_value_the_parse_dropped() {
        // Two equal keys: the parse keeps the last; the uid must not hash the first.
        let mut mapper = mapper("Zq7vK2pX9mW4nR8t");
        let line = br#"{"summary":"Zq7vK2pX9mW4nR8t","summary":"ok","ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","data":{}}"#;
        let mapped = mapper.map_line(line, SOURCE).unwrap();
        let raw = ids::record_uid(SOURCE.offset, line);
        assert!(!sent(&mapped).contains(&raw));
        let parsed: Value = serde_json::from_slice(line).unwrap();
        let judged = ids::record_uid(SOURCE.offset, parsed.to_string().as_bytes());
        assert!(sent(&mapped).contains(&judged));
    }

    #[test]
    fn names_times_and_ascii_escaped_forms_the_mapping_makes_are_judged() {
        // A name: the prefix and a key of the line.
        let mut m = mapper_of("data.Zq7vK2pX9mW4nR8t");
        let line = br#"{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{"Zq7vK2pX9mW4nR8t":1,"host":"h"}}"#;
        let text = sent(&m.map_line(line, SOURCE).unwrap());
        assert!(!text.contains("data.Zq7vK2pX9mW4nR8t"), "{text}");
        assert!(text.contains("agentlog.data.host"), "{text}");
        // A time in nanoseconds that is a secret's digits.
        let mut m = mapper_of("4111111111111111");
        let line = br#"{"ts":"2100-04-11T07:18:31.111111Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{"status_code":200,"duration_ms":0}}"#;
        let text = sent(&m.map_line(line, SOURCE).unwrap());
        assert!(!text.contains("4111111111111111"), "{text}");
        // A value a JSON encoder that writes ASCII only turns into the secret.
        let mut m = mapper_of(r"Yw3v\u00e9K2pX9mW4nR");
        let line = r#"{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{"note":"Yw3véK2pX9mW4nR"}}"#;
        let text = sent(&m.map_line(line.as_bytes(), SOURCE).unwrap());
        assert!(!text.contains("K2pX9mW4nR"), "{text}");
        // An AWS key id as single characters, as whole doubles, and as a typed array.
        let key = "AKIAZQ7VK2PX9MW4NR8T";
        let chars: Vec<String> = key.chars().map(|c| format!("\"{c}\"")).collect();
        let doubles: Vec<String> = key.bytes().map(|b| format!("{b}.0")).collect();
        let typed: Vec<String> = key
            .bytes()
            .enumerate()
            .map(|(i, b)| format!("\"{i}\":{b}"))
            .collect();
        let line = format!(
            r#"{{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{{"chars":[{}],"dbl":[{}],"u8":{{{}}}}}}}"#,
            chars.join(","),
            doubles.join(","),
            typed.join(",")
        );
        let mapped = detector_only().map_line(line.as_bytes(), SOURCE).unwrap();
        for name in [
            "agentlog.data.chars",
            "agentlog.data.dbl",
            "agentlog.data.u8",
        ] {
            let value = mapped
                .log
                .attributes
                .iter()
                .find(|a| a.key == name)
                .and_then(|a| a.value.clone());
            assert_eq!(value, Some(attrs::string(WITHHELD)), "{name}");
        }
    }

    #[test]
    fn the_third_attack_s_shapes_are_withheld() {
        // A withheld record keeps no time that shows a secret.
        let mut m = Mapper::new(
            agentlog_validate::Options::default()
                .with_secrets(vec![
                    Secret::new("T", SecretValue::new("4111111111111111"), vec![]),
                    Secret::new("C", SecretValue::new("chat Zq7vK2pX9mW4"), vec![]),
                ])
                .redactor()
                .unwrap(),
        );
        let line = br#"{"ts":"2100-04-11T07:18:31.111111Z","run_id":"r","agent_system":"a","event_type":"llm_response","summary":"s","data":{"method":"POST","host":"api.openai.com","path":"/v1/chat/completions","status_code":200,"duration_ms":0,"model":"Zq7vK2pX9mW4"}}"#;
        let mapped = m.map_line(line, SOURCE).unwrap();
        assert!(mapped.withheld);
        assert!(
            !sent(&mapped).contains("4111111111111111"),
            "{}",
            sent(&mapped)
        );
        // Byte lists of an AWS key id: whole doubles nested, one number a line, beside a
        // word, with an out-of-range value; and an object whose keys and values join.
        let key = "AKIAZQ7VK2PX9MW4NR8T";
        let bytes: Vec<String> = key.bytes().map(|b| b.to_string()).collect();
        let doubles: Vec<String> = key.bytes().map(|b| format!("[{b}.0]")).collect();
        let shapes = [
            format!("{{\"o\":[{}]}}", doubles.join(",")),
            format!("{{\"o\":\"{}\"}}", bytes.join("\\n")),
            format!("{{\"o\":\"data {}\"}}", bytes.join(",")),
            format!("{{\"o\":[{},256]}}", bytes.join(",")),
            r#"{"o":{"AKIAZQ7V":"K2PX9MW4NR8T"}}"#.to_owned(),
        ];
        for data in shapes {
            let line = format!(
                r#"{{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{data}}}"#
            );
            let mapped = detector_only().map_line(line.as_bytes(), SOURCE).unwrap();
            let value = mapped
                .log
                .attributes
                .iter()
                .find(|a| a.key == "agentlog.data.o")
                .and_then(|a| a.value.clone());
            assert_eq!(value, Some(attrs::string(WITHHELD)), "{data}");
        }
    }

    #[test]
    fn values_split_disguised_or_named_are_withheld() {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let secret = "Zq7vK2pX9mW4nR8t";
        let backwards: String = secret.chars().rev().collect();
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let chars: Vec<String> = secret.chars().map(String::from).collect();
        let supplied = [
            "Zq7vK2pX 9mW4nR8t".to_owned(),
            "Zq7vK2pX/9mW4nR8t".to_owned(),
            chars.join(","),
            "Md7iX2cK9zJ4aE8g".to_owned(),
            b64.encode(&backwards),
            hex(backwards.as_bytes()),
            secret
                .chars()
                .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c))
                .collect(),
            secret.bytes().map(|b| format!("{b:03o}")).collect(),
        ];
        let key = "AKIAZQ7VK2PX9MW4NR8T";
        let detected = [
            "AKIAZQ7V K2PX9MW4NR8T".to_owned(),
            b64.encode(b64.encode(key)),
            hex(b64.encode(key).as_bytes()),
        ];
        let cases = supplied
            .iter()
            .map(|v| (v, true))
            .chain(detected.iter().map(|v| (v, false)));
        for (value, with_secret) in cases {
            let mut m = if with_secret {
                mapper(secret)
            } else {
                detector_only()
            };
            let line = serde_json::json!({
                "ts": "2026-11-23T16:52:00Z", "run_id": "r", "agent_system": "a",
                "event_type": "http_response", "summary": "s",
                "data": {"note": value, "host": "h"}
            })
            .to_string();
            let text = sent(&m.map_line(line.as_bytes(), SOURCE).unwrap());
            assert!(!text.contains(value.as_str()), "{value}: {text}");
            assert!(text.contains("agentlog.data.host"), "{value}: {text}");
        }
    }

    #[test]
    fn a_value_that_drives_a_terminal_is_not_sent_and_a_colour_code_is() {
        // Drawn in order, with a colour code: sent. With a control that moves the cursor,
        // resets the terminal or overrides the direction: withheld, whatever it spells.
        for (note, sent_as_is) in [
            ("plain hello", true),
            (r"red \u001b[31mhello\u001b[0m", true),
            (r"qq\u00ad\b\b\bhello", false),
            (r"hello\u001bc", false),
            (r"hello\u0090qq", false),
            (r"\u202ehello", false),
            (r"hello\u001b[999C", false),
        ] {
            let line = format!(
                r#"{{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{{"note":"{note}","host":"h"}}}}"#
            );
            let text = sent(&detector_only().map_line(line.as_bytes(), SOURCE).unwrap());
            assert_eq!(text.contains("hello"), sent_as_is, "{note}: {text}");
            assert!(text.contains("agentlog.data.host"), "{note}: {text}");
        }
    }

    #[test]
    fn pieces_of_a_value_in_neighbouring_fields_are_withheld_as_sent() {
        // Pieces in neighbouring values, in the order sent or in the order of their names.
        for data in [
            r#"{"a":"AKIAZQ7VK2","b":"PX9MW4NR8T"}"#,
            r#"{"b":"PX9MW4NR8T","c":"x","a":"AKIAZQ7VK2"}"#,
            r#"{"a":{"x":"AKIAZQ7VK2","y":"PX9MW4NR8T"}}"#,
            r#"{"AKIAZQ7V":["K2PX9MW4NR8T"]}"#,
            r#"{"v":"AKIAZQ7V\u00b7K2PX9MW4NR8T"}"#,
        ] {
            let line = format!(
                r#"{{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{data}}}"#
            );
            let text = sent_judged(&mut detector_only(), line.as_bytes());
            assert!(!text.contains("PX9MW4NR8T"), "{data}: {text}");
        }
        let line = br#"{"ts":1794355198,"session_id":"abc","agent":"AKIAZQ7VK2","tool":"PX9MW4NR8T","args_hash":"sha256:aa","result_status":"success","elapsed_ms":5,"error_class":null,"risk_flags":[],"artifacts":[]}"#;
        let unjudged = sent(&detector_only().map_line(line, SOURCE).unwrap());
        assert!(
            unjudged.contains("PX9MW4NR8T"),
            "the mapping alone keeps it"
        );
        let text = sent_judged(&mut detector_only(), line);
        assert!(!text.contains("PX9MW4NR8T"), "{text}");
    }

    #[test]
    fn one_judge_sorts_each_record_by_its_own_names() {
        // The judge remembers the last record's order of names: a record with other names,
        // or the same names in another order, is sorted afresh.
        let mut m = detector_only();
        let mut pieces = m.pieces();
        let line = |data: &str| {
            format!(
                r#"{{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{data}}}"#
            )
        };
        for (data, split) in [
            (r#"{"b":"x","a":"y","c":"z"}"#, false),
            (r#"{"b":"PX9MW4NR8T","c":"x","a":"AKIAZQ7VK2"}"#, true),
            (r#"{"b":"x","a":"y","c":"z"}"#, false),
            (r#"{"c":"PX9MW4NR8T","b":"x","a":"AKIAZQ7VK2"}"#, false),
            (r#"{"c":"x","b":"PX9MW4NR8T","a":"AKIAZQ7VK2"}"#, true),
        ] {
            let mut mapped = m.map_line(line(data).as_bytes(), SOURCE).unwrap();
            assert_eq!(
                pieces.judge(&mut mapped.log, &mut mapped.span),
                split,
                "{data}"
            );
        }
    }

    #[test]
    fn a_supplied_secret_written_with_other_separators_is_withheld() {
        let mut m = mapper("s3cr3t-Value-0042x");
        for value in [
            "s3cr3t.Value.0042x",
            "s3cr3t_Value_0042x",
            "s3cr3t\u{2010}Value\u{2010}0042x",
        ] {
            let line = serde_json::json!({
                "ts": "2026-11-23T16:52:00Z", "run_id": "r", "agent_system": "a",
                "event_type": "http_response", "summary": "s", "data": {"v": value}
            })
            .to_string();
            let text = sent(&m.map_line(line.as_bytes(), SOURCE).unwrap());
            assert!(!text.contains(value), "{value}: {text}");
        }
    }

    #[test]
    fn keys_with_punctuation_cut_over_neighbours_are_withheld() {
        for data in [
            r#"{"a":"ghp_Zq7vB9xP2mL4nR8t","b":"Ww3kJ6hY1cD5fG0aQsEr"}"#,
            r#"{"AKIAZQ7VK2":1,"PX9MW4NR8T":2}"#,
            r#"{"a":"sk-proj-Zq7vB9xP2mL4nR8t","b":"Ww3kJ6hY1cD5fG0aQsErT4uV"}"#,
            r#"{"a":"eyJhbGciOiJIUzI1NiJ9.","b":"eyJzdWIiOiIxMjM0NTY3ODkwIn0.","c":"dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}"#,
        ] {
            let line = format!(
                r#"{{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{data}}}"#
            );
            let text = sent_judged(&mut detector_only(), line.as_bytes());
            assert!(text.contains("withheld: the record"), "{data}: {text}");
        }
    }

    #[test]
    fn a_file_name_that_shows_a_secret_with_other_separators_is_withheld() {
        let line = br#"{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{}}"#;
        for (mut m, name) in [
            (mapper("s3cr3t-Value-0042x"), "s3cr3t.Value.0042x.jsonl"),
            (detector_only(), "AKIAZQ7V\u{b7}K2PX9MW4NR8T.jsonl"),
        ] {
            let source = Source {
                file_name: name,
                ..SOURCE
            };
            let text = sent(&m.map_line(line, source).unwrap());
            assert!(!text.contains(name), "{text}");
            assert!(text.contains(WITHHELD_FILE_NAME), "{text}");
        }
    }

    #[test]
    fn a_key_as_a_name_and_the_rest_as_its_value_is_withheld() {
        let line = br#"{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"http_response","summary":"s","data":{"AKIAZQ7V":"K2PX9MW4NR8T","host":"h"}}"#;
        let text = sent(&detector_only().map_line(line, SOURCE).unwrap());
        assert!(!text.contains("K2PX9MW4NR8T"), "{text}");
    }

    fn mapper_of(secret: &str) -> Mapper {
        mapper(secret)
    }

    fn detector_only() -> Mapper {
        Mapper::new(agentlog_validate::Options::default().redactor().unwrap())
    }

    #[test]
    fn values_that_carry_a_secret_are_withheld_and_the_rest_kept() {
        let mut mapper = mapper("Zq7vK2pX9mW4nR8t");
        let line = br#"{"ts":"2026-11-23T16:52:00Z","run_id":"r","agent_system":"a","event_type":"key_injection","summary":"s","data":{"secret_name":"K","host":"api.openai.com","action":"injected","note":"x Zq7vK2pX9mW4nR8t y"}}"#;
        for _ in 0..2 {
            // Twice: the second time the decisions are remembered ones.
            let mapped = mapper.map_line(line, SOURCE).unwrap();
            let text = serde_json::to_string(&mapped.log).unwrap();
            assert!(!text.contains("Zq7vK2pX9mW4nR8t"), "{text}");
            assert!(text.contains("api.openai.com"), "{text}");
            assert!(!mapped.withheld);
        }
    }
}
