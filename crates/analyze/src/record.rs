//! One line -> one classified record, parsed once into borrowed fields.
//!
//! A line is parsed with serde into `Raw`, a struct of every field either family uses, all
//! optional, strings borrowed from the line where they hold no escape. Unknown fields are
//! ignored. Then `Raw::kind` classifies it:
//!
//! - **sandbox event**: `event_type` is one of the sandbox types of v0 or v1, the types
//!   agentlog defines ([`EventType::known`]);
//! - **ledger tool call**: it has `tool` and `result_status`;
//! - **ledger telemetry record**: its `event_type` starts with `telemetry` (the public
//!   implementation's `telemetry_provenance`);
//! - **ledger risk event**: it has `risk_flags` and `agent` but no `tool` (the public
//!   implementation's `log_risk_event`, e.g. `event_type: "injection_attempt"`);
//! - anything else is **unrecognised**.
//!
//! A line that is JSON but whose known fields have the wrong type (a string `elapsed_ms`) is
//! **malformed**; one that is not JSON at all is **not JSON**. Both are counted by the reader
//! with their line numbers.

use std::borrow::Cow;
use std::fmt;

use agentlog_core::event::EventType;
use agentlog_validate::secrets::redact::{Redactor, WITHHELD};
use agentlog_validate::secrets::scan::MIN_SECRET_LEN;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::value::RawValue;

use crate::names::OVERFLOW_TEXT;

/// 0001-01-01T00:00:00Z in Unix seconds.
const MIN_SECONDS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z in Unix seconds.
const MAX_SECONDS: i64 = 253_402_300_799;

/// A string field, borrowed from the line when it holds no escape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl Str<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(unmarked(v).map_or(Cow::Borrowed(v), Cow::Owned)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(unmarked(v).unwrap_or_else(|| v.to_owned()))))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A JSON number kept with the text it was written as: a value with more digits than an
/// `f64` holds (`12345677.99999999999`) is judged for secrets as written, not as rounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Decimal<'a> {
    /// As written in the line.
    pub text: &'a str,
    /// As parsed.
    pub value: f64,
}

impl<'de: 'a, 'a> Deserialize<'de> for Decimal<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'a RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        let number = text
            .starts_with(|c: char| c == '-' || c.is_ascii_digit())
            .then(|| text.parse::<f64>().ok())
            .flatten();
        match number {
            Some(value) => Ok(Decimal { text, value }),
            None => Err(de::Error::custom("expected a number")),
        }
    }
}

/// The texts a report writes in place of names ([`OTHER`](crate::ledger::OTHER) for the rows
/// past a cap, [`WITHHELD`] for a name that carries a secret, [`OVERFLOW_TEXT`]).
const MARKERS: [&str; 3] = [crate::ledger::OTHER, WITHHELD, OVERFLOW_TEXT];

/// A name read from a log that reads like one of the report's own [`MARKERS`], with its first
/// character escaped as the output gate escapes (`\u{005B}redacted]`): a log cannot make a
/// report claim that it withheld a secret or cut a table. `None` for every other name.
fn unmarked(name: &str) -> Option<String> {
    if !MARKERS.contains(&name) {
        return None;
    }
    let mut chars = name.chars();
    let first = chars.next()?;
    Some(format!("\\u{{{:04X}}}{}", u32::from(first), chars.as_str()))
}

/// `data` of a sandbox event: the fields analysis reads, of every type.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Data<'a> {
    #[serde(borrow, default)]
    pub host: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub model: Option<Str<'a>>,
    #[serde(default)]
    pub status_code: Option<u64>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cached_input_tokens: Option<u64>,
    #[serde(borrow, default)]
    pub cost_usd: Option<Decimal<'a>>,
    #[serde(borrow, default)]
    pub cost_source: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub usage: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub secret_name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub action: Option<Str<'a>>,
    #[serde(default)]
    pub allowed: Option<bool>,
    #[serde(borrow, default)]
    pub reason: Option<Str<'a>>,
}

/// Every field either family uses.
#[derive(Debug, Deserialize)]
pub(crate) struct Raw<'a> {
    #[serde(borrow, default)]
    pub ts: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub event_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub plugin: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub data: Option<Data<'a>>,
    #[serde(borrow, default)]
    pub session_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub agent: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub tool: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub result_status: Option<Str<'a>>,
    #[serde(default)]
    pub elapsed_ms: Option<u64>,
    #[serde(borrow, default)]
    pub error_class: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub risk_flags: Option<Vec<Str<'a>>>,
}

