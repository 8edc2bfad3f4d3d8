//! Checking one line: line format, JSON, the envelope and data schemas, and the facts the
//! cross-line checks need.
//!
//! The fast path ([`super::fast`]) accepts lines that are certainly conformant. Anything it
//! does not accept comes here: the line is parsed into a `serde_json::Value`, repeated keys are
//! reported (the `Value` keeps the last one, so the check runs on the text), and the compiled
//! envelope schema (`is_valid` first, `iter_errors` only for invalid lines) gives JSON
//! pointers. Both paths feed the same per-line facts (timestamp, run id, event type) to the
//! cross-line checks. Every line then goes through the secret rule ([`secrets`], which runs the
//! scanner of [`crate::secrets`]).
//!
//! Under `--profile auto` a line is checked with its own family's envelope (v1's for shared
//! and unknown types: both envelopes agree on them once an empty `agent_system` is set
//! aside), and the two verdicts that depend on the file's profile, an empty `agent_system`
//! and a type of one family alone, are recorded as pending facts for the merger (see
//! `profile.rs`).
//!
//! A ledger line (the input's family, decided before its lines are checked: see `profile.rs`)
//! skips the fast path: it is parsed, checked for repeated keys, and a tool-call record is
//! checked against the ledger's `tool_call` schema with the `ledger.*` rules; any other
//! object (the public implementation's risk-event and telemetry records) is one
//! `ledger.record_kind` finding.
//!
//! A chunk keeps at most `cap` findings and only counts the rest, so a hostile input (a
//! million `{}` lines, each with five findings) costs counters, not memory.

use std::collections::BTreeMap;

use serde_json::Value;

use super::exchange::{Kind, Seen};
use super::explain::explain_schema_error;
use super::fast::{Facts, fast};
use super::profile::{Family, FamilyOf, Pending, agent_system_empty, other_family};
use super::{Finding, Profile, ProfileChoice, Rule, Severity, dupkeys, lines};
use crate::event::{EventType, Timestamp};
use crate::secrets::redact::{Redactor, plain};

mod secrets;

/// How many distinct run ids / event types one chunk or file remembers.
pub(crate) const DISTINCT_CAP: usize = 64;

/// What checking a run of lines produced; line numbers are relative to the run (1-based).
#[derive(Debug, Default)]
pub(crate) struct ChunkResult {
    pub lines: u64,
    pub events: u64,
    /// The first `cap` findings, in line order.
    pub findings: Vec<Finding>,
    /// Findings past the cap, counted per rule and severity.
    pub omitted: BTreeMap<(Rule, Severity), u64>,
    /// How many findings this chunk may keep.
    cap: usize,
    pub first_ts: Option<(u64, Timestamp)>,
    pub last_ts: Option<Timestamp>,
    pub run_ids: Vec<(u64, String)>,
    /// Requests and responses with an exchange id, in line order, for the merger's pairing
    /// check ([`crate::exchange`]).
    pub exchanges: Vec<Seen>,
    pub by_event_type: BTreeMap<String, u64>,
    /// Under [`ProfileChoice::Auto`], the profile-dependent facts of this chunk's lines, in line
    /// order, for the merger to resolve once the file's profile is known.
    pub pending: Vec<(u64, Pending)>,
    /// Under [`ProfileChoice::Auto`], the ledger profile when the reader chose it in this chunk.
    pub chosen: Option<super::CheckedProfile>,
}

impl ChunkResult {
    /// Keeps `finding` while under the cap, else counts it.
    pub(crate) fn push(&mut self, finding: Finding) {
        if self.findings.len() < self.cap {
            self.findings.push(finding);
        } else {
            *self
                .omitted
                .entry((finding.rule, finding.severity))
                .or_default() += 1;
        }
    }
}

/// Shared, read-only line checker.
pub(crate) struct Checker {
    pub unknown_types: Severity,
    pub max_line_len: usize,
    pub redactor: Redactor,
    /// The compiled v0 and v1 envelope schemas.
    pub envelopes: [&'static jsonschema::Validator; 2],
    /// The compiled ledger `tool_call` schema.
    pub ledger: &'static jsonschema::Validator,
    pub profile: ProfileChoice,
}

/// Escapes one JSON pointer token (`~` to `~0`, `/` to `~1`).
pub(crate) fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl Checker {
    /// The envelope schema a line is checked with: the profile's, or under `Auto` the
    /// family of the line's own type (v1 for shared and unknown types, whose verdicts are the
    /// same under both once the empty `agent_system` is set aside).
    fn envelope_for(&self, family: Option<Profile>) -> &'static jsonschema::Validator {
        let [v0, v1] = self.envelopes;
        match (self.profile, family) {
            (ProfileChoice::Given(Profile::V0), _) | (ProfileChoice::Auto, Some(Profile::V0)) => v0,
            _ => v1,
        }
    }

