//! The rule table: every finding the validator can produce, as data.
//!
//! Rule ids are stable: CI configurations, SARIF consumers and ports match on them. The one
//! table [`RULES`] feeds docs/validate.md, the SARIF rule metadata and the tests, so a rule cannot
//! exist in one place and be missing in another.

use std::fmt;

use serde::Serialize;

use crate::Finding;

/// How bad a finding is. Only errors fail a run (exit 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Fails the run.
    Error,
    /// Reported, never fails the run.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $sev:ident, $desc:literal; )*) => {
        /// A rule id. See [`RULES`] for the table with severities and descriptions.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $variant, )*
        }

        /// Every rule, in documentation order.
        pub const RULES: &[RuleInfo] = &[
            $( RuleInfo { rule: Rule::$variant, id: $id, severity: Severity::$sev, description: $desc }, )*
        ];
    };
}

/// One row of the rule table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// The rule.
    pub rule: Rule,
    /// Stable id, e.g. `envelope.missing`.
    pub id: &'static str,
    /// Default severity (`event_type.unknown` can be lowered to a warning by an option).
    pub severity: Severity,
    /// One sentence for humans (docs/validate.md, SARIF `shortDescription`).
    pub description: &'static str,
}

rules! {
    /// The input contains no events, or a path matched no `*.jsonl`/`*.jsonl.gz` file.
    InputEmpty = "input.empty", Error,
        "The input holds no events (empty file, or a directory with no *.jsonl / *.jsonl.gz file); reported on line 0 unless --allow-empty.";
    /// The input could not be read completely (I/O or gzip error).
    InputRead = "input.read", Error,
        "The input could not be read to the end (I/O or gzip error, or a line running on past 4 times the line limit, and at least 64 MiB, without a newline, such as /dev/zero or a decompression bomb); reported on the line where reading stopped.";
    /// Something met in a directory walk was not read (FIFO, socket, device, unlistable directory).
    InputSkipped = "input.skipped", Warning,
        "An entry met in a directory walk was not read: a FIFO, socket or device named *.jsonl / *.jsonl.gz, a subdirectory that could not be listed, or a broken link; reported on line 0 under its path.";
    /// Bytes are not valid UTF-8.
    LineUtf8 = "line.utf8", Error, "The line is not valid UTF-8.";
    /// Empty or whitespace-only line.
    LineBlank = "line.blank", Error, "The line is empty or only whitespace; every line must be one event.";
    /// `\r\n` line ending.
    LineCrlf = "line.crlf", Error, "The line ends with CR LF; lines end with a bare LF.";
    /// Byte order mark.
    LineBom = "line.bom", Error, "The line starts with a UTF-8 byte order mark.";
    /// Line over the size limit.
    LineTooLong = "line.too_long", Error,
        "The line is longer than the limit (16 MiB by default); it is skipped without being buffered.";
    /// Last line has no `\n`.
    LineTorn = "line.torn", Error,
        "The last line has no terminating LF (a torn write, or a writer that is still running).";
    /// Not JSON.
    JsonSyntax = "json.syntax", Error, "The line is not valid JSON.";
    /// JSON, but not an object.
    JsonNotObject = "json.not_object", Error, "The line is valid JSON but not an object.";
    /// An object repeats a key.
    JsonDuplicateKey = "json.duplicate_key", Error,
        "An object repeats a key; parsers disagree on which value wins (serde_json and Go keep the last), so the line means different things to different consumers.";
    /// Nesting deeper than the parser's limit.
    JsonDepth = "json.depth", Error,
        "The line nests arrays/objects deeper than 128 levels, the parser's limit; it is not checked further.";
    /// Required envelope field missing.
    EnvelopeMissing = "envelope.missing", Error,
        "A required envelope field (ts, run_id, agent_system, event_type, summary) is missing.";
    /// Envelope field of the wrong JSON type.
    EnvelopeType = "envelope.type", Error,
        "An envelope field has the wrong JSON type (e.g. tags not an array of strings, data not an object).";
    /// Empty string where the envelope requires a non-empty one.
    EnvelopeEmpty = "envelope.empty", Error,
        "An envelope string (or a tag) is empty; optional fields are omitted instead of empty.";
    /// `agent_system` is `""` under v1 (warning).
    AgentSystemUnknown = "envelope.agent_system_unknown", Warning,
        "Under v1 (given, or chosen by --profile auto): agent_system is \"\", which the reference writes when started without --agent-system; the v1 schema accepts it, but the log cannot say which agent wrote it (v0 reports it as envelope.empty, an error, since the seed requires a name).";
    /// Envelope field the schema does not define.
    EnvelopeUnknownField = "envelope.unknown_field", Error,
        "The envelope has a field the profile does not define (the envelope is closed; extensions go in data).";
    /// `ts` is not RFC 3339.
    TsFormat = "ts.format", Error, "ts is not an RFC 3339 date-time with an offset.";
    /// `ts` goes backwards (warning).
    TsBackwards = "ts.backwards", Warning,
        "ts is earlier than the previous event's ts in the same file (clock step or merged logs); in a ledger, a tool-call record's ts (Unix seconds) against the previous tool-call record's.";
    /// More than one run id in one file (warning).
    RunIdMultiple = "run_id.multiple", Warning,
        "The file holds events of more than one run_id (reported once per additional run_id).";
    /// `event_type` the profile does not define.
    EventTypeUnknown = "event_type.unknown", Error,
        "event_type is not one the profile defines (v0: llm_request, llm_response, budget_action, key_injection; v1: http_request, http_response, gate_decision, route_decision, request_transform, response_transform, key_injection, budget_action; under --profile auto, a type neither defines, since a type of the other family is profile.mixed); --unknown-types warn makes it a warning.";
    /// A v0-only and a v1-only event type in one file, or an event-log event and a ledger
    /// record in one file (`--profile auto`).
    ProfileMixed = "profile.mixed", Error,
        "--profile auto (the default): a line of another family than the file's. Event-log profiles: the file holds v0-only types (llm_request, llm_response) and v1-only types (http_request, http_response, gate_decision, route_decision, request_transform, response_transform); the first of them decided the file's profile, and every line of the other family is reported (its data is still checked against its own family's schema). Log families: the file's first JSON object decided event log or ledger, and a ledger record in an event log (no run_id or agent_system, and one of tool, result_status, args_hash, context_hash, payload_hash, chain_hash) or an event in a ledger (run_id or agent_system, none of those keys) is one finding naming the family and that line, not checked further. A given --profile keeps its own rules instead: v0/v1 report a ledger record's envelope findings, ledger reports an event as ledger.record_kind.";
    /// A required `data` field is missing.
    DataRequired = "data.required", Error, "A field the event type's data schema requires is missing.";
    /// A `data` field has the wrong JSON type.
    DataType = "data.type", Error, "A data field has the wrong JSON type.";
    /// A `data` field has a value the schema refuses.
    DataInvalid = "data.invalid", Error,
        "A data field has a value the event type's schema refuses (empty string, not in enum, out of range).";
    /// A request with an exchange id has no response with it by the end of the file (warning).
    ExchangeUnanswered = "exchange.unanswered", Warning,
        "A request event (llm_request, http_request) carries a data.exchange_id that no response event (llm_response, http_response) carries by the end of the file: a request still in flight when the log was read, or a writer stopped mid-exchange; the message names the request's line and the file's last. Events without exchange_id are not paired. The check holds at most 65,536 requests and responses awaiting their pair at once; past that it stops growing (requests past the cap are not paired, responses without a held request are not reported) and says so once, on the line where it stopped.";
    /// A response with an exchange id answers no request before it (warning).
    ExchangeOrphanResponse = "exchange.orphan_response", Warning,
        "A response event (llm_response, http_response) carries a data.exchange_id that no request event awaiting a response carried before it (none came earlier, or an earlier response answered it); when a request with that exchange_id comes later, the message names its line (and that request counts as answered).";
    /// A ledger record lacks a field the `tool_call` schema requires.
    LedgerRequired = "ledger.required", Error,
        "Ledger: a tool-call record lacks a required field (ts, session_id, agent, tool, args_hash, result_status, elapsed_ms, error_class, risk_flags, artifacts).";
    /// A ledger field has the wrong JSON type.
    LedgerType = "ledger.type", Error,
        "Ledger: a field has the wrong JSON type (e.g. ts not an integer of Unix seconds, risk_flags not an array).";
    /// A ledger field has a value the schema refuses.
    LedgerInvalid = "ledger.invalid", Error,
        "Ledger: a field has a value the tool_call schema refuses (result_status not one of success, error, denied, timeout; a negative number; an empty string; a repeated flag; error_class not null on success).";
    /// `args_hash` is not `sha256:` + 64 lowercase hex digits.
    LedgerArgsHash = "ledger.args_hash", Error,
        "Ledger: args_hash is not `sha256:` followed by 64 lowercase hex digits (a hash in another form, or something that is not a hash: arguments are never logged).";
    /// A risk flag not among the seven the ledger defines.
    LedgerRiskFlag = "ledger.risk_flag", Error,
        "Ledger: a risk flag is not one of the seven (injection_attempt, secret_attempt, path_denied, network_denied, sandbox_violation, timeout, high_risk_approved), e.g. the public implementation's free-form `denial:<reason>`.";
    /// A field the ledger record does not declare.
    LedgerUndeclaredField = "ledger.undeclared_field", Error,
        "Ledger: the record has a field the tool_call schema does not declare (the record is closed so full arguments cannot slip in), e.g. the public implementation's `ts_iso`.";
    /// A ledger line that is not a tool-call record.
    LedgerRecordKind = "ledger.record_kind", Error,
        "Ledger: the line is a JSON object but not a tool-call record (none of tool, result_status, args_hash), e.g. the public implementation's risk-event or telemetry_provenance records, or under a given --profile ledger an event-log event (under --profile auto that is profile.mixed); one finding per such line, which is not checked further.";
    /// A supplied secret's value appears in the line.
    SecretValue = "secret.value", Error,
        "The value of a supplied secret appears in the line, in any supported encoding (raw, JSON-escaped or nested, base64/base64url at any offset or line-wrapped, percent-encoded in part or whole, hex in any case or separated, HTML entities, UTF-16).";
    /// A well-known credential format appears in the line.
    SecretPattern = "secret.pattern", Error,
        "A well-known credential format (OpenAI, Anthropic, AWS, GitHub, Slack, Google, Stripe, PEM private key, PGP private key, JWT) appears in the line, also after a percent-escape or glued to a placeholder.";
    /// A cap on decoding left part of the line's secret scan undone (warning).
    SecretScanIncomplete = "secret.scan_incomplete", Warning,
        "The line's secret scan was cut short: a cap on decoding (each decoder's budget of 8 times the line's length, 16 views per decoder, or 4 layers deep) left a decoded view unsearched, so a secret written in that layer would go unreported; the message names the cap and the layer.";
}