/// What a record is (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Sandbox,
    ToolCall,
    RiskEvent,
    Telemetry,
    Unrecognised,
}

/// The two log families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Tool-call ledger records.
    Ledger,
    /// Sandbox event-log envelopes.
    Sandbox,
}

impl Family {
    /// `ledger` or `sandbox`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Ledger => "ledger",
            Family::Sandbox => "sandbox",
        }
    }
}

impl Kind {
    /// The family this kind belongs to.
    pub(crate) fn family(self) -> Option<Family> {
        match self {
            Kind::Sandbox => Some(Family::Sandbox),
            Kind::ToolCall | Kind::RiskEvent | Kind::Telemetry => Some(Family::Ledger),
            Kind::Unrecognised => None,
        }
    }
}

/// How a line failed to become a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bad {
    /// Not JSON (or not UTF-8).
    NotJson,
    /// JSON, but a known field has the wrong type, or it is not an object.
    Malformed,
}

/// Parses one line (without its newline).
pub(crate) fn parse(line: &[u8]) -> Result<Raw<'_>, Bad> {
    match serde_json::from_slice::<Raw<'_>>(line) {
        Ok(raw) => Ok(raw),
        Err(e) if e.is_data() => Err(Bad::Malformed),
        Err(_) => Err(Bad::NotJson),
    }
}