    pub(crate) fn finding(
        &self,
        line: u64,
        rule: Rule,
        pointer: Option<String>,
        message: String,
    ) -> Finding {
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

    /// Checks every line of `chunk` (whole lines, `\n`-terminated except a torn last one),
    /// keeping at most `cap` findings.
    pub(crate) fn check_chunk(
        &self,
        chunk: &[u8],
        torn: bool,
        cap: usize,
        family: FamilyOf,
    ) -> ChunkResult {
        let mut out = ChunkResult {
            cap,
            ..ChunkResult::default()
        };
        let mut rel = 0u64;
        for line in lines::split(chunk) {
            rel += 1;
            self.check_line(rel, line, family, &mut out);
        }
        if torn && !chunk.is_empty() && !chunk.ends_with(b"\n") {
            out.push(self.finding(
                rel,
                Rule::LineTorn,
                None,
                "last line has no terminating newline".into(),
            ));
        }
        out.lines = rel;
        out.findings.sort_by_key(|f| (f.line, f.rule));
        out
    }

    fn check_line(&self, line: u64, bytes: &[u8], family: FamilyOf, out: &mut ChunkResult) {
        if bytes.len() > self.max_line_len {
            let message = format!("line is longer than {} bytes; skipped", self.max_line_len);
            out.push(self.finding(line, Rule::LineTooLong, None, message));
            return;
        }
        let mut body = bytes;
        if let Some(rest) = body.strip_suffix(b"\r") {
            let msg = "line ends with CR LF; use a bare LF".into();
            out.push(self.finding(line, Rule::LineCrlf, None, msg));
            body = rest;
        }
        if let Some(rest) = body.strip_prefix(b"\xEF\xBB\xBF") {
            let msg = "line starts with a UTF-8 byte order mark".into();
            out.push(self.finding(line, Rule::LineBom, None, msg));
            body = rest;
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            let msg = "blank line; every line must be one event".into();
            out.push(self.finding(line, Rule::LineBlank, None, msg));
            return;
        }
        let value = match std::str::from_utf8(body) {
            Err(e) => {
                let msg = format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1);
                out.push(self.finding(line, Rule::LineUtf8, None, msg));
                None
            }
            Ok(text) if family.family == Family::Ledger => self.ledger(line, text, family, out),
            Ok(text) => self.check_json(line, text, family, out),
        };
        self.scan_secrets(line, body, value, out);
    }

    /// Validates one UTF-8 line. Returns the parsed value when the precise path ran.
    /// The fast path never accepts a ledger record (it requires `run_id`), so a line of the
    /// other family always reaches the precise path.
    fn check_json(
        &self,
        line: u64,
        text: &str,
        family: FamilyOf,
        out: &mut ChunkResult,
    ) -> Option<Value> {
        if let Some(facts) = fast(text) {
            out.events += 1;
            self.cross_line(line, facts, out);
            return None;
        }
        self.precise(line, text, family, out)
    }