impl Rule {
    /// This rule's row in [`RULES`].
    pub fn info(self) -> &'static RuleInfo {
        // RULES is generated from the same list as the enum, in the same order, so the
        // search always finds the row and `RULES[0]` (a constant index into a non-empty
        // constant table) is never reached.
        #[allow(clippy::indexing_slicing)]
        RULES.iter().find(|r| r.rule == self).unwrap_or(&RULES[0])
    }

    /// The stable id.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        RULES.iter().find(|r| r.id == id).map(|r| r.rule)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// The rule table as a Markdown table (for docs/validate.md).
pub fn markdown_table() -> String {
    let mut out = String::from("| rule | severity | meaning |\n|---|---|---|\n");
    for r in RULES {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            r.id, r.severity, r.description
        ));
    }
    out
}

/// The `ts.backwards` finding at `line`, whichever check saw it (a line after another in
/// one chunk, or the first line of a chunk after the previous chunk's last). Its message
/// shows neither time: a time is printed parsed (a ledger's Unix seconds as a date, an
/// offset as `Z`), a form the output gate cannot tell is the value a secret may be (a PIN
/// written as a `ts`); the line and the pointer say where.
pub(crate) fn ts_backwards(line: u64) -> Finding {
    let rule = Rule::TsBackwards;
    Finding {
        line,
        rule,
        severity: rule.info().severity,
        pointer: Some("/ts".into()),
        message: "ts is earlier than the previous event's ts".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_unique_and_prefixed() {
        let families = [
            "input.",
            "line.",
            "json.",
            "envelope.",
            "ts.",
            "run_id.",
            "event_type.",
            "profile.",
            "data.",
            "exchange.",
            "ledger.",
            "secret.",
        ];
        for (i, r) in RULES.iter().enumerate() {
            assert_eq!(r.rule.info().id, r.id);
            assert_eq!(Rule::from_id(r.id), Some(r.rule));
            assert!(families.iter().any(|f| r.id.starts_with(f)), "{}", r.id);
            assert!(RULES[i + 1..].iter().all(|o| o.id != r.id), "dup {}", r.id);
        }
        assert_eq!(Rule::TsBackwards.info().severity, Severity::Warning);
        assert_eq!(Rule::RunIdMultiple.info().severity, Severity::Warning);
        assert_eq!(Rule::ProfileMixed.info().severity, Severity::Error);
        assert_eq!(Rule::ExchangeUnanswered.info().severity, Severity::Warning);
        assert_eq!(
            Rule::ExchangeOrphanResponse.info().severity,
            Severity::Warning
        );
        // The merger places a finding held for an empty agent_system as `envelope.empty`
        // before it knows whether it becomes that or `envelope.agent_system_unknown`.
        let at = |rule| RULES.iter().position(|r| r.rule == rule);
        let empty = at(Rule::EnvelopeEmpty).map(|i| i + 1);
        assert_eq!(empty, at(Rule::AgentSystemUnknown));
    }
}