impl Raw<'_> {
    /// Classifies the record.
    pub(crate) fn kind(&self) -> Kind {
        let event_type = self.event_type.as_ref().map(Str::as_str);
        if event_type.is_some_and(|t| EventType::known(t).is_some()) {
            Kind::Sandbox
        } else if self.tool.is_some() && self.result_status.is_some() {
            Kind::ToolCall
        } else if event_type.is_some_and(|t| t.starts_with("telemetry")) {
            Kind::Telemetry
        } else if self.risk_flags.is_some() && self.agent.is_some() && self.tool.is_none() {
            Kind::RiskEvent
        } else {
            Kind::Unrecognised
        }
    }

    /// Drops every number of the record that carries a secret ([`Redactor::leaks_number`]),
    /// as written and as parsed: the durations, token counts, cost, and `ts` (a number, or a
    /// string a secret is in: the record becomes untimed, so no time bucket shows it).
    /// Returns whether one was dropped. Numbers shorter than the shortest secret are not
    /// judged: they cannot hold one.
    pub(crate) fn withhold_secret_numbers(&mut self, redactor: &Redactor) -> bool {
        if redactor.scanner().is_empty() {
            return false;
        }
        let leaks = |n: serde_json::Number| {
            n.to_string().len() >= MIN_SECRET_LEN && redactor.leaks_number(&n)
        };
        let written_leaks = |text: &str| {
            text.len() >= MIN_SECRET_LEN
                && (redactor.scanner().may_match(text.as_bytes())
                    || redactor.leaks_written_number(text))
        };
        let mut dropped = false;
        let mut judge = |field: &mut Option<u64>| {
            if field.is_some_and(|n| leaks(n.into())) {
                *field = None;
                dropped = true;
            }
        };
        judge(&mut self.elapsed_ms);
        if let Some(data) = &mut self.data {
            judge(&mut data.duration_ms);
            judge(&mut data.input_tokens);
            judge(&mut data.output_tokens);
            judge(&mut data.cached_input_tokens);
            judge(&mut data.status_code);
            // A transform's `reason` starts with a count the analysis adds up (`N secret(s)
            // ...`): a count that is a secret is dropped from it, as written.
            let count_leaks = (data.reason.as_ref())
                .and_then(|r| r.as_str().split_once(' '))
                .is_some_and(|(n, _)| {
                    n.bytes().all(|b| b.is_ascii_digit())
                        && (written_leaks(n) || n.parse::<u64>().is_ok_and(|v| leaks(v.into())))
                });
            if count_leaks && let Some(reason) = &mut data.reason {
                let rest = reason.as_str().split_once(' ').map_or("", |(_, rest)| rest);
                *reason = Str(std::borrow::Cow::Owned(rest.to_owned()));
                dropped = true;
            }
            let cost_leaks = data.cost_usd.is_some_and(|cost| {
                written_leaks(cost.text)
                    || serde_json::Number::from_f64(cost.value).is_some_and(leaks)
            });
            if cost_leaks {
                data.cost_usd = None;
                dropped = true;
            }
        }
        let ts_leaks = self.ts.map(RawValue::get).is_some_and(|ts| {
            written_leaks(ts) || ts.parse::<serde_json::Number>().is_ok_and(leaks)
        });
        if ts_leaks {
            self.ts = None;
            dropped = true;
        }
        dropped
    }

    /// `ts` in Unix seconds: an integer or number of seconds (ledgers), or an RFC 3339 string
    /// (sandbox logs). `None` when absent, unreadable, or outside the years 0001-9999.
    pub(crate) fn unix_seconds(&self) -> Option<i64> {
        self.any_seconds()
            .filter(|t| (MIN_SECONDS..=MAX_SECONDS).contains(t))
    }

    fn any_seconds(&self) -> Option<i64> {
        let text = self.ts?.get();
        match text.as_bytes().first()? {
            b'"' => {
                let s: Str<'_> = serde_json::from_str(text).ok()?;
                let ts = agentlog_core::event::Timestamp::parse(s.as_str()).ok()?;
                Some(ts.as_offset_date_time().unix_timestamp())
            }
            b'-' | b'0'..=b'9' => match text.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    let f = text.parse::<f64>().ok()?;
                    // In range of i64 seconds and finite: floor to the second.
                    (f.is_finite() && f.abs() < 9.0e15).then(|| f.floor() as i64)
                }
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_both_families() {
        let cases: &[(&str, Result<Kind, Bad>)] = &[
            (
                r#"{"ts":"2026-02-24T23:02:34.123851Z","event_type":"gate_decision","data":{"host":"h","allowed":false}}"#,
                Ok(Kind::Sandbox),
            ),
            (
                r#"{"ts":1,"agent":"a","tool":"t","result_status":"error","elapsed_ms":3,"risk_flags":[]}"#,
                Ok(Kind::ToolCall),
            ),
            (
                r#"{"ts":1,"agent":"a","event_type":"injection_attempt","risk_flags":["injection_attempt"]}"#,
                Ok(Kind::RiskEvent),
            ),
            (
                r#"{"ts":1,"event_type":"telemetry_provenance","device_id":"d"}"#,
                Ok(Kind::Telemetry),
            ),
            (r#"{"hello":"world"}"#, Ok(Kind::Unrecognised)),
            (
                r#"{"tool":"t","result_status":"error","elapsed_ms":"3"}"#,
                Err(Bad::Malformed),
            ),
            ("[1,2]", Err(Bad::Malformed)),
            ("not json", Err(Bad::NotJson)),
            ("{\"tool\":", Err(Bad::NotJson)),
        ];
        for (line, expected) in cases {
            let got = parse(line.as_bytes()).map(|r| r.kind());
            assert_eq!(&got, expected, "{line}");
        }
    }

    #[test]
    fn timestamps_of_both_families() {
        let ts = |line: &str| parse(line.as_bytes()).ok().and_then(|r| r.unix_seconds());
        assert_eq!(ts(r#"{"ts":1795452720}"#), Some(1_795_452_720));
        assert_eq!(ts(r#"{"ts":1795452720.9}"#), Some(1_795_452_720));
        assert_eq!(ts(r#"{"ts":"1970-01-01T00:01:00Z"}"#), Some(60));
        assert_eq!(ts(r#"{"ts":"yesterday"}"#), None);
        assert_eq!(ts(r#"{"ts":null}"#), None);
        assert_eq!(ts(r#"{"ts":-9223372036854775808}"#), None);
        assert_eq!(ts(r#"{"ts":253402300800}"#), None);
        assert_eq!(ts(r#"{}"#), None);
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let raw = parse(br#"{"tool":"web_fetch","agent":"a\u00e9"}"#).expect("parses");
        assert!(matches!(raw.tool, Some(Str(Cow::Borrowed("web_fetch")))));
        assert!(matches!(raw.agent, Some(Str(Cow::Owned(_)))));
    }
}