    /// Parses `text`; when it is an object, counts it as an event and reports repeated keys.
    /// Returns the value (if it parsed) and whether it is an object.
    fn parse(&self, line: u64, text: &str, out: &mut ChunkResult) -> Option<(Value, bool)> {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                out.push(self.syntax_error(line, &e));
                return None;
            }
        };
        if !value.is_object() {
            let msg = format!("expected a JSON object, found {}", json_kind(&value));
            out.push(self.finding(line, Rule::JsonNotObject, Some(String::new()), msg));
            return Some((value, false));
        }
        out.events += 1;
        for pointer in dupkeys::duplicates(text) {
            let msg = "key repeats an earlier key of the same object; parsers disagree on which \
                       value wins"
                .to_owned();
            out.push(self.finding(line, Rule::JsonDuplicateKey, Some(pointer), msg));
        }
        Some((value, true))
    }

    /// The precise path: parses `text` into a `Value` and explains every way it fails the
    /// envelope and data schemas, with JSON pointers. Under `auto` a ledger record is one
    /// `profile.mixed` finding and is not checked further.
    pub(crate) fn precise(
        &self,
        line: u64,
        text: &str,
        family: FamilyOf,
        out: &mut ChunkResult,
    ) -> Option<Value> {
        let (value, is_object) = self.parse(line, text, out)?;
        let (true, Value::Object(map)) = (is_object, &value) else {
            return Some(value);
        };
        if let Some(mixed) = other_family(line, family, |k| map.contains_key(k)) {
            out.push(mixed);
            return Some(value);
        }
        let family = match map.get("event_type") {
            Some(Value::String(t)) => Profile::family_of(&EventType::from_name(t)).map(|f| f.0),
            _ => None,
        };
        let envelope = self.envelope_for(family);
        if !envelope.is_valid(&value) {
            let first = out.findings.len();
            for e in envelope.iter_errors(&value) {
                self.schema_error(line, &e, out);
            }
            dedup_schema_findings(&mut out.findings, first);
        }
        if matches!(map.get("agent_system"), Some(Value::String(s)) if s.is_empty()) {
            match self.profile {
                ProfileChoice::Auto => out.pending.push((line, Pending::AgentSystemEmpty)),
                ProfileChoice::Given(profile) => out.push(agent_system_empty(profile, line)),
            }
        }
        let ts = match map.get("ts") {
            Some(Value::String(s)) if !s.is_empty() => match Timestamp::parse(s) {
                Ok(ts) => Some(ts),
                Err(e) => {
                    let msg = format!("ts is {e}");
                    out.push(self.finding(line, Rule::TsFormat, Some("/ts".into()), msg));
                    None
                }
            },
            _ => None,
        };
        let string = |v: Option<&Value>| match v {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let facts = Facts {
            ts,
            run_id: string(map.get("run_id")),
            event_type: string(map.get("event_type")),
            exchange_id: string(map.get("data").and_then(|d| d.get("exchange_id"))),
        };
        self.cross_line(line, facts, out);
        Some(value)
    }

    /// A ledger line: a tool-call record is checked against the `tool_call` schema; under
    /// `auto` an event-log event is one `profile.mixed` finding; any other object is one
    /// `ledger.record_kind` finding.
    fn ledger(
        &self,
        line: u64,
        text: &str,
        family: FamilyOf,
        out: &mut ChunkResult,
    ) -> Option<Value> {
        use jsonschema::error::ValidationErrorKind as K;
        let (value, is_object) = self.parse(line, text, out)?;
        let (true, Value::Object(map)) = (is_object, &value) else {
            return Some(value);
        };
        if let Some(mixed) = other_family(line, family, |k| map.contains_key(k)) {
            out.push(mixed);
            return Some(value);
        }
        let kind = if ["tool", "result_status", "args_hash"]
            .iter()
            .any(|k| map.contains_key(*k))
        {
            if !self.ledger.is_valid(&value) {
                // A value of the wrong type is `ledger.type` alone, not also refused by the
                // enum, pattern or bounds of the type it should have had.
                let errors: Vec<_> = self.ledger.iter_errors(&value).collect();
                let mistyped: Vec<Option<String>> = errors
                    .iter()
                    .map(|e| {
                        matches!(e.kind(), K::Type { .. })
                            .then(|| e.instance_path().as_str().to_owned())
                    })
                    .collect();
                for (i, e) in errors.iter().enumerate() {
                    let at = e.instance_path().as_str();
                    let keep = match e.kind() {
                        // The first type error at a pointer (`error_class` has two: its own
                        // type and the `then` branch's null).
                        K::Type { .. } => {
                            mistyped.iter().position(|m| m.as_deref() == Some(at)) == Some(i)
                        }
                        _ => !mistyped.iter().any(|m| m.as_deref() == Some(at)),
                    };
                    if keep {
                        self.ledger_error(line, e, out);
                    }
                }
            }
            // The event log's ordering rule: `ts.backwards` against the previous record.
            if let Some(ts) = map.get("ts").and_then(Value::as_i64).and_then(unix_ts) {
                let facts = Facts {
                    ts: Some(ts),
                    run_id: None,
                    event_type: None,
                    exchange_id: None,
                };
                self.cross_line(line, facts, out);
            }
            "tool_call"
        } else {
            let (kind, msg) = self.record_kind(map);
            let pointer = Some(String::new());
            out.push(self.finding(line, Rule::LedgerRecordKind, pointer, msg));
            kind
        };
        *out.by_event_type.entry(kind.to_owned()).or_default() += 1;
        Some(value)
    }

    /// What a ledger object that is not a tool call is, and the `ledger.record_kind` message.
    fn record_kind(&self, map: &serde_json::Map<String, Value>) -> (&'static str, String) {
        let event_type = match map.get("event_type") {
            Some(Value::String(t)) => Some(t.as_str()),
            _ => None,
        };
        let telemetry = event_type == Some("telemetry_provenance")
            || ["device_id", "payload_hash", "chain_hash", "prev_chain_hash"]
                .iter()
                .any(|k| map.contains_key(*k));
        if telemetry {
            return (
                "telemetry_provenance",
                "a telemetry_provenance record (device_id, payload_hash, chain_hash...), which \
                 the public implementation writes into the same file: the ledger holds tool-call \
                 records only; not checked further"
                    .to_owned(),
            );
        }
        if let Some(t) = event_type
            && (map.contains_key("description") || map.contains_key("context_hash"))
        {
            return (
                "risk_event",
                format!(
                    "a risk-event record (event_type {}, description, context_hash), which the \
                     public implementation's log_risk_event writes into the same file: the \
                     ledger holds tool-call records only, a risk is a risk flag on the tool \
                     call that raised it; not checked further",
                    self.redactor.quote(t)
                ),
            );
        }
        let message = if ["run_id", "agent_system"]
            .iter()
            .any(|k| map.contains_key(*k))
        {
            "not a tool-call record but, by its run_id or agent_system, a sandbox event-log \
             event: the ledger profile holds tool-call records only (under --profile auto an \
             event in a ledger is profile.mixed); not checked further"
        } else {
            "not a tool-call record: it has none of tool, result_status, args_hash; not checked \
             further"
        };
        ("(other)", message.to_owned())
    }

    /// One error of the ledger's `tool_call` schema as `ledger.*` findings.
    fn ledger_error(&self, line: u64, e: &jsonschema::ValidationError<'_>, out: &mut ChunkResult) {
        use jsonschema::error::ValidationErrorKind as K;
        let at = e.instance_path().as_str().to_owned();
        let (rule, pointer, message) = match e.kind() {
            K::Required { property } => {
                let name = property.as_str().unwrap_or("?");
                let pointer = format!("{at}/{}", escape_pointer_token(name));
                let msg = format!("required field `{name}` is missing");
                (Rule::LedgerRequired, pointer, msg)
            }
            K::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    let pointer = format!("{at}/{}", escape_pointer_token(key));
                    let msg = if key == "ts_iso" {
                        "field \"ts_iso\" is not a ledger field: the public implementation adds \
                         it (in two formats); the record's time is ts, in Unix seconds"
                            .to_owned()
                    } else {
                        format!(
                            "field {} is not a ledger field (the record is closed, so full \
                             arguments cannot slip in)",
                            self.redactor.quote(key)
                        )
                    };
                    out.push(self.finding(line, Rule::LedgerUndeclaredField, Some(pointer), msg));
                }
                return;
            }
            K::Pattern { .. } if at == "/args_hash" => (
                Rule::LedgerArgsHash,
                at,
                "args_hash is not `sha256:` followed by 64 lowercase hex digits".to_owned(),
            ),
            K::Enum { .. } if at.starts_with("/risk_flags/") => {
                let msg = match e.instance().as_str() {
                    Some(flag) if flag.starts_with("denial:") => format!(
                        "{} is the public implementation's free-form denial flag, not one of \
                         the seven risk flags; a denial is result_status `denied` with a flag \
                         such as path_denied or network_denied",
                        self.redactor.quote(flag)
                    ),
                    Some(flag) => format!(
                        "{} is not one of the seven risk flags (injection_attempt, \
                         secret_attempt, path_denied, network_denied, sandbox_violation, \
                         timeout, high_risk_approved)",
                        self.redactor.quote(flag)
                    ),
                    None => e.masked().to_string(),
                };
                (Rule::LedgerRiskFlag, at, msg)
            }
            K::Type { .. } if at == "/error_class" && e.instance().is_string() => (
                Rule::LedgerInvalid,
                at,
                "error_class must be null when result_status is success".to_owned(),
            ),
            K::Type { .. } => (Rule::LedgerType, at, e.masked().to_string()),
            _ => (Rule::LedgerInvalid, at, e.masked().to_string()),
        };
        out.push(self.finding(line, rule, Some(pointer), message));
    }

    /// `json.syntax`, or `json.depth` when the parser gave up on nesting.
    fn syntax_error(&self, line: u64, e: &serde_json::Error) -> Finding {
        let reason = syntax_reason(e);
        if reason.contains("recursion limit") {
            let msg = format!(
                "nested deeper than the parser's limit of {MAX_DEPTH} arrays/objects (column {})",
                e.column()
            );
            return self.finding(line, Rule::JsonDepth, None, msg);
        }
        let msg = format!("not valid JSON: {reason} at column {}", e.column());
        self.finding(line, Rule::JsonSyntax, None, msg)
    }

    /// One error of the envelope schema as findings, worded by [`explain_schema_error`].
    fn schema_error(&self, line: u64, e: &jsonschema::ValidationError<'_>, out: &mut ChunkResult) {
        for problem in explain_schema_error(e, &self.redactor) {
            let pointer = Some(problem.pointer);
            out.push(self.finding(line, problem.rule, pointer, problem.message));
        }
    }

    fn cross_line(&self, line: u64, facts: Facts, out: &mut ChunkResult) {
        if let Some(ts) = facts.ts {
            if out.first_ts.is_none() {
                out.first_ts = Some((line, ts));
            }
            if let Some(prev) = out.last_ts
                && ts < prev
            {
                out.push(crate::rules::ts_backwards(line));
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
            if let (Some(kind), Some(id)) = (Kind::of(&t), facts.exchange_id) {
                out.exchanges.push(Seen { line, kind, id });
            }
            self.check_event_type(line, &t, out);
            let key = if plain(&t) && !self.redactor.leaks(&t) {
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

    /// `event_type.unknown` for a type the profile does not define; under `Auto`, a
    /// [`Pending::Family`] for a type of one family alone (the merger decides whether it is
    /// `profile.mixed`).
    fn check_event_type(&self, line: u64, name: &str, out: &mut ChunkResult) {
        let event_type = EventType::from_name(name);
        if self.profile == ProfileChoice::Auto
            && let Some((family, name)) = Profile::family_of(&event_type)
        {
            out.pending.push((line, Pending::Family(family, name)));
            return;
        }
        if self.profile.defines(&event_type) {
            return;
        }
        let msg = match self.profile {
            ProfileChoice::Auto => format!(
                "event_type {} is defined by neither profile (v0, v1)",
                self.redactor.quote(name)
            ),
            ProfileChoice::Given(profile) => format!(
                "event_type {} is not defined by profile {profile}",
                self.redactor.quote(name)
            ),
        };
        let pointer = Some("/event_type".into());
        out.push(self.finding(line, Rule::EventTypeUnknown, pointer, msg));
    }
}

/// serde_json's nesting limit.
const MAX_DEPTH: usize = 128;

/// Drops the findings from `first` on that repeat an earlier one of them (same line, rule,
/// pointer and message). The schema can reach one violation along two paths (the envelope's
/// `data: {"type": "object"}` and the event type's data schema both say `/data` is not an
/// object): it is one problem, reported once.
fn dedup_schema_findings(findings: &mut Vec<Finding>, first: usize) {
    let Some(tail) = findings.get(first..) else {
        return;
    };
    let mut kept: Vec<Finding> = Vec::with_capacity(tail.len());
    for f in tail {
        let key = (f.line, f.rule, &f.pointer, &f.message);
        if !kept.iter().any(|earlier| {
            (
                earlier.line,
                earlier.rule,
                &earlier.pointer,
                &earlier.message,
            ) == key
        }) {
            kept.push(f.clone());
        }
    }
    findings.truncate(first);
    findings.extend(kept);
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

/// A ledger record's `ts` (integer Unix seconds) as a [`Timestamp`]; `None` out of range.
fn unix_ts(seconds: i64) -> Option<Timestamp> {
    let at = time::OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    Timestamp::new(at).ok()
}
